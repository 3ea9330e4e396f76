//! IPv4 and IPv6 reassembly before tracking, as nf_defrag_ipv4 / nf_defrag_ipv6 do.
//!
//! STUB: the public API below is fixed; the bodies are being written.

use crate::Instant;
use crate::intake::Ip;
use crate::sysctl::Sysctl;

/// What happened to a fragment.
#[derive(Debug)]
pub enum Reassembly {
    /// Held until the rest arrives.
    Held,
    /// This fragment completed the datagram: the whole IP packet, with a fresh header.
    Complete(Vec<u8>),
    /// Dropped: overlapping, oversize, over the memory limit, or similar.
    Dropped(&'static str),
}

/// Reassembly queues with the kernel's memory thresholds and timeouts.
#[derive(Debug, Default)]
pub struct Defrag {}

impl Defrag {
    pub fn new() -> Self {
        Defrag {}
    }

    /// Offers a fragment (a packet whose `fragment` is `Some`).
    pub fn push(&mut self, _ip: &Ip<'_>, _now: Instant, _sysctl: &Sysctl) -> Reassembly {
        todo!()
    }

    /// Drops queues whose time is up.
    pub fn expire(&mut self, _now: Instant, _sysctl: &Sysctl) {}

    /// Bytes held in queues now.
    pub fn memory(&self) -> usize {
        0
    }
}
