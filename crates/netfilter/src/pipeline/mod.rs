//! A packet through the hooks, in the kernel's order.
//!
//! ```text
//! received:  PREROUTING [defrag, raw -300, conntrack -200, mangle -150, nat(DNAT) -100]
//!            ├─ local:   INPUT   [mangle -150, filter 0, nat(SNAT) 100, confirm]
//!            └─ forward: FORWARD [mangle, filter] → POSTROUTING [mangle, nat(SNAT), confirm]
//! local out: OUTPUT [raw, conntrack, mangle, nat(DNAT), filter] → POSTROUTING [mangle, nat, confirm]
//! ```
//!
//! The pipeline is sans-IO like the tracker: a packet and the time go in, a [`Decision`]
//! comes out, and what the host would transmit (forwarded packets, REJECT replies) and log
//! waits in [`Pipeline::poll_output`].

mod compile;
pub mod fields;
pub mod host;
mod nat;
mod targets;
mod tcpmss;
mod walk;

use std::collections::VecDeque;
use std::sync::Arc;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{
    Conn, ConnId, Conntrack, CtState, Dir, Instant, Outcome, Sysctl, Verdict, defrag::Reassembly,
};

pub use fields::Fields;
pub use host::Host;

use crate::hook::{Family, Hook, TableName};
use crate::modules::{TrackingRequired, check_without_tracking};
use crate::rules::RuleSet;

/// What decided a packet's fate: a rule (1-based, as `iptables -L --line-numbers`) or a
/// built-in chain's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    pub table: TableName,
    pub chain: std::sync::Arc<str>,
    /// None: the chain's policy.
    pub rule: Option<usize>,
}

impl core::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.rule {
            Some(n) => write!(f, "{} {} {}", self.table, self.chain, n),
            None => write!(f, "{} {} policy", self.table, self.chain),
        }
    }
}

/// Which way the packet went through the host.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// PREROUTING, INPUT.
    Input,
    /// PREROUTING, FORWARD, POSTROUTING.
    Forward,
    /// OUTPUT, POSTROUTING.
    Output,
}

/// The fate of one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub ctstate: Option<CtState>,
    /// The packet's entry after it, when it has one in the table.
    pub conn: Option<ConnId>,
    pub path: Option<Path>,
    /// The rule or policy that accepted or dropped it; None when nothing in the rule set
    /// decided (no chain on the path had a rule or a DROP policy for it, or the tracker
    /// dropped it).
    pub rule: Option<RuleRef>,
}

/// Something the host sends or logs.
#[derive(Clone, Debug)]
pub enum Output {
    /// A packet leaving by an interface (the IP datagram, no link header).
    Transmit { iface: Arc<str>, packet: Vec<u8> },
    /// A kernel log line (LOG target, conntrack's own lines), without the syslog prefix.
    Log { line: String, at: Instant },
    /// A connection entered or left the table (only with [`Pipeline::set_table_events`]).
    Table(ctguard_conntrack::Event),
}

/// The packet's connection while it walks the hooks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum CtRef {
    /// Not looked up yet, or tracking is off.
    None,
    Untracked,
    Invalid,
    Unconfirmed,
    Confirmed(ConnId),
}

/// One packet in flight.
#[derive(Clone, Debug)]
pub(crate) struct Pkt {
    pub buf: Vec<u8>,
    pub mac: Option<[u8; 14]>,
    pub in_iface: Option<Arc<str>>,
    pub out_iface: Option<Arc<str>>,
    pub mark: u32,
    pub ct: CtRef,
    pub ctstate: Option<CtState>,
    pub dir: Option<Dir>,
    pub zone: u16,
    pub notrack: bool,
    /// Sent by a local socket (owned by root): LOG `--log-uid` prints `UID=0 GID=0`.
    pub socket: bool,
    /// The packet arrived with its connection: a REJECT reply carrying its offending
    /// packet's (the kernel's `nf_ct_attach`), or a local packet back in over loopback. It
    /// is not tracked again, NOTRACK and CT leave it alone, and it never confirms or
    /// abandons an entry.
    pub preset_ct: bool,
}

