//! The recorder's network: client —veth— router —veth— server, with fixed names and MAC
//! addresses so that the frames built here are the frames the router receives.
//!
//! ```text
//!  client ns (…-c)            router ns (…-r)                      server ns (…-s)
//!  cli0 02:00:00:00:01:64 ── rtr-c 02:00:00:00:01:01
//!                             10.99.1.1/24 fd00:99:1::1/64
//!                             rtr-s 02:00:00:00:02:01 ───────────── srv0 02:00:00:00:02:64
//!                             10.99.2.1/24 fd00:99:2::1/64
//! ```
//!
//! The router reaches hosts 10.99.1.100–109 / fd00:99:1::100–109 on the client side and
//! 10.99.2.100–109 / fd00:99:2::100–109 on the server side through permanent neighbour entries,
//! and routes the spoofable ranges 10.98.0.0/16 and fd00:98::/32 to the client side,
//! 10.97.0.0/16 and fd00:97::/32 to the server side.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a packet comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Injected from the client namespace, arriving on the router's `rtr-c`.
    Client,
    /// Injected from the server namespace, arriving on the router's `rtr-s`.
    Server,
    /// Originated by the router itself (a raw socket in the router namespace): it goes through
    /// OUTPUT and POSTROUTING and the kernel routes it. It has no Ethernet header of its own:
    /// [`Side::host_mac`], [`Side::router_mac`] are all zeros and the interface names empty.
    Router,
}

impl Side {
    /// The one-letter name used in scenario files and namespace names (`c`, `s`, `r`).
    pub fn letter(self) -> char {
        match self {
            Side::Client => 'c',
            Side::Server => 's',
            Side::Router => 'r',
        }
    }

    /// Source MAC of frames injected on this side (the host's veth end); zeros for the router.
    pub fn host_mac(self) -> [u8; 6] {
        match self {
            Side::Client => CLIENT_MAC,
            Side::Server => SERVER_MAC,
            Side::Router => [0; 6],
        }
    }

    /// Destination MAC of frames injected on this side (the router's veth end); zeros for the
    /// router's own packets.
    pub fn router_mac(self) -> [u8; 6] {
        match self {
            Side::Client => ROUTER_CLIENT_MAC,
            Side::Server => ROUTER_SERVER_MAC,
            Side::Router => [0; 6],
        }
    }

    /// The host's veth end, in its own namespace (empty for the router).
    pub fn host_interface(self) -> &'static str {
        match self {
            Side::Client => CLIENT_IF,
            Side::Server => SERVER_IF,
            Side::Router => "",
        }
    }

    /// The router's veth end facing this side: the input interface of its packets (empty for
    /// the router's own packets, which have none).
    pub fn router_interface(self) -> &'static str {
        match self {
            Side::Client => ROUTER_CLIENT_IF,
            Side::Server => ROUTER_SERVER_IF,
            Side::Router => "",
        }
    }
}

/// The router's own addresses: packets to these are delivered locally (PREROUTING, INPUT).
pub const ROUTER_ADDRESSES: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(10, 99, 1, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 99, 2, 1)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 1, 0, 0, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 2, 0, 0, 0, 0, 1)),
];

/// Whether `addr` is one of the router's own addresses ([`ROUTER_ADDRESSES`]) or a loopback
/// address.
pub fn is_router_address(addr: IpAddr) -> bool {
    addr.is_loopback() || ROUTER_ADDRESSES.contains(&addr)
}

/// The router's interface addresses with their prefix lengths (topology.sh's `ip addr add`).
pub const ROUTER_NETS: [(&str, IpAddr, u8); 4] = [
    (ROUTER_CLIENT_IF, ROUTER_ADDRESSES[0], 24),
    (ROUTER_SERVER_IF, ROUTER_ADDRESSES[1], 24),
    (ROUTER_CLIENT_IF, ROUTER_ADDRESSES[2], 64),
    (ROUTER_SERVER_IF, ROUTER_ADDRESSES[3], 64),
];

/// The router's routes to the spoofed-source ranges (topology.sh's `ip route add`).
pub const ROUTER_ROUTES: [(IpAddr, u8, &str); 4] = [
    (
        IpAddr::V4(Ipv4Addr::new(10, 98, 0, 0)),
        16,
        ROUTER_CLIENT_IF,
    ),
    (
        IpAddr::V4(Ipv4Addr::new(10, 97, 0, 0)),
        16,
        ROUTER_SERVER_IF,
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0x98, 0, 0, 0, 0, 0, 0)),
        32,
        ROUTER_CLIENT_IF,
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0x97, 0, 0, 0, 0, 0, 0)),
        32,
        ROUTER_SERVER_IF,
    ),
];

pub const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x64];
pub const ROUTER_CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x01, 0x01];
pub const ROUTER_SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x02, 0x01];
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x02, 0x64];

pub const CLIENT_IF: &str = "cli0";
pub const ROUTER_CLIENT_IF: &str = "rtr-c";
pub const ROUTER_SERVER_IF: &str = "rtr-s";
pub const SERVER_IF: &str = "srv0";

/// The largest IP packet the veths carry.
pub const MTU: usize = 1500;
