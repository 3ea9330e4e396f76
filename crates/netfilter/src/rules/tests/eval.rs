//! Each stateless match evaluated against packets, with and without `!`.

use ctguard_conntrack::{CtState, Dir, L3, Status, Tuple, addr_bytes};

use super::*;

#[test]
fn ip_header_part() {
    let p = TestPkt::tcp();
    assert!(hits("-s 10.0.0.0/8", &p));
    assert!(!hits("! -s 10.0.0.0/8", &p));
    assert!(hits("-d 10.0.0.2", &p));
    assert!(!hits("-d 10.0.0.3", &p));
    assert!(hits(
        "-s 10.0.2.0/255.0.255.0 -d 10.0.0.2",
        &TestPkt {
            src: "10.7.2.9".parse().unwrap(),
            ..TestPkt::tcp()
        }
    ));
    assert!(hits("-i eth0", &p));
    assert!(hits("-i eth+", &p));
    assert!(!hits("-i eth1", &p));
    assert!(hits("! -i lo", &p));
    assert!(!hits("! -i eth+", &p));
    assert!(hits("-p tcp", &p));
    assert!(hits("-p 6", &p));
    assert!(!hits("-p udp", &p));
    assert!(hits("! -p udp", &p));
    assert!(hits("-p all", &p));
    assert!(!hits("-f", &p));
    assert!(hits("! -f", &p));
    let mut frag = TestPkt::tcp();
    frag.later_fragment = true;
    assert!(hits("-f", &frag));
    // No output interface at INPUT: `-o` compares with the empty name (FORWARD chain here).
    let l = load4("*filter\n-A FORWARD -o eth1\n-A FORWARD ! -o eth1\nCOMMIT\n");
    let rules = l.v4.builtin_rules(TableName::Filter, Hook::Forward);
    let ctx = p.ctx();
    assert!(!rules[0].ip.matches(&ctx));
    assert!(rules[1].ip.matches(&ctx));
}

#[test]
fn tcp_ports_flags_and_options() {
    let p = TestPkt::tcp();
    assert!(hits("-p tcp --dport 80", &p));
    assert!(hits("-p tcp --dport 1:80", &p));
    assert!(!hits("-p tcp ! --dport 80", &p));
    assert!(hits("-p tcp --sport 1024:", &p));
    assert!(!hits("-p tcp --sport :1023", &p));
    // `! --sport :1023` is stored as `--sport 1024:65535`; same packets either way.
    assert!(hits("-p tcp ! --sport :1023", &p));
    assert!(hits("-p tcp --syn", &p));
    assert!(!hits("-p tcp ! --syn", &p));
    let mut ack = TestPkt::tcp();
    ack.l4.tcp_flags = Some(0x12); // SYN+ACK
    assert!(!hits("-p tcp --syn", &ack));
    assert!(hits("-p tcp --tcp-flags SYN,ACK SYN,ACK", &ack));
    assert!(hits("-p tcp --tcp-flags ALL SYN,ACK", &ack));
    assert!(!hits("-p tcp --tcp-flags ALL NONE", &ack));
    // A later fragment has no TCP header: no tcp match, even inverted.
    let mut frag = TestPkt::tcp();
    frag.later_fragment = true;
    assert!(!hits("-p tcp ! --dport 22", &frag));
    // --tcp-option reads the options from the header: MSS (2) present, SACK-permitted (4) not.
    let mut opt = TestPkt::tcp();
    opt.ip.truncate(40);
    opt.ip[32] = 6 << 4;
    opt.ip.extend_from_slice(&[2, 4, 0x05, 0xb4]);
    assert!(hits("-p tcp --tcp-option 2", &opt));
    assert!(!hits("-p tcp --tcp-option 4", &opt));
    assert!(hits("-p tcp ! --tcp-option 4", &opt));
}

#[test]
fn udp_ports() {
    let p = TestPkt::udp();
    assert!(hits("-p udp --dport 53", &p));
    assert!(hits("-p udp --sport 5353 --dport 53", &p));
    assert!(!hits("-p udp ! --dport 53", &p));
    assert!(hits("-p udp -m udp --dport domain", &p));
}

