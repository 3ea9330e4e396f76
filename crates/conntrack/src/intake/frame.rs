//! Link layers, then the IPv4 / IPv6 input checks the kernel makes before PRE_ROUTING.

use ctguard_wire::ethernet::{self, ethertype};
use ctguard_wire::ip::protocol;
use ctguard_wire::ipv6_ext::{self, Options, option};
use ctguard_wire::{Error as WireError, ipv4, ipv6, sll};

use super::{Fragment, Ip, LinkType, Malformed};
use crate::tuple::L3;

/// `net.ipv6.max_hbh_opts_number`'s default: more options than this and the header is refused.
const MAX_HBH_OPTIONS: usize = 8;

/// Parses the link and network layers of a frame.
pub fn parse_frame(link: LinkType, frame: &[u8]) -> Result<Ip<'_>, Malformed> {
    match link {
        LinkType::Ethernet => {
            let eth =
                ethernet::Packet::new_checked(frame).map_err(|_| Malformed::TruncatedEthernet)?;
            let (ty, payload) =
                ethernet::skip_vlan_tags(eth.ethertype(), &frame[ethernet::HEADER_LEN..])
                    .map_err(|_| Malformed::TruncatedEthernet)?;
            by_ethertype(ty, payload)
        }
        LinkType::LinuxSll => {
            let h = sll::Packet::new_checked(frame).map_err(|_| Malformed::TruncatedSll)?;
            cooked(
                h.protocol(),
                h.packet_type() == u16::from(sll::packet_type::OTHERHOST),
                &frame[sll::HEADER_LEN..],
                Malformed::TruncatedSll,
            )
        }
        LinkType::LinuxSll2 => {
            let h = sll::Packet2::new_checked(frame).map_err(|_| Malformed::TruncatedSll2)?;
            cooked(
                h.protocol(),
                h.packet_type() == sll::packet_type::OTHERHOST,
                &frame[sll::HEADER2_LEN..],
                Malformed::TruncatedSll2,
            )
        }
        LinkType::Raw => parse_ip(frame),
        LinkType::Ipv4 => parse_ipv4(frame),
        LinkType::Ipv6 => parse_ipv6(frame),
    }
}

/// Parses an IP packet with no link layer, by its version nibble (for a reassembled packet
/// use [`parse_reassembled`]).
pub fn parse_ip(packet: &[u8]) -> Result<Ip<'_>, Malformed> {
    match packet.first().map(|b| b >> 4) {
        None => Err(Malformed::Empty),
        Some(4) => parse_ipv4(packet),
        Some(6) => parse_ipv6(packet),
        Some(_) => Err(Malformed::BadIpVersion),
    }
}

/// Parses a packet [`Defrag`](crate::defrag::Defrag) reassembled. Its fragments went through
/// the IP input checks one by one and the kernel does not repeat them on the whole; the one
/// that could now fail is the IPv6 hop-by-hop check, when the header that followed the
/// fragment header is a hop-by-hop header that `ipv6_rcv` never looked at.
pub fn parse_reassembled(packet: &[u8]) -> Result<Ip<'_>, Malformed> {
    match packet.first().map(|b| b >> 4) {
        Some(6) => ipv6_packet(packet, false),
        _ => parse_ip(packet),
    }
}

/// A cooked capture: its protocol field is an ethertype, possibly a VLAN one.
fn cooked(
    proto: u16,
    other_host: bool,
    payload: &[u8],
    truncated: Malformed,
) -> Result<Ip<'_>, Malformed> {
    let (ty, payload) = ethernet::skip_vlan_tags(proto, payload).map_err(|_| truncated)?;
    if ty != ethertype::IPV4 && ty != ethertype::IPV6 {
        return Err(Malformed::NotIp);
    }
    // ip_rcv_core / ipv6_rcv_core drop PACKET_OTHERHOST before anything else.
    if other_host {
        return Err(Malformed::OtherHost);
    }
    by_ethertype(ty, payload)
}

fn by_ethertype(ty: u16, payload: &[u8]) -> Result<Ip<'_>, Malformed> {
    match ty {
        ethertype::IPV4 => parse_ipv4(payload),
        ethertype::IPV6 => parse_ipv6(payload),
        _ => Err(Malformed::NotIp),
    }
}

