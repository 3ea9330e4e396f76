//! The header fields rules read, taken from the packet once per hook walk.

use std::net::IpAddr;

use ctguard_conntrack::intake;
use ctguard_wire::ip::protocol;

use crate::hook::Family;
use crate::packet::L4Fields;

/// An IP packet's fields as the matches see them.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fields {
    pub family: Family,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub later_fragment: bool,
    pub l4: L4Fields,
    pub len: u32,
    pub ttl: u8,
}

impl Fields {
    /// None when the bytes are not an IP packet the IP layer would accept.
    pub fn parse(packet: &[u8]) -> Option<Fields> {
        let ip = intake::parse_ip(packet).ok()?;
        let family = match ip.l3 {
            ctguard_conntrack::L3::V4 => Family::V4,
            ctguard_conntrack::L3::V6 => Family::V6,
        };
        let addr = |a: &[u8; 16]| match family {
            Family::V4 => IpAddr::from([a[0], a[1], a[2], a[3]]),
            Family::V6 => IpAddr::from(*a),
        };
        let later_fragment = ip.fragment.is_some_and(|f| f.offset != 0);
        let (len, ttl) = match family {
            Family::V4 => (
                u32::from(u16::from_be_bytes([packet[2], packet[3]])),
                packet[8],
            ),
            Family::V6 => (
                u32::from(u16::from_be_bytes([packet[4], packet[5]])) + 40,
                packet[7],
            ),
        };
        let mut l4 = L4Fields::default();
        let h = ip.l4();
        if !later_fragment {
            match ip.proto {
                protocol::TCP
                | protocol::UDP
                | protocol::UDPLITE
                | protocol::SCTP
                | protocol::DCCP
                    if h.len() >= 4 =>
                {
                    l4.sport = Some(u16::from_be_bytes([h[0], h[1]]));
                    l4.dport = Some(u16::from_be_bytes([h[2], h[3]]));
                    if ip.proto == protocol::TCP && h.len() >= 14 {
                        l4.tcp_flags = Some(h[13]);
                    }
                }
                protocol::ICMP | protocol::ICMPV6 if h.len() >= 2 => {
                    l4.icmp = Some((h[0], h[1]));
                }
                _ => {}
            }
        }
        Some(Fields {
            family,
            src: addr(&ip.src),
            dst: addr(&ip.dst),
            proto: ip.proto,
            later_fragment,
            l4,
            len,
            ttl,
        })
    }
}
