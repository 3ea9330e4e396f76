//! The kernel's ICMP rate limits, with the caller's clock.
//!
//! Two token buckets decide whether an ICMP error built by [`super::build`] is sent (Linux
//! 6.12 and later, `icmp.c` / `ipv6/icmp.c`):
//!
//! - a global one per network namespace, shared by IPv4 and IPv6 (`icmp_global_allow`): it
//!   allows while its credit is positive; when the credit is spent it is refilled with
//!   `icmp_msgs_per_sec × elapsed` (elapsed capped at 1 s, and no refill within 20 ms of the
//!   last), up to `icmp_msgs_burst`. Each error sent then takes 0, 1 or 2 credits at random
//!   (`icmp_global_consume`); here always 1, the mean.
//! - one per destination address (`inet_peer_xrlim_allow`): a bucket of up to 6 × the
//!   timeout, filled by the time elapsed, from which each error takes one timeout
//!   (`icmp_ratelimit`, 1000 ms, for IPv4; `net.ipv6.icmp.ratelimit`, 1000 ms, for IPv6,
//!   shortened for destinations reached by a route shorter than /128: shifted right by
//!   `(128 - prefix length) / 32`). A new destination starts full: six errors in a row, then
//!   one per timeout. Recorded against the kernel: ten port-unreachable errors in a burst to
//!   one destination gave six replies.
//!
//! Only the types in the rate mask are limited: `icmp_ratemask` 0x1818 (destination
//! unreachable, source quench, time exceeded, parameter problem) for IPv4, every error but
//! "packet too big" for IPv6; every REJECT type is limited by default. Neither bucket applies
//! when the offending packet came in over loopback, nor the per-destination one when the
//! error goes out over loopback (`loopback`). `tcp-reset` is never limited.
//!
//! Not modelled: the kernel's clock is jiffies (times here are rounded to milliseconds, as
//! with HZ=1000); destinations are forgotten only by the kernel's inet_peer garbage collector
//! (here never); VRFs (the per-destination key includes the L3 master device).

use std::collections::HashMap;
use std::net::IpAddr;

use ctguard_conntrack::Instant;

use super::RejectWith;

/// `XRLIM_BURST_FACTOR`.
const BURST_FACTOR: u64 = 6;
/// A new peer's `rate_last` is 60 s in the past, so its bucket starts full.
const NEW_PEER_AGE_MS: u64 = 60_000;

#[derive(Copy, Clone, Debug)]
struct Peer {
    tokens: u64,
    last_ms: u64,
}

/// The global and per-destination ICMP rate limits of one network namespace.
#[derive(Clone, Debug)]
pub struct IcmpRateLimit {
    /// `net.ipv4.icmp_msgs_per_sec` (1000).
    pub msgs_per_sec: u32,
    /// `net.ipv4.icmp_msgs_burst` (50).
    pub msgs_burst: u32,
    /// `net.ipv4.icmp_ratelimit` in milliseconds (1000); 0 turns the per-destination limit
    /// off.
    pub ratelimit_ms: u32,
    /// `net.ipv4.icmp_ratemask` (0x1818: bit n limits ICMP type n).
    pub ratemask: u32,
    /// `net.ipv6.icmp.ratelimit` in milliseconds (1000).
    pub ratelimit6_ms: u32,
    /// Whether `net.ipv6.icmp.ratemask` includes type 1, destination unreachable (it does by
    /// default).
    pub ratemask6_dest_unreach: bool,
    credit: i64,
    stamp_ms: Option<u64>,
    peers: HashMap<IpAddr, Peer>,
}

impl Default for IcmpRateLimit {
    fn default() -> Self {
        IcmpRateLimit {
            msgs_per_sec: 1000,
            msgs_burst: 50,
            ratelimit_ms: 1000,
            ratemask: 0x1818,
            ratelimit6_ms: 1000,
            ratemask6_dest_unreach: true,
            credit: 0,
            stamp_ms: None,
            peers: HashMap::new(),
        }
    }
}

