//! Simulation: synthetic traffic from a small TOML profile, through the same pipeline (and
//! to the same outputs) as a replay, and optionally to a pcap that `ctguard replay` or a real
//! kernel (tcpreplay into a network namespace) can run.
//!
//! A profile:
//!
//! ```toml
//! duration = 60            # seconds
//! seed = 1                 # generator seed (deterministic); default 1
//! [host]
//! address = "10.0.0.1"     # the simulated host (--local)
//! [settings]               # optional sysctl-like overrides, applied as sysctl -p would
//! "net.netfilter.nf_conntrack_max" = 65536
//! [[traffic]]
//! kind = "web"             # legitimate clients: handshake, request, response, FINs
//! rate = 20                # connections per second
//! port = 80
//! duration = { min = 0.05, max = 2.0 }   # uniform; or { dist = "exp", mean = 0.5 }
//! request_bytes = 100
//! response_bytes = 1000    # in MSS (1460) segments, each acknowledged
//! clients = "198.51.100.0/24"
//! [[traffic]]
//! kind = "syn-flood"       # spoofed SYNs, never answered by the client side
//! rate = 2000              # SYNs per second
//! port = 80
//! sources = "0.0.0.0/0"    # random spoofed sources in this prefix
//! synack = true            # whether the server answers (a real server does); default true
//! [[traffic]]
//! kind = "dns"             # UDP queries and answers (1-20 ms later)
//! rate = 50
//! server = "10.0.0.53"     # not the host: the host queries it; the host (default): clients do
//! port = 53
//! [[traffic]]
//! kind = "scan"            # one SYN per port from one source, RST/ACK back for closed ports
//! rate = 500               # probes per second; the scan ends with the list
//! source = "192.0.2.66"
//! ports = "1-1024"
//! open = "22,80"           # SYN/ACK back, then the scanner's RST; default none
//! [[traffic]]
//! kind = "crowd"           # the seed's malicious access: handshake + request, then silence
//! rate = 1500
//! port = 80
//! clients = "203.0.113.0/24"
//! request_bytes = 60
//! ```
//!
//! Every `[[traffic]]` table also takes `start` and `stop` (seconds; the traffic runs from
//! `start` to `stop`, by default the whole duration) and `arrivals` (`"poisson"`, the
//! default: exponential gaps; or `"even"`: `1 / rate` apart). A key that does not belong to
//! the table's kind is an error, as is any unknown key; errors read `FILE:LINE:COL: error:
//! ...`.
//!
//! Generation is deterministic from `seed` (each table draws from its own stream, so adding a
//! table does not change the others) and streams in time order: each table's generator makes
//! its connections in start order and a heap merges their packets, holding only the packets
//! of connections already started. The traffic is open-loop: a dropped packet is not
//! retransmitted and the rest of its connection is still sent, as in a capture.
//!
//! - [`frame`]: Ethernet/IPv4/TCP and UDP frames (shared with [`crate::incident`]).
//! - [`profile`]: the file format.
//! - [`traffic`]: the generators and the merge.
//! - [`Tally`]: per table, connections started, and for web and dns how many completed
//!   (every packet accepted).

pub mod frame;
pub mod profile;
pub mod traffic;

use std::collections::HashSet;
use std::fmt::Write as _;

use ctguard_conntrack::intake::LinkType;
use ctguard_netfilter::modules::TrackingRequired;

pub use profile::{Kind, Profile, ProfileError};
pub use traffic::{Packets, SimPacket};

use crate::config::Config;
use crate::json;
use crate::replayer::{Replayer, Verdict};

impl Profile {
    /// The profile's packets, in time order.
    pub fn packets(&self) -> Packets {
        Packets::new(self)
    }

    /// A replay configuration for it: the default settings with `[settings]` applied, the
    /// host as the local address.
    pub fn config(&self) -> Result<Config, ProfileError> {
        let mut cfg = Config::new(self.sysctl(ctguard_conntrack::Sysctl::default())?);
        cfg.local = vec![self.host.into()];
        Ok(cfg)
    }
}

