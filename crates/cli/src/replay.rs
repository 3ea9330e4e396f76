//! `ctguard replay CAPTURE`: a capture through the whole pipeline on its own clock.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant as WallClock};

use ctguard_capture::Capture;
use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::sysctl::Policy;
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_replay::{Config, Replayer, capacity, json, plot};

use crate::{rulesets, settings};

/// `replay`'s options (the flags are a contract: scripts depend on them).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// A pcap or pcapng file, plain or gzip.
    pub capture: PathBuf,
    #[command(flatten)]
    pub opts: Options,
}

/// The options replay shares with simulate: the configuration and the outputs.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    #[command(flatten)]
    pub files: rulesets::RuleFiles,
    /// sysctl.conf settings (legacy ip_conntrack names are mapped); repeatable, applied in
    /// order, as `sysctl -p A B` does.
    #[arg(long, value_name = "FILE")]
    pub sysctl: Vec<PathBuf>,
    /// The capture host's own address (repeatable): packets to it go PREROUTING, INPUT;
    /// from it OUTPUT, POSTROUTING. Without --local everything is forwarded.
    #[arg(long, value_name = "ADDR")]
    pub local: Vec<IpAddr>,
    /// The interface packets arrive on when the capture names none.
    #[arg(long, value_name = "NAME", default_value = "eth0")]
    pub iface: String,
    /// Write the table in /proc/net/nf_conntrack format ("-": stdout), at the last packet.
    #[arg(long, value_name = "FILE|-")]
    pub dump_conntrack: Option<String>,
    /// Take --dump-conntrack this long after the last packet, with expiry applied.
    #[arg(long, value_name = "+SECONDS", allow_hyphen_values = true)]
    pub at: Option<String>,
    /// One JSON object per packet, in capture order.
    #[arg(long, value_name = "FILE.jsonl")]
    pub verdicts: Option<PathBuf>,
    /// Print the `conntrack -S` line.
    #[arg(long)]
    pub stats: bool,
    /// Rule and policy counters in iptables-save -c format ("-": stdout).
    #[arg(long, value_name = "FILE|-")]
    pub counters: Option<String>,
    /// Kernel log lines: table full, LOG targets, invalid packets ("-": stdout).
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<String>,
    /// A summary for programs ("-": stdout).
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
    /// A plot over capture time: entries against the max, new connections/s, drops/s,
    /// evictions/s (SVG, or PNG when the name ends in .png).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub plot: Option<PathBuf>,
    /// The tracker's hash seed (the default is fixed, so runs repeat).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Skip the re-simulations that answer what the capture would have needed, and what
    /// the protect policy would have done.
    #[arg(long)]
    pub no_capacity: bool,
    /// Legitimate clients' addresses (repeatable), e.g. 198.51.100.0/24: the summary counts
    /// their TCP and UDP connections, and how many had every packet accepted.
    #[arg(long, value_name = "PREFIX")]
    pub clients: Vec<ctguard_replay::clients::Prefix>,
}

/// Exit status 2 with this message: unreadable input.
pub struct Unreadable(pub String);

fn out(target: &str) -> io::Result<Box<dyn Write>> {
    Ok(if target == "-" {
        Box::new(io::stdout())
    } else {
        Box::new(BufWriter::new(File::create(target)?))
    })
}

/// The same traffic again under `nf_conntrack_policy = protect`: a line for the summary and
/// a JSON object.
fn protect_instead(
    cfg: &Config,
    source: &mut dyn Source,
    progress: bool,
) -> Result<(String, String), String> {
    let mut p = cfg.clone();
    p.sysctl.protect.policy = Policy::Protect;
    let pass = source.pass(&p, progress, false, &mut |_| {})?;
    let s = pass.replayer.summary();
    let ev = s.protect;
    let mut text = format!(
        "with nf_conntrack_policy = protect: {} table-full drops, {} quota drops; evicted {} \
         unassured, {} closing, {} expired",
        s.full_drops, ev.quota_drop, ev.evicted_unassured, ev.evicted_closing, ev.evicted_expired
    );
    let mut json = format!(
        "{{\"table_full_drops\":{},\"quota_drops\":{},\"evicted_unassured\":{},\
         \"evicted_closing\":{},\"evicted_expired\":{}",
        s.full_drops, ev.quota_drop, ev.evicted_unassured, ev.evicted_closing, ev.evicted_expired
    );
    if let Some(c) = &s.clients {
        text += &format!("; clients: {}", c.render());
        json += &format!(
            ",\"clients_started\":{},\"clients_completed\":{}",
            c.started(),
            c.completed()
        );
    }
    if let Some(o) = source.last_pass_outcome() {
        text += &format!("; {o}");
    }
    text.push('\n');
    json.push('}');
    Ok((text, json))
}