/// `ip_rcv_core`: version and IHL, header present, header checksum, total length; then trim.
fn parse_ipv4(b: &[u8]) -> Result<Ip<'_>, Malformed> {
    if b.len() < ipv4::HEADER_LEN {
        return Err(Malformed::Ipv4TruncatedHeader);
    }
    let h = match ipv4::Packet::new_checked(b) {
        Ok(h) => h,
        Err(_) if b[0] >> 4 != 4 => return Err(Malformed::Ipv4BadVersion),
        Err(WireError::Malformed) => return Err(Malformed::Ipv4BadIhl),
        Err(WireError::Truncated) => return Err(Malformed::Ipv4TruncatedHeader),
    };
    if h.version() != 4 {
        return Err(Malformed::Ipv4BadVersion);
    }
    if !h.verify_checksum() {
        return Err(Malformed::Ipv4BadHeaderChecksum);
    }
    let total = usize::from(h.total_len());
    if total > b.len() {
        return Err(Malformed::Ipv4Truncated);
    }
    if total < h.header_len() {
        return Err(Malformed::Ipv4BadTotalLength);
    }
    let fragment = h.is_fragment().then(|| Fragment {
        id: u32::from(h.ident()),
        offset: u32::from(h.frag_offset()),
        more: h.more_frags(),
    });
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[..4].copy_from_slice(&h.src_addr());
    dst[..4].copy_from_slice(&h.dst_addr());
    Ok(Ip {
        l3: L3::V4,
        src,
        dst,
        proto: h.protocol(),
        packet: &b[..total],
        l4_offset: h.header_len(),
        fragment,
    })
}

/// `ipv6_rcv_core`: version, the device-independent address rules, payload length, trim, and
/// the hop-by-hop header; then the walk to the upper layer.
fn parse_ipv6(b: &[u8]) -> Result<Ip<'_>, Malformed> {
    ipv6_packet(b, true)
}

fn ipv6_packet(b: &[u8], check_hbh: bool) -> Result<Ip<'_>, Malformed> {
    let h = ipv6::Packet::new_checked(b).map_err(|_| Malformed::Ipv6TruncatedHeader)?;
    if h.version() != 6 {
        return Err(Malformed::Ipv6BadVersion);
    }
    let (src, dst) = (h.src_addr(), h.dst_addr());
    if ipv6::is_multicast(&src) {
        return Err(Malformed::Ipv6MulticastSource);
    }
    if ipv6::is_multicast(&dst) && ipv6::multicast_scope(&dst) == 0 {
        return Err(Malformed::Ipv6MulticastScope0);
    }
    let nh = h.next_header();
    let payload_len = usize::from(h.payload_len());
    if payload_len == 0 && nh == protocol::HOPOPTS {
        return Err(Malformed::Ipv6Jumbo);
    }
    let total = ipv6::HEADER_LEN + payload_len;
    if total > b.len() {
        return Err(Malformed::Ipv6Truncated);
    }
    let packet = &b[..total];
    let after = &packet[ipv6::HEADER_LEN..];
    if check_hbh && nh == protocol::HOPOPTS {
        check_hop_by_hop(after).ok_or(Malformed::Ipv6BadHopByHop)?;
    }
    let chain = ipv6_ext::walk(nh, after);
    let fragment = chain.fragment.map(|f| Fragment {
        id: f.ident,
        offset: u32::from(f.offset),
        more: f.more,
    });
    // A walk that did not reach an upper layer leaves `proto` naming where it stopped, which
    // parse_l4 recognises as an extension header.
    let proto = chain.next_header;
    let l4_offset = (ipv6::HEADER_LEN + chain.offset).min(packet.len());
    Ok(Ip {
        l3: L3::V6,
        src,
        dst,
        proto,
        packet,
        l4_offset,
        fragment,
    })
}

