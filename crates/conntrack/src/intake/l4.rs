//! The upper layer, with the checks of conntrack's per-protocol error functions.

use ctguard_wire::checksum::{self, Checksum};
use ctguard_wire::ip::protocol;
use ctguard_wire::ipv6_ext::is_ext_header;
use ctguard_wire::{icmpv4, icmpv6, ipv6, tcp, udp};

use super::{Icmp, Ip, L4, L4Invalid};
use crate::proto::tcp::TcpSegment;
use crate::tuple::L3;

/// Parses and checks the upper layer (header length, checksum when `verify_checksum`).
///
/// `verify_checksum` is the kernel's condition: `nf_conntrack_checksum` set and the packet
/// seen in PRE_ROUTING. Fragments are not checked against what only the whole datagram can
/// satisfy (checksums, UDP length); a non-first fragment has no header at all and is
/// [`L4::Other`].
pub fn parse_l4<'a>(ip: &Ip<'a>, verify_checksum: bool) -> Result<L4<'a>, L4Invalid> {
    let whole = match ip.fragment {
        Some(f) if f.offset != 0 => return Ok(L4::Other),
        Some(_) => false,
        None => true,
    };
    let verify = verify_checksum && whole;
    let v6 = ip.l3 == L3::V6;
    match ip.proto {
        protocol::TCP => parse_tcp(ip, verify),
        protocol::UDP => parse_udp(ip, verify, whole),
        protocol::UDPLITE => parse_udplite(ip, verify, whole),
        protocol::ICMP if !v6 => parse_icmp(ip, verify),
        protocol::ICMPV6 if v6 => parse_icmpv6(ip, verify),
        protocol::ICMP | protocol::ICMPV6 => Err(L4Invalid::IcmpWrongFamily),
        // Only a walk that never reached an upper layer leaves an extension header here.
        p if v6 && is_ext_header(p) => Err(L4Invalid::NoUpperLayer),
        _ => Ok(L4::Other),
    }
}

/// The pseudo-header sum for `proto` over this packet's upper layer, as `nf_checksum` builds
/// it: its length is what follows the upper-layer offset, not any length field.
fn pseudo(ip: &Ip<'_>, proto: u8) -> Checksum {
    pseudo_with_len(ip, proto, ip.l4().len() as u32)
}

fn pseudo_with_len(ip: &Ip<'_>, proto: u8, len: u32) -> Checksum {
    match ip.l3 {
        L3::V4 => {
            let (s, d) = (&ip.src[..4], &ip.dst[..4]);
            checksum::pseudo_header_v4(
                &[s[0], s[1], s[2], s[3]],
                &[d[0], d[1], d[2], d[3]],
                proto,
                len,
            )
        }
        L3::V6 => checksum::pseudo_header_v6(&ip.src, &ip.dst, proto, len),
    }
}

fn verifies(mut sum: Checksum, data: &[u8]) -> bool {
    sum.add_bytes(data);
    sum.verifies()
}

fn ports(b: &[u8]) -> Option<(u16, u16)> {
    match *b {
        [a, b, c, d, ..] => Some((u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))),
        _ => None,
    }
}

/// `tcp_error`. Before it, the kernel needs the ports for a tuple and then the fixed header,
/// silently failing the packet without either.
fn parse_tcp<'a>(ip: &Ip<'a>, verify: bool) -> Result<L4<'a>, L4Invalid> {
    let b = ip.l4();
    ports(b).ok_or(L4Invalid::NoTuple)?;
    if b.len() < tcp::HEADER_LEN {
        return Err(L4Invalid::TcpShortHeader);
    }
    let t = tcp::Packet::new_checked(b).map_err(|_| L4Invalid::TcpBadDataOffset)?;
    if verify && !verifies(pseudo(ip, protocol::TCP), b) {
        return Err(L4Invalid::BadChecksum);
    }
    let header_len = t.header_len();
    let seg = TcpSegment {
        seq: t.seq_number(),
        ack: t.ack_number(),
        flags: t.flags(),
        window: t.window_len(),
        payload_len: (b.len() - header_len) as u32,
        options: &b[tcp::HEADER_LEN..header_len],
    };
    Ok(L4::Tcp {
        sport: t.src_port(),
        dport: t.dst_port(),
        seg,
    })
}

