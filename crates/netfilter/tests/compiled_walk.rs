//! The compiled chain walk against the plain one: for random rule sets (the tests the index
//! files rules by, and matches with state and side effects around them: limit, hashlimit,
//! recent, LOG, MARK, user chains with jumps, gotos and RETURN) and random packets, both
//! give the same decisions, the same output (transmitted packets, log lines) and the same
//! `iptables-save -c` counters.
//!
//! Packets are scenario lines (conformance/README.md) on the recorder's router: `c …`
//! arrives on rtr-c, `s …` on rtr-s, `r …` is sent by the host.

use std::fmt::Write as _;
use std::net::IpAddr;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_netfilter::pipeline::{Decision, Host, Output, Pipeline};
use ctguard_netfilter::{Family, rules};
use ctguard_scenario::{Scenario, Side};
use proptest::prelude::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// The recorder's router (conformance/topology.sh).
fn router() -> Host {
    let mut h = Host::new();
    h.add_iface("rtr-c", &[(ip("10.99.1.1"), 24), (ip("fd00:99:1::1"), 64)]);
    h.add_iface("rtr-s", &[(ip("10.99.2.1"), 24), (ip("fd00:99:2::1"), 64)]);
    h.add_route(ip("10.98.0.0"), 16, "rtr-c");
    h.add_route(ip("10.97.0.0"), 16, "rtr-s");
    h
}

/// Addresses packets use, IPv4 then IPv6 (the local ones last).
const HOSTS4: [&str; 6] = [
    "10.99.1.100",
    "10.99.1.101",
    "10.98.0.5",
    "10.99.2.100",
    "10.99.1.1",
    "10.99.2.1",
];
const HOSTS6: [&str; 4] = [
    "fd00:99:1::100",
    "fd00:99:2::100",
    "fd00:99:1::1",
    "fd00:99:2::1",
];
/// What rules name: hosts, networks around them, and addresses no packet has.
const NETS4: [&str; 9] = [
    "10.99.1.100",
    "10.99.1.101/32",
    "10.98.0.5",
    "10.99.2.100",
    "10.99.1.1",
    "10.99.1.0/24",
    "10.99.0.0/16",
    "10.98.0.0/16",
    "192.0.2.1",
];
const NETS6: [&str; 5] = [
    "fd00:99:1::100",
    "fd00:99:2::100/128",
    "fd00:99:1::/64",
    "fd00:99::/32",
    "2001:db8::1",
];
const PORTS: [u16; 5] = [22, 53, 80, 443, 5000];

/// One rule's parts, drawn independently; `render` makes an iptables command of them.
#[derive(Clone, Debug)]
struct RuleDraw {
    src: Option<(usize, bool)>,
    dst: Option<(usize, bool)>,
    iface: Option<(usize, bool)>,
    /// 0 tcp, 1 udp, 2 icmp, 3 ! tcp.
    proto: Option<u8>,
    /// (port index or a range, inverted, source port instead).
    port: Option<(usize, bool, bool)>,
    /// Extra matches (index into EXTRAS), and where the port match goes among them.
    extras: Vec<usize>,
    port_at: usize,
    target: usize,
}

const EXTRAS: [&str; 8] = [
    "-m state --state NEW",
    "-m state --state RELATED,ESTABLISHED",
    "-m limit --limit 3/s --limit-burst 2",
    "-m recent --name seen --set",
    "-m recent --name seen --rcheck --seconds 1",
    "-m mark --mark 0x1",
    "-m comment --comment \"x y\"",
    "-m hashlimit --hashlimit-upto 2/s --hashlimit-burst 1 --hashlimit-mode srcip \
     --hashlimit-name hl --hashlimit-htable-max 2",
];

fn rule_draw() -> impl Strategy<Value = RuleDraw> {
    (
        (
            prop::option::weighted(0.6, (0..9usize, prop::bool::weighted(0.1))),
            prop::option::weighted(0.3, (0..9usize, prop::bool::weighted(0.1))),
            prop::option::weighted(0.3, (0..5usize, prop::bool::weighted(0.1))),
            prop::option::weighted(0.6, 0..4u8),
            prop::option::weighted(
                0.6,
                (
                    0..6usize,
                    prop::bool::weighted(0.1),
                    prop::bool::weighted(0.1),
                ),
            ),
        ),
        prop::collection::vec(0..EXTRAS.len(), 0..3),
        0..3usize,
        0..10usize,
    )
        .prop_map(
            |((src, dst, iface, proto, port), extras, port_at, target)| RuleDraw {
                src,
                dst,
                iface,
                proto,
                port,
                extras,
                port_at,
                target,
            },
        )
}

