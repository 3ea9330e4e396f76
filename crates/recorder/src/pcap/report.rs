//! What one run writes: `kernel-run-K.forwarded` (one character a pcap frame: `1` forwarded,
//! `0` not, `-` skipped) and `kernel-run-K.json` (the counts and the router's statistics).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `conntrack -S` counters always present in the JSON (0 if the kernel has no such
/// counter); any other the kernel prints follows them.
const STATS: [&str; 8] = [
    "found",
    "invalid",
    "insert",
    "insert_failed",
    "drop",
    "early_drop",
    "error",
    "search_restart",
];

pub struct RunReport {
    pub run: u32,
    /// Per pcap frame: `Some(forwarded)`, or `None` when skipped.
    pub flags: Vec<Option<bool>>,
    pub injected: usize,
    pub forwarded: usize,
    pub router_originated: usize,
    pub max_late: Duration,
    pub late_frames: usize,
    /// Frames the capture sockets dropped (PACKET_STATISTICS).
    pub capture_drops: u64,
    /// IP packets the router's egress counters saw but the capture did not.
    pub uncaptured: u64,
    /// Frames the router's ingress counters saw (should be `injected`).
    pub router_received: u64,
    /// Packets the router's postrouting probe counted as forwarded (should be `forwarded`).
    pub router_forwarded: u64,
    /// `conntrack -S` over the run, summed over CPUs.
    pub stats: Vec<(String, u64)>,
    pub count_at_end: u64,
    pub table_full_lines: usize,
    /// With `--clients`: their connections started and completed (every frame forwarded).
    pub clients: Option<(u64, u64)>,
}

impl RunReport {
    pub fn forwarded_text(&self) -> String {
        let mut text: String = self
            .flags
            .iter()
            .map(|f| match f {
                Some(true) => '1',
                Some(false) => '0',
                None => '-',
            })
            .collect();
        text.push('\n');
        text
    }

    pub fn stat(&self, key: &str) -> u64 {
        self.stats
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, v)| *v)
    }

    pub fn json(&self) -> String {
        let mut stats: Vec<(&str, u64)> = STATS.iter().map(|k| (*k, self.stat(k))).collect();
        for (k, v) in &self.stats {
            if !STATS.contains(&k.as_str()) {
                stats.push((k, *v));
            }
        }
        let stats = stats
            .iter()
            .map(|(k, v)| format!("\"{}\":{v}", escape(k)))
            .collect::<Vec<_>>()
            .join(",");
        let mut out = String::from("{");
        let fields: [(&str, String); 14] = [
            ("run", self.run.to_string()),
            ("frames", self.flags.len().to_string()),
            ("injected", self.injected.to_string()),
            (
                "skipped",
                self.flags
                    .iter()
                    .filter(|f| f.is_none())
                    .count()
                    .to_string(),
            ),
            ("forwarded", self.forwarded.to_string()),
            ("router_originated", self.router_originated.to_string()),
            (
                "max_lateness_ms",
                format!("{:.3}", self.max_late.as_secs_f64() * 1000.0),
            ),
            ("frames_late_over_1ms", self.late_frames.to_string()),
            ("capture_drops", self.capture_drops.to_string()),
            ("uncaptured", self.uncaptured.to_string()),
            ("router_received", self.router_received.to_string()),
            ("router_forwarded", self.router_forwarded.to_string()),
            ("stats", format!("{{{stats}}}")),
            ("count_at_end", self.count_at_end.to_string()),
        ];
        for (name, value) in fields {
            let _ = write!(out, "\"{name}\":{value},");
        }
        if let Some((started, completed)) = self.clients {
            let _ = write!(
                out,
                "\"clients_started\":{started},\"clients_completed\":{completed},"
            );
        }
        let _ = write!(out, "\"table_full_lines\":{}}}", self.table_full_lines);
        out.push('\n');
        out
    }

    /// Writes both files into `dir` (each whole or not at all).
    pub fn write(&self, dir: &Path) -> std::io::Result<[PathBuf; 2]> {
        std::fs::create_dir_all(dir)?;
        let name = format!("kernel-run-{}", self.run);
        let forwarded = write_whole(dir, &format!("{name}.forwarded"), &self.forwarded_text())?;
        let json = write_whole(dir, &format!("{name}.json"), &self.json())?;
        Ok([forwarded, json])
    }
}

fn write_whole(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// Counter names are the kernel's (`[a-z_]`); escaped anyway.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c if c.is_control() => vec!['?'],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_character_a_frame_and_the_json() {
        let report = RunReport {
            run: 2,
            flags: vec![Some(true), None, Some(false), Some(true)],
            injected: 3,
            forwarded: 2,
            router_originated: 1,
            max_late: Duration::from_micros(1500),
            late_frames: 1,
            capture_drops: 0,
            uncaptured: 0,
            router_received: 3,
            router_forwarded: 2,
            stats: vec![
                ("found".into(), 1),
                ("drop".into(), 7),
                ("clash_resolve".into(), 4),
            ],
            count_at_end: 5,
            table_full_lines: 1,
            clients: Some((20, 17)),
        };
        assert_eq!(report.forwarded_text(), "1-01\n");
        let json = report.json();
        assert!(json.starts_with("{\"run\":2,\"frames\":4,\"injected\":3,\"skipped\":1,\"forwarded\":2,\"router_originated\":1,\"max_lateness_ms\":1.500,"), "{json}");
        assert!(json.contains("\"stats\":{\"found\":1,\"invalid\":0,\"insert\":0,\"insert_failed\":0,\"drop\":7,\"early_drop\":0,\"error\":0,\"search_restart\":0,\"clash_resolve\":4},\"count_at_end\":5,\"clients_started\":20,\"clients_completed\":17,\"table_full_lines\":1}\n"), "{json}");
    }
}
