//! GRE: keyed by the PPTP call id (version 1) or by nothing (version 0), with its own
//! timeouts, which each entry keeps from its creation as the kernel does.

use core::time::Duration;

use crate::sysctl::{Sysctl, secs};

/// The per-entry timeouts, in seconds, printed in /proc as `timeout=30, stream_timeout=180`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GreTimeouts {
    pub unreplied: u32,
    pub stream: u32,
}

impl GreTimeouts {
    pub fn new(sysctl: &Sysctl) -> Self {
        GreTimeouts {
            unreplied: sysctl.timeouts.gre,
            stream: sysctl.timeouts.gre_stream,
        }
    }

    /// The refresh for a packet; `seen_reply` is the status bit before it.
    pub fn timeout(self, seen_reply: bool) -> Duration {
        secs(if seen_reply {
            self.stream
        } else {
            self.unreplied
        })
    }
}

/// The tuple keys (source, destination) of a GRE header: only version 1 carries one, the
/// call id, as the destination key.
pub fn keys(gre: &[u8]) -> (u16, u16) {
    match gre {
        [_, flags, _, _, _, _, c0, c1, ..] if flags & 0x07 == 1 => {
            (0, u16::from_be_bytes([*c0, *c1]))
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_keys_on_the_call_id() {
        assert_eq!(
            keys(&[0x30, 0x81, 0x88, 0x0b, 0, 0, 0x12, 0x34]),
            (0, 0x1234)
        );
        assert_eq!(keys(&[0, 0, 0x08, 0x00]), (0, 0));
        let t = GreTimeouts::new(&Sysctl::default());
        assert_eq!(
            (t.timeout(false), t.timeout(true)),
            (Duration::from_secs(30), Duration::from_secs(180))
        );
    }
}