/// Which chain a rule set's rule goes in, and what it may use there.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Place {
    Input,
    Forward,
    Output,
    /// A user chain: reached from several hooks, so no interface tests.
    User(u8),
}

impl RuleDraw {
    fn render(&self, v6: bool, place: Place, n: usize) -> String {
        let nets: &[&str] = if v6 { &NETS6 } else { &NETS4 };
        let mut s = String::new();
        let bang = |s: &mut String, inv: bool| {
            if inv {
                s.push_str(" !");
            }
        };
        if let Some((i, inv)) = self.src {
            bang(&mut s, inv);
            write!(s, " -s {}", nets[i % nets.len()]).unwrap();
        }
        if let Some((i, inv)) = self.dst {
            bang(&mut s, inv);
            write!(s, " -d {}", nets[i % nets.len()]).unwrap();
        }
        let flag = match place {
            Place::Input => Some("-i"),
            Place::Output => Some("-o"),
            Place::Forward if self.iface.is_some_and(|(i, _)| i % 2 == 0) => Some("-i"),
            Place::Forward => Some("-o"),
            Place::User(_) => None,
        };
        if let (Some((i, inv)), Some(flag)) = (self.iface, flag) {
            bang(&mut s, inv);
            let name = ["rtr-c", "rtr-s", "lo", "rtr+", "eth0"][i];
            write!(s, " {flag} {name}").unwrap();
        }
        let proto = match self.proto {
            Some(0) => Some("tcp"),
            Some(1) => Some("udp"),
            Some(2) => Some(if v6 { "ipv6-icmp" } else { "icmp" }),
            Some(_) => {
                s.push_str(" ! -p tcp");
                None
            }
            None => None,
        };
        if let Some(p) = proto {
            write!(s, " -p {p}").unwrap();
        }
        let port = match (proto, self.port) {
            (Some(p @ ("tcp" | "udp")), Some((i, inv, sport))) => {
                let value = match PORTS.get(i) {
                    Some(port) => port.to_string(),
                    None => "1000:6000".to_string(),
                };
                let mut m = format!(" -m {p}");
                bang(&mut m, inv);
                let dir = if sport { "--sport" } else { "--dport" };
                write!(m, " {dir} {value}").unwrap();
                Some(m)
            }
            _ => None,
        };
        let mut at = self.port_at.min(self.extras.len());
        for (k, e) in self.extras.iter().enumerate() {
            if k == at
                && let Some(m) = &port
            {
                s.push_str(m);
                at = usize::MAX;
            }
            write!(s, " {}", EXTRAS[*e]).unwrap();
        }
        if at != usize::MAX
            && let Some(m) = &port
        {
            s.push_str(m);
        }
        let target = match (self.target, place) {
            (0, _) => " -j ACCEPT".to_string(),
            (1, _) => " -j DROP".to_string(),
            (2, _) => " -j REJECT".to_string(),
            (3, _) => format!(" -j LOG --log-prefix \"r{n} \""),
            (4, _) => " -j RETURN".to_string(),
            (5, Place::User(1)) => String::new(),
            (5, Place::User(0)) => " -j U1".to_string(),
            (5, _) => " -j U0".to_string(),
            (6, Place::User(_)) => String::new(),
            (6, _) => " -g U1".to_string(),
            (7, Place::User(1)) => " -j ACCEPT".to_string(),
            (7, _) => " -j U1".to_string(),
            _ => String::new(),
        };
        s.push_str(&target);
        s
    }
}

#[derive(Clone, Debug)]
struct RulesDraw {
    chains: [Vec<RuleDraw>; 5],
    /// Rules in raw, mangle and nat: (kind, network), see `EDGE`.
    edge: Vec<(usize, usize)>,
    policies: [bool; 3],
}

/// Rules of the other tables, which the compiled walk serves too (`-m mark` in filter reads
/// the MARK set here).
const EDGE: [&str; 7] = [
    "-t mangle -A PREROUTING -s NET -j MARK --set-mark 0x1",
    "-t mangle -A PREROUTING -p udp --dport 53 -j MARK --set-mark 0x1",
    "-t raw -A PREROUTING -s NET -j NOTRACK",
    "-t raw -A OUTPUT -d NET -p udp --dport 53 -j NOTRACK",
    "-t nat -A POSTROUTING -s NET -o rtr-s -j MASQUERADE",
    "-t nat -A PREROUTING -d NET -p tcp --dport 80 -j DNAT --to-destination TO",
    "-t nat -A POSTROUTING -d NET -j SNAT --to-source FROM",
];

