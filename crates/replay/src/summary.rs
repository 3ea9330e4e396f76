//! What the table did over the capture: peaks, the first table-full, drops, evictions, who
//! filled it, and a per-second timeline for plots.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::protect::{Eviction, ProtectStats};
use ctguard_conntrack::sysctl::Policy;
use ctguard_conntrack::{Conn, Conntrack, DestroyReason, Event, Instant, Stats, Verdict};

use crate::clients::Clients;
use ctguard_netfilter::pipeline::Decision;
use ctguard_wire::ip::protocol;

/// One second of the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    /// Entries in the table at the end of the second.
    pub entries: u32,
    pub new: u32,
    /// Packets dropped because the table was full.
    pub drops: u32,
    /// Entries evicted to make room (early drop, the collector's 95% eviction, the protect
    /// policy's evictions of live entries).
    pub evictions: u32,
    /// The protect policy: entries removed to make room, expired ones included.
    pub protect_evictions: u32,
    /// The protect policy: new connections refused for their source's quota.
    pub quota_drops: u32,
}

/// A service: protocol and destination port (0 for protocols without ports).
pub type Service = (u8, u16);

/// The table's make-up at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub at: Instant,
    pub entries: u32,
    /// e.g. `tcp SYN_SENT`, `udp UNREPLIED`, with counts.
    pub by_state: BTreeMap<String, u32>,
    pub by_service: Vec<(Service, u32)>,
    pub by_source: Vec<(IpAddr, u32)>,
}

/// How many distinct dropped connections to remember before counting only packets.
const DROPPED_TUPLES_CAP: usize = 1 << 20;
/// How many distinct sources to count one by one; a spoofed flood has millions, and memory
/// must stay flat: later new sources are counted together.
const SOURCES_CAP: usize = 1 << 16;

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub max: u32,
    pub packets: u64,
    pub accepted: u64,
    pub dropped: u64,
    /// Frames the IP layer refused (counted, skipped).
    pub malformed: u64,
    pub log_lines: u64,
    pub first_time: Option<Instant>,
    pub last_time: Option<Instant>,
    pub peak: u32,
    pub peak_at: Option<Instant>,
    pub first_full: Option<Instant>,
    /// Packets dropped because the table was full (`conntrack -S` drop).
    pub full_drops: u64,
    /// Distinct connections (5-tuples) among them.
    pub full_dropped_conns: u64,
    pub early_drops: u64,
    pub gc_evictions: u64,
    pub new_conns: u64,
    pub new_by_service: HashMap<Service, u64>,
    pub new_by_source: HashMap<IpAddr, u64>,
    /// New connections from sources first seen after [`SOURCES_CAP`] others.
    pub new_from_other_sources: u64,
    /// The table when it first filled.
    pub at_first_full: Option<Snapshot>,
    pub timeline: Vec<Second>,
    /// The table policy (`nf_conntrack_policy`).
    pub policy: Policy,
    /// What the protect policy did.
    pub protect: ProtectStats,
    /// The clients' connections, with `--clients`.
    pub clients: Option<Clients>,
    dropped_tuples: HashSet<u64>,
    last_drop: u64,
}

fn second_of(start: Instant, t: Instant) -> usize {
    (t.saturating_sub(start).as_secs()) as usize
}