#[test]
fn icmp_types() {
    let ping = TestPkt::icmp(8, 0);
    assert!(hits("-p icmp --icmp-type echo-request", &ping));
    assert!(hits("-p icmp --icmp-type 8", &ping));
    assert!(hits("-p icmp --icmp-type 8/0", &ping));
    assert!(!hits("-p icmp --icmp-type 8/1", &ping));
    assert!(hits("-p icmp --icmp-type any", &ping));
    assert!(!hits("-p icmp ! --icmp-type echo-request", &ping));
    let unreach = TestPkt::icmp(3, 3);
    assert!(hits("-p icmp --icmp-type port-unreachable", &unreach));
    assert!(hits(
        "-p icmp --icmp-type destination-unreachable",
        &unreach
    ));
    assert!(!hits("-p icmp --icmp-type host-unreachable", &unreach));
    let v6 = TestPkt::v6_icmp(135, 0);
    assert!(hits("-p icmpv6 --icmpv6-type neighbour-solicitation", &v6));
    assert!(hits("-p ipv6-icmp -m icmp6 --icmpv6-type 135", &v6));
    assert!(!hits("-p icmpv6 ! --icmpv6-type 135", &v6));
    assert!(!hits("-p icmpv6 --icmpv6-type echo-request", &v6));
}

#[test]
fn multiport() {
    let p = TestPkt::tcp();
    assert!(hits("-p tcp -m multiport --dports 22,80,443", &p));
    assert!(hits("-p tcp -m multiport --dports 70:90", &p));
    assert!(!hits("-p tcp -m multiport --sports 80", &p));
    assert!(hits("-p tcp -m multiport --ports 80", &p));
    assert!(hits("-p tcp -m multiport --ports 40000", &p));
    assert!(!hits("-p tcp -m multiport ! --dports 80,443", &p));
    assert!(hits("-p tcp -m multiport ! --dports 22", &p));
}

fn ct(state: CtState) -> CtView {
    let orig = Tuple {
        src: addr_bytes("10.0.0.1".parse().unwrap()),
        dst: addr_bytes("10.0.0.2".parse().unwrap()),
        sport: 40000,
        dport: 80,
        proto: 6,
        l3: L3::V4,
    };
    let reply = Tuple {
        src: addr_bytes("192.168.1.5".parse().unwrap()),
        dst: addr_bytes("10.0.0.1".parse().unwrap()),
        sport: 8080,
        dport: 40000,
        proto: 6,
        l3: L3::V4,
    };
    CtView {
        state: Some(state),
        status: Status::CONFIRMED | Status::SEEN_REPLY | Status::DST_NAT,
        dir: Some(Dir::Original),
        original: Some(orig),
        reply: Some(reply),
        mark: 0x2a,
        expires_in: 300,
    }
}

#[test]
fn state_match() {
    let mut p = TestPkt::tcp();
    p.ct = ct(CtState::Established);
    assert!(hits("-m state --state RELATED,ESTABLISHED", &p));
    assert!(!hits("-m state --state NEW", &p));
    assert!(hits("-m state ! --state NEW", &p));
    p.ct = CtView {
        state: Some(CtState::Untracked),
        ..CtView::NONE
    };
    assert!(hits("-m state --state UNTRACKED", &p));
    assert!(!hits("-m state --state INVALID", &p));
    // No connection at all: INVALID, as the kernel's xt_state says.
    p.ct = CtView::NONE;
    assert!(hits("-m state --state INVALID", &p));
    assert!(!hits(
        "-m state --state NEW,ESTABLISHED,RELATED,UNTRACKED",
        &p
    ));
}

#[test]
fn conntrack_match() {
    let mut p = TestPkt::tcp();
    p.ct = ct(CtState::Established);
    assert!(hits("-m conntrack --ctstate ESTABLISHED", &p));
    assert!(hits("-m conntrack --ctstate DNAT", &p));
    assert!(!hits("-m conntrack --ctstate SNAT", &p));
    assert!(hits("-m conntrack ! --ctstate SNAT", &p));
    assert!(hits(
        "-m conntrack --ctproto tcp --ctorigsrc 10.0.0.0/8 --ctorigdst 10.0.0.2",
        &p
    ));
    assert!(!hits("-m conntrack ! --ctorigdst 10.0.0.2", &p));
    assert!(hits(
        "-m conntrack --ctreplsrc 192.168.1.5 --ctrepldst 10.0.0.1",
        &p
    ));
    assert!(hits(
        "-m conntrack --ctorigdstport 80 --ctreplsrcport 8000:9000",
        &p
    ));
    assert!(!hits("-m conntrack ! --ctreplsrcport 8080", &p));
    assert!(hits("-m conntrack --ctstatus ASSURED,SEEN_REPLY", &p));
    assert!(!hits("-m conntrack --ctstatus ASSURED", &p));
    assert!(!hits("-m conntrack --ctstatus NONE", &p));
    assert!(hits("-m conntrack --ctexpire 100:300", &p));
    assert!(!hits("-m conntrack --ctexpire 301:400", &p));
    assert!(hits("-m conntrack --ctdir ORIGINAL", &p));
    assert!(!hits("-m conntrack --ctdir REPLY", &p));
    // Without a connection only --ctstate can match (the kernel returns the state test alone).
    p.ct = CtView::NONE;
    assert!(hits("-m conntrack --ctstate INVALID", &p));
    assert!(hits("-m conntrack --ctstate INVALID --ctproto tcp", &p));
    assert!(!hits("-m conntrack --ctproto tcp", &p));
    assert!(!hits("-m conntrack ! --ctproto udp", &p));
}