fn rules_draw(max: usize) -> impl Strategy<Value = RulesDraw> {
    (
        [
            prop::collection::vec(rule_draw(), 0..max),
            prop::collection::vec(rule_draw(), 0..max / 2 + 1),
            prop::collection::vec(rule_draw(), 0..max / 2 + 1),
            prop::collection::vec(rule_draw(), 0..max / 2 + 1),
            prop::collection::vec(rule_draw(), 0..max / 2 + 1),
        ],
        prop::collection::vec((0..EDGE.len(), 0..9usize), 0..8),
        [any::<bool>(), any::<bool>(), any::<bool>()],
    )
        .prop_map(|(chains, edge, policies)| RulesDraw {
            chains,
            edge,
            policies,
        })
}

impl RulesDraw {
    fn script(&self) -> String {
        let mut out = String::new();
        for (cmd, v6) in [("iptables", false), ("ip6tables", true)] {
            writeln!(out, "{cmd} -N U0").unwrap();
            writeln!(out, "{cmd} -N U1").unwrap();
            let places = [
                ("INPUT", Place::Input),
                ("FORWARD", Place::Forward),
                ("OUTPUT", Place::Output),
                ("U0", Place::User(0)),
                ("U1", Place::User(1)),
            ];
            for (i, (name, place)) in places.into_iter().enumerate() {
                for (n, r) in self.chains[i].iter().enumerate() {
                    writeln!(out, "{cmd} -A {name}{}", r.render(v6, place, n)).unwrap();
                }
                if i < 3 && self.policies[i] {
                    writeln!(out, "{cmd} -P {name} DROP").unwrap();
                }
            }
            let nets: &[&str] = if v6 { &NETS6 } else { &NETS4 };
            let (to, from) = if v6 {
                ("fd00:99:2::100", "fd00:99:2::1")
            } else {
                ("10.99.2.100", "10.99.2.1")
            };
            for &(kind, net) in &self.edge {
                let rule = EDGE[kind]
                    .replace("NET", nets[net % nets.len()])
                    .replace("TO", to)
                    .replace("FROM", from);
                writeln!(out, "{cmd} {rule}").unwrap();
            }
        }
        out
    }
}

/// One packet: side, protocol, addresses, ports, flags, and the time since the last one.
#[derive(Clone, Debug)]
struct PacketDraw {
    side: u8,
    v6: bool,
    proto: u8,
    src: usize,
    dst: usize,
    sport: usize,
    dport: usize,
    flags: u8,
    gap_ms: u32,
}

fn packet_draw() -> impl Strategy<Value = PacketDraw> {
    (
        0..3u8,
        prop::bool::weighted(0.2),
        0..3u8,
        0..6usize,
        0..6usize,
        0..6usize,
        0..6usize,
        0..3u8,
        prop_oneof![0..50u32, 0..3000u32],
    )
        .prop_map(
            |(side, v6, proto, src, dst, sport, dport, flags, gap_ms)| PacketDraw {
                side,
                v6,
                proto,
                src,
                dst,
                sport,
                dport,
                flags,
                gap_ms,
            },
        )
}

impl PacketDraw {
    fn line(&self) -> String {
        let side = ["c", "s", "r"][usize::from(self.side)];
        let (remote, local): (&[&str], &[&str]) = if self.v6 {
            (&HOSTS6[..2], &HOSTS6[2..])
        } else {
            (&HOSTS4[..4], &HOSTS4[4..])
        };
        let all: Vec<&str> = remote.iter().chain(local).copied().collect();
        // The host sends from its own addresses; the others come from outside.
        let src = if side == "r" {
            local[self.src % local.len()]
        } else {
            remote[self.src % remote.len()]
        };
        let dst = all[self.dst % all.len()];
        let port = |i: usize| PORTS.get(i).copied().unwrap_or(40000);
        let addr = |a: &str, p: u16| {
            if self.v6 {
                format!("[{a}]:{p}")
            } else {
                format!("{a}:{p}")
            }
        };
        match self.proto {
            0 => format!(
                "{side} tcp {} > {} {} seq=1000 ack=1 win=1000",
                addr(src, port(self.sport)),
                addr(dst, port(self.dport)),
                ["S", "A", "SA"][usize::from(self.flags)]
            ),
            1 => format!(
                "{side} udp {} > {} len=20",
                addr(src, port(self.sport)),
                addr(dst, port(self.dport))
            ),
            _ => format!(
                "{side} {} {src} > {dst} echo-request id=7",
                if self.v6 { "icmp6" } else { "icmp" }
            ),
        }
    }
}

