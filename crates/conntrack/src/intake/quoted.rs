//! The packet an ICMP error quotes: enough of it for a tuple, as `nf_ct_get_tuplepr` reads it.
//! Quoted packets are usually cut short, so no length field has to fit.

use ctguard_wire::ip::protocol;
use ctguard_wire::ipv6_ext::{self, End};
use ctguard_wire::{ipv4, ipv6};

use super::Quoted;
use crate::tuple::L3;

/// DCCP, which the kernel also reads ports for.
const DCCP: u8 = 33;

/// Parses a quoted packet (IP header plus at least 8 bytes of its upper layer), taking the
/// family from its version nibble.
///
/// The kernel takes the family from the outer packet instead and never looks at the quoted
/// version; [`parse_quoted_as`] does that.
pub fn parse_quoted(bytes: &[u8]) -> Option<Quoted> {
    match bytes.first()? >> 4 {
        4 => parse_quoted_as(L3::V4, bytes),
        6 => parse_quoted_as(L3::V6, bytes),
        _ => None,
    }
}

/// Parses a quoted packet of the given family, with the kernel's requirements: a whole fixed
/// header, not a non-first fragment, and the bytes its protocol's tuple needs (4 for the ports
/// of TCP, UDP, UDP-Lite, SCTP and DCCP; the 8-byte header of ICMP and ICMPv6; none for
/// others, whose ports stay 0).
pub fn parse_quoted_as(l3: L3, bytes: &[u8]) -> Option<Quoted> {
    let (src, dst, proto, l4) = match l3 {
        L3::V4 => v4(bytes)?,
        L3::V6 => v6(bytes)?,
    };
    let (sport, dport) = match proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | DCCP => match *l4 {
            [a, b, c, d, ..] => (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])),
            _ => return None,
        },
        // The kernel keys ICMP by id and type/code, whatever the quoted type.
        protocol::ICMP | protocol::ICMPV6 => match *l4 {
            [ty, code, _, _, a, b, _, _, ..] => {
                (u16::from_be_bytes([a, b]), u16::from_be_bytes([ty, code]))
            }
            _ => return None,
        },
        _ => (0, 0),
    };
    Some(Quoted {
        l3,
        src,
        dst,
        proto,
        sport,
        dport,
    })
}

type Inner<'a> = ([u8; 16], [u8; 16], u8, &'a [u8]);

/// `ipv4_get_l4proto` on the quoted header: 20 bytes, no fragment offset, IHL not past the end.
/// Like the kernel, it does not check the version or insist on IHL 5 or more.
fn v4(b: &[u8]) -> Option<Inner<'_>> {
    if b.len() < ipv4::HEADER_LEN {
        return None;
    }
    let h = ipv4::Packet::new_unchecked(b);
    if h.frag_offset() != 0 || h.ihl() == 0 {
        return None;
    }
    let l4 = b.get(h.header_len()..)?;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[..4].copy_from_slice(&h.src_addr());
    dst[..4].copy_from_slice(&h.dst_addr());
    Some((src, dst, h.protocol(), l4))
}