impl Pkt {
    /// A packet as it enters the host: no devices, mark, connection or flags yet.
    fn fresh(buf: Vec<u8>) -> Pkt {
        Pkt {
            buf,
            mac: None,
            in_iface: None,
            out_iface: None,
            mark: 0,
            ct: CtRef::None,
            ctstate: None,
            dir: None,
            zone: 0,
            notrack: false,
            socket: false,
            preset_ct: false,
        }
    }
}

/// How a hook walk ended.
#[derive(Clone, Debug)]
pub(crate) enum HookVerdict {
    Accept(Option<RuleRef>),
    Drop(Option<RuleRef>),
    /// REJECT: the reply to send, then the packet is dropped.
    Reject(RuleRef, Vec<u8>),
}

/// Rule sets, tracker and host: one network namespace's netfilter.
pub struct Pipeline {
    ct: Option<Conntrack>,
    rules: [RuleSet; 2],
    host: Host,
    addresses: crate::packet::Addresses,
    match_state: crate::rules::MatchState,
    out: VecDeque<Output>,
    /// REJECT replies nest one level deep: a reply is never rejected again.
    depth: u8,
    /// The host's ICMP error rate limits (REJECT's ICMP replies).
    pub(crate) icmp_limit: crate::reject::IcmpRateLimit,
    /// `rules` compiled for the walk; rebuilt whenever a rule set is replaced.
    compiled: compile::Compiled,
}

impl Pipeline {
    /// A pipeline with tracking on; `rules` are the IPv4 and IPv6 rule sets.
    pub fn new(sysctl: Sysctl, rules4: RuleSet, rules6: RuleSet, host: Host) -> Pipeline {
        Pipeline::with_seed(
            sysctl,
            ctguard_conntrack::DEFAULT_SEED,
            rules4,
            rules6,
            host,
        )
    }

    /// [`Pipeline::new`] with the tracker's hash seed.
    pub fn with_seed(
        sysctl: Sysctl,
        seed: u64,
        rules4: RuleSet,
        rules6: RuleSet,
        host: Host,
    ) -> Pipeline {
        let mut match_state = crate::rules::MatchState::default();
        match_state.register(&rules4);
        match_state.register(&rules6);
        let mut ct = Conntrack::with_seed(sysctl, seed);
        ct.set_record_events(false);
        Pipeline {
            ct: Some(ct),
            compiled: compile::Compiled::new(&rules4, &rules6),
            rules: [rules4, rules6],
            addresses: host.addresses(),
            host,
            match_state,
            out: VecDeque::new(),
            depth: 0,
            icmp_limit: Default::default(),
        }
    }