/// One pipeline's story: each packet's decision and output, then the counters.
fn run(script: &str, packets: &[PacketDraw], compiled: bool) -> (Vec<String>, String) {
    let loaded = rules::load_script(script, "rules.sh").unwrap_or_else(|e| panic!("{e}"));
    let mut p = Pipeline::new(Sysctl::default(), loaded.v4, loaded.v6, router());
    p.set_compiled_walk(compiled);
    let mut t = 1.0;
    let mut story = Vec::new();
    for d in packets {
        t += f64::from(d.gap_ms) / 1000.0;
        let now = Instant::from_secs_f64(t);
        let scn = Scenario::parse("compiled_walk", &d.line()).expect("packet line");
        for pk in &scn.packets {
            let decision: Decision = match pk.side {
                Side::Router => p.send(pk.ip_packet(), now),
                side => p.receive(side.router_interface(), LinkType::Ethernet, &pk.frame, now),
            };
            story.push(format!("{} => {decision:?}", d.line()));
            while let Some(o) = p.poll_output() {
                match o {
                    Output::Transmit { iface, packet } => {
                        story.push(format!("  transmit {iface} {packet:02x?}"));
                    }
                    Output::Log { line, at } => story.push(format!("  log {at:?} {line}")),
                    Output::Table(e) => story.push(format!("  table {e:?}")),
                }
            }
        }
    }
    let counters = rules::save(p.rules(Family::V4)) + &rules::save(p.rules(Family::V6));
    (story, counters)
}

fn same(rules: &RulesDraw, packets: &[PacketDraw]) -> Result<(), TestCaseError> {
    let script = rules.script();
    let Ok(_) = rules::load_script(&script, "rules.sh") else {
        // A combination iptables refuses (e.g. a goto where the kernel forbids it).
        return Err(TestCaseError::reject("rule set refused"));
    };
    let (linear, linear_counters) = run(&script, packets, false);
    let (compiled, compiled_counters) = run(&script, packets, true);
    for (i, (a, b)) in linear.iter().zip(&compiled).enumerate() {
        prop_assert_eq!(a, b, "line {} of the story differs; rules:\n{}", i, script);
    }
    prop_assert_eq!(linear.len(), compiled.len());
    prop_assert_eq!(linear_counters, compiled_counters, "rules:\n{}", script);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_global_rejects: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_compiled_walk_decides_and_counts_as_the_linear_walk(
        rules in rules_draw(24),
        packets in prop::collection::vec(packet_draw(), 1..40),
    ) {
        same(&rules, &packets)?;
    }
}

/// Rule sets long enough that most rules are filed (blocklists of sources and ports), with
/// the seed's rules at the end.
#[test]
fn a_long_blocklist_in_front_of_the_seed_rules_decides_as_the_linear_walk() {
    let mut script = String::from("iptables -N U0\niptables -N U1\nip6tables -N U0\n");
    script.push_str("ip6tables -N U1\n");
    for i in 0..300u32 {
        let a = [10, 99, 1, (i % 250) as u8 + 2];
        match i % 5 {
            0..=2 => writeln!(
                script,
                "iptables -A INPUT -s 10.50.{}.{} -j DROP",
                i / 250,
                i % 250
            ),
            3 => writeln!(
                script,
                "iptables -A INPUT -p tcp --dport {} -s 10.{}.0.0/24 -j DROP",
                1000 + i,
                i % 200
            ),
            _ => writeln!(
                script,
                "iptables -A INPUT -i rtr-s -s {}.{}.{}.{} -j LOG",
                a[0], a[1], a[2], a[3]
            ),
        }
        .unwrap();
    }
    script.push_str(
        "iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n\
         iptables -A INPUT -p icmp -j ACCEPT\n\
         iptables -A INPUT -i lo -j ACCEPT\n\
         iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n\
         iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 80 -j ACCEPT\n\
         iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited\n\
         iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited\n",
    );
    let mut packets = Vec::new();
    for i in 0..200u32 {
        packets.push(PacketDraw {
            side: (i % 3) as u8,
            v6: false,
            proto: (i % 3) as u8,
            src: (i / 3) as usize,
            dst: (i / 7) as usize,
            sport: (i / 2) as usize,
            dport: (i / 5) as usize,
            flags: (i % 2) as u8,
            gap_ms: 10,
        });
    }
    let (linear, lc) = run(&script, &packets, false);
    let (compiled, cc) = run(&script, &packets, true);
    assert_eq!(linear, compiled);
    assert_eq!(lc, cc);
    // The packets did reach the seed's rules (the blocklist matched none of them).
    assert!(lc.contains("-m state --state RELATED,ESTABLISHED -j ACCEPT"));
    assert!(linear.iter().any(|l| l.contains("Accept")));
}
