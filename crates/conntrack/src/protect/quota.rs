//! Unassured entries per source prefix (an IPv4 /24, an IPv6 /64), so that one source cannot
//! fill the table with half-open connections.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::tuple::{L3, Tuple};

/// A source prefix: the family and the address's first 24 or 64 bits.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    l3: L3,
    bits: u64,
}

impl Prefix {
    pub fn of(t: &Tuple) -> Prefix {
        let a = t.src;
        let bits = match t.l3 {
            L3::V4 => u64::from(u32::from_be_bytes([0, a[0], a[1], a[2]])),
            L3::V6 => u64::from_be_bytes([a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]]),
        };
        Prefix { l3: t.l3, bits }
    }
}

impl core::fmt::Display for Prefix {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.bits.to_be_bytes();
        match self.l3 {
            L3::V4 => write!(f, "{}.{}.{}.0/24", b[5], b[6], b[7]),
            L3::V6 => {
                let w = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
                write!(f, "{:x}:{:x}:{:x}:{:x}::/64", w(0), w(2), w(4), w(6))
            }
        }
    }
}

/// Multiplicative hashing: prefixes are not attacker-chosen keys into an unbounded map (one
/// entry per prefix holding an entry of a bounded table), and SipHash would cost more than the
/// rest of the bookkeeping.
#[derive(Default)]
pub struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[derive(Debug, Default)]
pub struct Quota {
    counts: HashMap<Prefix, u32, BuildHasherDefault<PrefixHasher>>,
}

impl Quota {
    pub fn count(&self, p: Prefix) -> u32 {
        self.counts.get(&p).copied().unwrap_or(0)
    }

    pub fn add(&mut self, p: Prefix) {
        *self.counts.entry(p).or_insert(0) += 1;
    }

    pub fn sub(&mut self, p: Prefix) {
        if let Some(c) = self.counts.get_mut(&p) {
            *c -= 1;
            if *c == 0 {
                self.counts.remove(&p);
            }
        }
    }

    /// Prefixes holding any unassured entry.
    pub fn prefixes(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(src: [u8; 16], l3: L3) -> Tuple {
        Tuple {
            src,
            dst: [0; 16],
            sport: 1,
            dport: 2,
            proto: 6,
            l3,
        }
    }

    fn v4(a: [u8; 4]) -> Tuple {
        let mut s = [0; 16];
        s[..4].copy_from_slice(&a);
        t(s, L3::V4)
    }

    #[test]
    fn a_24_is_one_prefix() {
        let p = Prefix::of(&v4([198, 51, 100, 7]));
        assert_eq!(p, Prefix::of(&v4([198, 51, 100, 250])));
        assert_ne!(p, Prefix::of(&v4([198, 51, 101, 7])));
        assert_eq!(p.to_string(), "198.51.100.0/24");
        let mut q = Quota::default();
        q.add(p);
        q.add(p);
        q.sub(p);
        assert_eq!(q.count(p), 1);
        q.sub(p);
        assert_eq!((q.count(p), q.prefixes()), (0, 0));
    }

    #[test]
    fn a_64_is_one_prefix() {
        let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
        let p = Prefix::of(&t(a, L3::V6));
        a[15] = 99;
        a[8] = 7;
        assert_eq!(p, Prefix::of(&t(a, L3::V6)));
        a[7] = 3;
        assert_ne!(p, Prefix::of(&t(a, L3::V6)));
        assert_eq!(p.to_string(), "2001:db8:1:2::/64");
        // An IPv4 prefix never equals an IPv6 one with the same bits.
        assert_ne!(
            Prefix::of(&v4([0, 0, 0, 1])),
            Prefix::of(&t([0; 16], L3::V6))
        );
    }
}
