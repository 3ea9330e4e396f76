//! Connection tuples: what identifies one direction of a connection.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network-layer family. /proc prints `ipv4     2` / `ipv6     10`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L3 {
    V4,
    V6,
}

impl L3 {
    pub fn name(self) -> &'static str {
        match self {
            L3::V4 => "ipv4",
            L3::V6 => "ipv6",
        }
    }

    /// The address family number (AF_INET, AF_INET6).
    pub fn number(self) -> u8 {
        match self {
            L3::V4 => 2,
            L3::V6 => 10,
        }
    }
}

/// Which way a packet travels relative to the connection's first packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    Original = 0,
    Reply = 1,
}

impl Dir {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn flip(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
}

/// One direction of a connection.
///
/// Addresses are stored as 16 bytes; an IPv4 address occupies the first four and the rest
/// are zero. `sport`/`dport` carry the ports for TCP/UDP/UDP-Lite. For ICMP and ICMPv6,
/// `sport` is the query id and `dport` is `type << 8 | code`, as the kernel keys them.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub l3: L3,
}

impl Tuple {
    pub fn src_ip(&self) -> IpAddr {
        ip(self.l3, &self.src)
    }

    pub fn dst_ip(&self) -> IpAddr {
        ip(self.l3, &self.dst)
    }

    pub fn icmp_type(&self) -> u8 {
        (self.dport >> 8) as u8
    }

    pub fn icmp_code(&self) -> u8 {
        self.dport as u8
    }
}

/// An address from its 16-byte form (IPv4 in the first four bytes).
pub fn ip(l3: L3, a: &[u8; 16]) -> IpAddr {
    match l3 {
        L3::V4 => IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
        L3::V6 => IpAddr::V6(Ipv6Addr::from(*a)),
    }
}

/// Stores an address in the 16-byte tuple form.
pub fn addr_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => {
            let mut out = [0u8; 16];
            out[..4].copy_from_slice(&v4.octets());
            out
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl fmt::Debug for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} {}/{}",
            self.proto,
            self.src_ip(),
            self.dst_ip(),
            self.sport,
            self.dport
        )
    }
}
