//! A stream of arbitrary packets through the whole pipeline (rules, tracker, NAT, REJECT, LOG)
//! under a fixed rule set that uses most targets and matches, with the clock moving in jumps.
//! Nothing may panic; the table never holds more than nf_conntrack_max entries; every packet
//! the host transmits is an IP datagram that parses.

#![no_main]

use std::net::IpAddr;
use std::sync::OnceLock;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_netfilter::pipeline::{Host, Output, Pipeline};
use ctguard_netfilter::rules::{self, RuleSet};
use ctguard_netfilter::Family;
use libfuzzer_sys::fuzz_target;

const MAX: u32 = 8;

const RULES4: &str = r#"*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK
-A PREROUTING -i lo -j NOTRACK
-A PREROUTING -p udp -m udp --dport 54 -j CT --notrack
-A PREROUTING -i eth1 -p tcp -m tcp --dport 2000:2100 -j CT --zone 5
-A PREROUTING -i eth0 -p udp -m udp --dport 5000 -j CT --zone 7
-A OUTPUT -p udp -m udp --sport 53 -j NOTRACK
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
-A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x1/0xffffffff
-A PREROUTING -i eth1 -j MARK --set-xmark 0x10/0x10
-A PREROUTING -m mark --mark 0x1/0xf -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff
-A PREROUTING -m connmark --mark 0x2 -j CONNMARK --set-xmark 0x5/0xf
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A POSTROUTING -o eth1 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200
-A OUTPUT -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 536
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.1.1/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.2.10:8080
-A PREROUTING -p tcp -m tcp --dport 81 -j REDIRECT --to-ports 8081
-A PREROUTING -p udp -m udp --dport 82 -j DNAT --to-destination 10.0.2.10-10.0.2.12:1000-1002 --random --persistent
-A PREROUTING -p icmp -d 10.0.1.1/32 -j DNAT --to-destination 10.0.2.20
-A OUTPUT -p tcp -m tcp --dport 83 -j DNAT --to-destination 10.0.2.10:80
-A POSTROUTING -s 10.0.1.0/24 -o eth1 -p tcp -j MASQUERADE
-A POSTROUTING -s 10.0.1.0/24 -o eth1 -p udp -j MASQUERADE --to-ports 1000-1001 --random-fully
-A POSTROUTING -o eth1 -j SNAT --to-source 10.0.2.1-10.0.2.2
-A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 10.0.1.1:2000-2001
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
:CHECKS - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j LOGDROP
-A INPUT -i lo -j ACCEPT
-A INPUT -j CHECKS
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -m recent --set --name ssh --mask 255.255.255.255 --rsource
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -m recent --update --seconds 60 --hitcount 3 --name ssh --mask 255.255.255.255 --rsource -j LOGDROP
-A INPUT -p tcp -m tcp --dport 22 -m connlimit --connlimit-above 2 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with tcp-reset
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 3/sec --limit-burst 2 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p udp -m udp --dport 7 -m hashlimit --hashlimit-upto 2/sec --hashlimit-burst 2 --hashlimit-mode srcip,dstport --hashlimit-name echo --hashlimit-htable-max 4 --hashlimit-htable-expire 1000 -j ACCEPT
-A INPUT -p udp -m udp --dport 8 -m hashlimit --hashlimit-above 1/sec --hashlimit-burst 1 --hashlimit-name over -j DROP
-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -m tcp --dport 9 -j REJECT --reject-with icmp-host-unreachable
-A INPUT -p tcp -m tcp --dport 10 -j REJECT --reject-with icmp-net-prohibited
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -m recent --rcheck --seconds 10 --reap --name ssh --mask 255.255.255.0 --rsource -j LOG --log-prefix "seen: " --log-level 5 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode
-A INPUT -j REJECT --reject-with icmp-proto-unreachable
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT --ctorigdst 10.0.1.1 -j ACCEPT
-A FORWARD -m conntrack --ctstate NEW --ctstatus NONE --ctdir ORIGINAL --ctorigsrc 10.0.1.0/24 -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID,UNTRACKED -j LOG --log-prefix "fwd bad: "
-A FORWARD -i eth1 -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -i eth1 -j REJECT --reject-with icmp-net-unreachable
-A OUTPUT -o eth1 -p udp -m udp --dport 9 -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -m conntrack --ctstate INVALID -g LOGDROP
-A CHECKS -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j LOGDROP
-A CHECKS -p tcp -m tcp --tcp-flags SYN,FIN SYN,FIN -j LOGDROP
-A CHECKS -m length --length 0:20 -j LOGDROP
-A CHECKS -m ttl --ttl-lt 2 -j LOG --log-prefix "ttl "
-A CHECKS -f -j LOGDROP
-A CHECKS -m addrtype --dst-type BROADCAST,MULTICAST -j DROP
-A CHECKS -j RETURN
-A LOGDROP -m limit --limit 10/sec -j LOG --log-prefix "drop: " --log-level 4
-A LOGDROP -j DROP
COMMIT
"#;