/// `ipv6_get_l4proto` on the quoted header: the extension headers are walked, and a non-first
/// fragment or a walk that gets nowhere fails.
fn v6(b: &[u8]) -> Option<Inner<'_>> {
    let h = ipv6::Packet::new_checked(b).ok()?;
    let chain = ipv6_ext::walk(h.next_header(), &b[ipv6::HEADER_LEN..]);
    if chain.end != End::Upper {
        return None;
    }
    let l4 = b.get(ipv6::HEADER_LEN + chain.offset..)?;
    Some((h.src_addr(), h.dst_addr(), chain.next_header, l4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::testpkt::*;

    #[test]
    fn quoted_ipv4_udp_cut_after_eight_bytes() {
        let v4 = V4::new(protocol::UDP);
        let full = v4.build(&udp_v4(&v4, 33434, 53, &[0; 100]));
        let q = parse_quoted(&full[..28]).unwrap();
        assert_eq!(
            (q.l3, q.proto, q.sport, q.dport),
            (L3::V4, protocol::UDP, 33434, 53)
        );
        assert_eq!(&q.src[..4], &[10, 0, 0, 1]);
        assert_eq!(&q.dst[..4], &[10, 0, 0, 2]);
        // The ports alone are enough for the kernel.
        assert_eq!(parse_quoted(&full[..24]).map(|q| q.dport), Some(53));
        assert_eq!(parse_quoted(&full[..23]), None);
        assert_eq!(parse_quoted(&full[..19]), None);
    }

    #[test]
    fn quoted_ipv4_with_options_fragments_and_icmp() {
        let mut v4 = V4::new(protocol::TCP);
        v4.options = vec![1, 1, 1, 1];
        let p = v4.build(&tcp_v4(
            &v4,
            &TcpSpec {
                sport: 1,
                dport: 2,
                ..TcpSpec::default()
            },
        ));
        assert_eq!(
            parse_quoted(&p[..32]).map(|q| (q.sport, q.dport)),
            Some((1, 2))
        );
        v4.offset = 8;
        assert_eq!(
            parse_quoted(&v4.build(&[0; 8])),
            None,
            "non-first fragments have no header to read"
        );
        let v4 = V4::new(protocol::ICMP);
        let echo = v4.build(&icmp_v4(8, 0, &[0xbe, 0xef, 0, 1]));
        let q = parse_quoted(&echo).unwrap();
        assert_eq!(
            (q.proto, q.sport, q.dport),
            (protocol::ICMP, 0xbeef, 8 << 8)
        );
        assert_eq!(parse_quoted(&echo[..27]), None);
        // Other protocols need nothing after the header.
        let gre = V4::new(protocol::GRE).build(&[]);
        assert_eq!(
            parse_quoted(&gre).map(|q| (q.proto, q.sport, q.dport)),
            Some((protocol::GRE, 0, 0))
        );
    }

    #[test]
    fn quoted_ipv6_with_extension_headers() {
        let v6 = V6::new();
        let seg = tcp_v6(
            &v6,
            &TcpSpec {
                sport: 443,
                dport: 50000,
                ..TcpSpec::default()
            },
        );
        let mut ext = vec![protocol::FRAGMENT, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[protocol::TCP, 0, 0, 1, 0, 0, 0, 9]); // first fragment
        ext.extend_from_slice(&seg[..8]);
        let p = v6.build(protocol::HOPOPTS, &ext);
        let q = parse_quoted(&p).unwrap();
        assert_eq!(
            (q.l3, q.proto, q.sport, q.dport, q.src, q.dst),
            (L3::V6, protocol::TCP, 443, 50000, v6.src, v6.dst)
        );
        // A later fragment, no next header, and a header cut short all give nothing.
        let later = v6.build(
            protocol::FRAGMENT,
            &[protocol::TCP, 0, 0, 8, 0, 0, 0, 9, 1, 2, 3, 4],
        );
        assert_eq!(parse_quoted(&later), None);
        assert_eq!(parse_quoted(&v6.build(protocol::NONE, &[0; 8])), None);
        assert_eq!(parse_quoted(&p[..39]), None);
        // The payload length is not checked: quoted packets are truncated.
        assert_eq!(parse_quoted(&p[..60]).map(|q| q.sport), Some(443));
    }

    #[test]
    fn family_from_the_caller() {
        let v4 = V4::new(protocol::UDP);
        let mut p = v4.build(&udp_v4(&v4, 5, 6, b""));
        p[0] = 0x65; // a lying version nibble
        assert_eq!(parse_quoted(&p), parse_quoted_as(L3::V6, &p));
        assert_eq!(parse_quoted_as(L3::V4, &p).map(|q| q.sport), Some(5));
        assert_eq!(parse_quoted(&[0x15; 40]), None);
        assert_eq!(parse_quoted(&[]), None);
    }
}
