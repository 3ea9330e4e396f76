//! Turns a [`PacketSpec`] into bytes with `etherparse`: the transport segment with its checksum,
//! the IP datagram, its fragments, and the Ethernet frames around them.

use std::net::IpAddr;

use etherparse::{
    EtherType, Ethernet2Header, Icmpv4Header, Icmpv4Type, Icmpv6Header, Icmpv6Type, IpDscp, IpEcn,
    IpFragOffset, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, TcpHeader,
    TcpOptionElement, UdpHeader,
};

use crate::spec::{IcmpSpec, L4, PacketSpec, TcpOpt, TcpSpec};
use crate::topology::{MTU, Side};

/// Where a fragment sits in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Its position in the datagram (0 = the first, carrying the transport header).
    pub number: usize,
    /// How many fragments the datagram was split into.
    pub count: usize,
    /// Offset of its data in the IP payload, in bytes.
    pub offset: usize,
    /// More fragments follow (the MF flag).
    pub more: bool,
}

/// A built packet line: the whole datagram (what an ICMP error quotes) and the IP packets to
/// send, one per fragment, in sending order.
#[derive(Debug)]
pub struct Built {
    pub datagram: Vec<u8>,
    pub packets: Vec<(Vec<u8>, Option<Fragment>)>,
}

/// Builds the IP packets of `spec`. `default_id` is used when the line gives no `id=`;
/// `quoted` is the datagram named by `quote=`.
pub fn build(spec: &PacketSpec, default_id: u32, quoted: Option<&[u8]>) -> Result<Built, String> {
    let (proto, segment) = transport(spec, quoted)?;
    let id = spec.ip.id.unwrap_or(default_id);
    let whole = ip_packet(spec, proto, id, &segment, None)?;
    let Some(size) = spec.ip.frag else {
        check_mtu(whole.len())?;
        return Ok(Built {
            packets: vec![(whole.clone(), None)],
            datagram: whole,
        });
    };
    let count = segment.len().div_ceil(size).max(1);
    let order: Vec<usize> = match &spec.ip.order {
        Some(order) => order.clone(),
        None => (0..count).collect(),
    };
    let mut packets = Vec::with_capacity(order.len());
    for &number in &order {
        if number >= count {
            return Err(format!(
                "order= names fragment {number}, but the datagram splits into {count} (0–{})",
                count - 1
            ));
        }
        let offset = number * size;
        let end = (offset + size).min(segment.len());
        let fragment = Fragment {
            number,
            count,
            offset,
            more: number + 1 < count,
        };
        let packet = ip_packet(spec, proto, id, &segment[offset..end], Some(fragment))?;
        check_mtu(packet.len())?;
        packets.push((packet, Some(fragment)));
    }
    Ok(Built {
        datagram: whole,
        packets,
    })
}

/// Wraps an IP packet in an Ethernet frame from `side`'s host to the router.
pub fn frame(side: Side, ip_packet: &[u8]) -> Vec<u8> {
    let ether_type = if ip_packet.first().is_some_and(|b| b >> 4 == 6) {
        EtherType::IPV6
    } else {
        EtherType::IPV4
    };
    let header = Ethernet2Header {
        source: side.host_mac(),
        destination: side.router_mac(),
        ether_type,
    };
    let mut frame = header.to_bytes().to_vec();
    frame.extend_from_slice(ip_packet);
    frame
}

fn check_mtu(len: usize) -> Result<(), String> {
    if len > MTU {
        return Err(format!(
            "a {len}-byte IP packet exceeds the {MTU}-byte MTU: split it with frag=N"
        ));
    }
    Ok(())
}

/// A checksum that is wrong whatever the data: off by one, and never 0 (which would mean "no
/// checksum" for UDP over IPv4).
fn corrupt(sum: u16) -> u16 {
    if sum ^ 1 == 0 { sum ^ 2 } else { sum ^ 1 }
}

