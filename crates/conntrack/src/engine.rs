//! The tracker's entry point: one packet and the time in, a verdict out (the kernel's
//! nf_conntrack_in followed by the confirm at the end of the hook path).

use ctguard_wire::ip::protocol;
use std::collections::VecDeque;

use crate::Instant;
use crate::defrag::{Defrag, Reassembly};
use crate::entry::{Conn, ConnId, ProtoState, Status};
use crate::event::{DestroyReason, Event, LogLine, RateLimit};
use crate::gc::Gc;
use crate::intake::{self, Icmp, Ip, L4, L4Invalid, LinkType, Malformed};
use crate::protect::{Class, Eviction, ProtectStats, adaptive};
use crate::proto::tcp::{TcpConn, TcpContext, TcpInvalid, TcpVerdict};
use crate::proto::{generic, gre, icmp, udp};
use crate::stats::Stats;
use crate::sysctl::{Sysctl, SysctlError};
use crate::table::Table;
use crate::tuple::{Dir, L3, Tuple};
use crate::view::proc_line;

/// What happens to the packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    /// A fragment held for reassembly; the fragment that completes it carries the verdict.
    Held,
}

/// The state `-m conntrack --ctstate` sees.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl CtState {
    pub fn name(self) -> &'static str {
        match self {
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Invalid => "INVALID",
            CtState::Untracked => "UNTRACKED",
        }
    }
}

/// Why a packet was dropped or left INVALID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Dropped by IP input before netfilter.
    Malformed(Malformed),
    /// Dropped by reassembly.
    Fragment(&'static str),
    /// Dropped: the table was full and early drop found nothing to evict.
    TableFull,
    /// Dropped by the protect policy: the source's /24 (or /64) holds its quota of
    /// unassured entries.
    SourceQuota,
    /// INVALID: the L4 header checks failed.
    L4(L4Invalid),
    /// INVALID: the TCP tracker refused the segment.
    Tcp(TcpInvalid),
    /// INVALID: no tuple could be taken from the packet.
    NoTuple,
    /// INVALID: the packet cannot start a connection and has no reply form (e.g. an ICMP
    /// type with no answer type).
    CannotInvert,
    /// INVALID: an ICMP type that may not create a connection (e.g. a lone echo reply).
    IcmpNotNew,
    /// INVALID: an ICMP error quoting nothing tracked, or quoting it from the wrong side.
    IcmpNoMatch,
}

/// The result of one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// None when the packet never got a state (dropped before tracking, or held).
    pub ctstate: Option<CtState>,
    /// The packet's direction within its connection.
    pub dir: Option<Dir>,
    /// The packet's entry, if it is still in the table after the packet.
    pub conn: Option<ConnId>,
    /// The packet created a connection that is not confirmed yet: it is
    /// [`Conntrack::unconfirmed`] until [`Conntrack::confirm`] or [`Conntrack::abandon`].
    pub unconfirmed: bool,
    pub reason: Option<Reason>,
}

impl Outcome {
    fn state(ctstate: CtState, dir: Option<Dir>, conn: Option<ConnId>) -> Self {
        Outcome {
            verdict: Verdict::Accept,
            ctstate: Some(ctstate),
            dir,
            conn,
            unconfirmed: false,
            reason: None,
        }
    }

    fn invalid(reason: Reason) -> Self {
        Outcome {
            verdict: Verdict::Accept,
            ctstate: Some(CtState::Invalid),
            dir: None,
            conn: None,
            unconfirmed: false,
            reason: Some(reason),
        }
    }

    fn dropped(reason: Reason) -> Self {
        Outcome {
            verdict: Verdict::Drop,
            ctstate: None,
            dir: None,
            conn: None,
            unconfirmed: false,
            reason: Some(reason),
        }
    }

    /// The verdict of a fragment held for reassembly.
    pub fn held() -> Self {
        Outcome {
            verdict: Verdict::Held,
            ctstate: None,
            dir: None,
            conn: None,
            unconfirmed: false,
            reason: None,
        }
    }
}

/// The default hash seed: fixed, so that runs are reproducible.
pub const DEFAULT_SEED: u64 = 0x6374_6775_6172_6400;

