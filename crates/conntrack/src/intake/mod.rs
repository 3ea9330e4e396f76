//! Packet intake: from a captured frame to what the tracker needs, as the kernel's IPv4/IPv6
//! input and conntrack's L4 header checks see it.
//!
//! [`parse_frame`] strips the link layer and applies the checks `ip_rcv` / `ipv6_rcv` make
//! before the PRE_ROUTING hook: a frame failing them never reaches conntrack, so it comes back
//! as [`Malformed`]. [`parse_l4`] applies the checks of conntrack's per-protocol error
//! functions (`tcp_error`, `udp_error`, `icmp_error`, ...), whose failures make a packet
//! INVALID ([`L4Invalid`]). Neither allocates.

mod frame;
mod l4;
mod quoted;
#[cfg(test)]
pub(crate) mod testpkt;

pub use frame::{parse_frame, parse_ip, parse_reassembled};
pub use l4::parse_l4;
pub use quoted::{parse_quoted, parse_quoted_as};

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
    /// A raw-IP frame with no bytes.
    Empty,
    /// Shorter than the Ethernet header, or a VLAN tag cut short.
    TruncatedEthernet,
    TruncatedSll,
    TruncatedSll2,
    /// ARP, LLC and every other payload that is neither IPv4 nor IPv6.
    NotIp,
    /// A cooked capture's PACKET_OTHERHOST frame: `ip_rcv`/`ipv6_rcv` drop these first thing.
    OtherHost,
    /// A raw-IP frame whose version nibble is neither 4 nor 6.
    BadIpVersion,
    /// Fewer bytes than the IPv4 header (20 bytes, or IHL words with options).
    Ipv4TruncatedHeader,
    Ipv4BadVersion,
    /// IHL below 5.
    Ipv4BadIhl,
    Ipv4BadHeaderChecksum,
    /// The total length runs past the captured bytes.
    Ipv4Truncated,
    /// The total length is shorter than the header.
    Ipv4BadTotalLength,
    /// Fewer than 40 bytes.
    Ipv6TruncatedHeader,
    Ipv6BadVersion,
    /// RFC 4291 section 2.7: a multicast source address.
    Ipv6MulticastSource,
    /// A multicast destination of the reserved scope 0.
    Ipv6MulticastScope0,
    /// The payload length runs past the captured bytes.
    Ipv6Truncated,
    /// Payload length 0 with a hop-by-hop header: a jumbogram, which ctguard does not take.
    Ipv6Jumbo,
    /// A hop-by-hop header `ipv6_parse_hopopts` rejects: cut short, bad padding, too many
    /// options, a malformed known option or an unknown one whose type says discard.
    Ipv6BadHopByHop,
}

impl Malformed {
    /// A short stable name, e.g. `ipv4-bad-header-checksum`, used in counters and reports.
    pub fn name(self) -> &'static str {
        match self {
            Malformed::Empty => "empty-frame",
            Malformed::TruncatedEthernet => "truncated-ethernet",
            Malformed::TruncatedSll => "truncated-sll",
            Malformed::TruncatedSll2 => "truncated-sll2",
            Malformed::NotIp => "not-ip",
            Malformed::OtherHost => "other-host",
            Malformed::BadIpVersion => "bad-ip-version",
            Malformed::Ipv4TruncatedHeader => "ipv4-truncated-header",
            Malformed::Ipv4BadVersion => "ipv4-bad-version",
            Malformed::Ipv4BadIhl => "ipv4-bad-ihl",
            Malformed::Ipv4BadHeaderChecksum => "ipv4-bad-header-checksum",
            Malformed::Ipv4Truncated => "ipv4-truncated",
            Malformed::Ipv4BadTotalLength => "ipv4-bad-total-length",
            Malformed::Ipv6TruncatedHeader => "ipv6-truncated-header",
            Malformed::Ipv6BadVersion => "ipv6-bad-version",
            Malformed::Ipv6MulticastSource => "ipv6-multicast-source",
            Malformed::Ipv6MulticastScope0 => "ipv6-multicast-scope-0",
            Malformed::Ipv6Truncated => "ipv6-truncated",
            Malformed::Ipv6Jumbo => "ipv6-jumbo",
            Malformed::Ipv6BadHopByHop => "ipv6-bad-hop-by-hop",
        }
    }

    /// Every variant, for reports that list all counters.
    pub const ALL: [Malformed; 20] = [
        Malformed::Empty,
        Malformed::TruncatedEthernet,
        Malformed::TruncatedSll,
        Malformed::TruncatedSll2,
        Malformed::NotIp,
        Malformed::OtherHost,
        Malformed::BadIpVersion,
        Malformed::Ipv4TruncatedHeader,
        Malformed::Ipv4BadVersion,
        Malformed::Ipv4BadIhl,
        Malformed::Ipv4BadHeaderChecksum,
        Malformed::Ipv4Truncated,
        Malformed::Ipv4BadTotalLength,
        Malformed::Ipv6TruncatedHeader,
        Malformed::Ipv6BadVersion,
        Malformed::Ipv6MulticastSource,
        Malformed::Ipv6MulticastScope0,
        Malformed::Ipv6Truncated,
        Malformed::Ipv6Jumbo,
        Malformed::Ipv6BadHopByHop,
    ];
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
    ///
    /// Where the IPv6 chain cannot be followed to an upper layer (it ends in "no next header"
    /// or an extension header runs past the packet) this is the extension header the walk
    /// stopped at, and [`parse_l4`] reports [`L4Invalid::NoUpperLayer`], as conntrack counts
    /// such packets invalid. For a non-first IPv6 fragment it is what the fragment header
    /// announces.
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