/// A cheap key for a packet's 5-tuple, to count distinct dropped connections.
fn tuple_key(frame: &[u8], link: LinkType) -> Option<u64> {
    let ip = intake::parse_frame(link, frame).ok()?;
    let l4 = ip.l4();
    let ports = match ip.proto {
        protocol::TCP | protocol::UDP if l4.len() >= 4 => {
            u32::from_be_bytes([l4[0], l4[1], l4[2], l4[3]])
        }
        _ => 0,
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ip
        .src
        .iter()
        .chain(&ip.dst)
        .chain(&ports.to_be_bytes())
        .chain(&[ip.proto])
    {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    Some(h)
}

fn service(c: &Conn) -> Service {
    let o = c.original();
    match o.proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP => {
            (o.proto, o.dport)
        }
        p => (p, 0),
    }
}

pub fn service_name((proto, port): Service) -> String {
    let p = match proto {
        protocol::TCP => "tcp".to_string(),
        protocol::UDP => "udp".to_string(),
        protocol::ICMP => return "icmp".into(),
        protocol::ICMPV6 => return "icmpv6".into(),
        protocol::UDPLITE => "udplite".to_string(),
        protocol::GRE => return "gre".into(),
        n => return format!("proto {n}"),
    };
    format!("{p}/{port}")
}

fn state_name(c: &Conn) -> String {
    let o = c.original();
    match c.tcp() {
        Some(t) => format!("tcp {}", t.state().name()),
        None => {
            let p = match o.proto {
                protocol::UDP => "udp",
                protocol::ICMP | protocol::ICMPV6 => "icmp",
                _ => "other",
            };
            let s = if c.status.has(ctguard_conntrack::Status::ASSURED) {
                "ASSURED"
            } else if c.status.has(ctguard_conntrack::Status::SEEN_REPLY) {
                "REPLIED"
            } else {
                "UNREPLIED"
            };
            format!("{p} {s}")
        }
    }
}

fn top<K: Clone + Ord>(m: impl IntoIterator<Item = (K, u64)>, n: usize) -> Vec<(K, u32)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v.into_iter().map(|(k, c)| (k, c as u32)).collect()
}

impl Summary {
    pub fn new(max: u32) -> Summary {
        Summary {
            max,
            ..Summary::default()
        }
    }

    /// Counts the clients' connections too.
    pub fn with_clients(mut self, clients: Option<Clients>) -> Summary {
        self.clients = clients;
        self
    }

    pub fn with_policy(mut self, policy: Policy) -> Summary {
        self.policy = policy;
        self
    }

    /// The protect policy's counters after a packet.
    pub(crate) fn protect_stats(&mut self, t: Instant, p: ProtectStats) {
        let quota = p.quota_drop.saturating_sub(self.protect.quota_drop);
        self.protect = p;
        if quota > 0 {
            self.second(t).quota_drops += quota as u32;
        }
    }

    fn second(&mut self, t: Instant) -> &mut Second {
        let start = *self.first_time.get_or_insert(t);
        let i = second_of(start, t);
        if self.timeline.len() <= i {
            let entries = self.timeline.last().map_or(0, |s| s.entries);
            self.timeline.resize(
                i + 1,
                Second {
                    entries,
                    ..Second::default()
                },
            );
        }
        &mut self.timeline[i]
    }

    pub(crate) fn packet(
        &mut self,
        t: Instant,
        d: &Decision,
        count: u32,
        stats: &Stats,
        frame: &[u8],
        link: LinkType,
    ) {
        self.packets += 1;
        self.last_time = Some(t);
        match d.verdict {
            Verdict::Accept => self.accepted += 1,
            Verdict::Drop => self.dropped += 1,
            Verdict::Held => {}
        }
        if let Some(c) = &mut self.clients {
            c.packet(link, frame, d.verdict == Verdict::Accept);
        }
        let new_drops = stats.drop.saturating_sub(self.last_drop);
        self.last_drop = stats.drop;
        if new_drops > 0 {
            self.full_drops += new_drops;
            self.first_full.get_or_insert(t);
            if self.dropped_tuples.len() < DROPPED_TUPLES_CAP
                && let Some(k) = tuple_key(frame, link)
                && self.dropped_tuples.insert(k)
            {
                self.full_dropped_conns += 1;
            }
        }
        if count > self.peak {
            self.peak = count;
            self.peak_at = Some(t);
        }
        let s = self.second(t);
        s.entries = count;
        s.drops += new_drops as u32;
    }

    pub(crate) fn table_event(&mut self, e: &Event, conn: Option<&Conn>, now: Instant) {
        match e {
            Event::New { .. } => {
                self.new_conns += 1;
                self.second(now).new += 1;
                if let Some(c) = conn {
                    *self.new_by_service.entry(service(c)).or_default() += 1;
                    let src = c.original().src_ip();
                    let room = self.new_by_source.len() < SOURCES_CAP;
                    if let Some(n) = self.new_by_source.get_mut(&src) {
                        *n += 1;
                    } else if room {
                        self.new_by_source.insert(src, 1);
                    } else {
                        self.new_from_other_sources += 1;
                    }
                }
            }
            Event::Destroyed { reason, .. } => match reason {
                DestroyReason::EarlyDrop => {
                    self.early_drops += 1;
                    self.second(now).evictions += 1;
                }
                DestroyReason::GcEvict => {
                    self.gc_evictions += 1;
                    self.second(now).evictions += 1;
                }
                DestroyReason::Protect(why) => {
                    let s = self.second(now);
                    s.protect_evictions += 1;
                    if *why != Eviction::Expired {
                        s.evictions += 1;
                    }
                }
                _ => {}
            },
            Event::Log { .. } => {}
        }
    }