/// A connection tracker for one network namespace.
#[derive(Debug)]
pub struct Conntrack {
    sysctl: Sysctl,
    pub(crate) table: Table,
    stats: Stats,
    protect_stats: ProtectStats,
    /// The protect policy's log lines, limited apart from the kernel's.
    protect_ratelimit: RateLimit,
    defrag: Defrag,
    gc: Gc,
    events: VecDeque<Event>,
    record_events: bool,
    ratelimit: RateLimit,
    netns: Option<u32>,
    malformed: Vec<(&'static str, u64)>,
    /// The connection the current packet created, until it is confirmed or abandoned (the
    /// kernel's unconfirmed list; it counts towards the table's size).
    unconfirmed: Option<Conn>,
    /// NAT's port choices (the kernel takes them from get_random_u16).
    pub(crate) rng: u64,
    /// The packet being tracked, kept only while `nf_conntrack_log_invalid` is on, for the
    /// packet fields of its log lines.
    logged: LoggedPacket,
}

fn push_destroyed(
    events: &mut VecDeque<Event>,
    record: bool,
    conn: Conn,
    reason: DestroyReason,
    at: Instant,
) {
    if record {
        events.push_back(Event::Destroyed { conn, reason, at });
    }
}

/// The tuple of a TCP or UDP packet, read without checks, for warming the table.
fn quick_tuple(ip: &Ip<'_>) -> Option<Tuple> {
    if !matches!(ip.proto, protocol::TCP | protocol::UDP) || ip.fragment.is_some() {
        return None;
    }
    let [a, b, c, d, ..] = *ip.l4() else {
        return None;
    };
    Some(Tuple {
        src: ip.src,
        dst: ip.dst,
        sport: u16::from_be_bytes([a, b]),
        dport: u16::from_be_bytes([c, d]),
        proto: ip.proto,
        l3: ip.l3,
    })
}

/// The reply tuple of a connection whose first packet had tuple `t`.
pub(crate) fn invert(t: &Tuple) -> Option<Tuple> {
    let mut r = Tuple {
        src: t.dst,
        dst: t.src,
        sport: t.dport,
        dport: t.sport,
        ..*t
    };
    if matches!(t.proto, protocol::ICMP | protocol::ICMPV6) {
        let ty = icmp::inverse_type(t.proto == protocol::ICMPV6, t.icmp_type())?;
        r.sport = t.sport;
        r.dport = u16::from(ty) << 8 | u16::from(t.icmp_code());
    }
    Some(r)
}

/// A new connection's entry before it is confirmed into the table.
enum Target {
    Existing(ConnId),
    Pending(Conn),
}

impl Conntrack {
    pub fn new(sysctl: Sysctl) -> Self {
        Self::with_seed(sysctl, DEFAULT_SEED)
    }

    pub fn with_seed(sysctl: Sysctl, seed: u64) -> Self {
        let mut table = Table::new(sysctl.buckets, seed);
        if sysctl.protect.on() {
            table.set_protect(true, sysctl.protect.source_quota > 0);
        }
        Conntrack {
            table,
            sysctl,
            stats: Stats::default(),
            protect_stats: ProtectStats::default(),
            protect_ratelimit: RateLimit::default(),
            defrag: Defrag::new(),
            gc: Gc::default(),
            events: VecDeque::with_capacity(64),
            record_events: true,
            ratelimit: RateLimit::default(),
            netns: None,
            malformed: Vec::new(),
            unconfirmed: None,
            rng: seed | 1,
            logged: LoggedPacket::default(),
        }
    }

    pub fn sysctl(&self) -> &Sysctl {
        &self.sysctl
    }

    /// Changes one setting; a new bucket count rebuilds the hash as the kernel does.
    pub fn set_sysctl(&mut self, key: &str, value: &str) -> Result<(), SysctlError> {
        let (was_on, had_quota) = self.protect_shape();
        self.sysctl.set(key, value)?;
        if self.table.buckets() != crate::table::round_buckets(self.sysctl.buckets) {
            self.table.resize(self.sysctl.buckets);
        }
        let (on, quota) = self.protect_shape();
        if (on, quota) != (was_on, had_quota) {
            self.table.set_protect(on, quota);
        }
        Ok(())
    }

    fn protect_shape(&self) -> (bool, bool) {
        let p = &self.sysctl.protect;
        (p.on(), p.on() && p.source_quota > 0)
    }

    /// Whether table changes are queued as events (log lines always are).
    pub fn set_record_events(&mut self, on: bool) {
        self.record_events = on;
    }

    /// Word table-full lines as in a child network namespace with this inode number.
    pub fn set_netns(&mut self, inode: Option<u32>) {
        self.netns = inode;
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the protect policy did (all zero under the kernel policy).
    pub fn protect_stats(&self) -> ProtectStats {
        self.protect_stats
    }

    /// Entries on the protect policy's unassured and closing lists.
    pub fn protect_lists(&self) -> Option<(u32, u32)> {
        let p = self.table.protect()?;
        Some((p.len(Class::Unassured), p.len(Class::Closing)))
    }

    /// Entries in the table, expired ones included until something reaps them
    /// (`nf_conntrack_count`).
    pub fn count(&self) -> u32 {
        self.table.len()
    }

    pub fn buckets(&self) -> u32 {
        self.table.buckets()
    }

    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.table.get(id)
    }

