//! Tests of the parsers, checks, evaluation and writer.

mod errors;
mod eval;
mod fixtures;
mod fuzz;
mod script;
mod seed;
mod stateful;
mod targets;

use std::net::IpAddr;

use ctguard_conntrack::{Instant, Tuple};

use crate::hook::{Family, Hook, TableName};
use crate::packet::{Addresses, ConnQuery, CtView, L4Fields, PacketCtx};
use crate::rules::{Loaded, Rule, RuleErrors, load_save, load_script};

/// A connection table for connlimit tests: the original tuples of live connections.
pub(super) struct Conns(pub Vec<Tuple>);

impl ConnQuery for Conns {
    fn count_live(&self, f: &dyn Fn(&Tuple) -> bool) -> u32 {
        self.0.iter().filter(|t| f(t)).count() as u32
    }
}

/// The owned parts of a test packet; [`TestPkt::ctx`] lends them out as a [`PacketCtx`].
pub(super) struct TestPkt {
    pub family: Family,
    pub ip: Vec<u8>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub later_fragment: bool,
    pub l4: L4Fields,
    pub len: u32,
    pub ttl: u8,
    pub in_iface: Option<String>,
    pub out_iface: Option<String>,
    pub hook: Hook,
    pub mark: u32,
    pub ct: CtView,
    pub now: Instant,
    pub addresses: Addresses,
    pub conns: Conns,
}

impl TestPkt {
    /// A TCP SYN 10.0.0.1:40000 -> 10.0.0.2:80 arriving on eth0 at INPUT.
    pub fn tcp() -> TestPkt {
        let mut ip = vec![0u8; 40];
        ip[0] = 0x45;
        ip[9] = 6;
        ip[32] = 5 << 4; // TCP data offset: 20 bytes
        TestPkt {
            family: Family::V4,
            ip,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 6,
            later_fragment: false,
            l4: L4Fields {
                sport: Some(40000),
                dport: Some(80),
                tcp_flags: Some(0x02),
                icmp: None,
            },
            len: 60,
            ttl: 64,
            in_iface: Some("eth0".into()),
            out_iface: None,
            hook: Hook::Input,
            mark: 0,
            ct: CtView::NONE,
            now: Instant::from_secs_f64(1000.0),
            addresses: Addresses::default(),
            conns: Conns(Vec::new()),
        }
    }

    pub fn udp() -> TestPkt {
        let mut p = TestPkt::tcp();
        p.proto = 17;
        p.ip[9] = 17;
        p.l4 = L4Fields {
            sport: Some(5353),
            dport: Some(53),
            tcp_flags: None,
            icmp: None,
        };
        p
    }

    pub fn icmp(kind: u8, code: u8) -> TestPkt {
        let mut p = TestPkt::tcp();
        p.proto = 1;
        p.ip[9] = 1;
        p.l4 = L4Fields {
            sport: None,
            dport: None,
            tcp_flags: None,
            icmp: Some((kind, code)),
        };
        p
    }

    pub fn v6_icmp(kind: u8, code: u8) -> TestPkt {
        let mut p = TestPkt::icmp(kind, code);
        p.family = Family::V6;
        p.proto = 58;
        p.src = "2001:db8::1".parse().unwrap();
        p.dst = "2001:db8::2".parse().unwrap();
        p.ip = vec![0u8; 48];
        p.ip[0] = 0x60;
        p.ip[6] = 58;
        p
    }

    pub fn ctx(&self) -> PacketCtx<'_> {
        PacketCtx {
            family: self.family,
            ip: &self.ip,
            src: self.src,
            dst: self.dst,
            proto: self.proto,
            later_fragment: self.later_fragment,
            l4: self.l4,
            len: self.len,
            ttl: self.ttl,
            in_iface: self.in_iface.as_deref(),
            out_iface: self.out_iface.as_deref(),
            hook: self.hook,
            mark: self.mark,
            ct: self.ct,
            now: self.now,
            addresses: &self.addresses,
            conns: &self.conns,
        }
    }
}

/// Loads an iptables-save text for one family, panicking with the errors.
pub(super) fn load4(text: &str) -> Loaded {
    load_save(text, "t.rules", Family::V4).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn load6(text: &str) -> Loaded {
    load_save(text, "t.rules", Family::V6).unwrap_or_else(|e| panic!("{e}"))
}

/// The errors of an input that must be refused.
pub(super) fn refuse4(text: &str) -> RuleErrors {
    match load_save(text, "t.rules", Family::V4) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

pub(super) fn refuse_script(text: &str) -> RuleErrors {
    match load_script(text, "fw.sh") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// One rule in filter INPUT, parsed from its iptables-save spec.
pub(super) fn rule4(spec: &str) -> Rule {
    let l = load4(&format!("*filter\n-A INPUT {spec}\nCOMMIT\n"));
    l.v4.table(TableName::Filter)
        .builtin(Hook::Input)
        .unwrap()
        .rules[0]
        .clone()
}

pub(super) fn rule6(spec: &str) -> Rule {
    let l = load6(&format!("*filter\n-A INPUT {spec}\nCOMMIT\n"));
    l.v6.table(TableName::Filter)
        .builtin(Hook::Input)
        .unwrap()
        .rules[0]
        .clone()
}

/// Whether `spec` matches the packet (fresh match state).
pub(super) fn hits(spec: &str, p: &TestPkt) -> bool {
    let mut r = if p.family == Family::V4 {
        rule4(spec)
    } else {
        rule6(spec)
    };
    r.matches(&p.ctx(), &mut crate::rules::MatchState::new())
}