const RULES6: &str = r#"*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK
-A PREROUTING -i eth1 -p tcp -j CT --zone 5
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
-A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x1/0xffffffff
-A PREROUTING -m mark --mark 0x1 -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A POSTROUTING -o eth1 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1220
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d fd00:1::1/128 -p tcp -m tcp --dport 80 -j DNAT --to-destination [fd00:2::10]:8080
-A PREROUTING -p tcp -m tcp --dport 81 -j REDIRECT --to-ports 8081
-A POSTROUTING -s fd00:1::/64 -o eth1 -j MASQUERADE
-A POSTROUTING -o eth0 -p udp -j SNAT --to-source [fd00:1::1]:3000-3001
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j LOGDROP
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 2/sec -j ACCEPT
-A INPUT -p ipv6-icmp -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m connlimit --connlimit-above 1 --connlimit-mask 128 --connlimit-saddr -j REJECT --reject-with tcp-reset
-A INPUT -p tcp -m tcp --dport 22 -m recent --set --name ssh6 --rsource -j ACCEPT
-A INPUT -p udp -m udp --dport 7 -m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcip --hashlimit-name echo6 -j ACCEPT
-A INPUT -p udp -j REJECT --reject-with icmp6-port-unreachable
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
-A FORWARD -i eth0 -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -j LOG --log-prefix "fwd6: " --log-tcp-options --log-ip-options --log-macdecode
-A FORWARD -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -j REJECT --reject-with icmp6-addr-unreachable
-A OUTPUT -m conntrack --ctstate INVALID -j LOGDROP
-A LOGDROP -j LOG --log-prefix "drop6: "
-A LOGDROP -j DROP
COMMIT
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn host() -> Host {
    let mut h = Host::new();
    h.add_iface("eth0", &[(ip("10.0.1.1"), 24), (ip("fd00:1::1"), 64)]);
    h.add_iface("eth1", &[(ip("10.0.2.1"), 24), (ip("fd00:2::1"), 64)]);
    h.add_route(ip("10.98.0.0"), 16, "eth0");
    h.add_route(ip("fd00:98::"), 32, "eth0");
    h.add_route(ip("0.0.0.0"), 0, "eth1");
    h.add_route(ip("::"), 0, "eth1");
    h
}

fn load(text: &str, file: &str, family: Family) -> RuleSet {
    let loaded = rules::load_save(text, file, family).unwrap_or_else(|e| panic!("{file}: {e}"));
    match family {
        Family::V4 => loaded.v4,
        Family::V6 => loaded.v6,
    }
}

fn rule_sets() -> &'static (RuleSet, RuleSet, Host) {
    static SETS: OnceLock<(RuleSet, RuleSet, Host)> = OnceLock::new();
    SETS.get_or_init(|| {
        (
            load(RULES4, "fuzz.rules", Family::V4),
            load(RULES6, "fuzz.rules6", Family::V6),
            host(),
        )
    })
}

/// Where each packet goes: receive on an interface with a link type, or a local send.
enum Way {
    Receive(&'static str, LinkType),
    Send,
}

const WAYS: [Way; 7] = [
    Way::Receive("eth0", LinkType::Raw),
    Way::Receive("eth1", LinkType::Raw),
    Way::Receive("eth0", LinkType::Ethernet),
    Way::Receive("eth1", LinkType::Ethernet),
    Way::Receive("lo", LinkType::Raw),
    Way::Send,
    Way::Send,
];

fn drain(p: &mut Pipeline) {
    while let Some(out) = p.poll_output() {
        match out {
            Output::Transmit { iface, packet } => {
                assert!(!iface.is_empty(), "transmit with no interface");
                if let Err(e) = intake::parse_ip(&packet) {
                    panic!("transmitted packet on {iface} does not parse ({e:?}): {packet:02x?}");
                }
            }
            Output::Log { line, .. } => {
                assert!(!line.is_empty(), "empty log line");
            }
            Output::Table(_) => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else { return };
    let (r4, r6, h) = rule_sets();
    let mut sysctl = Sysctl { max: MAX, buckets: 512, ..Sysctl::default() };
    sysctl.checksum = setup & 1 != 0;
    sysctl.tcp_loose = setup & 2 == 0;
    sysctl.tcp_be_liberal = setup & 4 != 0;
    sysctl.acct = setup & 8 != 0;
    sysctl.log_invalid = if setup & 16 != 0 { 255 } else { 0 };
    let mut p = Pipeline::new(sysctl, r4.clone(), r6.clone(), h.clone());
    let mut now = 0u64;
    // Each packet: [length (2 bytes), clock step, selector] then the bytes.
    while let [hi, lo, step, sel, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (packet, after) = tail.split_at(n);
        rest = after;
        now += u64::from(*step) * 250_000_000;
        let at = Instant::from_nanos(now);
        let d = match &WAYS[usize::from(*sel) % WAYS.len()] {
            Way::Receive(iface, link) => p.receive(iface, *link, packet, at),
            Way::Send => p.send(packet, at),
        };
        if let Some(id) = d.conn {
            assert!(p.conntrack().unwrap().get(id).is_some(), "decision names a dead entry");
        }
        let count = p.conntrack().unwrap().count();
        assert!(count <= MAX, "conntrack count {count} over nf_conntrack_max {MAX}");
        drain(&mut p);
    }
    let ct = p.conntrack_mut().unwrap();
    let lines = ct.proc_lines(Instant::from_nanos(now));
    assert_eq!(lines.len(), ct.count() as usize, "an entry fell out of its hash chain");
    // The counters the rules collected still save.
    let _ = rules::save(p.rules(Family::V4));
    let _ = rules::save(p.rules(Family::V6));
});