impl IcmpRateLimit {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the kernel sends the reply of type `kind` to `dest` (the offending packet's
    /// source) at `now`, and if so takes the tokens for it.
    ///
    /// `prefix_len`: the prefix length of the IPv6 route towards `dest` (128 for a host
    /// route; ignored for IPv4). `loopback`: the offending packet came in over loopback or
    /// the error leaves over it (a locally generated packet).
    pub fn allow(
        &mut self,
        now: Instant,
        kind: RejectWith,
        dest: IpAddr,
        prefix_len: u8,
        loopback: bool,
    ) -> bool {
        let Some((ty, code)) = kind.icmp_type_code() else {
            return true;
        };
        let limited = match dest {
            IpAddr::V4(_) => {
                // Fragmentation needed is never limited (PMTU discovery).
                !(ty == 3 && code == 4) && self.ratemask & (1 << ty) != 0
            }
            IpAddr::V6(_) => self.ratemask6_dest_unreach,
        };
        if !limited || loopback {
            return true;
        }
        let now_ms = now.as_nanos() / 1_000_000;
        if !self.global_allow(now_ms) {
            return false;
        }
        let timeout = match dest {
            IpAddr::V4(_) => u64::from(self.ratelimit_ms),
            IpAddr::V6(_) => {
                let t = u64::from(self.ratelimit6_ms);
                if prefix_len < 128 {
                    t >> ((128 - u32::from(prefix_len)) >> 5)
                } else {
                    t
                }
            }
        };
        let allowed = timeout == 0 || self.peer_allow(dest, now_ms, timeout);
        if allowed {
            self.credit -= 1;
        }
        allowed
    }

    /// `icmp_global_allow`.
    fn global_allow(&mut self, now_ms: u64) -> bool {
        if self.credit > 0 {
            return true;
        }
        // The kernel's stamp starts at 0 jiffies, long ago: the first refill is a full one.
        let delta = self
            .stamp_ms
            .map_or(1000, |s| now_ms.saturating_sub(s).min(1000));
        if delta < 20 {
            return false;
        }
        let incr = u64::from(self.msgs_per_sec) * delta / 1000;
        if incr == 0 {
            return false;
        }
        self.stamp_ms = Some(now_ms);
        self.credit = (self.credit + incr as i64).min(i64::from(self.msgs_burst));
        true
    }

    /// `inet_peer_xrlim_allow`.
    fn peer_allow(&mut self, dest: IpAddr, now_ms: u64, timeout: u64) -> bool {
        // A new peer's bucket holds what 60 s would have filled.
        let peer = self.peers.entry(dest).or_insert(Peer {
            tokens: NEW_PEER_AGE_MS,
            last_ms: now_ms,
        });
        let mut tokens = peer.tokens + now_ms.saturating_sub(peer.last_ms);
        peer.last_ms = now_ms;
        tokens = tokens.min(BURST_FACTOR * timeout);
        let allowed = tokens >= timeout;
        if allowed {
            tokens -= timeout;
        }
        peer.tokens = tokens;
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const PORT: RejectWith = RejectWith::IcmpPortUnreachable;

    fn ms(n: u64) -> Instant {
        Instant::from_nanos(n * 1_000_000)
    }

    #[test]
    fn six_in_a_burst_then_one_a_second() {
        // As recorded: ten errors in a burst to one destination, six sent.
        let mut rl = IcmpRateLimit::new();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let sent = (0..10).filter(|i| rl.allow(ms(5000 + i), PORT, a, 32, false));
        assert_eq!(sent.count(), 6);
        assert!(!rl.allow(ms(5500), PORT, a, 32, false));
        assert!(rl.allow(ms(6009), PORT, a, 32, false));
        assert!(!rl.allow(ms(6100), PORT, a, 32, false));
        // Another destination has its own bucket.
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!(rl.allow(ms(6100), PORT, b, 32, false));
    }

    #[test]
    fn resets_loopback_and_unmasked_types_are_not_limited() {
        let mut rl = IcmpRateLimit::new();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        for i in 0..100 {
            assert!(rl.allow(ms(i), RejectWith::TcpReset, a, 32, false));
            assert!(rl.allow(ms(i), PORT, a, 32, true));
        }
        rl.ratemask = 0;
        assert!((0..100).all(|i| rl.allow(ms(i), PORT, a, 32, false)));
    }

    #[test]
    fn global_bucket_caps_many_destinations() {
        let mut rl = IcmpRateLimit::new();
        let sent = (0..200u32)
            .filter(|&i| {
                let d = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
                rl.allow(ms(1000), PORT, d, 32, false)
            })
            .count();
        // The burst of 50, then the refill waits 20 ms.
        assert_eq!(sent, 50);
        let d = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert!(!rl.allow(ms(1010), PORT, d, 32, false));
        // 30 ms at 1000/s: 30 more credits.
        assert!(rl.allow(ms(1030), PORT, d, 32, false));
    }

    #[test]
    fn ipv6_wide_prefixes_get_shorter_timeouts() {
        let mut rl = IcmpRateLimit::new();
        let a = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1));
        let sent =
            (0..6).filter(|&i| rl.allow(ms(i), RejectWith::Icmp6PortUnreachable, a, 64, false));
        assert_eq!(sent.count(), 6);
        // A /64 route: 1000 ms >> 2 = 250 ms per error.
        assert!(!rl.allow(ms(100), RejectWith::Icmp6PortUnreachable, a, 64, false));
        assert!(rl.allow(ms(260), RejectWith::Icmp6PortUnreachable, a, 64, false));
    }
}