    /// Sets one of the host's own settings that the pipeline models: the ICMP error rate
    /// limits (`net.ipv4.icmp_ratelimit`, `net.ipv4.icmp_ratemask`,
    /// `net.ipv4.icmp_msgs_per_sec`, `net.ipv4.icmp_msgs_burst`, `net.ipv6.icmp.ratelimit`).
    /// Ok(false): not one of them.
    pub fn set_host_sysctl(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let n = || {
            value
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("{key}: bad value {value:?}"))
        };
        let l = &mut self.icmp_limit;
        match key.replace('/', ".").as_str() {
            "net.ipv4.icmp_ratelimit" => l.ratelimit_ms = n()?,
            "net.ipv4.icmp_ratemask" => l.ratemask = n()?,
            "net.ipv4.icmp_msgs_per_sec" => l.msgs_per_sec = n()?,
            "net.ipv4.icmp_msgs_burst" => l.msgs_burst = n()?,
            "net.ipv6.icmp.ratelimit" => l.ratelimit6_ms = n()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Runs without connection tracking (the seed's fix 2: nf_conntrack unloaded). Refused,
    /// naming every rule, when the rule sets need it (state, conntrack, NAT, CT, ...).
    pub fn without_tracking(mut self) -> Result<Pipeline, TrackingRequired> {
        check_without_tracking(&[&self.rules[0], &self.rules[1]])?;
        self.ct = None;
        Ok(self)
    }

    /// Whether connections entering and leaving the table come out as [`Output::Table`]
    /// (off by default).
    pub fn set_table_events(&mut self, on: bool) {
        if let Some(ct) = self.ct.as_mut() {
            ct.set_record_events(on);
        }
    }

    pub fn conntrack(&self) -> Option<&Conntrack> {
        self.ct.as_ref()
    }

    pub fn conntrack_mut(&mut self) -> Option<&mut Conntrack> {
        self.ct.as_mut()
    }

    pub fn rules(&self, family: Family) -> &RuleSet {
        &self.rules[family as usize]
    }

    /// Replaces a rule set, keeping the tracker and its settings (a reload never resets
    /// nf_conntrack_max, unlike the seed's `service iptables restart`).
    pub fn set_rules(&mut self, family: Family, rules: RuleSet) -> Result<(), TrackingRequired> {
        if self.ct.is_none() {
            check_without_tracking(&[&rules])?;
        }
        self.match_state.register(&rules);
        self.compiled.set(family, &rules);
        self.rules[family as usize] = rules;
        Ok(())
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.drain_ct_logs("", "");
        self.out.pop_front()
    }

    /// Moves the tracker's log lines to the output, naming the devices the packet had.
    fn drain_ct_logs(&mut self, in_dev: &str, out_dev: &str) {
        let Some(ct) = self.ct.as_mut() else {
            return;
        };
        while let Some(e) = ct.poll_event() {
            match e {
                ctguard_conntrack::Event::Log { line, at } => {
                    // Like the recorder, leave out the machine-global ratelimit notice.
                    if matches!(line, ctguard_conntrack::LogLine::Suppressed { .. }) {
                        continue;
                    }
                    self.out.push_back(Output::Log {
                        line: line.render(in_dev, out_dev),
                        at,
                    });
                }
                e => self.out.push_back(Output::Table(e)),
            }
        }
    }

    /// A frame received on `iface`.
    pub fn receive(&mut self, iface: &str, link: LinkType, frame: &[u8], now: Instant) -> Decision {
        let ip = match intake::parse_frame(link, frame) {
            Ok(ip) => ip,
            Err(m) => {
                if let Some(ct) = self.ct.as_mut() {
                    ct.refuse(m);
                }
                return Decision::dropped(None, None);
            }
        };
        let mac = (link == LinkType::Ethernet && frame.len() >= 14).then(|| {
            let mut m = [0u8; 14];
            m.copy_from_slice(&frame[..14]);
            m
        });
        let whole = match self.defragment(&ip, now) {
            Ok(w) => w,
            Err(d) => return d,
        };
        let mut pkt = Pkt::fresh(whole.unwrap_or_else(|| ip.packet.to_vec()));
        pkt.mac = mac;
        pkt.in_iface = Some(self.host.iface_name(iface));
        self.prerouting(pkt, now)
    }

    /// A packet the host itself sends (a local socket): OUTPUT, then POSTROUTING.
    pub fn send(&mut self, packet: &[u8], now: Instant) -> Decision {
        if let Some(ct) = self.ct.as_mut() {
            ct.handle_timeout(now);
        }
        let mut pkt = Pkt::fresh(packet.to_vec());
        pkt.socket = true;
        self.output(pkt, now)
    }

    /// Reassembly happens before raw, and only where the tracker is loaded.
    fn defragment(
        &mut self,
        ip: &intake::Ip<'_>,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, Decision> {
        let Some(ct) = self.ct.as_mut() else {
            return Ok(None);
        };
        // The collector and reassembly timeouts, once per packet, before anything else.
        ct.handle_timeout(now);
        if ip.fragment.is_none() {
            return Ok(None);
        }
        match ct.defragment(ip, now) {
            Reassembly::Held => Err(Decision {
                verdict: Verdict::Held,
                ctstate: None,
                conn: None,
                path: None,
                rule: None,
            }),
            Reassembly::Dropped(_) => Err(Decision::dropped(None, None)),
            Reassembly::Complete(w) => Ok(Some(w)),
        }
    }

    fn family(pkt: &Pkt) -> Family {
        if pkt.buf.first().is_some_and(|b| b >> 4 == 6) {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// raw, then conntrack, at PREROUTING or OUTPUT.
    fn track(&mut self, pkt: &mut Pkt, hook: Hook, now: Instant) -> Result<(), Decision> {
        match self.walk(TableName::Raw, hook, pkt, now) {
            HookVerdict::Accept(_) => {}
            HookVerdict::Drop(r) => return Err(Decision::dropped(r, pkt.ctstate)),
            HookVerdict::Reject(r, _) => return Err(Decision::dropped(Some(r), pkt.ctstate)),
        }
        if pkt.preset_ct {
            return Ok(());
        }
        if pkt.notrack {
            pkt.ct = CtRef::Untracked;
            pkt.ctstate = Some(CtState::Untracked);
            return Ok(());
        }
        let Some(ct) = self.ct.as_mut() else {
            return Ok(());
        };
        let Ok(ip) = intake::parse_ip(&pkt.buf) else {
            return Err(Decision::dropped(None, None));
        };
        // Checksums are verified at PREROUTING only, and loopback vouches for its own.
        let checksum = hook == Hook::Prerouting && pkt.in_iface.as_deref() != Some(host::LOOPBACK);
        let o: Outcome = ct.conntrack_in(&ip, pkt.zone, pkt.mac, checksum, now);
        let out_dev = match hook {
            Hook::Output => pkt.out_iface.as_deref(),
            _ => None,
        };
        self.drain_ct_logs(pkt.in_iface.as_deref().unwrap_or(""), out_dev.unwrap_or(""));
        if o.verdict == Verdict::Drop {
            return Err(Decision::dropped(None, None));
        }
        pkt.ctstate = o.ctstate;
        pkt.dir = o.dir;
        pkt.ct = match (o.ctstate, o.conn, o.unconfirmed) {
            (_, _, true) => CtRef::Unconfirmed,
            (_, Some(id), _) => CtRef::Confirmed(id),
            (Some(CtState::Untracked), ..) => CtRef::Untracked,
            _ => CtRef::Invalid,
        };
        Ok(())
    }

    /// The entry a packet's connection reference names, confirmed or not.
    pub(crate) fn conn(&self, r: CtRef) -> Option<&Conn> {
        let ct = self.ct.as_ref()?;
        match r {
            CtRef::Unconfirmed => ct.unconfirmed(),
            CtRef::Confirmed(id) => ct.get(id),
            _ => None,
        }
    }

    pub(crate) fn conn_mut(&mut self, r: CtRef) -> Option<&mut Conn> {
        let ct = self.ct.as_mut()?;
        match r {
            CtRef::Unconfirmed => ct.unconfirmed_mut(),
            CtRef::Confirmed(id) => ct.get_mut(id),
            _ => None,
        }
    }

    /// Runs `tables` at `hook` in order; stops at the first drop.
    fn hooks(
        &mut self,
        hook: Hook,
        tables: &[TableName],
        pkt: &mut Pkt,
        decided: &mut Option<RuleRef>,
        now: Instant,
    ) -> Result<(), Decision> {
        for &t in tables {
            let v = if t == TableName::Nat {
                self.nat_hook(hook, pkt, now)
            } else {
                self.walk(t, hook, pkt, now)
            };
            match v {
                HookVerdict::Accept(r) => {
                    if r.is_some() && t == TableName::Filter {
                        *decided = r;
                    }
                }
                HookVerdict::Drop(r) => return Err(self.drop(pkt, r)),
                HookVerdict::Reject(r, reply) => {
                    self.send_reject(pkt, reply, now);
                    return Err(self.drop(pkt, Some(r)));
                }
            }
        }
        Ok(())
    }

    fn drop(&mut self, pkt: &Pkt, rule: Option<RuleRef>) -> Decision {
        if pkt.ct == CtRef::Unconfirmed
            && !pkt.preset_ct
            && let Some(ct) = self.ct.as_mut()
        {
            ct.abandon();
        }
        let conn = match pkt.ct {
            CtRef::Confirmed(id) => Some(id),
            _ => None,
        };
        Decision {
            verdict: Verdict::Drop,
            ctstate: pkt.ctstate,
            conn,
            path: None,
            rule,
        }
    }

    fn prerouting(&mut self, mut pkt: Pkt, now: Instant) -> Decision {
        let mut decided = None;
        if let Err(d) = self.track(&mut pkt, Hook::Prerouting, now) {
            return d;
        }
        if let Err(d) = self.hooks(
            Hook::Prerouting,
            &[TableName::Mangle, TableName::Nat],
            &mut pkt,
            &mut decided,
            now,
        ) {
            return d;
        }
        let Some(f) = Fields::parse(&pkt.buf) else {
            return self.drop(&pkt, None);
        };
        // The routing decision drops martians after PREROUTING, before confirm: their
        // entries never join the table.
        if martian(&f, pkt.in_iface.as_deref() == Some(host::LOOPBACK)) {
            return self.drop(&pkt, None);
        }
        if self.host.is_local(f.dst) {
            return self.run_path(pkt, Path::Input, decided, now);
        }
        let Some(out) = self.host.route(f.dst).cloned() else {
            return self.drop(&pkt, None);
        };
        if !decrement_ttl(&mut pkt.buf) {
            return self.drop(&pkt, None);
        }
        pkt.out_iface = Some(out);
        self.run_path(pkt, Path::Forward, decided, now)
    }

    fn output(&mut self, mut pkt: Pkt, now: Instant) -> Decision {
        let Some(f) = Fields::parse(&pkt.buf) else {
            return Decision::dropped(None, None);
        };
        let Some(out) = self.host.route(f.dst).cloned() else {
            return Decision::dropped(None, None);
        };
        pkt.out_iface = Some(out);
        if let Err(mut d) = self.track(&mut pkt, Hook::Output, now) {
            d.path = Some(Path::Output);
            return d;
        }
        self.run_path(pkt, Path::Output, None, now)
    }

    /// The hooks after the routing decision, then the confirm hook.
    fn run_path(
        &mut self,
        mut pkt: Pkt,
        path: Path,
        mut decided: Option<RuleRef>,
        now: Instant,
    ) -> Decision {
        use TableName::{Filter, Mangle, Nat};
        let steps: &[(Hook, &[TableName])] = match path {
            Path::Input => &[(Hook::Input, &[Mangle, Filter, Nat])],
            Path::Forward => &[
                (Hook::Forward, &[Mangle, Filter]),
                (Hook::Postrouting, &[Mangle, Nat]),
            ],
            Path::Output => &[
                (Hook::Output, &[Mangle, Nat]),
                (Hook::Output, &[Filter]),
                (Hook::Postrouting, &[Mangle, Nat]),
            ],
        };
        for (i, (hook, tables)) in steps.iter().enumerate() {
            // DNAT in OUTPUT re-routes the packet before filter.
            if path == Path::Output
                && i == 1
                && let Some(f) = Fields::parse(&pkt.buf)
                && let Some(out) = self.host.route(f.dst)
            {
                pkt.out_iface = Some(out.clone());
            }
            if let Err(mut d) = self.hooks(*hook, tables, &mut pkt, &mut decided, now) {
                d.path = Some(path);
                return d;
            }
        }
        self.finish(pkt, path, decided, now, path != Path::Input)
    }

    /// The confirm hook, then the packet is delivered or transmitted.
    fn finish(
        &mut self,
        pkt: Pkt,
        path: Path,
        rule: Option<RuleRef>,
        now: Instant,
        transmit: bool,
    ) -> Decision {
        let mut conn = match pkt.ct {
            CtRef::Confirmed(id) => Some(id),
            _ => None,
        };
        if pkt.ct == CtRef::Unconfirmed
            && !pkt.preset_ct
            && let Some(ct) = self.ct.as_mut()
        {
            conn = ct.confirm(now);
        }
        if transmit {
            let iface = pkt.out_iface.clone().unwrap_or_else(|| Arc::from(""));
            if &*iface == host::LOOPBACK && self.depth < 2 {
                // Local traffic comes back in through lo, keeping its connection and mark:
                // conntrack and NOTRACK leave a packet that already has one alone (the
                // kernel source's nf_conntrack_in and xt_CT; no recording covers loopback).
                let back = Pkt {
                    in_iface: Some(self.host.iface_name(host::LOOPBACK)),
                    out_iface: None,
                    mac: None,
                    socket: false,
                    preset_ct: true,
                    // The entry this packet created is confirmed now.
                    ct: conn.map_or(pkt.ct, CtRef::Confirmed),
                    ..pkt.clone()
                };
                self.depth += 1;
                let back = self.prerouting(back, now);
                self.depth -= 1;
                // Dropped on the way in (INPUT): that is the packet's fate, though OUTPUT
                // let it go.
                if back.verdict == Verdict::Drop {
                    return Decision {
                        conn: back.conn.or(conn),
                        ..back
                    };
                }
            } else {
                self.out.push_back(Output::Transmit {
                    iface,
                    packet: pkt.buf,
                });
            }
        }
        Decision {
            verdict: Verdict::Accept,
            ctstate: pkt.ctstate,
            conn,
            path: Some(path),
            rule,
        }
    }

    /// Sends a REJECT reply through OUTPUT. The reply carries the offending packet's
    /// connection, as RELATED in the other direction (the kernel's `nf_ct_attach`, for the
    /// TCP reset and for ICMP errors alike); a reply to an untracked packet is tracked afresh.
    fn send_reject(&mut self, offending: &Pkt, reply: Vec<u8>, now: Instant) {
        if self.depth >= 2 {
            return;
        }
        let tracked = matches!(offending.ct, CtRef::Unconfirmed | CtRef::Confirmed(_));
        let is_rst = Fields::parse(&reply).is_some_and(|f| f.l4.tcp_flags.is_some());
        if is_rst
            && let CtRef::Confirmed(id) = offending.ct
            && let Some(ct) = self.ct.as_mut()
        {
            ct.set_closing(id, now);
        }
        let pkt = Pkt {
            ct: if tracked { offending.ct } else { CtRef::None },
            ctstate: tracked.then_some(CtState::Related),
            dir: offending.dir.map(Dir::flip),
            zone: offending.zone,
            preset_ct: tracked,
            ..Pkt::fresh(reply)
        };
        self.depth += 1;
        let _ = self.output(pkt, now);
        self.depth -= 1;
    }
}

impl Decision {
    fn dropped(rule: Option<RuleRef>, ctstate: Option<CtState>) -> Decision {
        Decision {
            verdict: Verdict::Drop,
            ctstate,
            conn: None,
            path: None,
            rule,
        }
    }
}

/// Addresses IPv4 routing refuses on input (ip_route_input's martian source and
/// destination): a multicast, limited-broadcast or 0.0.0.0 source, and loopback addresses
/// arriving anywhere but on `lo`. The rest of 0.0.0.0/8 is unicast since Linux 5.3 (a
/// recorded hping3 flood's SYNs from 0.x.y.z were answered).
fn martian(f: &Fields, on_lo: bool) -> bool {
    use std::net::IpAddr;
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (f.src, f.dst) else {
        return false;
    };
    src.is_multicast()
        || src.is_broadcast()
        || src.is_unspecified()
        || (!on_lo && (src.is_loopback() || dst.is_loopback()))
}

/// Forwarding takes one off the TTL (hop limit) before FORWARD; at 1 the packet dies.
fn decrement_ttl(buf: &mut [u8]) -> bool {
    match buf.first().map(|b| b >> 4) {
        Some(4) if buf.len() >= 20 => {
            if buf[8] <= 1 {
                return false;
            }
            buf[8] -= 1;
            // The TTL is the high byte of its 16-bit word: the checksum rises by 0x0100.
            // As ip_decrease_ttl adds it, including its carry rule at 0xffff.
            let c = u32::from(u16::from_be_bytes([buf[10], buf[11]])) + 0x0100;
            let c = c + u32::from(c >= 0xffff);
            buf[10..12].copy_from_slice(&(c as u16).to_be_bytes());
            true
        }
        Some(6) if buf.len() >= 40 => {
            if buf[7] <= 1 {
                return false;
            }
            buf[7] -= 1;
            true
        }
        _ => false,
    }
}
