//! What a rule sees of a packet while it walks a chain.

use std::net::IpAddr;

use ctguard_conntrack::{CtState, Dir, Instant, Tuple};

use crate::hook::{Family, Hook};

/// The transport header fields the matches read, parsed once per packet.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct L4Fields {
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// TCP flags byte (FIN=0x01 … CWR=0x80).
    pub tcp_flags: Option<u8>,
    /// ICMP or ICMPv6 (type, code).
    pub icmp: Option<(u8, u8)>,
}

/// The packet's connection as `-m state`, `-m conntrack` and `-m connmark` see it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CtView {
    /// None: the packet has no conntrack state (tracking off, or dropped before it).
    pub state: Option<CtState>,
    /// The kernel's `IPS_*` status bits.
    pub status: u16,
    pub dir: Option<Dir>,
    pub original: Option<Tuple>,
    pub reply: Option<Tuple>,
    pub mark: u32,
    /// Seconds left before the entry expires (`--ctexpire`).
    pub expires_in: u32,
}

impl CtView {
    pub const NONE: CtView = CtView {
        state: None,
        status: 0,
        dir: None,
        original: None,
        reply: None,
        mark: 0,
        expires_in: 0,
    };
}

/// Answers questions about the rest of the table (`-m connlimit`).
pub trait ConnQuery {
    /// Connections whose original tuple satisfies `f` and that are not closed (TCP
    /// TIME_WAIT and CLOSE do not count, as in the kernel's nf_conncount).
    fn count_live(&self, f: &dyn Fn(&Tuple) -> bool) -> u32;
}

/// The host's own addresses (`-m addrtype`, and which packets are local).
#[derive(Clone, Debug, Default)]
pub struct Addresses {
    pub local: Vec<IpAddr>,
    pub broadcast: Vec<IpAddr>,
}

/// One packet at one hook.
pub struct PacketCtx<'a> {
    pub family: Family,
    /// The whole IP packet (reassembled), as it is at this hook (after any NAT so far).
    pub ip: &'a [u8],
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol (after IPv6 extension headers).
    pub proto: u8,
    /// True for a non-first fragment (`-f`).
    pub later_fragment: bool,
    pub l4: L4Fields,
    /// IPv4 total length or IPv6 payload length + 40 (`-m length`).
    pub len: u32,
    /// TTL or hop limit.
    pub ttl: u8,
    pub in_iface: Option<&'a str>,
    pub out_iface: Option<&'a str>,
    pub hook: Hook,
    /// The packet's mark (`-m mark`, `MARK`).
    pub mark: u32,
    pub ct: CtView,
    pub now: Instant,
    pub addresses: &'a Addresses,
    pub conns: &'a dyn ConnQuery,
}
