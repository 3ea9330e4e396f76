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

/// Which namespace injects a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The one-letter name used in scenario files and namespace names (`c`, `s`).
    pub fn letter(self) -> char {
        match self {
            Side::Client => 'c',
            Side::Server => 's',
        }
    }

    /// Source MAC of frames injected on this side (the host's veth end).
    pub fn host_mac(self) -> [u8; 6] {
        match self {
            Side::Client => CLIENT_MAC,
            Side::Server => SERVER_MAC,
        }
    }

    /// Destination MAC of frames injected on this side (the router's veth end).
    pub fn router_mac(self) -> [u8; 6] {
        match self {
            Side::Client => ROUTER_CLIENT_MAC,
            Side::Server => ROUTER_SERVER_MAC,
        }
    }

    /// The host's veth end, in its own namespace.
    pub fn host_interface(self) -> &'static str {
        match self {
            Side::Client => CLIENT_IF,
            Side::Server => SERVER_IF,
        }
    }

    /// The router's veth end facing this side.
    pub fn router_interface(self) -> &'static str {
        match self {
            Side::Client => ROUTER_CLIENT_IF,
            Side::Server => ROUTER_SERVER_IF,
        }
    }
}

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
