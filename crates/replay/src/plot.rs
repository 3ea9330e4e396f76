//! The timeline as an SVG picture: the table's entries against nf_conntrack_max on top, and
//! new connections, table-full drops and evictions per second below. Written by hand: a
//! few polylines need no plotting library.

use std::fmt::Write as _;

use crate::summary::Second;

const W: f64 = 900.0;
const PANEL_H: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 75.0;

struct Series<'a> {
    name: &'a str,
    color: &'a str,
    values: Vec<f64>,
    dashed: bool,
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

fn panel(o: &mut String, y0: f64, title: &str, series: &[Series<'_>], n: usize) {
    let ymax = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
    );
    let plot_w = W - LEFT - RIGHT;
    let x = |i: usize| LEFT + plot_w * i as f64 / (n.max(2) - 1) as f64;
    let y = |v: f64| y0 + PANEL_H - PANEL_H * (v / ymax);
    let _ = writeln!(
        o,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{title}</text>",
        y0 - 10.0
    );
    let _ = writeln!(
        o,
        "<rect x=\"{LEFT}\" y=\"{y0}\" width=\"{plot_w}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"#888\"/>"
    );
    for k in 0..=4 {
        let v = ymax * f64::from(k) / 4.0;
        let _ = writeln!(
            o,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y(v) + 4.0,
            v.round()
        );
    }
    for k in 0..=4 {
        let i = (n.max(2) - 1) * k / 4;
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{i} s</text>",
            x(i),
            y0 + PANEL_H + 14.0
        );
    }
    for (k, s) in series.iter().enumerate() {
        let mut pts = String::new();
        for (i, v) in s.values.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", x(i), y(*v));
        }
        let dash = if s.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{dash} points=\"{}\"/>",
            s.name,
            s.color,
            pts.trim_end()
        );
        let lx = LEFT + 10.0 + 160.0 * k as f64;
        let _ = writeln!(
            o,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            lx + 20.0,
            s.color,
            lx + 25.0,
            y0 + PANEL_H + 34.0,
            s.name,
            ly = y0 + PANEL_H + 30.0,
        );
    }
}

/// The picture for a timeline (one entry per second of capture) and the table's limit
/// (0: unlimited, not drawn).
pub fn svg(title: &str, timeline: &[Second], max: u32) -> String {
    let n = timeline.len().max(1);
    let h = TOP + 2.0 * PANEL_H + GAP + 75.0;
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" font-family=\"DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{LEFT}\" y=\"20\" font-size=\"15\">{}</text>\n",
        escape(title)
    );
    let mut top = vec![Series {
        name: "entries",
        color: "#1f77b4",
        values: timeline.iter().map(|s| f64::from(s.entries)).collect(),
        dashed: false,
    }];
    if max > 0 {
        top.push(Series {
            name: "nf_conntrack_max",
            color: "#d62728",
            values: vec![f64::from(max); n],
            dashed: true,
        });
    }
    panel(
        &mut o,
        TOP + 10.0,
        "table entries (per second of capture)",
        &top,
        n,
    );
    let mut rates = vec![
        Series {
            name: "new/s",
            color: "#2ca02c",
            values: timeline.iter().map(|s| f64::from(s.new)).collect(),
            dashed: false,
        },
        Series {
            name: "drops/s (table full)",
            color: "#d62728",
            values: timeline.iter().map(|s| f64::from(s.drops)).collect(),
            dashed: false,
        },
        Series {
            name: "evictions/s",
            color: "#ff7f0e",
            values: timeline.iter().map(|s| f64::from(s.evictions)).collect(),
            dashed: false,
        },
    ];
    // The protect policy's own series, drawn only when it did something.
    if timeline.iter().any(|s| s.protect_evictions > 0) {
        rates.push(Series {
            name: "protect removals/s",
            color: "#9467bd",
            values: timeline
                .iter()
                .map(|s| f64::from(s.protect_evictions))
                .collect(),
            dashed: true,
        });
    }
    if timeline.iter().any(|s| s.quota_drops > 0) {
        rates.push(Series {
            name: "quota drops/s",
            color: "#8c564b",
            values: timeline.iter().map(|s| f64::from(s.quota_drops)).collect(),
            dashed: false,
        });
    }
    panel(
        &mut o,
        TOP + 10.0 + PANEL_H + GAP,
        "per second: new connections, table-full drops, evictions",
        &rates,
        n,
    );
    o.push_str("</svg>\n");
    o
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The same picture as PNG, rasterised with resvg. Text needs a font on the machine (any
/// sans-serif); without one the lines are still drawn.
pub fn png(svg_text: &str) -> Result<Vec<u8>, String> {
    let mut opt = resvg::usvg::Options::default();
    opt.fontdb_mut().load_system_fonts();
    let tree = resvg::usvg::Tree::from_str(svg_text, &opt).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| "empty picture".to_string())?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_max_and_three_rates_one_point_per_second() {
        let t: Vec<Second> = (0..10)
            .map(|i| Second {
                entries: i * 10,
                new: 10,
                drops: u32::from(i > 7),
                ..Second::default()
            })
            .collect();
        let s = svg("x <y>", &t, 64);
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(s.contains("x &lt;y&gt;"));
        let lines: Vec<&str> = s.lines().filter(|l| l.starts_with("<polyline")).collect();
        assert_eq!(lines.len(), 5, "entries, the max, new, drops, evictions");
        for l in &lines {
            let pts = l
                .split("points=\"")
                .nth(1)
                .unwrap()
                .trim_end_matches("\"/>");
            assert_eq!(pts.split(' ').count(), 10, "{l}");
        }
        // The max line is flat at 64; the entries peak (90) sets a scale of 100.
        assert!(s.contains(">100<"), "axis up to 100");
    }

    #[test]
    fn protect_series_appear_only_when_the_policy_acted() {
        let mut t = vec![Second::default(); 4];
        let count = |s: &str| s.lines().filter(|l| l.starts_with("<polyline")).count();
        assert_eq!(count(&svg("t", &t, 10)), 5);
        t[2].protect_evictions = 3;
        t[3].quota_drops = 1;
        let s = svg("t", &t, 10);
        assert_eq!(count(&s), 7);
        assert!(s.contains("data-name=\"protect removals/s\""));
        assert!(s.contains("data-name=\"quota drops/s\""));
    }

    #[test]
    fn png_is_a_png_of_the_svgs_size() {
        let t = vec![Second::default(); 3];
        let bytes = png(&svg("t", &t, 10)).expect("renders");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(w, W as u32);
    }
}