/// The upper layer, as conntrack's per-protocol error checks see it.
#[derive(Clone, Debug)]
pub enum L4<'a> {
    Tcp {
        sport: u16,
        dport: u16,
        seg: TcpSegment<'a>,
    },
    /// UDP (17) or UDP-Lite (136).
    Udp {
        sport: u16,
        dport: u16,
    },
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
    /// For error messages: the quoted packet, starting at its IP header. Also set for an
    /// ICMPv6 redirect that carries a redirected-header option, which the kernel (since 6.2)
    /// looks up like an error.
    pub quoted: Option<&'a [u8]>,
}

impl Icmp<'_> {
    /// ICMPv6 neighbour discovery and MLD messages, which conntrack marks UNTRACKED.
    pub fn untracked(&self) -> bool {
        self.v6 && matches!(self.ty, 130..=136 | 143)
    }
}

/// Why conntrack's L4 checks mark a packet INVALID, worded as the kernel logs it.
///
/// A few causes are not logged by the kernel (the packet is INVALID silently); [`L4Invalid::logged`]
/// tells which, and their names are descriptions rather than log text.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum L4Invalid {
    /// TCP, UDP or UDP-Lite with fewer than 4 bytes: no ports, no tuple (silent).
    NoTuple,
    /// TCP with fewer than 20 bytes (silent: `skb_header_pointer` fails in `tcp_packet`).
    TcpShortHeader,
    /// TCP data offset below 5 words or past the end of the packet.
    TcpBadDataOffset,
    /// TCP, UDP or UDP-Lite checksum.
    BadChecksum,
    /// UDP or UDP-Lite with fewer than 8 bytes.
    UdpShort,
    /// UDP length field below 8 or past the end of the packet.
    UdpBadLength,
    UdpliteBadCoverage,
    UdpliteNoChecksum,
    IcmpShort,
    IcmpBadChecksum,
    /// An ICMP type above 18.
    IcmpBadType,
    Icmpv6Short,
    Icmpv6BadChecksum,
    Icmpv6ShortRedirect,
    Icmpv6RedirectBadSource,
    Icmpv6RedirectNoOptions,
    /// ICMP in IPv6 or ICMPv6 in IPv4: conntrack's ICMP trackers refuse the family (silent).
    IcmpWrongFamily,
    /// An IPv6 packet whose extension headers do not lead to an upper layer (silent).
    NoUpperLayer,
}

impl L4Invalid {
    pub fn name(self) -> &'static str {
        match self {
            L4Invalid::NoTuple => "no tuple",
            L4Invalid::TcpShortHeader => "short tcp header",
            L4Invalid::TcpBadDataOffset => "truncated packet",
            L4Invalid::BadChecksum => "bad checksum",
            L4Invalid::UdpShort | L4Invalid::IcmpShort | L4Invalid::Icmpv6Short => "short packet",
            L4Invalid::UdpBadLength => "truncated/malformed packet",
            L4Invalid::UdpliteBadCoverage => "invalid checksum coverage",
            L4Invalid::UdpliteNoChecksum => "checksum missing",
            L4Invalid::IcmpBadChecksum => "bad hw icmp checksum",
            L4Invalid::IcmpBadType => "invalid icmp type",
            L4Invalid::Icmpv6BadChecksum => "ICMPv6 checksum failed",
            L4Invalid::Icmpv6ShortRedirect => "short redirect",
            L4Invalid::Icmpv6RedirectBadSource => "invalid saddr or hoplimit for redirect",
            L4Invalid::Icmpv6RedirectNoOptions => "redirect without options",
            L4Invalid::IcmpWrongFamily => "icmp in wrong family",
            L4Invalid::NoUpperLayer => "no upper-layer header",
        }
    }

    /// Whether the kernel writes a log line (`nf_l4proto_log_invalid`) for this cause.
    pub fn logged(self) -> bool {
        !matches!(
            self,
            L4Invalid::NoTuple
                | L4Invalid::TcpShortHeader
                | L4Invalid::IcmpWrongFamily
                | L4Invalid::NoUpperLayer
        )
    }
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
