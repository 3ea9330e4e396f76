//! `ctguard simulate PROFILE.toml`: synthetic traffic from a profile (see
//! `ctguard_replay::simulate` and examples/profiles/README.md) through the rules and the
//! tracker, with replay's outputs; `--write-pcap` keeps the packets for `ctguard replay` or
//! a real kernel.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use ctguard_capture::PcapWriter;
use ctguard_capture::linktype;
use ctguard_conntrack::Sysctl;
use ctguard_replay::Config;
use ctguard_replay::simulate::{self, Profile, Tally};

use crate::replay::{self, Options, Pass, Source};

/// `simulate`'s options: the profile, replay's options, and where to write the packets.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// A traffic profile (TOML; examples/profiles/README.md describes it).
    pub profile: PathBuf,
    /// Write the packets as a pcap (nanosecond timestamps, Ethernet), for `ctguard replay`,
    /// tcpreplay or Wireshark.
    #[arg(long, value_name = "FILE.pcap")]
    pub write_pcap: Option<PathBuf>,
    /// The generator's seed, instead of the profile's `seed`.
    #[arg(long, value_name = "N")]
    pub traffic_seed: Option<u64>,
    #[command(flatten)]
    pub opts: Options,
}

struct SimSource<'a> {
    profile: &'a Profile,
    /// The first pass's tally (the configuration asked for; later passes are the capacity
    /// re-simulations).
    tally: Option<Tally>,
    /// The latest pass's.
    last: Option<Tally>,
}

impl Source for SimSource<'_> {
    fn pass(
        &mut self,
        cfg: &Config,
        _progress: bool,
        want_lines: bool,
        each: &mut dyn FnMut(&ctguard_replay::Verdict),
    ) -> Result<Pass, String> {
        let mut last = None;
        let (replayer, tally) = simulate::run(self.profile, cfg, want_lines, |p, v| {
            last = Some(p.time);
            each(v);
        })
        .map_err(|e| e.to_string())?;
        self.tally.get_or_insert(tally.clone());
        self.last = Some(tally);
        Ok(Pass { replayer, last })
    }

    fn title(&self) -> String {
        format!("ctguard simulate {}", self.profile.file)
    }

    fn last_pass_outcome(&self) -> Option<String> {
        let rows = self.last.as_ref()?.report();
        let parts: Vec<String> = rows
            .iter()
            .filter_map(|r| {
                let c = r.completed?;
                let pct = 100.0 * c as f64 / r.started.max(1) as f64;
                Some(format!(
                    "{} {c} of {} completed ({pct:.1}%)",
                    r.label, r.started
                ))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn report(&self) -> (String, Vec<(&'static str, String)>) {
        let rows = self.tally.as_ref().map(Tally::report).unwrap_or_default();
        (
            simulate::render(&rows),
            vec![("traffic", simulate::json(&rows))],
        )
    }
}

/// Writes the profile's packets to `path` as a nanosecond pcap with Ethernet frames.
pub fn write_pcap(profile: &Profile, path: &std::path::Path) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let f = File::create(path).map_err(err)?;
    let mut w = PcapWriter::new(BufWriter::new(f), linktype::ETHERNET, 0).map_err(err)?;
    let mut n = 0;
    for p in profile.packets() {
        w.write(p.time.as_nanos(), &p.frame).map_err(err)?;
        n += 1;
    }
    w.into_inner().map_err(err)?;
    Ok(n)
}

pub fn run(a: &Args) -> Result<(), String> {
    let mut profile = Profile::load(&a.profile).map_err(|e| e.to_string())?;
    if let Some(s) = a.traffic_seed {
        profile.seed = s;
    }
    if let Some(p) = &a.write_pcap {
        let n = write_pcap(&profile, p)?;
        eprintln!("ctguard: {}: {n} packets written", p.display());
    }
    let base = profile
        .sysctl(Sysctl::default())
        .map_err(|e| e.to_string())?;
    let mut cfg = replay::config(&a.opts, base)?;
    let host = std::net::IpAddr::from(profile.host);
    if !cfg.local.contains(&host) {
        cfg.local.insert(0, host);
    }
    replay::write_outputs(
        &a.opts,
        &cfg,
        &mut SimSource {
            profile: &profile,
            tally: None,
            last: None,
        },
    )
}