fn parse_at(s: &str) -> Result<f64, String> {
    let v = s.strip_prefix('+').unwrap_or(s);
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| format!("--at {s}: want +SECONDS, e.g. +30"))
}

/// One pass over the packets: the replayer after the last, and the last packet's time.
pub struct Pass {
    pub replayer: Replayer,
    pub last: Option<Instant>,
}

/// Where the packets come from (a capture, a simulation): each pass runs them all through a
/// fresh replayer made from the configuration it is given.
pub trait Source {
    /// `each` sees every verdict; `want_lines`: fill [`ctguard_replay::Verdict::conntrack`].
    fn pass(
        &mut self,
        cfg: &Config,
        progress: bool,
        want_lines: bool,
        each: &mut dyn FnMut(&ctguard_replay::Verdict),
    ) -> Result<Pass, String>;

    /// The plot's title.
    fn title(&self) -> String;

    /// After the first pass: lines to add to the human summary, and fields to add to the
    /// `--json` summary (name, JSON value).
    fn report(&self) -> (String, Vec<(&'static str, String)>) {
        (String::new(), Vec::new())
    }

    /// After the latest pass: what became of the legitimate traffic, in a few words (a
    /// simulation knows which traffic is legitimate; a capture needs --clients).
    fn last_pass_outcome(&self) -> Option<String> {
        None
    }
}

struct CaptureSource<'a>(&'a Path);

impl Source for CaptureSource<'_> {
    fn pass(
        &mut self,
        cfg: &Config,
        progress: bool,
        want_lines: bool,
        each: &mut dyn FnMut(&ctguard_replay::Verdict),
    ) -> Result<Pass, String> {
        pass(self.0, cfg, progress, want_lines, each)
    }

    fn title(&self) -> String {
        format!("ctguard replay {}", self.0.display())
    }
}