#[test]
fn mark_and_connmark() {
    let mut p = TestPkt::tcp();
    p.mark = 0x15;
    assert!(hits("-m mark --mark 0x15", &p));
    assert!(hits("-m mark --mark 0x5/0xf", &p));
    assert!(!hits("-m mark --mark 0x1", &p));
    assert!(hits("-m mark ! --mark 0x1", &p));
    p.ct = ct(CtState::New);
    assert!(hits("-m connmark --mark 42", &p));
    assert!(!hits("-m connmark ! --mark 42", &p));
    assert!(hits("-m connmark --mark 0xa/0xf", &p));
    // No connection: no match, inverted or not.
    p.ct = CtView::NONE;
    assert!(!hits("-m connmark --mark 0", &p));
    assert!(!hits("-m connmark ! --mark 42", &p));
}

#[test]
fn comment_iprange_length_ttl_hl() {
    let p = TestPkt::tcp();
    assert!(hits("-m comment --comment \"always\"", &p));
    assert!(hits("-m iprange --src-range 10.0.0.0-10.0.0.9", &p));
    assert!(!hits("-m iprange --src-range 10.0.0.2-10.0.0.9", &p));
    assert!(hits("-m iprange ! --dst-range 10.0.0.3-10.0.0.9", &p));
    assert!(!hits(
        "-m iprange --src-range 10.0.0.1 --dst-range 10.0.0.3",
        &p
    ));
    assert!(hits("-m length --length 60", &p));
    assert!(hits("-m length --length :100", &p));
    assert!(!hits("-m length --length 61:", &p));
    assert!(hits("-m length ! --length 61:", &p));
    assert!(hits("-m ttl --ttl-eq 64", &p));
    assert!(!hits("-m ttl ! --ttl-eq 64", &p));
    assert!(hits("-m ttl --ttl-gt 63", &p));
    assert!(!hits("-m ttl --ttl-lt 64", &p));
    let mut v6 = TestPkt::v6_icmp(128, 0);
    v6.ttl = 255;
    assert!(hits("-m hl --hl-eq 255", &v6));
    assert!(hits("-m hl ! --hl-eq 1", &v6));
    assert!(!hits("-m hl --hl-lt 255", &v6));
}

#[test]
fn addrtype() {
    let mut p = TestPkt::tcp();
    p.addresses.local.push("10.0.0.2".parse().unwrap());
    p.addresses.broadcast.push("10.0.0.255".parse().unwrap());
    assert!(hits("-m addrtype --dst-type LOCAL", &p));
    assert!(hits("-m addrtype --src-type UNICAST", &p));
    assert!(!hits("-m addrtype --dst-type UNICAST", &p));
    assert!(hits(
        "-m addrtype ! --src-type LOCAL,BROADCAST,MULTICAST",
        &p
    ));
    p.dst = "10.0.0.255".parse().unwrap();
    assert!(hits("-m addrtype --dst-type BROADCAST", &p));
    p.dst = "255.255.255.255".parse().unwrap();
    assert!(hits("-m addrtype --dst-type BROADCAST", &p));
    p.dst = "224.0.0.1".parse().unwrap();
    assert!(hits("-m addrtype --dst-type MULTICAST", &p));
    let mut v6 = TestPkt::v6_icmp(128, 0);
    v6.addresses.local.push("2001:db8::2".parse().unwrap());
    assert!(hits("-m addrtype --dst-type LOCAL", &v6));
    // IPv6: every listed type must hold; a local address is also unicast.
    assert!(hits("-m addrtype --dst-type UNICAST,LOCAL", &v6));
    assert!(!hits("-m addrtype --src-type LOCAL", &v6));
    v6.dst = "ff02::1".parse().unwrap();
    assert!(hits("-m addrtype --dst-type MULTICAST", &v6));
    assert!(!hits("-m addrtype --dst-type UNICAST", &v6));
}

#[test]
fn every_match_and_the_ip_part_must_hold() {
    let p = TestPkt::tcp();
    assert!(hits(
        "-s 10.0.0.1 -p tcp --dport 80 -m length --length 60",
        &p
    ));
    assert!(!hits(
        "-s 10.0.0.1 -p tcp --dport 80 -m length --length 61",
        &p
    ));
    assert!(!hits(
        "-s 10.0.0.9 -p tcp --dport 80 -m length --length 60",
        &p
    ));
}
