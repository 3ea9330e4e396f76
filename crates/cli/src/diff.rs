//! `ctguard diff CAPTURE --rules A --against-rules B`: one capture under two configurations,
//! and the connections whose fate differs (accepted under one, dropped under the other; or
//! tracked under one, UNTRACKED under the other), grouped by service, with the deciding rule
//! on each side and, for untracked traffic B drops, lint's fix.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ctguard_capture::Capture;
use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_replay::Config;
use ctguard_replay::diff::Diff;

use crate::{rulesets, settings};

/// `diff`'s options.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// A pcap or pcapng file, plain or gzip.
    pub capture: PathBuf,
    /// Configuration A (in force): IPv4 rules, an iptables-save file or iptables script.
    /// Without rules, A accepts everything.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Configuration A: IPv6 rules.
    #[arg(long, value_name = "FILE")]
    pub rules6: Option<PathBuf>,
    /// Configuration A: sysctl.conf settings.
    #[arg(long, value_name = "FILE")]
    pub sysctl: Option<PathBuf>,
    /// Configuration B (to compare with): IPv4 rules.
    #[arg(long, value_name = "FILE")]
    pub against_rules: Option<PathBuf>,
    /// Configuration B: IPv6 rules.
    #[arg(long, value_name = "FILE")]
    pub against_rules6: Option<PathBuf>,
    /// Configuration B: sysctl.conf settings.
    #[arg(long, value_name = "FILE")]
    pub against_sysctl: Option<PathBuf>,
    /// The capture host's own address (repeatable): packets to it go PREROUTING, INPUT;
    /// from it OUTPUT, POSTROUTING. Without --local everything is forwarded.
    #[arg(long, value_name = "ADDR")]
    pub local: Vec<IpAddr>,
    /// The interface packets arrive on when the capture names none.
    #[arg(long, value_name = "NAME", default_value = "eth0")]
    pub iface: String,
    /// The tracker's hash seed, for both replays (the default is fixed, so runs repeat).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// text (default) or json.
    #[arg(long, value_name = "text|json", default_value = "text")]
    pub format: String,
}

fn config(
    a: &Args,
    rules: Option<&PathBuf>,
    rules6: Option<&PathBuf>,
    sysctl_file: Option<&PathBuf>,
) -> Result<Config, String> {
    let mut sysctl = Sysctl::default();
    if let Some(f) = sysctl_file {
        settings::apply(&mut sysctl, f)?;
    }
    let sets = rulesets::load(rules, rules6)?;
    let mut cfg = Config::new(sysctl);
    cfg.rules4 = sets.v4;
    cfg.rules6 = sets.v6;
    cfg.local = a.local.clone();
    cfg.iface = a.iface.clone();
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    Ok(cfg)
}

/// "--rules a.rules --sysctl a.conf", or "no rules (accept all), default settings".
fn name(rules: Option<&PathBuf>, rules6: Option<&PathBuf>, sysctl: Option<&PathBuf>) -> String {
    let mut parts = Vec::new();
    for (flag, p) in [("rules", rules), ("rules6", rules6), ("sysctl", sysctl)] {
        if let Some(p) = p {
            parts.push(format!("{flag} {}", p.display()));
        }
    }
    if rules.is_none() && rules6.is_none() {
        parts.insert(0, "no rules (accept all)".into());
    }
    if sysctl.is_none() {
        parts.push("default settings".into());
    }
    parts.join(", ")
}

fn replay(path: &Path, diff_a: &Config, diff_b: &Config) -> Result<Diff, String> {
    let mut cap = Capture::open(path).map_err(|e| e.to_string())?;
    let names: Vec<String> = cap
        .interfaces()
        .iter()
        .enumerate()
        .map(|(i, f)| f.name.clone().unwrap_or_else(|| format!("if{i}")))
        .collect();
    let mut d = Diff::new(diff_a, diff_b, &names).map_err(|e| e.to_string())?;
    let mut unknown_links = 0u64;
    while let Some(rec) = cap.next_record() {
        let rec = rec.map_err(|e| e.to_string())?;
        let Some(link) = LinkType::from_pcap(rec.link_type) else {
            unknown_links += 1;
            continue;
        };
        let iface = rec.interface.and_then(|i| names.get(i)).map(String::as_str);
        d.packet(Instant::from_nanos(rec.time), link, iface, rec.data);
    }
    if unknown_links > 0 {
        eprintln!(
            "ctguard: {}: {unknown_links} packets with a link type ctguard does not read were skipped",
            path.display()
        );
    }
    Ok(d)
}

pub fn run(a: &Args) -> Result<(), String> {
    if a.format != "text" && a.format != "json" {
        return Err(format!("--format {}: text or json", a.format));
    }
    if a.against_rules.is_none() && a.against_rules6.is_none() && a.against_sysctl.is_none() {
        return Err(
            "diff: give the configuration to compare with: --against-rules FILE, \
             --against-rules6 FILE and/or --against-sysctl FILE"
                .into(),
        );
    }
    let cfg_a = config(a, a.rules.as_ref(), a.rules6.as_ref(), a.sysctl.as_ref())?;
    let cfg_b = config(
        a,
        a.against_rules.as_ref(),
        a.against_rules6.as_ref(),
        a.against_sysctl.as_ref(),
    )?;
    let name_a = name(a.rules.as_ref(), a.rules6.as_ref(), a.sysctl.as_ref());
    let name_b = name(
        a.against_rules.as_ref(),
        a.against_rules6.as_ref(),
        a.against_sysctl.as_ref(),
    );
    let report = replay(&a.capture, &cfg_a, &cfg_b)?.finish();
    if a.format == "json" {
        println!("{}", report.render_json(&name_a, &name_b));
    } else {
        print!("{}", report.render_text(&name_a, &name_b));
    }
    Ok(())
}