    /// Frames dropped before tracking, by reason name.
    pub fn malformed(&self) -> &[(&'static str, u64)] {
        &self.malformed
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the engine next needs [`Conntrack::handle_timeout`]: the collector's next run or
    /// a reassembly queue's timeout, whichever is first.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.gc.next_run, self.defrag.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the collector and reassembly expiry due by `now`.
    #[inline]
    pub fn handle_timeout(&mut self, now: Instant) {
        // Nearly every packet: nothing is due.
        if self.gc.next_run.is_some_and(|t| now < t)
            && self.defrag.next_deadline().is_none_or(|t| now < t)
        {
            return;
        }
        let (events, record) = (&mut self.events, self.record_events);
        self.gc
            .run_due(&mut self.table, &self.sysctl, now, &mut |c, r, at| {
                push_destroyed(events, record, c, r, at)
            });
        self.defrag.expire(now, &self.sysctl);
    }

    /// Tracks one captured frame in the default zone.
    pub fn process(&mut self, link: LinkType, frame: &[u8], now: Instant) -> Outcome {
        self.process_in_zone(link, frame, 0, now)
    }

    /// Tracks one captured frame in a conntrack zone (what `CT --zone` assigns): the same
    /// tuple in two zones is two connections.
    pub fn process_in_zone(
        &mut self,
        link: LinkType,
        frame: &[u8],
        zone: u16,
        now: Instant,
    ) -> Outcome {
        self.logged.mac = None;
        if self.sysctl.log_invalid != 0 {
            self.logged.mac = ethernet_mac(link, frame);
        }
        match intake::parse_frame(link, frame) {
            Ok(ip) => self.process_parsed(&ip, zone, now),
            Err(m) => self.count_malformed(m),
        }
    }

    /// Tracks a batch of frames in the default zone, exactly as [`Conntrack::process`] one
    /// after another would, with one difference in cost only: the table memory the batch
    /// will touch is requested up front, so that its cache misses overlap.
    pub fn process_batch(
        &mut self,
        link: LinkType,
        frames: &[&[u8]],
        now: Instant,
        out: &mut Vec<Outcome>,
    ) {
        for batch in frames.chunks(crate::table::WARM_BATCH) {
            let mut hashes = [0u32; crate::table::WARM_BATCH];
            let mut n = 0;
            for f in batch {
                if let Some(t) = intake::parse_frame(link, f)
                    .ok()
                    .and_then(|ip| quick_tuple(&ip))
                {
                    hashes[n] = self.table.hash(&t, 0);
                    n += 1;
                }
            }
            self.table.warm(&hashes[..n]);
            for f in batch {
                out.push(self.process(link, f, now));
            }
        }
    }

    /// Tracks one IP packet (no link layer) in the default zone.
    pub fn process_ip(&mut self, packet: &[u8], now: Instant) -> Outcome {
        self.logged.mac = None;
        match intake::parse_ip(packet) {
            Ok(ip) => self.process_parsed(&ip, 0, now),
            Err(m) => self.count_malformed(m),
        }
    }

    /// Sets an entry's mark (what `CONNMARK --set-mark` does); /proc shows it as `mark=`.
    pub fn set_mark(&mut self, id: ConnId, mark: u32) {
        if let Some(c) = self.table.get_mut(id) {
            c.mark = mark;
        }
    }

    fn count_malformed(&mut self, m: Malformed) -> Outcome {
        let name = m.name();
        match self.malformed.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.malformed.push((name, 1)),
        }
        Outcome::dropped(Reason::Malformed(m))
    }

    fn process_parsed(&mut self, ip: &Ip<'_>, zone: u16, now: Instant) -> Outcome {
        self.handle_timeout(now);
        let mut o = if ip.fragment.is_none() {
            self.track(ip, zone, true, now)
        } else {
            match self.defrag.push(ip, now, &self.sysctl) {
                Reassembly::Held => Outcome::held(),
                Reassembly::Dropped(why) => Outcome::dropped(Reason::Fragment(why)),
                Reassembly::Complete(whole) => match intake::parse_reassembled(&whole) {
                    Ok(ip) => self.track(&ip, zone, true, now),
                    Err(m) => self.count_malformed(m),
                },
            }
        };
        if o.unconfirmed {
            o.conn = self.confirm(now);
            o.unconfirmed = false;
        }
        o
    }

    /// Reassembly, as the kernel's defrag hook does it before the raw table. The caller runs
    /// [`Conntrack::handle_timeout`] once per packet first, so that timed-out queues go.
    pub fn defragment(&mut self, ip: &Ip<'_>, now: Instant) -> Reassembly {
        self.defrag.push(ip, now, &self.sysctl)
    }

    /// Counts a frame the IP layer refused before netfilter.
    pub fn refuse(&mut self, m: Malformed) -> Outcome {
        self.count_malformed(m)
    }

    /// The conntrack hook (PREROUTING or OUTPUT, priority -200) on a whole datagram. A new
    /// connection is left unconfirmed ([`Outcome::unconfirmed`]); the caller confirms it when
    /// the packet leaves the last hook, or abandons it when the packet is dropped. `mac` is
    /// the link header that invalid-packet log lines print. `checksum`: whether this hook
    /// verifies checksums (with `nf_conntrack_checksum` on): the kernel does at PREROUTING
    /// only, and not for packets whose checksum the device vouched for (loopback): read in
    /// the kernel source (tcp_error/udp_error), not recorded. Like
    /// [`Conntrack::defragment`], it leaves [`Conntrack::handle_timeout`] to the caller.
    pub fn conntrack_in(
        &mut self,
        ip: &Ip<'_>,
        zone: u16,
        mac: Option<[u8; 14]>,
        checksum: bool,
        now: Instant,
    ) -> Outcome {
        self.abandon();
        self.logged.mac = mac;
        self.track(ip, zone, checksum, now)
    }

    /// The connection the last packet created, before it is confirmed.
    pub fn unconfirmed(&self) -> Option<&Conn> {
        self.unconfirmed.as_ref()
    }

    pub fn unconfirmed_mut(&mut self) -> Option<&mut Conn> {
        self.unconfirmed.as_mut()
    }

    /// The confirm hook: the unconfirmed connection joins the table.
    pub fn confirm(&mut self, now: Instant) -> Option<ConnId> {
        let c = self.unconfirmed.take()?;
        let id = self.table.insert(c);
        self.table.stamp(id, now);
        if self.record_events {
            self.events.push_back(Event::New { id, at: now });
        }
        Some(id)
    }

    /// The packet that created the unconfirmed connection was dropped: the entry goes.
    pub fn abandon(&mut self) {
        self.unconfirmed = None;
    }

    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.table.get_mut(id)
    }

