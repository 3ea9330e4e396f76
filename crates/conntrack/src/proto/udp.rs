//! UDP and UDP-Lite: unreplied, then replied, then a stream, which is assured.

use core::time::Duration;

use crate::Instant;
use crate::sysctl::{Sysctl, secs};

/// A connection becomes a stream if it still sees traffic this long after it was created.
pub const STREAM_AFTER: Duration = Duration::from_secs(2);

/// What the UDP tracker decided for one packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UdpUpdate {
    pub timeout: Duration,
    pub assure: bool,
}

/// `seen_reply` is the status bit before this packet (the core sets it afterwards).
pub fn packet(
    stream_after: Instant,
    seen_reply: bool,
    nat_clash: bool,
    now: Instant,
    sysctl: &Sysctl,
) -> UdpUpdate {
    let t = &sysctl.timeouts;
    if !seen_reply {
        return UdpUpdate {
            timeout: secs(t.udp),
            assure: false,
        };
    }
    if now > stream_after {
        UdpUpdate {
            timeout: secs(t.udp_stream),
            assure: !nat_clash,
        }
    } else {
        UdpUpdate {
            timeout: secs(t.udp),
            assure: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreplied_replied_stream() {
        let s = Sysctl::default();
        let created = Instant::from_secs_f64(100.0);
        let window_end = created + STREAM_AFTER;
        // The request, and the first reply (SEEN_REPLY is set only after it): 30 s.
        assert_eq!(
            packet(window_end, false, false, created, &s),
            UdpUpdate {
                timeout: Duration::from_secs(30),
                assure: false
            }
        );
        // Traffic both ways inside the first two seconds: still 30 s, not assured.
        let early = Instant::from_secs_f64(101.0);
        assert_eq!(
            packet(window_end, true, false, early, &s),
            UdpUpdate {
                timeout: Duration::from_secs(30),
                assure: false
            }
        );
        // Still talking after two seconds: a stream, 120 s, assured.
        let late = Instant::from_secs_f64(102.5);
        assert_eq!(
            packet(window_end, true, false, late, &s),
            UdpUpdate {
                timeout: Duration::from_secs(120),
                assure: true
            }
        );
        assert!(
            !packet(window_end, true, true, late, &s).assure,
            "NAT clash entries never become assured"
        );
    }
}