/// The checks of `ipv6_parse_hopopts` / `ip6_parse_tlv` on the hop-by-hop header, with the
/// default sysctls (no CALIPSO DOI configured, IOAM disabled). `None` when the kernel would
/// drop the packet.
fn check_hop_by_hop(after: &[u8]) -> Option<()> {
    // The kernel first pulls 8 bytes, then the whole header.
    if after.len() < 8 {
        return None;
    }
    let hbh = ipv6_ext::ExtHeader::new_checked(after, protocol::HOPOPTS).ok()?;
    let (mut padding, mut count) = (0usize, 0usize);
    for tlv in Options::new(hbh.data()) {
        let tlv = tlv.ok()?;
        // Offset of the option from the start of the IPv6 header, for alignment rules.
        let at = ipv6::HEADER_LEN + 2 + tlv.offset;
        match tlv.ty {
            option::PAD1 => padding += 1,
            option::PADN => {
                // RFC 4942 2.1.9.5: at most 7 bytes of padding in a row, and only zeros.
                padding += 2 + tlv.data.len();
                if tlv.data.iter().any(|&x| x != 0) {
                    return None;
                }
            }
            ty => {
                padding = 0;
                count += 1;
                if count > MAX_HBH_OPTIONS {
                    return None;
                }
                let ok = match ty {
                    option::ROUTER_ALERT => tlv.data.len() == 2,
                    // A jumbo option only belongs in a jumbogram, refused before we get here.
                    option::JUMBO | option::CALIPSO => false,
                    option::IOAM => at.is_multiple_of(4),
                    _ => option::unknown_action(ty) == 0,
                };
                if !ok {
                    return None;
                }
            }
        }
        if padding > 7 {
            return None;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::testpkt::*;

    fn v4_udp() -> Vec<u8> {
        V4::new(protocol::UDP).build(&udp_v4(&V4::new(protocol::UDP), 1234, 53, b"query"))
    }

    #[test]
    fn plain_ethernet_ipv4_with_padding_trimmed() {
        let ip = v4_udp();
        let mut frame = ethernet(ethertype::IPV4, &ip);
        frame.extend_from_slice(&[0; 6]); // link padding up to the 60-byte minimum
        let p = parse_frame(LinkType::Ethernet, &frame).unwrap();
        assert_eq!(p.l3, L3::V4);
        assert_eq!(&p.src[..4], &[10, 0, 0, 1]);
        assert_eq!(&p.dst[..4], &[10, 0, 0, 2]);
        assert!(p.src[4..].iter().all(|&x| x == 0));
        assert_eq!(p.proto, protocol::UDP);
        assert_eq!(p.packet, &ip[..]);
        assert_eq!(p.l4_offset, 20);
        assert_eq!(&p.l4()[..4], &[0x04, 0xd2, 0x00, 0x35]);
        assert_eq!(p.fragment, None);
    }

    #[test]
    fn vlan_and_qinq_tags_are_skipped() {
        let ip = v4_udp();
        let frame = ethernet_tagged(
            &[ethertype::QINQ, ethertype::VLAN, ethertype::QINQ_LEGACY],
            ethertype::IPV4,
            &ip,
        );
        let p = parse_frame(LinkType::Ethernet, &frame).unwrap();
        assert_eq!(p.packet, &ip[..]);
        // Cut inside the second tag.
        assert_eq!(
            parse_frame(LinkType::Ethernet, &frame[..20]).unwrap_err(),
            Malformed::TruncatedEthernet
        );
        assert_eq!(
            parse_frame(LinkType::Ethernet, &frame[..13]).unwrap_err(),
            Malformed::TruncatedEthernet
        );
    }

    #[test]
    fn non_ip_ethertypes() {
        let arp = ethernet(ethertype::ARP, &[0; 28]);
        assert_eq!(
            parse_frame(LinkType::Ethernet, &arp).unwrap_err(),
            Malformed::NotIp
        );
        let llc = ethernet(0x0026, &[0; 38]);
        assert_eq!(
            parse_frame(LinkType::Ethernet, &llc).unwrap_err(),
            Malformed::NotIp
        );
        assert_eq!(
            parse_frame(LinkType::LinuxSll, &sll(0, ethertype::ARP, &[0; 28])).unwrap_err(),
            Malformed::NotIp
        );
    }

    #[test]
    fn cooked_captures() {
        let ip = v4_udp();
        let frame = sll(4, ethertype::IPV4, &ip);
        let p = parse_frame(LinkType::LinuxSll, &frame).unwrap();
        assert_eq!(p.packet, &ip[..]);
        let v6 = V6::new().build(protocol::UDP, &udp_v6(&V6::new(), 5353, 5353, b"mdns"));
        let frame = sll2(0, ethertype::IPV6, &v6);
        let p = parse_frame(LinkType::LinuxSll2, &frame).unwrap();
        assert_eq!(
            (p.l3, p.proto, p.packet.len()),
            (L3::V6, protocol::UDP, v6.len())
        );
        // A VLAN-tagged payload under a cooked header.
        let mut tagged = vec![0x00, 0x64];
        tagged.extend_from_slice(&ethertype::IPV4.to_be_bytes());
        tagged.extend_from_slice(&ip);
        assert_eq!(
            parse_frame(LinkType::LinuxSll, &sll(0, ethertype::VLAN, &tagged))
                .unwrap()
                .packet,
            &ip[..]
        );
        assert_eq!(
            parse_frame(LinkType::LinuxSll, &sll(3, ethertype::IPV4, &ip)).unwrap_err(),
            Malformed::OtherHost
        );
        assert_eq!(
            parse_frame(LinkType::LinuxSll2, &sll2(3, ethertype::IPV6, &v6)).unwrap_err(),
            Malformed::OtherHost
        );
        assert_eq!(
            parse_frame(LinkType::LinuxSll, &[0; 15]).unwrap_err(),
            Malformed::TruncatedSll
        );
        assert_eq!(
            parse_frame(LinkType::LinuxSll2, &[0; 19]).unwrap_err(),
            Malformed::TruncatedSll2
        );
    }

    #[test]
    fn raw_link_types() {
        let ip = v4_udp();
        assert_eq!(parse_frame(LinkType::Raw, &ip).unwrap().l3, L3::V4);
        assert_eq!(parse_frame(LinkType::Ipv4, &ip).unwrap().l3, L3::V4);
        assert_eq!(
            parse_frame(LinkType::Ipv6, &ip).unwrap_err(),
            Malformed::Ipv6TruncatedHeader
        );
        assert_eq!(
            parse_frame(LinkType::Raw, &[]).unwrap_err(),
            Malformed::Empty
        );
        assert_eq!(
            parse_frame(LinkType::Raw, &[0x50, 0]).unwrap_err(),
            Malformed::BadIpVersion
        );
        let v6 = V6::new().build(protocol::NONE, &[]);
        assert_eq!(
            parse_frame(LinkType::Ipv4, &v6).unwrap_err(),
            Malformed::Ipv4BadVersion
        );
    }

    #[test]
    fn ipv4_input_checks() {
        let good = v4_udp();
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut p = good.clone();
            f(&mut p);
            parse_ip(&p).map(|ip| ip.packet.len())
        };
        assert_eq!(with(&|_| ()), Ok(good.len()));
        assert_eq!(
            with(&|p| p.truncate(19)),
            Err(Malformed::Ipv4TruncatedHeader)
        );
        assert_eq!(with(&|p| p[10] ^= 1), Err(Malformed::Ipv4BadHeaderChecksum));
        assert_eq!(
            with(&|p| refill_v4(p, |h| h[0] = 0x44)),
            Err(Malformed::Ipv4BadIhl)
        );
        assert_eq!(
            with(&|p| refill_v4(p, |h| h[0] = 0x4f)),
            Err(Malformed::Ipv4TruncatedHeader)
        );
        assert_eq!(
            with(&|p| refill_v4(p, |h| h[2..4].copy_from_slice(&500u16.to_be_bytes()))),
            Err(Malformed::Ipv4Truncated)
        );
        assert_eq!(
            with(&|p| refill_v4(p, |h| h[2..4].copy_from_slice(&19u16.to_be_bytes()))),
            Err(Malformed::Ipv4BadTotalLength)
        );
        // A shorter total length is fine: the rest is link padding.
        assert_eq!(
            with(&|p| refill_v4(p, |h| h[2..4].copy_from_slice(&24u16.to_be_bytes()))),
            Ok(24)
        );
    }

    #[test]
    fn ipv4_fragments_and_options() {
        let mut b = V4::new(protocol::UDP);
        b.options = vec![1, 1, 1, 0]; // NOP NOP NOP EOL
        b.ident = 0x4242;
        b.more = true;
        let p = b.build(&[0; 16]);
        let ip = parse_ip(&p).unwrap();
        assert_eq!(ip.l4_offset, 24);
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0x4242,
                offset: 0,
                more: true
            })
        );
        b.more = false;
        b.offset = 1480;
        let p = b.build(&[0; 16]);
        assert_eq!(
            parse_ip(&p).unwrap().fragment,
            Some(Fragment {
                id: 0x4242,
                offset: 1480,
                more: false
            })
        );
    }

    #[test]
    fn ipv6_input_checks() {
        let good = V6::new().build(protocol::UDP, &udp_v6(&V6::new(), 1, 2, b"x"));
        assert_eq!(parse_ip(&good).unwrap().packet.len(), good.len());
        let mut p = good.clone();
        p.push(0xee); // padding is trimmed
        assert_eq!(parse_ip(&p).unwrap().packet.len(), good.len());
        assert_eq!(
            parse_frame(LinkType::Ipv6, &good[..39]).unwrap_err(),
            Malformed::Ipv6TruncatedHeader
        );
        assert_eq!(
            parse_ip(&good[..good.len() - 1]).unwrap_err(),
            Malformed::Ipv6Truncated
        );
        let mut p = good.clone();
        p[8] = 0xff;
        assert_eq!(parse_ip(&p).unwrap_err(), Malformed::Ipv6MulticastSource);
        let mut p = good.clone();
        p[24] = 0xff;
        p[25] = 0x00;
        assert_eq!(parse_ip(&p).unwrap_err(), Malformed::Ipv6MulticastScope0);
        p[25] = 0x02;
        assert!(parse_ip(&p).is_ok());
        let v4_long = V4::new(protocol::UDP).build(&[0; 40]);
        assert_eq!(
            parse_frame(LinkType::Ipv6, &v4_long).unwrap_err(),
            Malformed::Ipv6BadVersion
        );
        // Payload length 0 without hop-by-hop: just the header.
        let empty = V6::new().build(protocol::TCP, &[]);
        let ip = parse_ip(&empty).unwrap();
        assert_eq!(
            (ip.proto, ip.l4_offset, ip.l4().len()),
            (protocol::TCP, 40, 0)
        );
        let mut jumbo = V6::new().build(
            protocol::HOPOPTS,
            &[protocol::TCP, 0, option::JUMBO, 4, 0, 1, 0, 0],
        );
        jumbo[4..6].copy_from_slice(&[0, 0]);
        assert_eq!(parse_ip(&jumbo).unwrap_err(), Malformed::Ipv6Jumbo);
    }

    fn hbh(opts: &[u8]) -> Result<(), Malformed> {
        let mut ext = vec![protocol::UDP, ((opts.len() + 2) / 8 - 1) as u8];
        ext.extend_from_slice(opts);
        ext.extend_from_slice(&udp_v6(&V6::new(), 1, 2, b""));
        parse_ip(&V6::new().build(protocol::HOPOPTS, &ext)).map(|_| ())
    }

    #[test]
    fn hop_by_hop_rules() {
        assert_eq!(hbh(&[option::PADN, 4, 0, 0, 0, 0]), Ok(()));
        assert_eq!(
            hbh(&[option::ROUTER_ALERT, 2, 0, 0, option::PADN, 0]),
            Ok(())
        );
        assert_eq!(hbh(&[0, 0, 0, 0, 0, 0]), Ok(())); // six Pad1
        // Skippable unknown option (top bits 00), then padding.
        assert_eq!(hbh(&[0x1e, 2, 9, 9, 0, 0]), Ok(()));
        let bad = Err(Malformed::Ipv6BadHopByHop);
        assert_eq!(hbh(&[option::PADN, 4, 0, 1, 0, 0]), bad); // non-zero padding
        assert_eq!(hbh(&[option::ROUTER_ALERT, 1, 0, option::PADN, 1, 0]), bad);
        assert_eq!(hbh(&[0x5e, 2, 9, 9, 0, 0]), bad); // unknown, "discard"
        assert_eq!(hbh(&[0x9e, 0, 0xde, 0, 0, 0]), bad); // unknown, "discard and ICMP"
        assert_eq!(hbh(&[option::PADN, 6, 0, 0, 0, 0]), bad); // option past the header
        assert_eq!(
            hbh(&[option::PADN, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            bad
        ); // 14 bytes of padding
        let nine_options: Vec<u8> = [[0x1e, 0]; 9].concat();
        assert_eq!(hbh(&[&nine_options[..], &[0, 0, 0, 0]].concat()), bad);
        let eight_options: Vec<u8> = [[0x1e, 0]; 8].concat();
        assert_eq!(
            hbh(&[&eight_options[..], &[option::PADN, 4, 0, 0, 0, 0]].concat()),
            Ok(())
        );
        // Header cut short by the payload length.
        let mut p = V6::new().build(protocol::HOPOPTS, &[protocol::UDP, 1, 1, 4, 0, 0, 0, 0]);
        p.truncate(46);
        p[4..6].copy_from_slice(&6u16.to_be_bytes());
        assert_eq!(parse_ip(&p).unwrap_err(), Malformed::Ipv6BadHopByHop);
    }

    #[test]
    fn reassembled_packets_skip_the_hop_by_hop_check() {
        // What follows a fragment header can be a hop-by-hop header the input path never saw.
        let odd = V6::new().build(protocol::HOPOPTS, &[protocol::UDP, 0, 0xff, 4, 0, 0, 0, 0]);
        assert_eq!(parse_ip(&odd).unwrap_err(), Malformed::Ipv6BadHopByHop);
        let ip = parse_reassembled(&odd).unwrap();
        assert_eq!((ip.proto, ip.l4_offset), (protocol::UDP, 48));
        // Everything else is checked as usual.
        assert_eq!(
            parse_reassembled(&odd[..39]).unwrap_err(),
            Malformed::Ipv6TruncatedHeader
        );
        assert_eq!(parse_reassembled(&v4_udp()).unwrap().l3, L3::V4);
    }

    #[test]
    fn ipv6_extension_chain_with_hop_by_hop_and_fragment() {
        let v6 = V6::new();
        let seg = tcp_v6(
            &v6,
            &TcpSpec {
                flags: 0x02,
                ..TcpSpec::default()
            },
        );
        let mut ext = vec![protocol::FRAGMENT, 0, option::PADN, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[protocol::DSTOPTS, 0, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe]); // offset 0, more
        ext.extend_from_slice(&[protocol::TCP, 0, option::PADN, 4, 0, 0, 0, 0]);
        ext.extend_from_slice(&seg);
        let p = v6.build(protocol::HOPOPTS, &ext);
        let frame = ethernet(ethertype::IPV6, &p);
        let ip = parse_frame(LinkType::Ethernet, &frame).unwrap();
        assert_eq!((ip.proto, ip.l4_offset), (protocol::TCP, 64));
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xcafebabe,
                offset: 0,
                more: true
            })
        );
        assert_eq!(ip.l4(), &seg[..]);

        // A later fragment: the walk stops at the fragment header.
        let mut later = vec![protocol::TCP, 0, 0x05, 0xa8, 0xca, 0xfe, 0xba, 0xbe];
        later.extend_from_slice(b"rest of the data");
        let ip_later = v6.build(protocol::FRAGMENT, &later);
        let ip = parse_ip(&ip_later).unwrap();
        assert_eq!((ip.proto, ip.l4_offset), (protocol::TCP, 48));
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xcafebabe,
                offset: 1448,
                more: false
            })
        );

        // No next header, and a routing header cut short, stop the walk.
        let ip_none = v6.build(
            protocol::DSTOPTS,
            &[protocol::NONE, 0, option::PADN, 4, 0, 0, 0, 0],
        );
        let ip = parse_ip(&ip_none).unwrap();
        assert_eq!((ip.proto, ip.l4_offset), (protocol::NONE, 48));
        let cut = v6.build(protocol::ROUTING, &[protocol::TCP, 2, 0, 0, 0, 0, 0, 0]);
        let ip = parse_ip(&cut).unwrap();
        assert_eq!((ip.proto, ip.l4_offset), (protocol::ROUTING, 40));
        // ESP ends the walk as an upper layer.
        assert_eq!(
            parse_ip(&v6.build(protocol::ESP, &[0; 12])).unwrap().proto,
            protocol::ESP
        );
    }
}
