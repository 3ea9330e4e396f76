//! The `protect` table policy (`nf_conntrack_policy = protect`), which no kernel has: when the
//! table is full it makes room table-wide instead of in 8 buckets, so that a flood of
//! half-open connections cannot lock legitimate users out.
//!
//! - [`Class`]: what an entry is to the policy: unassured, closing, or protected (assured and
//!   not closing: never evicted for a newcomer).
//! - [`lru`]: the unassured and the closing entries, each on its own least-recently-used list.
//! - [`adaptive`]: pf's adaptive timeouts for unassured and closing entries.
//! - [`quota`]: unassured entries per source /24 or /64.
//!
//! The table keeps this state up to date on every insert, removal and packet
//! ([`crate::table::Table`]); the engine asks it for victims and applies the timeouts.

pub mod adaptive;
mod lru;
pub mod quota;

use crate::entry::{Conn, ProtoState, Status};
use crate::proto::tcp::TcpState;
use quota::{Prefix, Quota};

/// What an entry is to the policy.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    /// ASSURED and not closing: never evicted to make room.
    #[default]
    Protected = 0,
    /// Not ASSURED: evicted first, oldest first.
    Unassured = 1,
    /// ASSURED TCP in FIN_WAIT, LAST_ACK, TIME_WAIT or CLOSE: evicted next.
    Closing = 2,
}

impl Class {
    pub fn of(c: &Conn) -> Class {
        if !c.status.has(Status::ASSURED) {
            return Class::Unassured;
        }
        match &c.proto {
            ProtoState::Tcp(t)
                if matches!(
                    t.state(),
                    TcpState::FinWait | TcpState::LastAck | TcpState::TimeWait | TcpState::Close
                ) =>
            {
                Class::Closing
            }
            _ => Class::Protected,
        }
    }

    /// Whether the adaptive timeouts apply.
    pub fn adaptive(self) -> bool {
        self != Class::Protected
    }

    fn list(self) -> Option<usize> {
        match self {
            Class::Protected => None,
            Class::Unassured => Some(0),
            Class::Closing => Some(1),
        }
    }
}

/// Why protect removed an entry to make room.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// It had timed out already (the kernel would have reaped it later).
    Expired,
    /// The least recently used unassured entry.
    Unassured,
    /// The least recently used closing entry.
    Closing,
}

impl Eviction {
    pub fn name(self) -> &'static str {
        match self {
            Eviction::Expired => "expired",
            Eviction::Unassured => "unassured",
            Eviction::Closing => "closing",
        }
    }
}

/// What the policy did, beside the kernel's `conntrack -S` counters.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtectStats {
    /// Expired entries removed to make room.
    pub evicted_expired: u64,
    /// Unassured entries evicted to make room (also counted in `early_drop`).
    pub evicted_unassured: u64,
    /// Closing entries evicted to make room (also counted in `early_drop`).
    pub evicted_closing: u64,
    /// New connections refused because their source prefix was at its quota.
    pub quota_drop: u64,
}

impl ProtectStats {
    pub fn count(&mut self, e: Eviction) {
        match e {
            Eviction::Expired => self.evicted_expired += 1,
            Eviction::Unassured => self.evicted_unassured += 1,
            Eviction::Closing => self.evicted_closing += 1,
        }
    }

    /// Name and value of each counter, for summaries.
    pub fn fields(&self) -> [(&'static str, u64); 4] {
        [
            ("evicted_expired", self.evicted_expired),
            ("evicted_unassured", self.evicted_unassured),
            ("evicted_closing", self.evicted_closing),
            ("quota_drop", self.quota_drop),
        ]
    }
}

/// How many of each list's oldest entries a search for expired ones looks at.
pub const EXPIRED_SCAN: usize = 8;

/// An unassured entry used this recently may be a handshake in progress, and a closing one a
/// close in progress (its last ACK still to come): a closing entry idle for longer goes
/// before a young unassured one. TCP's initial retransmission timeout (RFC 6298: 1 s) bounds
/// a round trip. Without this, a flood's stream of newcomers meets a table that legitimate
/// connections' TIME_WAIT entries have filled, and each newcomer evicts the newest
/// legitimate SYN.
pub const HANDSHAKE_GRACE_MS: u32 = 1000;

/// Milliseconds on a wrapping 32-bit clock (49 days a turn; only differences are used).
pub fn tick(now: crate::Instant) -> u32 {
    (now.as_nanos() / 1_000_000) as u32
}

/// The policy's side state, kept only while the policy is on.
#[derive(Debug, Default)]
pub struct Protect {
    lists: lru::Lists<2>,
    /// When each slot's entry was last used ([`tick`]).
    used: Vec<u32>,
    /// Counted only with a quota set.
    quota: Option<Quota>,
}

impl Protect {
    pub fn new(with_quota: bool) -> Protect {
        Protect {
            quota: with_quota.then(Quota::default),
            ..Protect::default()
        }
    }

    /// A new entry in `slot`.
    pub fn added(&mut self, slot: u32, class: Class, c: &Conn) {
        if let Some(l) = class.list() {
            self.lists.push_back(l, slot);
        }
        if class == Class::Unassured
            && let Some(q) = &mut self.quota
        {
            q.add(Prefix::of(&c.original()));
        }
    }

    /// The entry in `slot` leaves the table.
    pub fn removed(&mut self, slot: u32, class: Class, c: &Conn) {
        if let Some(l) = class.list() {
            self.lists.unlink(l, slot);
        }
        if class == Class::Unassured
            && let Some(q) = &mut self.quota
        {
            q.sub(Prefix::of(&c.original()));
        }
    }

    /// The entry in `slot` was used at `now`.
    #[inline]
    pub fn stamp(&mut self, slot: u32, now: crate::Instant) {
        let i = slot as usize;
        if self.used.len() <= i {
            self.used.resize(i + 1, 0);
        }
        self.used[i] = tick(now);
    }

    /// Milliseconds since the entry in `slot` was last used.
    pub fn idle_ms(&self, slot: u32, now: crate::Instant) -> u32 {
        let used = self.used.get(slot as usize).copied().unwrap_or(0);
        tick(now).wrapping_sub(used)
    }

    /// The entry in `slot` saw a packet or changed; `was` is its class before.
    #[inline]
    pub fn touched(&mut self, slot: u32, was: Class, now: Class, c: &Conn) {
        if was == now {
            if let Some(l) = now.list() {
                self.lists.move_to_back(l, slot);
            }
            return;
        }
        self.removed(slot, was, c);
        self.added(slot, now, c);
    }

    /// Unassured entries that `c`'s source prefix holds, if a quota is kept.
    pub fn prefix_count(&self, c: &crate::tuple::Tuple) -> Option<(Prefix, u32)> {
        let q = self.quota.as_ref()?;
        let p = Prefix::of(c);
        Some((p, q.count(p)))
    }

    /// The oldest slots of a class's list, oldest first, as many as fit in `out`; returns
    /// how many.
    pub fn oldest(&self, class: Class, out: &mut [u32]) -> usize {
        class.list().map_or(0, |l| self.lists.oldest(l, out))
    }

    /// The least recently used entry of a class.
    pub fn victim(&self, class: Class) -> Option<u32> {
        self.lists.front(class.list()?)
    }

    /// Entries on a class's list.
    pub fn len(&self, class: Class) -> u32 {
        class.list().map_or(0, |l| self.lists.len(l))
    }
}