/// What happened to one `[[traffic]]` table's traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficReport {
    pub kind: Kind,
    pub label: String,
    /// Connections (web, crowd), queries (dns), SYNs (syn-flood), probes (scan).
    pub started: u64,
    /// Web and dns: those whose every packet was accepted.
    pub completed: Option<u64>,
    pub packets: u64,
    /// Packets not accepted (dropped by a rule or for want of room in the table).
    pub dropped: u64,
}

/// Counts, per table, what the pipeline did with its packets.
#[derive(Clone, Debug)]
pub struct Tally {
    rows: Vec<TrafficReport>,
    failed: Vec<HashSet<u64>>,
}

impl Tally {
    pub fn new(p: &Profile) -> Tally {
        Tally {
            rows: p
                .traffic
                .iter()
                .map(|t| TrafficReport {
                    kind: t.kind(),
                    label: t.label(),
                    started: 0,
                    completed: matches!(t.kind(), Kind::Web | Kind::Dns).then_some(0),
                    packets: 0,
                    dropped: 0,
                })
                .collect(),
            failed: vec![HashSet::new(); p.traffic.len()],
        }
    }

    /// One packet and whether the pipeline accepted it.
    pub fn packet(&mut self, p: &SimPacket, accepted: bool) {
        let row = &mut self.rows[p.traffic];
        row.packets += 1;
        row.started = row.started.max(p.conn + 1);
        if !accepted {
            row.dropped += 1;
            if row.completed.is_some() {
                self.failed[p.traffic].insert(p.conn);
            }
        }
    }

    pub fn report(&self) -> Vec<TrafficReport> {
        self.rows
            .iter()
            .zip(&self.failed)
            .map(|(r, f)| TrafficReport {
                completed: r.completed.map(|_| r.started - f.len() as u64),
                ..r.clone()
            })
            .collect()
    }
}

/// The per-table lines for the human summary.
pub fn render(rows: &[TrafficReport]) -> String {
    let mut o = String::from("traffic:\n");
    for r in rows {
        let what = match r.kind {
            Kind::Web | Kind::Crowd => "connections",
            Kind::Dns => "queries",
            Kind::SynFlood => "SYNs",
            Kind::Scan => "probes",
        };
        let _ = write!(o, "  {}: {} {what}", r.label, r.started);
        if let Some(c) = r.completed {
            let pct = if r.started == 0 {
                100.0
            } else {
                100.0 * c as f64 / r.started as f64
            };
            let _ = write!(o, ", {c} completed ({pct:.1}%)");
        }
        let _ = writeln!(o, "; {} packets, {} not accepted", r.packets, r.dropped);
    }
    o
}

/// The per-table figures as a JSON array, for the `--json` summary's `traffic` field.
pub fn json(rows: &[TrafficReport]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"kind\":{},\"label\":{},\"started\":{},\"completed\":{},\"packets\":{},\"not_accepted\":{}}}",
                json::string(r.kind.name()),
                json::string(&r.label),
                r.started,
                r.completed.map_or("null".to_string(), |c| c.to_string()),
                r.packets,
                r.dropped
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Runs the profile's traffic through a replayer made from `cfg`; `each` sees every packet
/// with its verdict.
pub fn run(
    p: &Profile,
    cfg: &Config,
    want_lines: bool,
    mut each: impl FnMut(&SimPacket, &Verdict),
) -> Result<(Replayer, Tally), TrackingRequired> {
    let mut r = Replayer::new(cfg, &[])?;
    let mut tally = Tally::new(p);
    for pk in p.packets() {
        let v = r.packet(pk.time, LinkType::Ethernet, None, &pk.frame, want_lines);
        tally.packet(
            &pk,
            v.decision.verdict == ctguard_conntrack::Verdict::Accept,
        );
        each(&pk, &v);
    }
    Ok((r, tally))
}
