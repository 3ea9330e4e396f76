//! Packet intake: from a captured frame to what the tracker needs, as the kernel's IPv4/IPv6
//! input and conntrack's L4 header checks see it.
//!
//! STUB: the public API below is fixed; the bodies are being written.

use crate::proto::tcp::TcpSegment;
use crate::tuple::L3;

/// How a frame starts: the pcap LINKTYPE_ values ctguard reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1), with any number of 802.1Q / 802.1ad tags.
    Ethernet,
    /// LINKTYPE_LINUX_SLL (113).
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276).
    LinuxSll2,
    /// LINKTYPE_RAW (101, and 12 on some systems): IPv4 or IPv6 by the version nibble.
    Raw,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
}

impl LinkType {
    pub fn from_pcap(linktype: u32) -> Option<LinkType> {
        match linktype {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            101 | 12 | 14 => Some(LinkType::Raw),
            228 => Some(LinkType::Ipv4),
            229 => Some(LinkType::Ipv6),
            _ => None,
        }
    }
}

/// Why a frame never reached netfilter (the kernel's IP input drops these), or a frame that
/// is not IP at all.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Malformed {
    Placeholder,
}

impl Malformed {
    /// A short stable name, e.g. `ipv4-bad-header-checksum`, used in counters and reports.
    pub fn name(self) -> &'static str {
        todo!()
    }
}

/// IP fragment information, when the packet is a fragment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment header identification.
    pub id: u32,
    /// Offset of this fragment's data, in bytes.
    pub offset: u32,
    pub more: bool,
}

/// A frame's network layer, borrowed from the frame.
#[derive(Clone, Debug)]
pub struct Ip<'a> {
    pub l3: L3,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    /// The upper-layer protocol after IPv6 extension headers.
    pub proto: u8,
    /// The whole IP packet, trimmed to its header's length (link padding removed).
    pub packet: &'a [u8],
    /// Offset of the upper-layer header within `packet`.
    pub l4_offset: usize,
    pub fragment: Option<Fragment>,
}

impl<'a> Ip<'a> {
    pub fn l4(&self) -> &'a [u8] {
        &self.packet[self.l4_offset..]
    }
}

/// Parses the link and network layers of a frame.
pub fn parse_frame(_link: LinkType, _frame: &[u8]) -> Result<Ip<'_>, Malformed> {
    todo!()
}

/// Parses an IP packet with no link layer (e.g. a reassembled one).
pub fn parse_ip(_packet: &[u8]) -> Result<Ip<'_>, Malformed> {
    todo!()
}

/// The upper layer, as conntrack's per-protocol error checks see it.
#[derive(Clone, Debug)]
pub enum L4<'a> {
    Tcp { sport: u16, dport: u16, seg: TcpSegment<'a> },
    /// UDP (17) or UDP-Lite (136).
    Udp { sport: u16, dport: u16 },
    Icmp(Icmp<'a>),
    /// Any protocol without its own tracker.
    Other,
}

/// An ICMP or ICMPv6 message.
#[derive(Clone, Debug)]
pub struct Icmp<'a> {
    pub v6: bool,
    pub ty: u8,
    pub code: u8,
    /// The identifier of a query message (echo and the like); 0 otherwise.
    pub id: u16,
    /// For error messages: the quoted packet, starting at its IP header.
    pub quoted: Option<&'a [u8]>,
}

/// Why conntrack's L4 checks mark a packet INVALID, worded as the kernel logs it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum L4Invalid {
    Placeholder,
}

impl L4Invalid {
    pub fn name(self) -> &'static str {
        todo!()
    }
}

/// Parses and checks the upper layer (header length, checksum when `verify_checksum`).
pub fn parse_l4<'a>(_ip: &Ip<'a>, _verify_checksum: bool) -> Result<L4<'a>, L4Invalid> {
    todo!()
}

/// The tuple fields of a packet quoted in an ICMP error: addresses, protocol and ports/ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quoted {
    pub l3: L3,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

/// Parses a quoted packet (IP header plus at least 8 bytes of its upper layer).
pub fn parse_quoted(_bytes: &[u8]) -> Option<Quoted> {
    todo!()
}
