use std::net::IpAddr;

use super::*;
use crate::intake::LinkType;
use crate::{Conntrack, CtState, Dir, Instant, Sysctl};

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 29, 0, 1, 0x40, 0, 64, 17, 0, 0, src[0], src[1], src[2], src[3], dst[0],
        dst[1], dst[2], dst[3],
    ];
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&[0, 9, 0, 0, 0x61]);
    fill_checksums(&mut p);
    p
}

fn fill_checksums(p: &mut [u8]) {
    use ctguard_wire::checksum;
    p[10] = 0;
    p[11] = 0;
    let c = checksum::sum(&p[..20]).checksum();
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[26] = 0;
    p[27] = 0;
    let src: [u8; 4] = p[12..16].try_into().unwrap();
    let dst: [u8; 4] = p[16..20].try_into().unwrap();
    let mut s = checksum::pseudo_header_v4(&src, &dst, 17, (p.len() - 20) as u32);
    s.add_bytes(&p[20..]);
    p[26..28].copy_from_slice(&s.checksum().to_be_bytes());
}

fn checksums_ok(p: &[u8]) -> bool {
    let mut q = p.to_vec();
    fill_checksums(&mut q);
    q == p
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: Instant = Instant::from_nanos(1_000_000_000);

#[test]
fn snat_rewrites_the_reply_tuple_and_both_directions() {
    let mut ct = Conntrack::new(Sysctl::default());
    let out = udp([10, 0, 0, 5], 5000, [192, 0, 2, 1], 53);
    let o = ct.conntrack_in(&crate::intake::parse_ip(&out).unwrap(), 0, None, true, T0);
    assert!(o.unconfirmed);
    assert!(!ct.nat_done(Manip::Src));
    ct.nat_setup(Manip::Src, &NatRange::to_addr(ip("203.0.113.7")), T0)
        .unwrap();
    assert!(ct.nat_done(Manip::Src));
    let id = ct.confirm(T0).unwrap();
    let c = ct.get(id).unwrap().clone();
    assert_eq!(c.reply().dst_ip(), ip("203.0.113.7"));
    assert_eq!(c.reply().dport, 5000, "a free port is kept");
    assert!(c.status.has(crate::Status::SRC_NAT));
    let line = ct.proc_lines(T0).remove(0);
    assert!(
        line.contains("src=192.0.2.1 dst=203.0.113.7 sport=53 dport=5000"),
        "{line}"
    );

    let mut p = out.clone();
    assert!(nat_packet(&c, Dir::Original, Manip::Src, &mut p));
    assert_eq!(&p[12..16], &[203, 0, 113, 7]);
    assert!(checksums_ok(&p), "checksums updated");
    assert!(
        !nat_packet(&c, Dir::Original, Manip::Dst, &mut p),
        "no DNAT"
    );

    let mut back = udp([192, 0, 2, 1], 53, [203, 0, 113, 7], 5000);
    let o = ct.conntrack_in(&crate::intake::parse_ip(&back).unwrap(), 0, None, true, T0);
    assert_eq!(o.ctstate, Some(CtState::Established));
    assert_eq!(o.dir, Some(Dir::Reply));
    assert!(nat_packet(&c, Dir::Reply, Manip::Dst, &mut back));
    assert_eq!(&back[16..20], &[10, 0, 0, 5]);
    assert!(checksums_ok(&back));
}

#[test]
fn clashing_source_port_is_remapped_into_the_unprivileged_range() {
    let mut ct = Conntrack::new(Sysctl::default());
    for (host, expect_same) in [(5u8, true), (6, false)] {
        let p = udp([10, 0, 0, host], 41000, [192, 0, 2, 1], 80);
        ct.conntrack_in(&crate::intake::parse_ip(&p).unwrap(), 0, None, true, T0);
        ct.nat_setup(Manip::Src, &NatRange::to_addr(ip("203.0.113.7")), T0)
            .unwrap();
        let id = ct.confirm(T0).unwrap();
        let port = ct.get(id).unwrap().reply().dport;
        assert_eq!(port == 41000, expect_same, "port {port}");
        assert!(port >= 1024);
    }
}

#[test]
fn privileged_ports_stay_privileged() {
    let mut ct = Conntrack::new(Sysctl::default());
    for (host, lo, hi) in [(5u8, 0, 0), (6, 600, 1023)] {
        let p = udp([10, 0, 0, host], 700, [192, 0, 2, 1], 80);
        ct.conntrack_in(&crate::intake::parse_ip(&p).unwrap(), 0, None, true, T0);
        ct.nat_setup(Manip::Src, &NatRange::to_addr(ip("203.0.113.7")), T0)
            .unwrap();
        let id = ct.confirm(T0).unwrap();
        let port = ct.get(id).unwrap().reply().dport;
        if lo == 0 {
            assert_eq!(port, 700);
        } else {
            assert!((lo..=hi).contains(&port), "{port}");
        }
    }
}

#[test]
fn dnat_with_port_and_null_binding() {
    let mut ct = Conntrack::new(Sysctl::default());
    let p = udp([10, 0, 0, 5], 5000, [198, 51, 100, 1], 8080);
    ct.conntrack_in(&crate::intake::parse_ip(&p).unwrap(), 0, None, true, T0);
    let range = NatRange {
        addrs: Some((ip("10.1.1.1"), ip("10.1.1.1"))),
        ports: Some((80, 80)),
        random: false,
        random_fully: false,
        persistent: false,
    };
    ct.nat_setup(Manip::Dst, &range, T0).unwrap();
    ct.nat_null_binding(Manip::Src, T0);
    assert!(ct.nat_done(Manip::Src) && ct.nat_done(Manip::Dst));
    let id = ct.confirm(T0).unwrap();
    let c = ct.get(id).unwrap();
    assert_eq!(c.reply().src_ip(), ip("10.1.1.1"));
    assert_eq!(c.reply().sport, 80);
    assert!(c.status.has(crate::Status::DST_NAT));
    assert!(
        !c.status.has(crate::Status::SRC_NAT),
        "a null binding is no NAT"
    );
    let mut q = p.clone();
    assert!(nat_packet(c, Dir::Original, Manip::Dst, &mut q));
    assert_eq!(&q[16..20], &[10, 1, 1, 1]);
    assert_eq!(u16::from_be_bytes([q[22], q[23]]), 80);
    assert!(checksums_ok(&q));
}

#[test]
fn address_range_choice_is_the_kernels_unkeyed_hash() {
    // Same source and destination always get the same address; different sources spread.
    let pick = |src: u8| {
        let mut ct = Conntrack::new(Sysctl::default());
        let p = udp([10, 0, 0, src], 5000, [192, 0, 2, 1], 53);
        ct.conntrack_in(&crate::intake::parse_ip(&p).unwrap(), 0, None, true, T0);
        let range = NatRange {
            addrs: Some((ip("203.0.113.1"), ip("203.0.113.8"))),
            ports: None,
            random: false,
            random_fully: false,
            persistent: false,
        };
        ct.nat_setup(Manip::Src, &range, T0).unwrap();
        let id = ct.confirm(T0).unwrap();
        ct.get(id).unwrap().reply().dst_ip()
    };
    assert_eq!(pick(5), pick(5));
    let picks: std::collections::HashSet<_> = (1..40).map(pick).collect();
    assert!(picks.len() > 4, "{picks:?}");
    for p in picks {
        let IpAddr::V4(v) = p else { panic!() };
        assert!((1..=8).contains(&v.octets()[3]));
    }
}

#[test]
fn process_is_unchanged_by_the_split() {
    let mut ct = Conntrack::new(Sysctl::default());
    let p = udp([10, 0, 0, 5], 5000, [192, 0, 2, 1], 53);
    let o = ct.process(LinkType::Raw, &p, T0);
    assert!(o.conn.is_some() && !o.unconfirmed);
    assert_eq!(ct.count(), 1);
    let o = ct.conntrack_in(
        &crate::intake::parse_ip(&udp([10, 0, 0, 6], 1, [192, 0, 2, 1], 53)).unwrap(),
        0,
        None,
        true,
        T0,
    );
    assert!(o.unconfirmed);
    ct.abandon();
    assert_eq!(ct.count(), 1, "an abandoned entry never joins the table");
}
