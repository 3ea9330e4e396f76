//! What a NAT target asks for.

use std::net::IpAddr;

use crate::tuple::L3;

/// Which end of the original direction a binding rewrites: SNAT, MASQUERADE (source) or
/// DNAT, REDIRECT (destination). The hook decides which one a packet gets: PREROUTING and
/// OUTPUT rewrite destinations, POSTROUTING and INPUT sources.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Manip {
    Src,
    Dst,
}

/// A NAT target's range (`--to-source 10.0.0.1-10.0.0.4:1024-2047 --random`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatRange {
    /// Addresses to map to, inclusive; None keeps the address.
    pub addrs: Option<(IpAddr, IpAddr)>,
    /// Ports (ICMP ids) to map to, inclusive; None keeps the port unless it clashes.
    pub ports: Option<(u16, u16)>,
    /// `--random`: a random port even when the original one is free.
    pub random: bool,
    /// `--random-fully`.
    pub random_fully: bool,
    /// `--persistent`: the same address for a client whatever its destination.
    pub persistent: bool,
}

impl NatRange {
    /// One address, ports untouched.
    pub fn to_addr(addr: IpAddr) -> NatRange {
        NatRange {
            addrs: Some((addr, addr)),
            ports: None,
            random: false,
            random_fully: false,
            persistent: false,
        }
    }

    pub(crate) fn random_all(&self) -> bool {
        self.random || self.random_fully
    }

    /// Whether the range's addresses are of family `l3` (or it has none).
    pub fn fits(&self, l3: L3) -> bool {
        match self.addrs {
            None => true,
            Some((a, b)) => {
                let f = |ip: IpAddr| match ip {
                    IpAddr::V4(_) => L3::V4,
                    IpAddr::V6(_) => L3::V6,
                };
                f(a) == l3 && f(b) == l3
            }
        }
    }
}