/// One pass over the capture. `each` sees every verdict.
fn pass(
    path: &Path,
    cfg: &Config,
    progress: bool,
    want_lines: bool,
    each: &mut dyn FnMut(&ctguard_replay::Verdict),
) -> Result<Pass, String> {
    let mut cap = Capture::open(path).map_err(|e| e.to_string())?;
    let names: Vec<String> = cap
        .interfaces()
        .iter()
        .enumerate()
        .map(|(i, f)| f.name.clone().unwrap_or_else(|| format!("if{i}")))
        .collect();
    let mut r = Replayer::new(cfg, &names).map_err(|e| e.to_string())?;
    r.keep_logs(true);
    let started = WallClock::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut last = None;
    let mut unknown_links = 0u64;
    loop {
        let (done, total) = cap.progress();
        let Some(rec) = cap.next_record() else {
            break;
        };
        let rec = rec.map_err(|e| e.to_string())?;
        if progress && bar.is_none() && started.elapsed() > Duration::from_secs(1) {
            let b = indicatif::ProgressBar::new(total.unwrap_or(0));
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {bytes}/{total_bytes} [{bar:40}] {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar = Some(b);
        }
        let Some(link) = LinkType::from_pcap(rec.link_type) else {
            unknown_links += 1;
            continue;
        };
        let time = Instant::from_nanos(rec.time);
        let iface = rec.interface.and_then(|i| names.get(i)).map(String::as_str);
        let v = r.packet(time, link, iface, rec.data, want_lines);
        each(&v);
        last = Some(time);
        if let Some(b) = &bar
            && v.index % 4096 == 0
        {
            b.set_position(done);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if unknown_links > 0 {
        eprintln!(
            "ctguard: {}: {unknown_links} packets with a link type ctguard does not read were skipped",
            path.display()
        );
    }
    Ok(Pass { replayer: r, last })
}

pub fn run(a: &Args) -> Result<(), Unreadable> {
    run_inner(a).map_err(Unreadable)
}

fn run_inner(a: &Args) -> Result<(), String> {
    let cfg = config(&a.opts, Sysctl::default())?;
    write_outputs(&a.opts, &cfg, &mut CaptureSource(&a.capture))
}

/// The configuration the options give: `sysctl` with `--sysctl` applied, the rule sets,
/// `--local`, `--iface`, `--seed`.
pub fn config(o: &Options, mut sysctl: Sysctl) -> Result<Config, String> {
    for f in &o.sysctl {
        settings::apply(&mut sysctl, f)?;
    }
    let sets = o.files.load()?;
    let mut cfg = Config::new(sysctl);
    cfg.rules4 = sets.v4;
    cfg.rules6 = sets.v6;
    cfg.local = o.local.clone();
    cfg.iface = o.iface.clone();
    cfg.clients = o.clients.clone();
    if let Some(s) = o.seed {
        cfg.seed = s;
    }
    Ok(cfg)
}

/// Runs `source` under `cfg` and writes every output the options ask for: --verdicts,
/// --dump-conntrack, --counters, --log, --stats, the capacity answer (two more passes),
/// --json, --plot, and the summary.
pub fn write_outputs(a: &Options, cfg: &Config, source: &mut dyn Source) -> Result<(), String> {
    let at = a.at.as_deref().map(parse_at).transpose()?;
    let progress = io::stderr().is_terminal();
    let mut verdicts: Option<Box<dyn Write>> = match &a.verdicts {
        Some(p) => {
            Some(out(&p.display().to_string()).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let mut write_err = None;
    let Pass { mut replayer, last } = source.pass(cfg, progress, verdicts.is_some(), &mut |v| {
        if let Some(w) = verdicts.as_mut()
            && let Err(e) = writeln!(w, "{}", json::verdict_line(v))
        {
            write_err.get_or_insert(e);
        }
    })?;
    if let Some(e) = write_err {
        return Err(format!("--verdicts: {e}"));
    }
    if let Some(mut w) = verdicts {
        w.flush().map_err(|e| format!("--verdicts: {e}"))?;
    }
    let end = last.unwrap_or(Instant::ZERO);
    let logs = replayer.take_logs();
    let stdout_taken = [&a.dump_conntrack, &a.counters, &a.log, &a.json]
        .iter()
        .any(|o| o.as_deref() == Some("-"));
    if let Some(target) = &a.dump_conntrack {
        let when = end + Duration::from_secs_f64(at.unwrap_or(0.0));
        let lines = replayer.table_at(when);
        let mut w = out(target).map_err(|e| format!("{target}: {e}"))?;
        for l in lines {
            writeln!(w, "{l}").map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    if let Some(target) = &a.counters {
        let mut w = out(target).map_err(|e| format!("{target}: {e}"))?;
        let p = replayer.pipeline();
        for f in [ctguard_netfilter::Family::V4, ctguard_netfilter::Family::V6] {
            let rs = p.rules(f);
            if !rs.is_empty() || f == ctguard_netfilter::Family::V4 {
                write!(w, "{}", ctguard_netfilter::rules::save(rs)).map_err(|e| e.to_string())?;
            }
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    if let Some(target) = &a.log {
        let mut w = out(target).map_err(|e| format!("{target}: {e}"))?;
        for (t, l) in &logs {
            writeln!(w, "[{:>12.6}] {l}", t.as_secs_f64()).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    if a.stats
        && let Some(ct) = replayer.pipeline().conntrack()
    {
        println!("{}", ct.stats().conntrack_s_line(0));
    }
    let summary = replayer.summary().clone();
    let (report_text, mut extra) = source.report();
    let mut capacity_text = String::new();
    if !a.no_capacity && cfg.tracking {
        let mut unlimited = cfg.clone();
        unlimited.sysctl = capacity::unlimited(&cfg.sysctl);
        let peak = source
            .pass(&unlimited, progress, false, &mut |_| {})?
            .replayer
            .summary()
            .peak;
        let (max, buckets) = capacity::needed(peak);
        let mut fix1 = unlimited.clone();
        fix1.sysctl = capacity::seed_fix1(&unlimited.sysctl);
        let peak1 = source
            .pass(&fix1, progress, false, &mut |_| {})?
            .replayer
            .summary()
            .peak;
        capacity_text = format!(
            "needed: nf_conntrack_max >= {max} (buckets {buckets}) to drop nothing with these timeouts;\n\
             with the seed's fix-1 timeouts (established 300 s, time_wait 120 s, close_wait 60 s, fin_wait 120 s) the table peaks at {peak1}\n"
        );
        extra.push(("needed_max", max.to_string()));
        extra.push(("needed_buckets", buckets.to_string()));
        extra.push(("peak_with_seed_fix1_timeouts", peak1.to_string()));
        if cfg.sysctl.protect.policy == Policy::Kernel && summary.full_drops > 0 {
            let (text, json) = protect_instead(cfg, source, progress)?;
            capacity_text += &text;
            extra.push(("with_protect", json));
        }
    }
    if let Some(target) = &a.json {
        let mut w = out(target).map_err(|e| format!("{target}: {e}"))?;
        writeln!(w, "{}", json::summary(&summary, &extra)).map_err(|e| e.to_string())?;
        w.flush().map_err(|e| e.to_string())?;
    }
    if let Some(p) = &a.plot {
        let svg = plot::svg(&source.title(), &summary.timeline, summary.max);
        let bytes = match p.extension().and_then(|e| e.to_str()) {
            Some("png") => plot::png(&svg).map_err(|e| format!("--plot {}: {e}", p.display()))?,
            Some("svg") | None => svg.into_bytes(),
            Some(other) => {
                return Err(format!(
                    "--plot {}: .svg or .png, not .{other}",
                    p.display()
                ));
            }
        };
        std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let text = format!("{}{report_text}{capacity_text}", summary.render());
    if stdout_taken {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    Ok(())
}