/// `udp_error`. A zero checksum means none was sent, in IPv6 too: conntrack does not insist
/// (the IPv6 UDP stack drops such datagrams later, after PRE_ROUTING).
fn parse_udp<'a>(ip: &Ip<'a>, verify: bool, whole: bool) -> Result<L4<'a>, L4Invalid> {
    let b = ip.l4();
    let (sport, dport) = ports(b).ok_or(L4Invalid::NoTuple)?;
    let u = udp::Packet::new_checked(b).map_err(|_| L4Invalid::UdpShort)?;
    let len = usize::from(u.length());
    if whole && (len > b.len() || len < udp::HEADER_LEN) {
        return Err(L4Invalid::UdpBadLength);
    }
    if u.checksum() != 0 && verify && !verifies(pseudo(ip, protocol::UDP), b) {
        return Err(L4Invalid::BadChecksum);
    }
    Ok(L4::Udp { sport, dport })
}

/// `udplite_error`: the length field is the checksum coverage (0 for all), and a checksum is
/// mandatory.
///
/// The kernel's software check (`nf_checksum_partial`, taken for packets without a hardware
/// checksum) differs from RFC 3828, and this reproduces it: the pseudo-header protocol is 17
/// (`IPPROTO_UDP`), not 136; and for IPv4, whose call passes protocol and length swapped into
/// a `u8` protocol parameter, the pseudo-header length is the datagram length modulo 256. A
/// UDP-Lite datagram checksummed per the RFC therefore fails whenever it is verified.
fn parse_udplite<'a>(ip: &Ip<'a>, verify: bool, whole: bool) -> Result<L4<'a>, L4Invalid> {
    let b = ip.l4();
    let (sport, dport) = ports(b).ok_or(L4Invalid::NoTuple)?;
    let u = udp::Packet::new_checked(b).map_err(|_| L4Invalid::UdpShort)?;
    let coverage = match usize::from(u.length()) {
        0 => b.len(),
        c if c < udp::HEADER_LEN || (whole && c > b.len()) => {
            return Err(L4Invalid::UdpliteBadCoverage);
        }
        c => c.min(b.len()),
    };
    if u.checksum() == 0 {
        return Err(L4Invalid::UdpliteNoChecksum);
    }
    let len = match ip.l3 {
        L3::V4 => b.len() as u32 & 0xff,
        L3::V6 => b.len() as u32,
    };
    if verify && !verifies(pseudo_with_len(ip, protocol::UDP, len), &b[..coverage]) {
        return Err(L4Invalid::BadChecksum);
    }
    Ok(L4::Udp { sport, dport })
}

/// `nf_conntrack_icmpv4_error`, up to the point where an error's quoted packet is looked up.
fn parse_icmp<'a>(ip: &Ip<'a>, verify: bool) -> Result<L4<'a>, L4Invalid> {
    let b = ip.l4();
    let m = icmpv4::Packet::new_checked(b).map_err(|_| L4Invalid::IcmpShort)?;
    if verify && !m.verify_checksum() {
        return Err(L4Invalid::IcmpBadChecksum);
    }
    let ty = m.msg_type();
    if ty > icmpv4::msg_type::ADDRESS_MASK_REPLY {
        return Err(L4Invalid::IcmpBadType);
    }
    let id = if icmpv4::msg_type::is_query(ty) {
        m.ident()
    } else {
        0
    };
    let quoted = icmpv4::msg_type::is_error(ty).then(|| &b[icmpv4::HEADER_LEN..]);
    Ok(L4::Icmp(Icmp {
        v6: false,
        ty,
        code: m.msg_code(),
        id,
        quoted,
    }))
}