    /// The kernel's `nf_ct_set_closing`, which REJECT `--reject-with tcp-reset` calls on the
    /// connection it answers: a confirmed TCP entry moves to CLOSE with CLOSE's timeout (a
    /// fixed timeout stays).
    pub fn set_closing(&mut self, id: ConnId, now: Instant) {
        let count = self.table.len();
        let timeouts = &self.sysctl.timeouts;
        if let Some(c) = self.table.get_mut(id)
            && let ProtoState::Tcp(t) = &mut c.proto
            && let Some(timeout) = t.set_closing(timeouts)
            && !c.status.has(Status::FIXED_TIMEOUT)
        {
            c.expires = now + adapt(&self.sysctl, count, c, timeout);
        }
        self.table.refresh(id, now);
    }

    /// Whether an entry other than the unconfirmed one has tuple `t` in either direction
    /// (the kernel's `nf_conntrack_tuple_taken`). Expired entries met are reaped.
    pub fn tuple_taken(&mut self, t: &Tuple, zone: u16, now: Instant) -> bool {
        let (events, record) = (&mut self.events, self.record_events);
        let taken = self
            .table
            .find(t, zone, now, &mut |c| {
                push_destroyed(events, record, c, DestroyReason::Expired, now)
            })
            .is_some();
        // The kernel counts a taken tuple in `found`.
        if taken {
            self.stats.found += 1;
        }
        taken
    }

