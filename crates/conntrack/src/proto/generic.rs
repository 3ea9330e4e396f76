//! Protocols without a tracker of their own: one entry per address pair and protocol.

use core::time::Duration;

use crate::sysctl::{Sysctl, secs};

pub fn timeout(sysctl: &Sysctl) -> Duration {
    secs(sysctl.timeouts.generic)
}

/// The name /proc prints for a protocol number.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        1 => "icmp",
        58 => "icmpv6",
        47 => "gre",
        _ => "unknown",
    }
}
