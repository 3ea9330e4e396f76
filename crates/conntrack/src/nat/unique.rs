//! Choosing the translated tuple: inside the target's range, and used by no other entry.
//! The order of attempts is the kernel's `get_unique_tuple`: keep the tuple when it already
//! fits, reuse the mapping an earlier connection from the same source got, pick the address
//! by hash, and last change the port (ICMP id) until the tuple is free. Recorded: a clash
//! remapped into 1024-65535 (rules-snat); the privileged ranges, address ranges and
//! `--random` are from the kernel source.

use ctguard_wire::ip::protocol;

use super::jhash::jhash2;
use super::range::{Manip, NatRange};
use crate::Instant;
use crate::engine::{Conntrack, invert};
use crate::entry::Status;
use crate::tuple::{L3, Tuple, addr_bytes};

/// The kernel gives up searching a port range after this many tries per round.
const MAX_ATTEMPTS: u32 = 128;

fn in_addr_range(a: &[u8; 16], range: &NatRange, l3: L3) -> bool {
    let Some((lo, hi)) = range.addrs else {
        return true;
    };
    let n = if l3 == L3::V4 { 4 } else { 16 };
    let (lo, hi) = (addr_bytes(lo), addr_bytes(hi));
    lo[..n] <= a[..n] && a[..n] <= hi[..n]
}

/// Whether the protocol has a port-like key NAT can change, and where it is.
fn key(t: &mut Tuple, manip: Manip) -> Option<&mut u16> {
    match t.proto {
        protocol::ICMP | protocol::ICMPV6 => Some(&mut t.sport),
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP => {
            Some(match manip {
                Manip::Src => &mut t.sport,
                Manip::Dst => &mut t.dport,
            })
        }
        _ => None,
    }
}

fn proto_in_range(t: &Tuple, manip: Manip, lo: u16, hi: u16) -> bool {
    let mut t = *t;
    match key(&mut t, manip) {
        Some(k) => lo <= *k && *k <= hi,
        None => true,
    }
}

fn in_range(t: &Tuple, range: &NatRange, manip: Manip) -> bool {
    let addr = match manip {
        Manip::Src => &t.src,
        Manip::Dst => &t.dst,
    };
    in_addr_range(addr, range, t.l3)
        && range
            .ports
            .is_none_or(|(lo, hi)| proto_in_range(t, manip, lo, hi))
}

/// The 32-bit words of an address as the kernel's union holds them (network-order bytes
/// read in host order, little-endian here).
fn words(a: &[u8; 16]) -> [u32; 4] {
    let w = |i: usize| u32::from_le_bytes([a[i], a[i + 1], a[i + 2], a[i + 3]]);
    [w(0), w(4), w(8), w(12)]
}