/// `nf_conntrack_icmpv6_error`, redirects included (Linux 6.2 and later).
fn parse_icmpv6<'a>(ip: &Ip<'a>, verify: bool) -> Result<L4<'a>, L4Invalid> {
    let b = ip.l4();
    let m = icmpv6::Packet::new_checked(b).map_err(|_| L4Invalid::Icmpv6Short)?;
    if verify && !verifies(pseudo(ip, protocol::ICMPV6), b) {
        return Err(L4Invalid::Icmpv6BadChecksum);
    }
    let (ty, code) = (m.msg_type(), m.msg_code());
    let id = if icmpv6::msg_type::is_query(ty) {
        m.ident()
    } else {
        0
    };
    let quoted = if icmpv6::msg_type::is_error(ty) {
        Some(&b[icmpv6::HEADER_LEN..])
    } else if ty == icmpv6::msg_type::REDIRECT {
        redirect(ip, b, code)?
    } else {
        None
    };
    Ok(L4::Icmp(Icmp {
        v6: true,
        ty,
        code,
        id,
        quoted,
    }))
}

/// A redirect relates to a connection through its redirected-header option, if it has one
/// first among its options; the kernel checks the sender is a neighbour router first.
fn redirect<'a>(ip: &Ip<'a>, b: &'a [u8], code: u8) -> Result<Option<&'a [u8]>, L4Invalid> {
    let r = icmpv6::Redirect::new_checked(b).map_err(|_| L4Invalid::Icmpv6ShortRedirect)?;
    if code != 0 {
        return Ok(None);
    }
    let hop_limit = ip.packet.get(7).copied();
    if hop_limit != Some(255) || !ipv6::is_link_local(&ip.src) {
        return Err(L4Invalid::Icmpv6RedirectBadSource);
    }
    match *r.options() {
        [_, len, ..] if len != 0 => {}
        _ => return Err(L4Invalid::Icmpv6RedirectNoOptions),
    }
    if r.options()[0] != icmpv6::ND_OPT_REDIRECTED_HEADER {
        return Ok(None);
    }
    let skip = icmpv6::REDIRECT_LEN + icmpv6::ND_OPT_REDIRECTED_HEADER_LEN;
    Ok(Some(b.get(skip..).unwrap_or(&[])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse_ip;
    use crate::intake::testpkt::*;

    fn l4(packet: &[u8], verify: bool) -> Result<L4<'_>, L4Invalid> {
        parse_l4(
            &parse_ip(packet).expect("test packets pass IP input"),
            verify,
        )
    }

    fn tcp_spec() -> TcpSpec {
        TcpSpec {
            sport: 51000,
            dport: 443,
            seq: 0xdead_beef,
            ack: 0x0102_0304,
            flags: 0x18,
            window: 501,
            options: vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            payload: b"hello".to_vec(),
        }
    }

    #[test]
    fn tcp_segment_fields() {
        let v4 = V4::new(protocol::TCP);
        let p = v4.build(&tcp_v4(&v4, &tcp_spec()));
        let Ok(L4::Tcp { sport, dport, seg }) = l4(&p, true) else {
            panic!("not TCP")
        };
        assert_eq!((sport, dport), (51000, 443));
        assert_eq!(
            (seg.seq, seg.ack, seg.flags, seg.window, seg.payload_len),
            (0xdead_beef, 0x0102_0304, 0x18, 501, 5)
        );
        assert_eq!(seg.options, &tcp_spec().options[..]);
        let v6 = V6::new();
        let p = v6.build(protocol::TCP, &tcp_v6(&v6, &tcp_spec()));
        assert!(matches!(l4(&p, true), Ok(L4::Tcp { sport: 51000, .. })));
    }

    #[test]
    fn tcp_errors() {
        let v4 = V4::new(protocol::TCP);
        let mut seg = tcp_v4(&v4, &tcp_spec());
        seg[30] ^= 0x40; // flip a payload bit
        let p = v4.build(&seg);
        assert_eq!(l4(&p, true).unwrap_err(), L4Invalid::BadChecksum);
        assert!(l4(&p, false).is_ok(), "no check when not verifying");
        assert_eq!(
            l4(&v4.build(&seg[..3]), true).unwrap_err(),
            L4Invalid::NoTuple
        );
        assert_eq!(
            l4(&v4.build(&seg[..19]), true).unwrap_err(),
            L4Invalid::TcpShortHeader
        );
        let mut bad_doff = tcp_v4(&v4, &TcpSpec::default());
        bad_doff[12] = 4 << 4;
        assert_eq!(
            l4(&v4.build(&bad_doff), false).unwrap_err(),
            L4Invalid::TcpBadDataOffset
        );
        bad_doff[12] = 6 << 4; // 24 bytes claimed, 20 present
        assert_eq!(
            l4(&v4.build(&bad_doff), false).unwrap_err(),
            L4Invalid::TcpBadDataOffset
        );
        assert_eq!(L4Invalid::TcpBadDataOffset.name(), "truncated packet");
        assert!(!L4Invalid::TcpShortHeader.logged() && L4Invalid::BadChecksum.logged());
    }

    #[test]
    fn udp_checks() {
        let v4 = V4::new(protocol::UDP);
        let d = udp_v4(&v4, 1000, 53, b"abc");
        assert!(matches!(
            l4(&v4.build(&d), true),
            Ok(L4::Udp {
                sport: 1000,
                dport: 53
            })
        ));
        let mut bad = d.clone();
        bad[9] ^= 1;
        assert_eq!(
            l4(&v4.build(&bad), true).unwrap_err(),
            L4Invalid::BadChecksum
        );
        // Checksum 0: none sent, not checked, in IPv4 and IPv6 alike.
        bad[6..8].fill(0);
        assert!(l4(&v4.build(&bad), true).is_ok());
        let v6 = V6::new();
        let mut d6 = udp_v6(&v6, 1000, 53, b"abc");
        assert!(l4(&v6.build(protocol::UDP, &d6), true).is_ok());
        d6[6..8].fill(0);
        assert!(l4(&v6.build(protocol::UDP, &d6), true).is_ok());
        assert_eq!(
            l4(&v4.build(&d[..2]), true).unwrap_err(),
            L4Invalid::NoTuple
        );
        assert_eq!(
            l4(&v4.build(&d[..7]), true).unwrap_err(),
            L4Invalid::UdpShort
        );
        let mut long = d.clone();
        long[4..6].copy_from_slice(&12u16.to_be_bytes());
        assert_eq!(
            l4(&v4.build(&long), false).unwrap_err(),
            L4Invalid::UdpBadLength
        );
        long[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            l4(&v4.build(&long), false).unwrap_err(),
            L4Invalid::UdpBadLength
        );
        // A length shorter than the IP payload is accepted, and the checksum conntrack checks
        // covers everything after the IP header, as nf_checksum sums it, not the UDP length.
        let mut short = udp_v4(&v4, 1, 2, b"abcd");
        short[4..6].copy_from_slice(&10u16.to_be_bytes());
        let sum_over = |d: &mut Vec<u8>, len: usize| {
            d[6..8].fill(0);
            let mut c = checksum::pseudo_header_v4(&v4.src, &v4.dst, protocol::UDP, len as u32);
            c.add_bytes(&d[..len]);
            d[6..8].copy_from_slice(&c.checksum().to_be_bytes());
        };
        sum_over(&mut short, 12);
        assert!(l4(&v4.build(&short), true).is_ok());
        sum_over(&mut short, 10);
        assert_eq!(
            l4(&v4.build(&short), true).unwrap_err(),
            L4Invalid::BadChecksum
        );
        assert!(l4(&v4.build(&short), false).is_ok());
    }

    /// A UDP-Lite datagram checksummed with pseudo-header protocol `pseudo_proto` and length
    /// `len(datagram)` modulo `len_mod` (the kernel accepts 17 and 256 for IPv4).
    fn udplite_v4(
        v4: &V4,
        coverage: u16,
        payload: &[u8],
        pseudo_proto: u8,
        len_mod: usize,
    ) -> Vec<u8> {
        let mut d = vec![0x13, 0x88, 0x13, 0x89];
        d.extend_from_slice(&coverage.to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(payload);
        let cov = if coverage == 0 {
            d.len()
        } else {
            usize::from(coverage).min(d.len())
        };
        let mut c =
            checksum::pseudo_header_v4(&v4.src, &v4.dst, pseudo_proto, (d.len() % len_mod) as u32);
        c.add_bytes(&d[..cov]);
        d[6..8].copy_from_slice(&c.checksum().to_be_bytes());
        d
    }

    #[test]
    fn udplite_checks() {
        let v4 = V4::new(protocol::UDPLITE);
        let full = udplite_v4(&v4, 0, b"payload!", protocol::UDP, 256);
        assert!(matches!(
            l4(&v4.build(&full), true),
            Ok(L4::Udp {
                sport: 5000,
                dport: 5001
            })
        ));
        let mut partial = udplite_v4(&v4, 8, b"payload!", protocol::UDP, 256);
        partial[10] ^= 0xff; // outside the coverage: not checked
        assert!(l4(&v4.build(&partial), true).is_ok());
        partial[2] ^= 0xff; // inside it
        assert_eq!(
            l4(&v4.build(&partial), true).unwrap_err(),
            L4Invalid::BadChecksum
        );
        // RFC 3828's own pseudo-header (protocol 136) fails the kernel's check.
        let rfc = udplite_v4(&v4, 0, b"payload!", protocol::UDPLITE, 256);
        assert_eq!(
            l4(&v4.build(&rfc), true).unwrap_err(),
            L4Invalid::BadChecksum
        );
        assert_eq!(
            l4(
                &v4.build(&udplite_v4(&v4, 7, b"", protocol::UDP, 256)),
                true
            )
            .unwrap_err(),
            L4Invalid::UdpliteBadCoverage
        );
        assert_eq!(
            l4(
                &v4.build(&udplite_v4(&v4, 20, b"ab", protocol::UDP, 256)),
                true
            )
            .unwrap_err(),
            L4Invalid::UdpliteBadCoverage
        );
        // 300 bytes: the IPv4 pseudo-header length the kernel sums is 300 % 256.
        let long = udplite_v4(&v4, 8, &[1; 292], protocol::UDP, 256);
        assert!(l4(&v4.build(&long), true).is_ok());
        let long_rfc_len = udplite_v4(&v4, 8, &[1; 292], protocol::UDP, usize::MAX);
        assert_eq!(
            l4(&v4.build(&long_rfc_len), true).unwrap_err(),
            L4Invalid::BadChecksum
        );
        // IPv6 keeps the full length, with protocol 17 all the same.
        let v6 = V6::new();
        let mut d6 = vec![0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0];
        d6.extend_from_slice(&[2; 300]);
        let mut c = checksum::pseudo_header_v6(&v6.src, &v6.dst, protocol::UDP, d6.len() as u32);
        c.add_bytes(&d6);
        d6[6..8].copy_from_slice(&c.checksum().to_be_bytes());
        assert!(l4(&v6.build(protocol::UDPLITE, &d6), true).is_ok());
        let mut none = full.clone();
        none[6..8].fill(0);
        assert_eq!(
            l4(&v4.build(&none), false).unwrap_err(),
            L4Invalid::UdpliteNoChecksum
        );
        assert_eq!(
            l4(&v4.build(&full[..6]), true).unwrap_err(),
            L4Invalid::UdpShort
        );
    }

    #[test]
    fn icmp_queries_errors_and_checks() {
        let v4 = V4::new(protocol::ICMP);
        let echo = icmp_v4(8, 0, &[0x12, 0x34, 0, 1, b'x']);
        let pkt = v4.build(&echo);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert_eq!(
            (m.v6, m.ty, m.code, m.id, m.quoted),
            (false, 8, 0, 0x1234, None)
        );
        for ty in [0, 13, 14, 15, 16, 17, 18] {
            let pkt = v4.build(&icmp_v4(ty, 0, &[0xab, 0xcd, 0, 0]));
            let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
                panic!()
            };
            assert_eq!(m.id, 0xabcd, "type {ty}");
        }
        // An error quotes what follows its 8-byte header; its bytes 4-7 are no identifier.
        let inner = V4::new(protocol::UDP).build(&udp_v4(&V4::new(protocol::UDP), 1, 2, b""));
        let mut body = vec![0xee, 0xee, 0, 0];
        body.extend_from_slice(&inner[..28]);
        let unreach = icmp_v4(3, 3, &body);
        let pkt = v4.build(&unreach);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert_eq!(
            (m.ty, m.code, m.id, m.quoted),
            (3, 3, 0, Some(&inner[..28]))
        );
        let mut bad = echo.clone();
        bad[5] ^= 1;
        assert_eq!(
            l4(&v4.build(&bad), true).unwrap_err(),
            L4Invalid::IcmpBadChecksum
        );
        assert!(l4(&v4.build(&bad), false).is_ok());
        assert_eq!(
            l4(&v4.build(&icmp_v4(19, 0, &[0; 4])), true).unwrap_err(),
            L4Invalid::IcmpBadType
        );
        assert_eq!(
            l4(&v4.build(&echo[..7]), true).unwrap_err(),
            L4Invalid::IcmpShort
        );
        // ICMP carried over IPv6 is not something conntrack tracks.
        let v6 = V6::new();
        assert_eq!(
            l4(&v6.build(protocol::ICMP, &echo), true).unwrap_err(),
            L4Invalid::IcmpWrongFamily
        );
        assert_eq!(L4Invalid::IcmpBadChecksum.name(), "bad hw icmp checksum");
    }

    #[test]
    fn icmpv6_queries_errors_and_checks() {
        let v6 = V6::new();
        let echo = icmp_v6(&v6, 128, 0, &[0x55, 0x66, 0, 9]);
        let pkt = v6.build(protocol::ICMPV6, &echo);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert_eq!(
            (m.v6, m.ty, m.id, m.quoted, m.untracked()),
            (true, 128, 0x5566, None, false)
        );
        let inner = v6.build(protocol::TCP, &tcp_v6(&v6, &TcpSpec::default()));
        let mut body = vec![0, 0, 0x05, 0xdc]; // packet too big, MTU 1500
        body.extend_from_slice(&inner);
        let ptb = icmp_v6(&v6, 2, 0, &body);
        let pkt = v6.build(protocol::ICMPV6, &ptb);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert_eq!((m.ty, m.id, m.quoted), (2, 0, Some(&inner[..])));
        let ns = icmp_v6(&v6, 135, 0, &[0; 20]);
        let pkt = v6.build(protocol::ICMPV6, &ns);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert!(m.untracked());
        let mut bad = echo.clone();
        bad[7] ^= 1;
        assert_eq!(
            l4(&v6.build(protocol::ICMPV6, &bad), true).unwrap_err(),
            L4Invalid::Icmpv6BadChecksum
        );
        assert_eq!(
            l4(&v6.build(protocol::ICMPV6, &echo[..4]), true).unwrap_err(),
            L4Invalid::Icmpv6Short
        );
        let v4 = V4::new(protocol::ICMPV6);
        assert_eq!(
            l4(&v4.build(&echo), true).unwrap_err(),
            L4Invalid::IcmpWrongFamily
        );
    }

    fn redirect_msg(v6: &V6, code: u8, options: &[u8]) -> Vec<u8> {
        let mut body = vec![0; 4 + 32];
        body.extend_from_slice(options);
        icmp_v6(v6, 137, code, &body)
    }

    #[test]
    fn icmpv6_redirects() {
        let mut router = V6::new();
        router.src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        router.hop_limit = 255;
        let inner = router.build(protocol::UDP, &udp_v6(&router, 7, 8, b""));
        let mut opt = vec![4, 1 + (inner.len() as u8).div_ceil(8), 0, 0, 0, 0, 0, 0];
        opt.extend_from_slice(&inner);
        let ok = redirect_msg(&router, 0, &opt);
        let pkt = router.build(protocol::ICMPV6, &ok);
        let Ok(L4::Icmp(m)) = l4(&pkt, true) else {
            panic!()
        };
        assert_eq!((m.ty, m.quoted), (137, Some(&inner[..])));
        // Other options first: no lookup, nothing wrong.
        let other = redirect_msg(&router, 0, &[1, 1, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            l4(&router.build(protocol::ICMPV6, &other), true),
            Ok(L4::Icmp(Icmp { quoted: None, .. }))
        ));
        // A non-zero code is not checked further.
        let coded = redirect_msg(&router, 1, &[]);
        assert!(matches!(
            l4(&router.build(protocol::ICMPV6, &coded), true),
            Ok(L4::Icmp(Icmp { quoted: None, .. }))
        ));
        let none = redirect_msg(&router, 0, &[]);
        assert_eq!(
            l4(&router.build(protocol::ICMPV6, &none), true).unwrap_err(),
            L4Invalid::Icmpv6RedirectNoOptions
        );
        let zero_len = redirect_msg(&router, 0, &[4, 0]);
        assert_eq!(
            l4(&router.build(protocol::ICMPV6, &zero_len), true).unwrap_err(),
            L4Invalid::Icmpv6RedirectNoOptions
        );
        let short = icmp_v6(&router, 137, 0, &[0; 20]);
        assert_eq!(
            l4(&router.build(protocol::ICMPV6, &short), true).unwrap_err(),
            L4Invalid::Icmpv6ShortRedirect
        );
        let mut far = router.clone();
        far.hop_limit = 254;
        let msg = redirect_msg(&far, 0, &opt);
        assert_eq!(
            l4(&far.build(protocol::ICMPV6, &msg), true).unwrap_err(),
            L4Invalid::Icmpv6RedirectBadSource
        );
        let global = V6 {
            hop_limit: 255,
            ..V6::new()
        };
        let msg = redirect_msg(&global, 0, &opt);
        assert_eq!(
            l4(&global.build(protocol::ICMPV6, &msg), true).unwrap_err(),
            L4Invalid::Icmpv6RedirectBadSource
        );
    }

    #[test]
    fn fragments_and_unfinished_chains() {
        let mut v4 = V4::new(protocol::UDP);
        v4.more = true;
        let d = udp_v4(&v4, 9, 10, &[7; 40]);
        // The first fragment has the header but not the whole datagram: no length or checksum.
        let first = v4.build(&d[..24]);
        assert!(matches!(
            l4(&first, true),
            Ok(L4::Udp {
                sport: 9,
                dport: 10
            })
        ));
        v4.offset = 24;
        assert!(matches!(l4(&v4.build(&d[24..]), true), Ok(L4::Other)));
        let v6 = V6::new();
        let none = v6.build(protocol::NONE, &[]);
        assert_eq!(l4(&none, true).unwrap_err(), L4Invalid::NoUpperLayer);
        let cut = v6.build(protocol::DSTOPTS, &[protocol::TCP, 1, 0, 0]);
        assert_eq!(l4(&cut, true).unwrap_err(), L4Invalid::NoUpperLayer);
        assert!(matches!(
            l4(&v6.build(protocol::GRE, &[0; 4]), true),
            Ok(L4::Other)
        ));
        assert!(matches!(
            l4(&V4::new(protocol::HOPOPTS).build(&[]), true),
            Ok(L4::Other)
        ));
    }
}
