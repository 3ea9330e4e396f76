//! One tracked connection.

use crate::Instant;
use crate::proto::tcp::TcpConn;
use crate::tuple::{Dir, L3, Tuple};

/// The kernel's `IPS_*` status bits, with the kernel's bit numbers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Status(pub u16);

impl Status {
    pub const EXPECTED: u16 = 1 << 0;
    pub const SEEN_REPLY: u16 = 1 << 1;
    pub const ASSURED: u16 = 1 << 2;
    pub const CONFIRMED: u16 = 1 << 3;
    pub const SRC_NAT: u16 = 1 << 4;
    pub const DST_NAT: u16 = 1 << 5;
    pub const SEQ_ADJUST: u16 = 1 << 6;
    pub const SRC_NAT_DONE: u16 = 1 << 7;
    pub const DST_NAT_DONE: u16 = 1 << 8;
    pub const DYING: u16 = 1 << 9;
    pub const FIXED_TIMEOUT: u16 = 1 << 10;
    pub const NAT_CLASH: u16 = 1 << 12;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }

    pub fn set(&mut self, bit: u16) {
        self.0 |= bit;
    }

    pub fn clear(&mut self, bit: u16) {
        self.0 &= !bit;
    }
}

/// Packet and byte counters of one direction (`nf_conntrack_acct`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// Per-protocol state.
#[derive(Clone, Debug)]
pub enum ProtoState {
    Tcp(TcpConn),
    /// UDP and UDP-Lite: when the two-second window for becoming a stream ends.
    Udp {
        stream_after: Instant,
    },
    Icmp,
    Gre(crate::proto::gre::GreTimeouts),
    Generic,
}

/// A stable handle to a table entry, valid until the entry is destroyed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub(crate) u32);

impl ConnId {
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Both tuples of an entry, stored small: ports and IPv4 addresses inline, IPv6 addresses
/// out of line in [`Ext`], so that an IPv4 entry carries no 16-byte address slots.
#[derive(Clone, Debug)]
struct Key {
    /// (sport, dport) of the original and the reply direction.
    ports: [[u16; 2]; 2],
    /// Original source and destination, reply source and destination (IPv4).
    v4: [[u8; 4]; 4],
    proto: u8,
    v6: bool,
}

/// What only some entries need, behind one pointer: IPv6 addresses and acct's counters.
#[derive(Clone, Debug, Default)]
struct Ext {
    v6: [[u8; 16]; 4],
    acct: Option<[Counter; 2]>,
}

impl Key {
    fn set(&mut self, ext: &mut Option<Box<Ext>>, dir: Dir, t: &Tuple) {
        let i = dir.index();
        self.ports[i] = [t.sport, t.dport];
        self.v6 = t.l3 == L3::V6;
        match t.l3 {
            L3::V4 => {
                self.v4[2 * i] = t.src[..4].try_into().expect("4 bytes");
                self.v4[2 * i + 1] = t.dst[..4].try_into().expect("4 bytes");
            }
            L3::V6 => {
                let e = ext.get_or_insert_with(Box::default);
                e.v6[2 * i] = t.src;
                e.v6[2 * i + 1] = t.dst;
            }
        }
    }

    fn get(&self, ext: &Option<Box<Ext>>, dir: Dir) -> Tuple {
        let i = dir.index();
        let (src, dst, l3) = match ext {
            Some(e) if self.v6 => (e.v6[2 * i], e.v6[2 * i + 1], L3::V6),
            _ => {
                let mut src = [0u8; 16];
                let mut dst = [0u8; 16];
                src[..4].copy_from_slice(&self.v4[2 * i]);
                dst[..4].copy_from_slice(&self.v4[2 * i + 1]);
                (src, dst, L3::V4)
            }
        };
        Tuple {
            src,
            dst,
            sport: self.ports[i][0],
            dport: self.ports[i][1],
            proto: self.proto,
            l3,
        }
    }