    /// Takes the table's make-up the first time it fills.
    pub fn snapshot_if_first_full(&mut self, ct: &Conntrack, now: Instant) {
        if self.first_full.is_none() || self.at_first_full.is_some() {
            return;
        }
        let mut by_state: BTreeMap<String, u32> = BTreeMap::new();
        let mut by_service: HashMap<Service, u64> = HashMap::new();
        let mut by_source: HashMap<IpAddr, u64> = HashMap::new();
        let mut entries = 0;
        for (_, c) in ct.conns() {
            entries += 1;
            *by_state.entry(state_name(c)).or_default() += 1;
            *by_service.entry(service(c)).or_default() += 1;
            *by_source.entry(c.original().src_ip()).or_default() += 1;
        }
        self.at_first_full = Some(Snapshot {
            at: now,
            entries,
            by_state,
            by_service: top(by_service, 5),
            by_source: top(by_source, 5),
        });
    }

    fn secs(&self, t: Instant) -> f64 {
        t.saturating_sub(self.first_time.unwrap_or(t)).as_secs_f64()
    }

    /// The human summary.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let span = self.last_time.map_or(0.0, |t| self.secs(t));
        let _ = writeln!(
            o,
            "{} packets over {span:.1} s: {} accepted, {} dropped ({} unreadable, skipped)",
            self.packets, self.accepted, self.dropped, self.malformed
        );
        let max = if self.max == 0 {
            "unlimited".to_string()
        } else {
            self.max.to_string()
        };
        let at = self.peak_at.map_or(0.0, |t| self.secs(t));
        let _ = writeln!(
            o,
            "table: peak {} entries of nf_conntrack_max {max}, at {at:.1} s; {} new connections",
            self.peak, self.new_conns
        );
        match self.first_full {
            None => {
                let _ = writeln!(o, "table never full: no packet dropped for want of room");
            }
            Some(t) => {
                let _ = writeln!(
                    o,
                    "table FULL first at {:.1} s: {} packets dropped ({} connections), \"nf_conntrack: table full, dropping packet\"",
                    self.secs(t),
                    self.full_drops,
                    self.full_dropped_conns
                );
            }
        }
        let _ = writeln!(
            o,
            "evictions to make room: early drop {}, collector {}",
            self.early_drops, self.gc_evictions
        );
        if self.policy == Policy::Protect {
            let p = &self.protect;
            let _ = writeln!(
                o,
                "policy protect: evicted {} unassured, {} closing, {} expired; {} new connections \
                 refused for their source's quota",
                p.evicted_unassured, p.evicted_closing, p.evicted_expired, p.quota_drop
            );
        }
        if let Some(c) = &self.clients {
            let _ = writeln!(o, "clients ({}): {}", c.prefixes(), c.render());
        }
        if let Some(s) = &self.at_first_full {
            let _ = writeln!(
                o,
                "who filled it (the table when it first filled, {} entries):",
                s.entries
            );
            let states: Vec<String> = s.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(o, "  by state:    {}", states.join(", "));
            let svc: Vec<String> = s
                .by_service
                .iter()
                .map(|(k, v)| format!("{} {v}", service_name(*k)))
                .collect();
            let _ = writeln!(o, "  by service:  {}", svc.join(", "));
            let src: Vec<String> = s
                .by_source
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(o, "  by source:   {}", src.join(", "));
        }
        let svc: Vec<String> = top(self.new_by_service.clone(), 5)
            .into_iter()
            .map(|(k, v)| format!("{} {v}", service_name(k)))
            .collect();
        if !svc.is_empty() {
            let _ = writeln!(o, "new connections by service: {}", svc.join(", "));
        }
        let src: Vec<String> = top(self.new_by_source.clone(), 5)
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if !src.is_empty() {
            let _ = writeln!(o, "new connections by source:  {}", src.join(", "));
        }
        o
    }
}