/// `find_best_ips_proto`: one address, or one chosen by an unkeyed hash of the addresses.
fn best_ips(t: &mut Tuple, range: &NatRange, manip: Manip, zone: u16) {
    let Some((lo, hi)) = range.addrs else {
        return;
    };
    let (lo, hi) = (addr_bytes(lo), addr_bytes(hi));
    let max = if t.l3 == L3::V4 { 0 } else { 3 };
    if lo == hi {
        match manip {
            Manip::Src => t.src = lo,
            Manip::Dst => t.dst = lo,
        }
        return;
    }
    let dst = words(&t.dst);
    let mut j = jhash2(
        &words(&t.src),
        if range.persistent {
            0
        } else {
            dst[max] ^ u32::from(zone)
        },
    );
    let (lo_w, hi_w) = (words(&lo), words(&hi));
    let mut var = match manip {
        Manip::Src => words(&t.src),
        Manip::Dst => words(&t.dst),
    };
    let mut full = false;
    for i in 0..=max {
        let (min, dist) = if full {
            (0u32, u32::MAX)
        } else {
            let (a, b) = (u32::from_be(lo_w[i]), u32::from_be(hi_w[i]));
            (a, b.wrapping_sub(a).wrapping_add(1))
        };
        let pick = min.wrapping_add(((u64::from(j) * u64::from(dist)) >> 32) as u32);
        var[i] = pick.to_be();
        if var[i] != hi_w[i] {
            full = true;
        }
        if !range.persistent {
            j ^= dst[i];
        }
    }
    let mut bytes = [0u8; 16];
    for (i, w) in var.iter().enumerate() {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    match manip {
        Manip::Src => t.src = bytes,
        Manip::Dst => t.dst = bytes,
    }
}

impl Conntrack {
    /// `nf_nat_used_tuple`: would `t` as an original tuple clash with an existing entry?
    fn nat_used(&mut self, t: &Tuple, zone: u16, now: Instant) -> bool {
        match invert(t) {
            Some(reply) => self.tuple_taken(&reply, zone, now),
            None => false,
        }
    }

    /// `find_appropriate_src`: an earlier connection from the same source address, port and
    /// protocol that was source-mapped; its mapping is reused when it fits the range.
    fn appropriate_src(&self, t: &Tuple, range: &NatRange, zone: u16) -> Option<Tuple> {
        self.conns().find_map(|(_, c)| {
            let o = c.original();
            let same = c.zone == zone
                && c.status.has(Status::SRC_NAT_DONE)
                && o.proto == t.proto
                && o.src == t.src
                && o.sport == t.sport
                && o.l3 == t.l3;
            if !same {
                return None;
            }
            let r = c.reply();
            let mut out = *t;
            out.src = r.dst;
            out.sport = r.dport;
            in_range(&out, range, Manip::Src).then_some(out)
        })
    }

    /// `get_unique_tuple`.
    pub(crate) fn unique_tuple(
        &mut self,
        orig: &Tuple,
        range: &NatRange,
        manip: Manip,
        zone: u16,
        now: Instant,
    ) -> Tuple {
        if manip == Manip::Src && !range.random_all() {
            if in_range(orig, range, manip) {
                if !self.nat_used(orig, zone, now) {
                    return *orig;
                }
            } else if let Some(t) = self.appropriate_src(orig, range, zone)
                && !self.nat_used(&t, zone, now)
            {
                return t;
            }
        }
        let mut t = *orig;
        best_ips(&mut t, range, manip, zone);
        if !range.random_all() {
            match range.ports {
                Some((lo, hi)) => {
                    if proto_in_range(&t, manip, lo, hi)
                        && (lo == hi || !self.nat_used(&t, zone, now))
                    {
                        return t;
                    }
                }
                None => {
                    if !self.nat_used(&t, zone, now) {
                        return t;
                    }
                }
            }
        }
        self.unique_key(&mut t, range, manip, zone, now);
        t
    }

    /// `nf_nat_l4proto_unique_tuple`: walk the port (id) range from a random offset.
    fn unique_key(
        &mut self,
        t: &mut Tuple,
        range: &NatRange,
        manip: Manip,
        zone: u16,
        now: Instant,
    ) {
        let icmp = matches!(t.proto, protocol::ICMP | protocol::ICMPV6);
        let Some(&mut current) = key(t, manip) else {
            return;
        };
        let (min, size): (u32, u32) = match range.ports {
            Some((a, b)) => {
                let (a, b) = (a.min(b), a.max(b));
                (u32::from(a), u32::from(b) - u32::from(a) + 1)
            }
            None if icmp => (0, 65536),
            None if manip == Manip::Dst => return,
            None if current < 512 => (1, 511),
            None if current < 1024 => (600, 424),
            None => (1024, 65536 - 1024),
        };
        let mut off: u32 = if range.random_all() || manip != Manip::Dst {
            u32::from(self.random_u16())
        } else {
            0
        };
        let mut attempts = size.min(MAX_ATTEMPTS);
        loop {
            for _ in 0..attempts {
                let port = (min + off % size) as u16;
                if let Some(k) = key(t, manip) {
                    *k = port;
                }
                if !self.nat_used(t, zone, now) {
                    return;
                }
                off = off.wrapping_add(1);
            }
            if attempts >= size || attempts < 16 {
                return;
            }
            attempts /= 2;
            off = u32::from(self.random_u16());
        }
    }
}