    #[inline]
    fn matches(&self, ext: &Option<Box<Ext>>, dir: Dir, t: &Tuple) -> bool {
        let i = dir.index();
        if self.ports[i] != [t.sport, t.dport] || self.proto != t.proto {
            return false;
        }
        match (ext, self.v6, t.l3) {
            (_, false, L3::V4) => self.v4[2 * i] == t.src[..4] && self.v4[2 * i + 1] == t.dst[..4],
            (Some(e), true, L3::V6) => e.v6[2 * i] == t.src && e.v6[2 * i + 1] == t.dst,
            _ => false,
        }
    }
}

/// A connection-tracking entry (the kernel's `struct nf_conn`).
#[derive(Clone, Debug)]
pub struct Conn {
    key: Key,
    pub status: Status,
    /// When the entry times out; it stays in the table until something reaps it.
    pub expires: Instant,
    pub mark: u32,
    pub zone: u16,
    pub proto: ProtoState,
    /// IPv6 addresses, and the packet and byte counters when `nf_conntrack_acct` was on as
    /// the entry was made (the kernel's acct extension, added at creation only: read in
    /// init_conntrack, not recorded; no golden switches acct on mid-connection).
    ext: Option<Box<Ext>>,
}

impl Conn {
    /// A new, unconfirmed entry for a connection whose first packet had `original`.
    pub fn new(
        original: &Tuple,
        reply: &Tuple,
        zone: u16,
        proto: ProtoState,
        now: Instant,
    ) -> Conn {
        let mut c = Conn {
            key: Key {
                ports: [[0; 2]; 2],
                v4: [[0; 4]; 4],
                proto: original.proto,
                v6: false,
            },
            status: Status::default(),
            expires: now,
            mark: 0,
            zone,
            proto,
            ext: None,
        };
        c.key.set(&mut c.ext, Dir::Original, original);
        c.key.set(&mut c.ext, Dir::Reply, reply);
        c
    }

    pub fn original(&self) -> Tuple {
        self.key.get(&self.ext, Dir::Original)
    }

    pub fn reply(&self) -> Tuple {
        self.key.get(&self.ext, Dir::Reply)
    }

    /// The tuple of packets travelling in `dir`.
    pub fn tuple(&self, dir: Dir) -> Tuple {
        self.key.get(&self.ext, dir)
    }

    /// Whether packets with tuple `t` travel in `dir` of this entry.
    #[inline]
    pub fn has_tuple(&self, dir: Dir, t: &Tuple) -> bool {
        self.key.matches(&self.ext, dir, t)
    }

    /// NAT's new reply tuple (the family stays).
    pub fn set_reply(&mut self, t: &Tuple) {
        self.key.set(&mut self.ext, Dir::Reply, t);
    }

    /// The counters of one direction (zero until acct counts).
    pub fn acct(&self, dir: Dir) -> Counter {
        self.ext
            .as_ref()
            .and_then(|e| e.acct)
            .map_or_else(Counter::default, |a| a[dir.index()])
    }

    /// Gives the entry counters (at creation, when `nf_conntrack_acct` is on).
    pub fn enable_acct(&mut self) {
        let e = self.ext.get_or_insert_with(Box::default);
        e.acct.get_or_insert_with(Default::default);
    }

    /// Counts one packet of `bytes` in `dir`, if the entry has counters.
    pub fn account(&mut self, dir: Dir, bytes: u64) {
        if let Some(a) = self.ext.as_mut().and_then(|e| e.acct.as_mut()) {
            let a = &mut a[dir.index()];
            a.packets += 1;
            a.bytes += bytes;
        }
    }

    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires <= now
    }

    pub fn tcp(&self) -> Option<&TcpConn> {
        match &self.proto {
            ProtoState::Tcp(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
impl Conn {
    /// A UDP entry from 0.0.0.`host`-ish source bytes and `sport` to a fixed peer, for tests.
    pub(crate) fn for_test(host: u32, sport: u16, assured: bool, expires: Instant) -> Conn {
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&host.to_be_bytes());
        let mut dst = [0u8; 16];
        dst[..4].copy_from_slice(&[10, 0, 0, 2]);
        let l3 = L3::V4;
        let o = Tuple {
            src,
            dst,
            sport,
            dport: 80,
            proto: 17,
            l3,
        };
        let r = Tuple {
            src: dst,
            dst: src,
            sport: 80,
            dport: sport,
            proto: 17,
            l3,
        };
        let mut status = Status::default();
        if assured {
            status.set(Status::ASSURED);
        }
        let mut c = Conn::new(&o, &r, 0, ProtoState::Generic, expires);
        c.status = status;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 112 bytes: both IPv4 tuples inline (24), one pointer for IPv6 addresses and counters,
    /// and the TCP window state (56). This pins it so that growth is a decision.
    #[test]
    fn entry_size_is_pinned() {
        let size = core::mem::size_of::<Conn>();
        assert!(size <= 112, "Conn grew to {size} bytes");
        assert_eq!(
            size,
            core::mem::size_of::<Option<Conn>>(),
            "no tag for a free slot"
        );
    }
}