enum Addrs {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

fn addrs(spec: &PacketSpec) -> Result<Addrs, String> {
    match (spec.src, spec.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Ok(Addrs::V4(s.octets(), d.octets())),
        (IpAddr::V6(s), IpAddr::V6(d)) => Ok(Addrs::V6(s.octets(), d.octets())),
        _ => Err("source and destination are of different IP versions".into()),
    }
}

/// The transport segment (header and payload) and its IP protocol number.
fn transport(spec: &PacketSpec, quoted: Option<&[u8]>) -> Result<(u8, Vec<u8>), String> {
    let addrs = addrs(spec)?;
    let too_big = |e: etherparse::err::ValueTooBigError<usize>| e.to_string();
    match &spec.l4 {
        L4::Tcp(tcp) => Ok((6, tcp_segment(tcp, &addrs, spec.bad_sum)?)),
        L4::Udp {
            sport,
            dport,
            len,
            lite: true,
        } => udplite(*sport, *dport, *len, &addrs, spec.bad_sum),
        L4::Udp {
            sport, dport, len, ..
        } => {
            let payload = vec![0u8; *len];
            let length = u16::try_from(UdpHeader::LEN + len)
                .map_err(|_| format!("len={len}: the UDP datagram is too long"))?;
            let mut header = UdpHeader {
                source_port: *sport,
                destination_port: *dport,
                length,
                checksum: 0,
            };
            let sum = match addrs {
                Addrs::V4(s, d) => header.calc_checksum_ipv4_raw(s, d, &payload),
                Addrs::V6(s, d) => header.calc_checksum_ipv6_raw(s, d, &payload),
            }
            .map_err(too_big)?;
            header.checksum = if spec.bad_sum { corrupt(sum) } else { sum };
            let mut bytes = header.to_bytes().to_vec();
            bytes.extend_from_slice(&payload);
            Ok((17, bytes))
        }
        L4::Icmp(icmp) => icmp_message(icmp, &addrs, quoted, spec.bad_sum),
        L4::Raw { proto, len } => Ok((*proto, vec![0u8; *len])),
    }
}

fn tcp_segment(tcp: &TcpSpec, addrs: &Addrs, bad_sum: bool) -> Result<Vec<u8>, String> {
    let mut header = TcpHeader::new(tcp.sport, tcp.dport, tcp.seq, tcp.win);
    header.acknowledgment_number = tcp.ack;
    header.urgent_pointer = tcp.urp;
    let f = tcp.flags;
    (header.fin, header.syn, header.rst, header.psh) = (f.fin, f.syn, f.rst, f.psh);
    (header.ack, header.urg, header.ece, header.cwr, header.ns) =
        (f.ack, f.urg, f.ece, f.cwr, f.ns);
    let elements: Vec<TcpOptionElement> = tcp
        .options
        .iter()
        .map(|option| match option {
            TcpOpt::Mss(v) => TcpOptionElement::MaximumSegmentSize(*v),
            TcpOpt::Wscale(v) => TcpOptionElement::WindowScale(*v),
            TcpOpt::SackOk => TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOpt::Ts(v, e) => TcpOptionElement::Timestamp(*v, *e),
            TcpOpt::Sack(blocks) => {
                let mut more = [None; 3];
                for (slot, block) in more.iter_mut().zip(blocks.iter().skip(1)) {
                    *slot = Some(*block);
                }
                TcpOptionElement::SelectiveAcknowledgement(blocks[0], more)
            }
        })
        .collect();
    header
        .set_options(&elements)
        .map_err(|e| format!("TCP options do not fit in the header: {e}"))?;
    let payload = vec![0u8; tcp.len];
    let sum = match *addrs {
        Addrs::V4(s, d) => header.calc_checksum_ipv4_raw(s, d, &payload),
        Addrs::V6(s, d) => header.calc_checksum_ipv6_raw(s, d, &payload),
    }
    .map_err(|e| e.to_string())?;
    header.checksum = if bad_sum { corrupt(sum) } else { sum };
    let mut bytes = header.to_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

fn icmp_message(
    icmp: &IcmpSpec,
    addrs: &Addrs,
    quoted: Option<&[u8]>,
    bad_sum: bool,
) -> Result<(u8, Vec<u8>), String> {
    let mut payload = match quoted {
        Some(datagram) => quote(datagram, icmp.quote_len)?,
        None => Vec::new(),
    };
    payload.resize(payload.len() + icmp.len, 0);
    let (proto, header) = match *addrs {
        Addrs::V4(..) => {
            let kind = Icmpv4Type::Unknown {
                type_u8: icmp.icmp_type,
                code_u8: icmp.code,
                bytes5to8: icmp.rest,
            };
            let mut header = Icmpv4Header::with_checksum(kind, &payload);
            if bad_sum {
                header.checksum = corrupt(header.checksum);
            }
            (1, header.to_bytes().to_vec())
        }
        Addrs::V6(s, d) => {
            let kind = Icmpv6Type::Unknown {
                type_u8: icmp.icmp_type,
                code_u8: icmp.code,
                bytes5to8: icmp.rest,
            };
            let mut header =
                Icmpv6Header::with_checksum(kind, s, d, &payload).map_err(|e| e.to_string())?;
            if bad_sum {
                header.checksum = corrupt(header.checksum);
            }
            (58, header.to_bytes().to_vec())
        }
    };
    let mut bytes = header;
    bytes.extend_from_slice(&payload);
    Ok((proto, bytes))
}

/// The start of a datagram as an ICMP error carries it: the IP header (with extension headers
/// as sent) and `payload_len` bytes after it (default: 8 for IPv4, everything for IPv6).
fn quote(datagram: &[u8], payload_len: Option<usize>) -> Result<Vec<u8>, String> {
    let header_len = match datagram.first().map(|b| b >> 4) {
        Some(4) => usize::from(datagram[0] & 0x0f) * 4,
        Some(6) => Ipv6Header::LEN,
        _ => return Err("the quoted packet is not an IP packet".into()),
    };
    let default_len = if header_len == Ipv6Header::LEN {
        datagram.len()
    } else {
        header_len + 8
    };
    let len = payload_len.map_or(default_len, |n| header_len + n);
    Ok(datagram[..len.min(datagram.len())].to_vec())
}

/// One IP packet: the whole datagram (`fragment` = None) or one fragment of it.
fn ip_packet(
    spec: &PacketSpec,
    proto: u8,
    id: u32,
    data: &[u8],
    fragment: Option<Fragment>,
) -> Result<Vec<u8>, String> {
    let offset_units = |f: Fragment| {
        u16::try_from(f.offset / 8)
            .ok()
            .and_then(|units| IpFragOffset::try_new(units).ok())
            .ok_or_else(|| format!("fragment offset {} is too large", f.offset))
    };
    match addrs(spec)? {
        Addrs::V4(s, d) => {
            let len = u16::try_from(data.len())
                .map_err(|_| format!("a {}-byte IPv4 payload is too long", data.len()))?;
            let mut header = Ipv4Header::new(len, spec.ip.ttl, IpNumber(proto), s, d)
                .map_err(|e| e.to_string())?;
            header.identification = id as u16;
            header.dont_fragment = spec.ip.df.unwrap_or(spec.ip.frag.is_none());
            header.dscp = IpDscp::try_new(spec.ip.tos >> 2).map_err(|e| e.to_string())?;
            header.ecn = IpEcn::try_new(spec.ip.tos & 3).map_err(|e| e.to_string())?;
            if let Some(f) = fragment {
                header.more_fragments = f.more;
                header.fragment_offset = offset_units(f)?;
            }
            let sum = header.calc_header_checksum();
            header.header_checksum = if spec.ip.bad_ip_sum {
                corrupt(sum)
            } else {
                sum
            };
            let mut bytes = header.to_bytes().to_vec();
            bytes.extend_from_slice(data);
            Ok(bytes)
        }
        Addrs::V6(s, d) => {
            let mut header = Ipv6Header {
                traffic_class: spec.ip.tos,
                flow_label: Ipv6FlowLabel::ZERO,
                payload_length: 0,
                next_header: IpNumber(proto),
                hop_limit: spec.ip.ttl,
                source: s,
                destination: d,
            };
            let mut ext = Vec::new();
            if let Some(f) = fragment {
                header.next_header = IpNumber::IPV6_FRAGMENTATION_HEADER;
                let frag = Ipv6FragmentHeader::new(IpNumber(proto), offset_units(f)?, f.more, id);
                ext.extend_from_slice(&frag.to_bytes());
            }
            header
                .set_payload_length(ext.len() + data.len())
                .map_err(|e| e.to_string())?;
            let mut bytes = header.to_bytes().to_vec();
            bytes.extend_from_slice(&ext);
            bytes.extend_from_slice(data);
            Ok(bytes)
        }
    }
}

/// A UDP-Lite datagram (RFC 3828) with coverage 0 (the whole datagram) and its checksum over
/// the pseudo-header with protocol 136.
fn udplite(
    sport: u16,
    dport: u16,
    len: usize,
    addrs: &Addrs,
    bad_sum: bool,
) -> Result<(u8, Vec<u8>), String> {
    let total = u16::try_from(8 + len)
        .map_err(|_| format!("len={len}: the UDP-Lite datagram is too long"))?;
    let mut bytes = Vec::with_capacity(usize::from(total));
    bytes.extend_from_slice(&sport.to_be_bytes());
    bytes.extend_from_slice(&dport.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.resize(usize::from(total), 0);
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for pair in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
        }
    };
    match addrs {
        Addrs::V4(s, d) => {
            add(s);
            add(d);
        }
        Addrs::V6(s, d) => {
            add(s);
            add(d);
        }
    }
    add(&[0, 136]);
    add(&u32::from(total).to_be_bytes());
    add(&bytes);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut check = !(sum as u16);
    if check == 0 {
        check = 0xffff;
    }
    if bad_sum {
        check = corrupt(check);
    }
    bytes[6..8].copy_from_slice(&check.to_be_bytes());
    Ok((136, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn built(line: &str) -> Built {
        let words: Vec<&str> = line.split_whitespace().collect();
        build(&spec::parse(&words).unwrap(), 1, None).unwrap()
    }

    #[test]
    fn builds_a_valid_tcp_syn() {
        let b = built("tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 mss=1460 wscale=7 sackok");
        let frame = frame(Side::Client, &b.packets[0].0);
        let sliced = SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &sliced.net else {
            panic!()
        };
        assert!(ip.header().dont_fragment());
        let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
            panic!()
        };
        assert!(tcp.syn() && !tcp.ack());
        assert_eq!(tcp.sequence_number(), 1000);
        let header = tcp.to_header();
        let expected = header
            .calc_checksum_ipv4(&ip.header().to_header(), tcp.payload())
            .unwrap();
        assert_eq!(header.checksum, expected);
    }

    #[test]
    fn badsum_breaks_only_the_checksum() {
        let good = built("udp 10.99.1.100:5000 > 10.99.2.100:53 len=30");
        let bad = built("udp 10.99.1.100:5000 > 10.99.2.100:53 len=30 badsum");
        let (g, b) = (&good.packets[0].0, &bad.packets[0].0);
        assert_eq!(g.len(), b.len());
        let differing: Vec<usize> = (0..g.len()).filter(|&i| g[i] != b[i]).collect();
        assert!(
            differing.iter().all(|&i| i == 26 || i == 27),
            "{differing:?}"
        );
    }

    #[test]
    fn fragments_ipv4_in_the_given_order() {
        let b = built("udp 10.99.1.100:5000 > 10.99.2.100:53 len=100 frag=48 order=2,0,1");
        let numbers: Vec<usize> = b.packets.iter().map(|(_, f)| f.unwrap().number).collect();
        assert_eq!(numbers, vec![2, 0, 1]);
        let (last, frag) = &b.packets[0];
        assert_eq!(frag.unwrap().offset, 96);
        assert_eq!(last.len(), 20 + 12);
        assert_eq!(u16::from_be_bytes([last[6], last[7]]) & 0x1fff, 12);
        assert_eq!(b.datagram.len(), 20 + 108);
    }

    #[test]
    fn fragments_ipv6_with_a_fragment_header() {
        let b = built("udp [fd00:99:1::100]:5000 > [fd00:99:2::100]:53 len=100 frag=64");
        assert_eq!(b.packets.len(), 2);
        let (first, _) = &b.packets[0];
        assert_eq!(first[6], 44);
        assert_eq!(first.len(), 40 + 8 + 64);
    }

    #[test]
    fn quotes_the_ip_header_and_eight_bytes() {
        let req = built("udp 10.99.1.100:5000 > 10.99.2.100:53 len=30");
        let words: Vec<&str> = "icmp 10.99.2.100 > 10.99.1.100 unreach code=3 quote=#0"
            .split_whitespace()
            .collect();
        let err = build(&spec::parse(&words).unwrap(), 2, Some(&req.datagram)).unwrap();
        let icmp = &err.packets[0].0[20..];
        assert_eq!(icmp.len(), 8 + 20 + 8);
        assert_eq!(&icmp[8..], &req.datagram[..28]);
    }

    #[test]
    fn refuses_packets_over_the_mtu() {
        let words: Vec<&str> = "udp 10.0.0.1:1 > 10.0.0.2:2 len=2000"
            .split_whitespace()
            .collect();
        assert!(
            build(&spec::parse(&words).unwrap(), 1, None)
                .unwrap_err()
                .contains("MTU")
        );
    }
}
