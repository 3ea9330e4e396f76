//! Protocols without a tracker of their own: one entry per address pair and protocol.

use core::time::Duration;
use ctguard_wire::ip::protocol;

use crate::sysctl::{Sysctl, secs};

pub fn timeout(sysctl: &Sysctl) -> Duration {
    secs(sysctl.timeouts.generic)
}

/// The name /proc prints for a protocol number.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        protocol::TCP => "tcp",
        protocol::UDP => "udp",
        protocol::UDPLITE => "udplite",
        protocol::ICMP => "icmp",
        protocol::ICMPV6 => "icmpv6",
        protocol::GRE => "gre",
        _ => "unknown",
    }
}
