//! The named workloads. Each file builds its traffic, then times the engine on it.

mod established;
mod ovs_udp;
mod replay;
mod ruleset;
mod syn_flood;
mod tcp_lifecycle;

use core::fmt;
use core::str::FromStr;
use std::path::PathBuf;

use crate::Report;

/// Runs `work` on `threads` threads that start together; each returns (packets, seconds of
/// its timed part, entries). The first error wins.
pub(crate) fn timed_threads<F>(threads: usize, work: F) -> Result<Vec<(u64, f64, u64)>, String>
where
    F: Fn(usize) -> Result<(u64, f64, u64), String> + Sync,
{
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (work, barrier) = (&work, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    work(t)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| "a benchmark thread panicked".to_string())?
            })
            .collect()
    })
}

/// A named workload, as `ctguard bench NAME` takes it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Workload {
    /// OVS's `test-conntrack benchmark`: one UDP flow per thread, a full lookup per packet.
    OvsUdp1Flow,
    /// Connections of ten packets (handshake, two data segments with their ACKs, FIN each
    /// way), with window tracking.
    TcpLifecycle,
    /// Established connections hit in random order over a table far larger than the cache.
    Established1m,
    /// Spoofed SYNs into a full table: inserts, early drops and evictions per second.
    SynFlood,
    /// The whole pipeline with the seed's rules plus this many generated filter rules.
    Ruleset(u32),
    /// A pcap file in the page cache, through the replayer, to verdicts.
    Replay,
}

impl Workload {
    /// The workloads `ctguard bench all` runs, in order.
    pub const ALL: [Workload; 9] = [
        Workload::OvsUdp1Flow,
        Workload::TcpLifecycle,
        Workload::Established1m,
        Workload::SynFlood,
        Workload::Ruleset(10),
        Workload::Ruleset(100),
        Workload::Ruleset(1000),
        Workload::Ruleset(10000),
        Workload::Replay,
    ];

    pub fn run(self, p: &Params) -> Result<Report, String> {
        let r = match self {
            Workload::OvsUdp1Flow => ovs_udp::run(p),
            Workload::TcpLifecycle => tcp_lifecycle::run(p),
            Workload::Established1m => established::run(p),
            Workload::SynFlood => syn_flood::run(p),
            Workload::Ruleset(n) => ruleset::run(p, n),
            Workload::Replay => replay::run(p),
        }?;
        Ok(Report {
            policy: p.policy.name(),
            ..r
        })
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Workload::OvsUdp1Flow => f.write_str("ovs-udp-1flow"),
            Workload::TcpLifecycle => f.write_str("tcp-lifecycle"),
            Workload::Established1m => f.write_str("established-1m"),
            Workload::SynFlood => f.write_str("syn-flood"),
            Workload::Ruleset(n) => write!(f, "ruleset-{n}"),
            Workload::Replay => f.write_str("replay"),
        }
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Workload, String> {
        Ok(match s {
            "ovs-udp-1flow" => Workload::OvsUdp1Flow,
            "tcp-lifecycle" => Workload::TcpLifecycle,
            "established-1m" => Workload::Established1m,
            "syn-flood" => Workload::SynFlood,
            "replay" => Workload::Replay,
            _ => match s.strip_prefix("ruleset-").map(str::parse::<u32>) {
                Some(Ok(n)) => Workload::Ruleset(n),
                _ => {
                    return Err(format!(
                        "unknown workload `{s}' (known: ovs-udp-1flow, tcp-lifecycle, \
                         established-1m, syn-flood, ruleset-N, replay)"
                    ));
                }
            },
        })
    }
}

/// What a run may change. `None` takes the workload's own default (see each workload).
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub threads: usize,
    /// Packets to time (per thread for ovs-udp-1flow, as OVS counts them).
    pub packets: Option<u64>,
    /// Packets per batch (ovs-udp-1flow; the others process one packet at a time).
    pub batch: usize,
    /// Connections (tcp-lifecycle, established-1m) or table size (syn-flood).
    pub conns: Option<u64>,
    /// A capture for `replay` instead of the generated one.
    pub pcap: Option<PathBuf>,
    /// Where generated files go (the replay workload's capture).
    pub scratch: PathBuf,
    /// The table policy every workload's tracker runs under.
    pub policy: ctguard_conntrack::sysctl::Policy,
}

impl Params {
    pub fn new() -> Params {
        Params {
            threads: 1,
            batch: 32,
            scratch: std::env::temp_dir(),
            ..Params::default()
        }
    }

    /// The default settings under this run's table policy.
    pub fn sysctl(&self) -> ctguard_conntrack::Sysctl {
        let mut s = ctguard_conntrack::Sysctl::default();
        s.protect.policy = self.policy;
        s
    }
}
