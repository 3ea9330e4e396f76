//! The tuple hash that places entries in buckets.
//!
//! The kernel keys siphash with a random secret per boot; ctguard takes a seed so that runs
//! are reproducible. Both directions of a connection are hashed separately and the entry is
//! linked into both buckets, as in the kernel.

use crate::tuple::Tuple;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(h: u64, v: u64) -> u64 {
    let x = (h ^ v).wrapping_mul(K);
    x ^ (x >> 29)
}

/// A 32-bit hash of a tuple in a zone.
#[inline]
pub fn tuple_hash(seed: u64, t: &Tuple, zone: u16) -> u32 {
    let w = |b: &[u8; 16], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
    let mut h = seed ^ K;
    h = mix(h, w(&t.src, 0));
    h = mix(h, w(&t.src, 8));
    h = mix(h, w(&t.dst, 0));
    h = mix(h, w(&t.dst, 8));
    h = mix(
        h,
        u64::from(t.sport)
            | u64::from(t.dport) << 16
            | u64::from(t.proto) << 32
            | u64::from(zone) << 40,
    );
    let h = h.wrapping_mul(K);
    (h >> 32) as u32
}

/// Maps a 32-bit hash onto `[0, n)` without a division (the kernel's reciprocal_scale).
#[inline]
pub fn scale(hash: u32, n: u32) -> u32 {
    ((u64::from(hash) * u64::from(n)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuple::L3;

    fn t(sport: u16) -> Tuple {
        Tuple {
            src: [1; 16],
            dst: [2; 16],
            sport,
            dport: 80,
            proto: 6,
            l3: L3::V6,
        }
    }

    #[test]
    fn spreads_and_depends_on_seed() {
        let n = 512;
        let mut used = vec![0u32; n as usize];
        for p in 0..4096 {
            used[scale(tuple_hash(7, &t(p), 0), n) as usize] += 1;
        }
        // 8 per bucket on average: a uniform hash gives a Poisson spread (P(0) ~ 0.03%).
        assert!(used.iter().filter(|&&c| c == 0).count() <= 3, "{used:?}");
        assert!(used.iter().all(|&c| c < 25), "{used:?}");
        assert_ne!(tuple_hash(1, &t(1), 0), tuple_hash(2, &t(1), 0));
        assert_ne!(tuple_hash(1, &t(1), 0), tuple_hash(1, &t(1), 1));
    }
}