    /// The next pseudo-random 16 bits (xorshift64*), seeded from the hash seed so that runs
    /// are reproducible.
    pub(crate) fn random_u16(&mut self) -> u16 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48) as u16
    }

    fn log(&mut self, line: LogLine, now: Instant) {
        self.events.push_back(Event::Log { line, at: now });
    }

    fn log_invalid(&mut self, proto: u8, reason: &dyn core::fmt::Display, now: Instant) {
        self.logged
            .report(&self.sysctl, &mut self.events, proto, reason, now);
    }

    fn invalid(&mut self, proto: u8, reason: Reason, now: Instant) -> Outcome {
        self.stats.invalid += 1;
        match &reason {
            Reason::L4(e) if e.logged() => self.log_invalid(proto, &e.name(), now),
            Reason::Tcp(e) if e.logged() => self.log_invalid(proto, e, now),
            _ => {}
        }
        Outcome::invalid(reason)
    }

    /// An ICMP/ICMPv6 header check failed, or an error relates to nothing: counted in
    /// `error`, not `invalid`, as the kernel's ICMP error path does.
    fn icmp_failed(&mut self, proto: u8, reason: Reason, now: Instant) -> Outcome {
        self.stats.error += 1;
        if let Reason::L4(e) = &reason
            && e.logged()
        {
            self.log_invalid(proto, &e.name(), now);
        }
        Outcome::invalid(reason)
    }

    fn track(&mut self, ip: &Ip<'_>, zone: u16, checksum: bool, now: Instant) -> Outcome {
        if self.sysctl.log_invalid != 0 {
            self.logged.ip.clear();
            self.logged.ip.extend_from_slice(ip.packet);
        }
        let v6 = ip.l3 == L3::V6;
        let l4 = intake::parse_l4(ip, self.sysctl.checksum && checksum);
        let is_icmp = (ip.proto == protocol::ICMP && !v6) || (ip.proto == protocol::ICMPV6 && v6);
        if is_icmp {
            match &l4 {
                Err(e) => return self.icmp_failed(ip.proto, Reason::L4(*e), now),
                Ok(L4::Icmp(m)) => {
                    if m.untracked() {
                        return Outcome::state(CtState::Untracked, None, None);
                    }
                    // Errors, and (since 6.2) redirects that carry the redirected header.
                    if icmp::is_error(v6, m.ty) || m.quoted.is_some() {
                        return self.icmp_error(ip, m, zone, now);
                    }
                }
                Ok(_) => {}
            }
        }
        let (sport, dport) = match &l4 {
            Ok(L4::Tcp { sport, dport, .. }) | Ok(L4::Udp { sport, dport }) => (*sport, *dport),
            Ok(L4::Icmp(m)) => (m.id, u16::from(m.ty) << 8 | u16::from(m.code)),
            Ok(L4::Other) if ip.proto == protocol::GRE => gre::keys(ip.l4()),
            Ok(L4::Other) => (0, 0),
            Err(_) => match ip.l4() {
                [a, b, c, d, ..] => (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])),
                _ => return self.invalid(ip.proto, Reason::NoTuple, now),
            },
        };
        let tuple = Tuple {
            src: ip.src,
            dst: ip.dst,
            sport,
            dport,
            proto: ip.proto,
            l3: ip.l3,
        };
        let len = ip.packet.len() as u64;
        // A reopened TCP tuple goes round once more, as the kernel's NF_REPEAT does.
        for _ in 0..2 {
            let (events, record) = (&mut self.events, self.record_events);
            let found = self.table.find(&tuple, zone, now, &mut |c| {
                push_destroyed(events, record, c, DestroyReason::Expired, now)
            });
            let (target, dir) = match found {
                Some((id, dir)) => (Target::Existing(id), dir),
                None => {
                    let Some(reply) = invert(&tuple) else {
                        return self.invalid(ip.proto, Reason::CannotInvert, now);
                    };
                    if self.sysctl.protect.on()
                        && let Err(o) = self.check_quota(&tuple, now)
                    {
                        return o;
                    }
                    if let Err(o) = self.make_room(&tuple, zone, now) {
                        return o;
                    }
                    let proto = match ip.proto {
                        protocol::TCP => ProtoState::Generic, // replaced once the TCP tracker accepts the segment
                        protocol::UDP | protocol::UDPLITE => ProtoState::Udp {
                            stream_after: now + udp::STREAM_AFTER,
                        },
                        protocol::ICMP | protocol::ICMPV6 => ProtoState::Icmp,
                        protocol::GRE => ProtoState::Gre(gre::GreTimeouts::new(&self.sysctl)),
                        _ => ProtoState::Generic,
                    };
                    let mut conn = Conn::new(&tuple, &reply, zone, proto, now);
                    if self.sysctl.acct {
                        conn.enable_acct();
                    }
                    (Target::Pending(conn), Dir::Original)
                }
            };
            match self.handle(target, dir, &l4, ip.proto, len, now) {
                Handled::Done(o) => return o,
                Handled::Repeat => continue,
            }
        }
        self.invalid(ip.proto, Reason::NoTuple, now)
    }

    /// Room for one more entry, or the table-full drop.
    fn make_room(&mut self, tuple: &Tuple, zone: u16, now: Instant) -> Result<(), Outcome> {
        let max = self.sysctl.max;
        if max == 0 || self.table.len() < max {
            return Ok(());
        }
        let hash = self.table.hash(tuple, zone);
        if self.sysctl.protect.on() {
            return self.protect_make_room(hash, now);
        }
        let (events, record) = (&mut self.events, self.record_events);
        let drops = self.table.early_drop(hash, now, &mut |c, victim| {
            let why = if victim {
                DestroyReason::EarlyDrop
            } else {
                DestroyReason::Expired
            };
            push_destroyed(events, record, c, why, now)
        });
        if drops > 0 {
            self.stats.early_drop += u64::from(drops);
            return Ok(());
        }
        self.table_full(now)
    }

    /// The table-full drop: counted, logged rate-limited, and the collector told to evict.
    fn table_full(&mut self, now: Instant) -> Result<(), Outcome> {
        self.gc.early_drop = true;
        self.stats.drop += 1;
        let (print, suppressed) = self.ratelimit.check(now);
        if let Some(callbacks) = suppressed {
            self.log(LogLine::Suppressed { callbacks }, now);
        }
        if print {
            self.log(LogLine::TableFull { netns: self.netns }, now);
        }
        Err(Outcome::dropped(Reason::TableFull))
    }

    /// Protect's make_room: expired entries, then the least recently used unassured entry,
    /// then the least recently used closing one; never a protected entry.
    fn protect_make_room(&mut self, hash: u32, now: Instant) -> Result<(), Outcome> {
        let (mut removed, mut first) = (0u32, None);
        let (events, record, stats) = (
            &mut self.events,
            self.record_events,
            &mut self.protect_stats,
        );
        let made = self.table.protect_make_room(hash, now, &mut |c, why| {
            removed += 1;
            stats.count(why);
            if why != Eviction::Expired {
                self.stats.early_drop += 1;
            }
            // What the log line needs, kept without allocating: most lines are suppressed.
            first.get_or_insert((c.original(), c.tcp().map(|t| t.state().name()), why));
            push_destroyed(events, record, c, DestroyReason::Protect(why), now);
        });
        if let Some((tuple, state, why)) = first {
            self.protect_log(now, || {
                let what = describe(&tuple, state);
                match why {
                    Eviction::Expired => format!(
                        "table full, reaped {removed} expired entr{} ({what}, ...)",
                        if removed == 1 { "y" } else { "ies" }
                    ),
                    _ => format!(
                        "table full, evicted the least recently used {} entry: {what}",
                        why.name()
                    ),
                }
            });
        }
        if made {
            return Ok(());
        }
        self.table_full(now)
    }

    /// Protect's per-source quota on unassured entries.
    fn check_quota(&mut self, tuple: &Tuple, now: Instant) -> Result<(), Outcome> {
        let Some(quota) = self.sysctl.protect.quota_entries(self.sysctl.max) else {
            return Ok(());
        };
        let Some((prefix, held)) = self.table.protect().and_then(|p| p.prefix_count(tuple)) else {
            return Ok(());
        };
        if held < quota {
            return Ok(());
        }
        self.protect_stats.quota_drop += 1;
        self.protect_log(now, || {
            format!(
                "source {prefix} holds {held} unassured entries (quota {quota}), dropping packet"
            )
        });
        Err(Outcome::dropped(Reason::SourceQuota))
    }

    /// A protect log line, rate-limited; `text` is built only for a line that prints.
    fn protect_log(&mut self, now: Instant, text: impl FnOnce() -> String) {
        let (print, suppressed) = self.protect_ratelimit.check(now);
        if let Some(messages) = suppressed {
            self.log(LogLine::ProtectSuppressed { messages }, now);
        }
        if print {
            self.log(LogLine::Protect { text: text() }, now);
        }
    }

    fn handle(
        &mut self,
        target: Target,
        dir: Dir,
        l4: &Result<L4<'_>, L4Invalid>,
        proto: u8,
        len: u64,
        now: Instant,
    ) -> Handled {
        let mut target = target;
        let count = self.table.len();
        let conn: &mut Conn = match &mut target {
            Target::Existing(id) => self.table.get_mut(*id).expect("found entries are live"),
            Target::Pending(c) => c,
        };
        let confirmed = conn.status.has(Status::CONFIRMED);
        let seen_reply = conn.status.has(Status::SEEN_REPLY);
        let ctstate = if dir == Dir::Reply || seen_reply {
            CtState::Established
        } else {
            CtState::New
        };
        let sysctl = &self.sysctl;
        let mut note_line: Option<String> = None;
        let update = match l4 {
            Err(e) => Update::Invalid(Reason::L4(*e)),
            Ok(L4::Tcp { seg, .. }) => {
                if let Err(e) = TcpConn::check_flags(seg.flags) {
                    Update::Invalid(Reason::Tcp(e))
                } else {
                    if !confirmed {
                        match TcpConn::new(seg, sysctl) {
                            Ok(t) => conn.proto = ProtoState::Tcp(t),
                            Err(e) => return self.finish_invalid(proto, Reason::Tcp(e), now),
                        }
                    }
                    let ctx = TcpContext {
                        seen_reply,
                        assured: conn.status.has(Status::ASSURED),
                        confirmed,
                    };
                    let ProtoState::Tcp(t) = &mut conn.proto else {
                        unreachable!("TCP entries carry TCP state")
                    };
                    let report = t.packet_report(dir, seg, ctx, sysctl);
                    if let Some(note) = report.note {
                        note_line = Some(note.to_string());
                    }
                    if let Some(lower) = report.lower_timeout
                        && lower.applies(now.until(conn.expires))
                        && !conn.status.has(Status::FIXED_TIMEOUT)
                    {
                        conn.expires = now + lower.timeout;
                        note_line = Some(lower.message(crate::gc::HZ as u32));
                    }
                    match report.verdict {
                        TcpVerdict::Accept { timeout, assure } => {
                            Update::Refresh { timeout, assure }
                        }
                        TcpVerdict::Ignore => Update::Ignore,
                        TcpVerdict::Invalid(e) => Update::Invalid(Reason::Tcp(e)),
                        TcpVerdict::AcceptAndKill => Update::Kill,
                        TcpVerdict::Reopen => Update::Reopen,
                    }
                }
            }
            Ok(L4::Udp { .. }) => {
                let stream_after = match conn.proto {
                    ProtoState::Udp { stream_after } => stream_after,
                    _ => now,
                };
                let u = udp::packet(
                    stream_after,
                    seen_reply,
                    conn.status.has(Status::NAT_CLASH),
                    now,
                    sysctl,
                );
                Update::Refresh {
                    timeout: u.timeout,
                    assure: u.assure,
                }
            }
            Ok(L4::Icmp(m)) => {
                if !icmp::valid_new(m.v6, conn.original().icmp_type()) {
                    Update::Invalid(Reason::IcmpNotNew)
                } else {
                    Update::Refresh {
                        timeout: icmp::timeout(m.v6, sysctl),
                        assure: false,
                    }
                }
            }
            Ok(L4::Other) => match conn.proto {
                ProtoState::Gre(g) => Update::Refresh {
                    timeout: g.timeout(seen_reply),
                    assure: seen_reply && !conn.status.has(Status::NAT_CLASH),
                },
                _ => Update::Refresh {
                    timeout: generic::timeout(sysctl),
                    assure: false,
                },
            },
        };
        if let Some(line) = note_line {
            self.logged
                .report(sysctl, &mut self.events, proto, &line, now);
        }
        let acct = |c: &mut Conn| c.account(dir, len);
        match update {
            Update::Invalid(r) => return self.finish_invalid(proto, r, now),
            Update::Reopen => {
                if let Target::Existing(id) = target {
                    let c = self.table.remove(id);
                    push_destroyed(
                        &mut self.events,
                        self.record_events,
                        c,
                        DestroyReason::Reopened,
                        now,
                    );
                }
                return Handled::Repeat;
            }
            Update::Kill => {
                acct(conn);
                if let Target::Existing(id) = target {
                    let c = self.table.remove(id);
                    push_destroyed(
                        &mut self.events,
                        self.record_events,
                        c,
                        DestroyReason::Killed,
                        now,
                    );
                }
                return Handled::Done(Outcome::state(ctstate, Some(dir), None));
            }
            Update::Ignore => {}
            Update::Refresh { timeout, assure } => {
                if assure {
                    conn.status.set(Status::ASSURED);
                }
                if !conn.status.has(Status::FIXED_TIMEOUT) {
                    conn.expires = now + adapt(sysctl, count, conn, timeout);
                }
                acct(conn);
            }
        }
        if dir == Dir::Reply {
            conn.status.set(Status::SEEN_REPLY);
        }
        match target {
            Target::Existing(id) => {
                self.table.refresh(id, now);
                Handled::Done(Outcome::state(ctstate, Some(dir), Some(id)))
            }
            Target::Pending(c) => {
                self.unconfirmed = Some(c);
                let mut o = Outcome::state(ctstate, Some(dir), None);
                o.unconfirmed = true;
                Handled::Done(o)
            }
        }
    }

    fn finish_invalid(&mut self, proto: u8, reason: Reason, now: Instant) -> Handled {
        Handled::Done(self.invalid(proto, reason, now))
    }

    fn icmp_error(&mut self, ip: &Ip<'_>, m: &Icmp<'_>, zone: u16, now: Instant) -> Outcome {
        let Some(q) = m.quoted.and_then(|b| intake::parse_quoted_as(ip.l3, b)) else {
            return self.icmp_failed(ip.proto, Reason::IcmpNoMatch, now);
        };
        let quoted = Tuple {
            src: q.src,
            dst: q.dst,
            sport: q.sport,
            dport: q.dport,
            proto: q.proto,
            l3: q.l3,
        };
        let Some(inner) = invert(&quoted) else {
            return self.icmp_failed(ip.proto, Reason::IcmpNoMatch, now);
        };
        let (events, record) = (&mut self.events, self.record_events);
        let found = self.table.find(&inner, zone, now, &mut |c| {
            push_destroyed(events, record, c, DestroyReason::Expired, now)
        });
        match found {
            Some((id, dir))
                if self
                    .table
                    .get(id)
                    .is_some_and(|c| c.tuple(dir).dst == ip.dst) =>
            {
                Outcome::state(CtState::Related, Some(dir), Some(id))
            }
            _ => self.icmp_failed(ip.proto, Reason::IcmpNoMatch, now),
        }
    }

    /// The table as /proc/net/nf_conntrack shows it at `now`, one line per entry without
    /// newlines. Reading reaps expired entries, as reading the kernel's file does.
    pub fn proc_lines(&mut self, now: Instant) -> Vec<String> {
        let mut lines = Vec::with_capacity(self.table.len() as usize);
        for id in self.table.ids_in_proc_order() {
            let expired = self.table.get(id).is_some_and(|c| c.is_expired(now));
            if expired {
                let c = self.table.remove(id);
                push_destroyed(
                    &mut self.events,
                    self.record_events,
                    c,
                    DestroyReason::Expired,
                    now,
                );
                continue;
            }
            if let Some(c) = self.table.get(id) {
                let mut s = String::with_capacity(200);
                proc_line(c, now, self.sysctl.acct, &mut s);
                lines.push(s);
            }
        }
        lines
    }

    /// Every entry, in no particular order.
    pub fn conns(&self) -> impl Iterator<Item = (ConnId, &Conn)> + '_ {
        self.table
            .ids_in_proc_order()
            .into_iter()
            .filter_map(|id| self.table.get(id).map(|c| (id, c)))
    }

    /// Empties the table (`conntrack -F`).
    pub fn flush(&mut self, now: Instant) {
        for id in self.table.ids_in_proc_order() {
            let c = self.table.remove(id);
            push_destroyed(
                &mut self.events,
                self.record_events,
                c,
                DestroyReason::Flushed,
                now,
            );
        }
    }
}

/// A timeout under the protect policy's adaptive rule (unchanged under the kernel policy, and
/// for protected entries).
#[inline]
fn adapt(
    sysctl: &Sysctl,
    count: u32,
    c: &Conn,
    timeout: core::time::Duration,
) -> core::time::Duration {
    let p = &sysctl.protect;
    if !p.on() || !Class::of(c).adaptive() {
        return timeout;
    }
    adaptive::scale(timeout, count, sysctl.max, p.adaptive_start, p.adaptive_end)
}

/// An entry for a protect log line: `tcp src=... dst=... sport=... dport=... SYN_RECV`.
fn describe(t: &Tuple, tcp_state: Option<&str>) -> String {
    let mut s = format!(
        "{} src={} dst={}",
        generic::proto_name(t.proto),
        t.src_ip(),
        t.dst_ip()
    );
    if matches!(
        t.proto,
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP
    ) {
        s += &format!(" sport={} dport={}", t.sport, t.dport);
    }
    if let Some(state) = tcp_state {
        s += " ";
        s += state;
    }
    s
}

#[derive(Debug, Default)]
struct LoggedPacket {
    mac: Option<[u8; 14]>,
    ip: Vec<u8>,
}

impl LoggedPacket {
    /// Queues an `nf_ct_proto_N:` line if `nf_conntrack_log_invalid` covers `proto`.
    fn report(
        &self,
        sysctl: &Sysctl,
        events: &mut VecDeque<Event>,
        proto: u8,
        reason: &dyn core::fmt::Display,
        now: Instant,
    ) {
        let level = sysctl.log_invalid;
        if level == 255 || (level != 0 && level == proto) {
            let line = LogLine::Invalid {
                proto,
                reason: reason.to_string(),
                mac: self.mac,
                packet: self.ip.clone(),
            };
            events.push_back(Event::Log { line, at: now });
        }
    }
}

/// The link header the kernel prints after `MAC=` for an Ethernet device: addresses and the
/// ethertype of the IP packet (VLAN tags are taken off by the receiving device).
fn ethernet_mac(link: LinkType, frame: &[u8]) -> Option<[u8; 14]> {
    if link != LinkType::Ethernet || frame.len() < 14 {
        return None;
    }
    let mut mac = [0u8; 14];
    mac[..12].copy_from_slice(&frame[..12]);
    let mut at = 12;
    while at + 4 <= frame.len()
        && matches!(
            u16::from_be_bytes([frame[at], frame[at + 1]]),
            0x8100 | 0x88a8 | 0x9100
        )
    {
        at += 4;
    }
    mac[12..].copy_from_slice(frame.get(at..at + 2)?);
    Some(mac)
}

enum Update {
    Refresh {
        timeout: core::time::Duration,
        assure: bool,
    },
    Ignore,
    Invalid(Reason),
    Kill,
    Reopen,
}

enum Handled {
    Done(Outcome),
    Repeat,
}
