//! Behaviour of the whole pipeline as a careful iptables user expects it and as the kernel
//! does it: hook and table order, chain semantics (ipt_do_table), NOTRACK and CT, NAT bound
//! to the connection, the seed's fix 3, running without tracking, reloads, REJECT replies,
//! and never panicking on garbage.
//!
//! Packets are built from scenario lines (conformance/README.md): `c …` arrives on rtr-c from
//! the client side, `s …` on rtr-s from the server side, `r …` is sent by the host itself. The
//! host is the recorder's router: rtr-c 10.99.1.1/24, rtr-s 10.99.2.1/24.

use std::net::IpAddr;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{CtState, Instant, Sysctl, Verdict};
use ctguard_netfilter::pipeline::{Decision, Fields, Host, Output, Path, Pipeline, RuleRef};
use ctguard_netfilter::{Family, TableName, rules};
use ctguard_scenario::{Scenario, Side, describe};
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

/// One packet from a scenario line (`c …`, `s …` or `r …`).
fn build(line: &str) -> ctguard_scenario::Packet {
    let mut scn = Scenario::parse("pipeline_behaviour", line)
        .unwrap_or_else(|e| panic!("packet line `{line}`: {e}"));
    assert_eq!(scn.packets.len(), 1, "one packet in `{line}`");
    scn.packets.remove(0)
}

fn pipeline(rules: &str) -> Pipeline {
    let loaded = rules::load(rules, "test.rules").unwrap_or_else(|e| panic!("rules: {e}"));
    Pipeline::new(Sysctl::default(), loaded.v4, loaded.v6, router())
}

/// A pipeline and its clock (50 ms between packets).
struct Lab {
    p: Pipeline,
    t: f64,
    logs: Vec<String>,
}

impl Lab {
    fn new(rules: &str) -> Lab {
        Lab::with(pipeline(rules))
    }

    fn with(p: Pipeline) -> Lab {
        Lab {
            p,
            t: 0.0,
            logs: Vec::new(),
        }
    }

    fn now(&mut self) -> Instant {
        self.t += 0.05;
        Instant::from_secs_f64(self.t)
    }

    /// Feeds one packet line; what the host logs goes to `self.logs`.
    fn packet(&mut self, line: &str) -> Decision {
        let pk = build(line);
        let now = self.now();
        match pk.side {
            Side::Router => self.p.send(pk.ip_packet(), now),
            side => self
                .p
                .receive(side.router_interface(), LinkType::Ethernet, &pk.frame, now),
        }
    }

    /// The packets transmitted since the last call, as (interface, IP packet); log lines are
    /// kept in `self.logs`.
    fn sent_raw(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut sent = Vec::new();
        while let Some(o) = self.p.poll_output() {
            match o {
                Output::Transmit { iface, packet } => sent.push((iface.to_string(), packet)),
                Output::Log { line, .. } => self.logs.push(line),
                Output::Table(_) => {}
            }
        }
        sent
    }

    /// [`Lab::sent_raw`], described in the scenario syntax.
    fn sent(&mut self) -> Vec<(String, String)> {
        self.sent_raw()
            .into_iter()
            .map(|(i, p)| (i, describe::packet(&p)))
            .collect()
    }

    /// The LOG prefixes (first word of each line) logged since the last call.
    fn log_prefixes(&mut self) -> Vec<String> {
        let _ = self.sent_raw();
        std::mem::take(&mut self.logs)
            .iter()
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect()
    }

    fn count(&self) -> u32 {
        self.p.conntrack().expect("tracking on").count()
    }

    fn proc(&mut self) -> Vec<String> {
        let now = Instant::from_secs_f64(self.t);
        self.p.conntrack_mut().expect("tracking on").proc_lines(now)
    }

    /// A rule's (1-based) or, with None, the policy's packet counter.
    fn packets(&self, table: TableName, chain: &str, rule: Option<usize>) -> u64 {
        let c = self
            .p
            .rules(Family::V4)
            .table(table)
            .chain(chain)
            .unwrap_or_else(|| panic!("no chain {table} {chain}"));
        match rule {
            Some(n) => c.rules[n - 1].counters.packets,
            None => c.policy_counters.packets,
        }
    }
}

fn by_rule(table: TableName, chain: &str, rule: usize) -> Option<RuleRef> {
    Some(RuleRef {
        table,
        chain: chain.into(),
        rule: Some(rule),
    })
}

fn by_policy(table: TableName, chain: &str) -> Option<RuleRef> {
    Some(RuleRef {
        table,
        chain: chain.into(),
        rule: None,
    })
}

fn accepted(d: &Decision) -> bool {
    d.verdict == Verdict::Accept
}

fn dropped(d: &Decision) -> bool {
    d.verdict == Verdict::Drop
}

const SYN_LOCAL_22: &str =
    "c tcp 10.99.1.100:41000 > 10.99.1.1:22 S seq=1000 win=64240 mss=1460 sackok wscale=7";
const SYN_FORWARD_80: &str =
    "c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460 sackok wscale=7";
const SYN_SENT_OUT: &str = "r tcp 10.99.1.1:40000 > 10.99.1.100:22 S seq=1 win=64240 mss=1460";

// ---------------------------------------------------------------------------------------
// 1. Hook order and paths
// ---------------------------------------------------------------------------------------

/// Every built-in chain of every table logs with the prefix `table/CHAIN`.
fn log_everywhere() -> String {
    let mut s = String::new();
    for t in TableName::ALL {
        s.push_str(&format!("*{}\n", t.name()));
        for h in t.hooks() {
            s.push_str(&format!(":{} ACCEPT [0:0]\n", h.chain_name()));
        }
        for h in t.hooks() {
            s.push_str(&format!(
                "-A {c} -j LOG --log-prefix \"{t}/{c} \"\n",
                c = h.chain_name(),
                t = t.name()
            ));
        }
        s.push_str("COMMIT\n");
    }
    s
}

#[test]
fn local_packet_walks_prerouting_then_input_in_table_order() {
    let mut lab = Lab::new(&log_everywhere());
    let d = lab.packet(SYN_LOCAL_22);
    assert!(accepted(&d));
    assert_eq!(d.path, Some(Path::Input));
    assert_eq!(
        lab.log_prefixes(),
        [
            "raw/PREROUTING",
            "mangle/PREROUTING",
            "nat/PREROUTING",
            "mangle/INPUT",
            "filter/INPUT",
            "nat/INPUT",
        ]
    );
    // A retransmission belongs to the connection: the nat table is not walked again.
    lab.packet(SYN_LOCAL_22);
    assert_eq!(
        lab.log_prefixes(),
        [
            "raw/PREROUTING",
            "mangle/PREROUTING",
            "mangle/INPUT",
            "filter/INPUT"
        ]
    );
}

#[test]
fn forwarded_packet_walks_prerouting_forward_postrouting() {
    let mut lab = Lab::new(&log_everywhere());
    let d = lab.packet(SYN_FORWARD_80);
    assert!(accepted(&d));
    assert_eq!(d.path, Some(Path::Forward));
    assert_eq!(
        lab.log_prefixes(),
        [
            "raw/PREROUTING",
            "mangle/PREROUTING",
            "nat/PREROUTING",
            "mangle/FORWARD",
            "filter/FORWARD",
            "mangle/POSTROUTING",
            "nat/POSTROUTING",
        ]
    );
}

#[test]
fn locally_sent_packet_walks_output_then_postrouting() {
    let mut lab = Lab::new(&log_everywhere());
    let d = lab.packet(SYN_SENT_OUT);
    assert!(accepted(&d));
    assert_eq!(d.path, Some(Path::Output));
    assert_eq!(
        lab.log_prefixes(),
        [
            "raw/OUTPUT",
            "mangle/OUTPUT",
            "nat/OUTPUT",
            "filter/OUTPUT",
            "mangle/POSTROUTING",
            "nat/POSTROUTING",
        ]
    );
}

#[test]
fn policy_counters_show_which_chains_each_path_crossed() {
    let mut lab = Lab::new(
        "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
         :OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
    );
    lab.packet(SYN_LOCAL_22);
    let input = [
        ("PREROUTING", 1),
        ("INPUT", 1),
        ("FORWARD", 0),
        ("OUTPUT", 0),
    ];
    for (chain, n) in input {
        assert_eq!(
            lab.packets(TableName::Mangle, chain, None),
            n,
            "local: {chain}"
        );
    }
    assert_eq!(lab.packets(TableName::Mangle, "POSTROUTING", None), 0);
    assert_eq!(lab.packets(TableName::Filter, "INPUT", None), 1);
    assert_eq!(lab.packets(TableName::Filter, "FORWARD", None), 0);

    lab.packet(SYN_FORWARD_80);
    assert_eq!(lab.packets(TableName::Mangle, "PREROUTING", None), 2);
    assert_eq!(
        lab.packets(TableName::Mangle, "INPUT", None),
        1,
        "never INPUT"
    );
    assert_eq!(lab.packets(TableName::Mangle, "FORWARD", None), 1);
    assert_eq!(lab.packets(TableName::Mangle, "POSTROUTING", None), 1);
    assert_eq!(lab.packets(TableName::Filter, "FORWARD", None), 1);

    lab.packet(SYN_SENT_OUT);
    assert_eq!(
        lab.packets(TableName::Mangle, "PREROUTING", None),
        2,
        "never in"
    );
    assert_eq!(lab.packets(TableName::Mangle, "OUTPUT", None), 1);
    assert_eq!(lab.packets(TableName::Mangle, "POSTROUTING", None), 2);
    assert_eq!(lab.packets(TableName::Filter, "OUTPUT", None), 1);
    assert_eq!(lab.packets(TableName::Filter, "INPUT", None), 1);

    // The byte counter counts the IP packet (52 bytes for the SYN with its options).
    let save = rules::save(lab.p.rules(Family::V4));
    assert!(save.contains(":INPUT ACCEPT [1:52]"), "{save}");
}

#[test]
fn mark_set_in_mangle_is_seen_by_filter() {
    let mut lab = Lab::new(
        "*mangle\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -p tcp --dport 22 -j MARK --set-mark 0x7\nCOMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m mark --mark 0x7 -j DROP\nCOMMIT\n",
    );
    let d = lab.packet(SYN_LOCAL_22);
    assert!(dropped(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.1.1:23 S seq=1");
    assert!(accepted(&d), "no mark on port 23");
}

#[test]
fn raw_notrack_is_seen_as_untracked_by_mangle() {
    let mut lab = Lab::new(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 22 -j NOTRACK\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -m state --state UNTRACKED -j MARK --set-mark 1\nCOMMIT\n\
         *filter\n:INPUT DROP [0:0]\n-A INPUT -m mark --mark 1 -j ACCEPT\nCOMMIT\n",
    );
    let d = lab.packet(SYN_LOCAL_22);
    assert!(accepted(&d));
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    assert_eq!(lab.packets(TableName::Mangle, "PREROUTING", Some(1)), 1);
    // A tracked packet is NEW in mangle: no mark, INPUT's policy drops it.
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.1.1:23 S seq=1");
    assert_eq!(d.ctstate, Some(CtState::New));
    assert!(dropped(&d));
    assert_eq!(d.rule, by_policy(TableName::Filter, "INPUT"));
}

#[test]
fn raw_runs_before_conntrack_so_state_sees_every_packet_as_invalid() {
    // In raw the skb has no conntrack yet: xt_state reports INVALID, never NEW.
    let mut lab = Lab::new(
        "*raw\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -m state --state NEW\n\
         -A PREROUTING -m state --state INVALID\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m state --state NEW\nCOMMIT\n",
    );
    lab.packet(SYN_LOCAL_22);
    assert_eq!(lab.packets(TableName::Raw, "PREROUTING", Some(1)), 0);
    assert_eq!(lab.packets(TableName::Raw, "PREROUTING", Some(2)), 1);
    assert_eq!(lab.packets(TableName::Mangle, "PREROUTING", Some(1)), 1);
}

#[test]
fn loopback_packets_keep_the_state_conntrack_gave_them_in_output() {
    // A packet the host sends itself comes back in through lo with its connection attached
    // (nf_conntrack_in: "previously seen (loopback)", not tracked twice): INPUT sees the
    // state OUTPUT saw, and the nat table is not walked again.
    let mut lab = Lab::new(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n\
         *filter\n:INPUT ACCEPT [0:0]\n\
         -A INPUT -i lo -m state --state NEW\n\
         -A INPUT -i lo -m state --state ESTABLISHED\n\
         -A INPUT -i lo -m state --state INVALID\nCOMMIT\n",
    );
    let flow = [
        (
            "r tcp 127.0.0.1:40000 > 127.0.0.1:22 S seq=1000 win=64240",
            CtState::New,
        ),
        (
            "r tcp 127.0.0.1:22 > 127.0.0.1:40000 SA seq=5000 ack=1001 win=65160",
            CtState::Established,
        ),
        (
            "r tcp 127.0.0.1:40000 > 127.0.0.1:22 A seq=1001 ack=5001 win=502",
            CtState::Established,
        ),
        (
            "r tcp 127.0.0.1:40000 > 127.0.0.1:22 PA seq=1001 ack=5001 win=502 len=10",
            CtState::Established,
        ),
        (
            "r tcp 127.0.0.1:40000 > 127.0.0.1:22 FA seq=1011 ack=5001 win=502",
            CtState::Established,
        ),
        (
            "r tcp 127.0.0.1:22 > 127.0.0.1:40000 FA seq=5001 ack=1012 win=509",
            CtState::Established,
        ),
        (
            "r tcp 127.0.0.1:40000 > 127.0.0.1:22 A seq=1012 ack=5002 win=502",
            CtState::Established,
        ),
    ];
    for (line, state) in flow {
        let d = lab.packet(line);
        assert!(accepted(&d), "{line}");
        assert_eq!(d.ctstate, Some(state), "{line}");
    }
    let counts: Vec<u64> = (1..=3)
        .map(|n| lab.packets(TableName::Filter, "INPUT", Some(n)))
        .collect();
    assert_eq!(counts, [1, 6, 0], "NEW, ESTABLISHED, INVALID in INPUT");
    assert_eq!(lab.packets(TableName::Nat, "PREROUTING", None), 0);
    assert_eq!(lab.packets(TableName::Nat, "INPUT", None), 0);
    let proc = lab.proc();
    assert_eq!(proc.len(), 1);
    assert!(proc[0].contains(" TIME_WAIT "), "{proc:?}");
    let stats = lab.p.conntrack().unwrap().stats();
    let invalid = stats.fields().into_iter().find(|(k, _)| *k == "invalid");
    assert_eq!(invalid.map(|(_, v)| v), Some(0));
}

// ---------------------------------------------------------------------------------------
// 2. Chain semantics (ipt_do_table)
// ---------------------------------------------------------------------------------------

fn filter(body: &str) -> String {
    format!(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n"
    )
}

fn to_port(port: u16) -> String {
    format!(
        "c tcp 10.99.1.100:{} > 10.99.1.1:{port} S seq=1000",
        40000 + port
    )
}

#[test]
fn builtin_policies_decide_and_count() {
    let mut lab = Lab::new(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
    );
    let d = lab.packet(SYN_LOCAL_22);
    assert!(dropped(&d));
    assert_eq!(d.rule, by_policy(TableName::Filter, "INPUT"));
    let d = lab.packet(SYN_FORWARD_80);
    assert!(accepted(&d));
    assert_eq!(d.rule, by_policy(TableName::Filter, "FORWARD"));
    let save = rules::save(lab.p.rules(Family::V4));
    assert!(save.contains(":INPUT DROP [1:52]"), "{save}");
    assert!(save.contains(":FORWARD ACCEPT [1:52]"), "{save}");
    assert!(save.contains(":OUTPUT ACCEPT [0:0]"), "{save}");
    assert_eq!(lab.sent().len(), 1, "only the forwarded SYN leaves");
}

#[test]
fn falling_off_a_user_chain_returns_to_the_callers_next_rule() {
    let mut lab = Lab::new(&filter(
        ":USER - [0:0]\n-A INPUT -j USER\n-A INPUT -p tcp --dport 22 -j DROP\n\
         -A USER -p tcp --dport 23 -j ACCEPT\n",
    ));
    let d = lab.packet(&to_port(22));
    assert!(dropped(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 2));
    let d = lab.packet(&to_port(23));
    assert!(accepted(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "USER", 1));
    assert_eq!(lab.packets(TableName::Filter, "INPUT", Some(1)), 2);
}

#[test]
fn return_in_a_user_chain_resumes_the_caller() {
    let mut lab = Lab::new(&filter(
        ":USER - [0:0]\n-A INPUT -j USER\n-A INPUT -j DROP\n\
         -A USER -p tcp --dport 22 -j RETURN\n-A USER -j ACCEPT\n",
    ));
    let d = lab.packet(&to_port(22));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 2));
    assert!(dropped(&d));
    let d = lab.packet(&to_port(23));
    assert_eq!(d.rule, by_rule(TableName::Filter, "USER", 2));
    assert!(accepted(&d));
}

#[test]
fn return_in_a_builtin_chain_applies_its_policy() {
    let mut lab = Lab::new(
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j RETURN\n\
         -A INPUT -j ACCEPT\nCOMMIT\n",
    );
    let d = lab.packet(&to_port(22));
    assert!(dropped(&d));
    assert_eq!(d.rule, by_policy(TableName::Filter, "INPUT"));
    assert_eq!(lab.packets(TableName::Filter, "INPUT", None), 1);
    assert_eq!(lab.packets(TableName::Filter, "INPUT", Some(2)), 0);
    let d = lab.packet(&to_port(23));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 2));
}

#[test]
fn goto_target_falling_off_returns_to_the_caller_of_the_caller() {
    // INPUT -j A; A -g B: B has no return address of its own, so falling off B (or RETURN
    // in B) resumes INPUT after its jump to A, never A's next rule.
    let mut lab = Lab::new(&filter(
        ":A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A INPUT -j DROP\n\
         -A A -g B\n-A A -j ACCEPT\n\
         -A B -p tcp --dport 22 -j RETURN\n-A B -p tcp --dport 23 -j ACCEPT\n",
    ));
    for port in [22, 24] {
        let d = lab.packet(&to_port(port));
        assert!(dropped(&d), "port {port}");
        assert_eq!(
            d.rule,
            by_rule(TableName::Filter, "INPUT", 2),
            "port {port}"
        );
    }
    let d = lab.packet(&to_port(23));
    assert_eq!(d.rule, by_rule(TableName::Filter, "B", 2));
    assert_eq!(
        lab.packets(TableName::Filter, "A", Some(2)),
        0,
        "A 2 never reached"
    );
}

#[test]
fn goto_from_a_builtin_chain_then_falling_off_applies_the_builtin_policy() {
    let mut lab = Lab::new(
        "*filter\n:INPUT DROP [0:0]\n:B - [0:0]\n-A INPUT -g B\n\
         -A B -p tcp --dport 22 -j RETURN\n-A B -p tcp --dport 23 -j ACCEPT\nCOMMIT\n",
    );
    for port in [22, 24] {
        let d = lab.packet(&to_port(port));
        assert!(dropped(&d), "port {port}: {d:?}");
        assert_eq!(d.rule, by_policy(TableName::Filter, "INPUT"), "port {port}");
    }
    assert_eq!(lab.packets(TableName::Filter, "INPUT", None), 2);
    let save = rules::save(lab.p.rules(Family::V4));
    assert!(
        save.contains(":B - [0:0]"),
        "a user chain has no policy: {save}"
    );
    assert!(accepted(&lab.packet(&to_port(23))));
}

#[test]
fn nested_jumps_return_level_by_level() {
    let mut lab = Lab::new(&filter(
        ":A - [0:0]\n:B - [0:0]\n:C - [0:0]\n-A INPUT -j A\n-A INPUT -j DROP\n\
         -A A -j B\n-A A -p tcp --dport 23 -j ACCEPT\n\
         -A B -j C\n-A B -p tcp --dport 22 -j ACCEPT\n\
         -A C -p tcp --dport 21 -j ACCEPT\n-A C -p tcp --dport 22 -j RETURN\n",
    ));
    let cases = [
        (21, Verdict::Accept, "C", 1),
        (22, Verdict::Accept, "B", 2),
        (23, Verdict::Accept, "A", 2),
        (24, Verdict::Drop, "INPUT", 2),
    ];
    for (port, verdict, chain, rule) in cases {
        let d = lab.packet(&to_port(port));
        assert_eq!(d.verdict, verdict, "port {port}");
        assert_eq!(
            d.rule,
            by_rule(TableName::Filter, chain, rule),
            "port {port}"
        );
    }
    assert_eq!(lab.packets(TableName::Filter, "INPUT", Some(1)), 4);
    assert_eq!(lab.packets(TableName::Filter, "A", Some(1)), 4);
    assert_eq!(lab.packets(TableName::Filter, "B", Some(1)), 4);
    assert_eq!(lab.packets(TableName::Filter, "C", Some(2)), 1);
}

#[test]
fn rule_without_target_only_counts() {
    let mut lab = Lab::new(&filter(
        "-A INPUT -p tcp\n-A INPUT -p tcp --dport 22\n-A INPUT -p udp\n-A INPUT -j DROP\n",
    ));
    let d = lab.packet(&to_port(22));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 4));
    let counts: Vec<u64> = (1..=4)
        .map(|n| lab.packets(TableName::Filter, "INPUT", Some(n)))
        .collect();
    assert_eq!(counts, [1, 1, 0, 1]);
    let save = rules::save(lab.p.rules(Family::V4));
    assert!(save.contains("[1:40] -A INPUT -p tcp\n"), "{save}");
}

#[test]
fn first_matching_rule_wins() {
    let mut lab = Lab::new(&filter(
        "-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 22 -j DROP\n",
    ));
    let d = lab.packet(&to_port(22));
    assert!(accepted(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    assert_eq!(lab.packets(TableName::Filter, "INPUT", Some(2)), 0);
}

// ---------------------------------------------------------------------------------------
// 3. NOTRACK and CT
// ---------------------------------------------------------------------------------------

#[test]
fn notrack_packet_is_untracked_in_every_later_table_and_never_in_the_table() {
    let mut lab = Lab::new(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n\
         *mangle\n:PREROUTING ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
         -A PREROUTING -m state --state UNTRACKED\n-A FORWARD -m state --state UNTRACKED\n\
         -A POSTROUTING -m conntrack --ctstate UNTRACKED\nCOMMIT\n\
         *filter\n:FORWARD DROP [0:0]\n-A FORWARD -m state --state UNTRACKED -j ACCEPT\nCOMMIT\n",
    );
    for _ in 0..2 {
        let d = lab.packet(SYN_FORWARD_80);
        assert!(accepted(&d));
        assert_eq!(d.ctstate, Some(CtState::Untracked));
        assert_eq!(d.conn, None);
        assert_eq!(d.rule, by_rule(TableName::Filter, "FORWARD", 1));
    }
    for chain in ["PREROUTING", "FORWARD", "POSTROUTING"] {
        assert_eq!(lab.packets(TableName::Mangle, chain, Some(1)), 2, "{chain}");
    }
    assert_eq!(lab.count(), 0);
    assert!(lab.proc().is_empty());
}

const MASQUERADE: &str = "*nat\n:POSTROUTING ACCEPT [0:0]\n\
    -A POSTROUTING -o rtr-s -j MASQUERADE\nCOMMIT\n";

#[test]
fn notrack_packet_is_never_nated() {
    let rules = format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 80 -j NOTRACK\nCOMMIT\n\
         {MASQUERADE}"
    );
    let mut lab = Lab::new(&rules);
    let d = lab.packet(SYN_FORWARD_80);
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    let sent = lab.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "rtr-s");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.1.100:41000 > 10.99.2.100:80 S "),
        "{sent:?}"
    );
    assert_eq!(lab.packets(TableName::Nat, "POSTROUTING", Some(1)), 0);
    assert_eq!(lab.count(), 0);

    // Port 81 is tracked: masqueraded to rtr-s's address.
    lab.packet("c tcp 10.99.1.100:41001 > 10.99.2.100:81 S seq=1");
    let sent = lab.sent();
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.2.1:41001 > 10.99.2.100:81 S "),
        "{sent:?}"
    );
    assert_eq!(lab.packets(TableName::Nat, "POSTROUTING", Some(1)), 1);
    assert_eq!(lab.count(), 1);
}

#[test]
fn ct_notrack_untracks_like_notrack() {
    let rules = format!(
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j CT --notrack\nCOMMIT\n{MASQUERADE}"
    );
    let mut lab = Lab::new(&rules);
    let d = lab.packet(SYN_FORWARD_80);
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    let sent = lab.sent();
    assert!(
        sent[0].1.starts_with("tcp 10.99.1.100:41000 > "),
        "{sent:?}"
    );
    assert_eq!(lab.count(), 0);
}

#[test]
fn ct_zone_puts_the_entry_in_that_zone() {
    let mut lab =
        Lab::new("*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i rtr-c -j CT --zone 7\nCOMMIT\n");
    let d = lab.packet(SYN_FORWARD_80);
    assert_eq!(d.ctstate, Some(CtState::New));
    let proc = lab.proc();
    assert_eq!(proc.len(), 1);
    assert!(proc[0].contains(" zone=7 "), "{proc:?}");
    // The same tuple in zone 0 (from the server side, no CT rule) is another connection.
    lab.packet("s tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000");
    let proc = lab.proc();
    assert_eq!(proc.len(), 2, "{proc:?}");
    assert!(proc.iter().any(|l| l.contains(" zone=0 ")), "{proc:?}");
}

// ---------------------------------------------------------------------------------------
// 4. NAT
// ---------------------------------------------------------------------------------------

const SNAT: &str = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
    :POSTROUTING ACCEPT [0:0]\n\
    -A POSTROUTING -s 10.99.1.0/24 -o rtr-s -j SNAT --to-source 10.99.2.1\nCOMMIT\n";

#[test]
fn only_the_first_packet_walks_the_nat_table_but_every_packet_is_translated() {
    let mut lab = Lab::new(SNAT);
    let flow = [
        (
            SYN_FORWARD_80,
            "rtr-s",
            "tcp 10.99.2.1:41000 > 10.99.2.100:80 S ",
        ),
        (
            "s tcp 10.99.2.100:80 > 10.99.2.1:41000 SA seq=5000 ack=1001 win=65160",
            "rtr-c",
            "tcp 10.99.2.100:80 > 10.99.1.100:41000 SA ",
        ),
        (
            "c tcp 10.99.1.100:41000 > 10.99.2.100:80 A seq=1001 ack=5001 win=502",
            "rtr-s",
            "tcp 10.99.2.1:41000 > 10.99.2.100:80 A ",
        ),
        (
            "c tcp 10.99.1.100:41000 > 10.99.2.100:80 PA seq=1001 ack=5001 win=502 len=40",
            "rtr-s",
            "tcp 10.99.2.1:41000 > 10.99.2.100:80 PA ",
        ),
        (
            "s tcp 10.99.2.100:80 > 10.99.2.1:41000 PA seq=5001 ack=1041 win=509 len=300",
            "rtr-c",
            "tcp 10.99.2.100:80 > 10.99.1.100:41000 PA ",
        ),
    ];
    for (line, iface, start) in flow {
        let d = lab.packet(line);
        assert!(accepted(&d), "{line}");
        let sent = lab.sent();
        assert_eq!(sent.len(), 1, "{line}: {sent:?}");
        assert_eq!(sent[0].0, iface, "{line}");
        assert!(sent[0].1.starts_with(start), "{line}: {}", sent[0].1);
        assert!(!sent[0].1.contains("badsum"), "{line}: {}", sent[0].1);
    }
    assert_eq!(lab.packets(TableName::Nat, "POSTROUTING", Some(1)), 1);
    assert_eq!(lab.packets(TableName::Nat, "POSTROUTING", None), 0);
    let proc = lab.proc();
    assert_eq!(proc.len(), 1);
    assert!(
        proc[0].contains(
            "src=10.99.1.100 dst=10.99.2.100 sport=41000 dport=80 \
             src=10.99.2.100 dst=10.99.2.1 sport=80 dport=41000 [ASSURED]"
        ),
        "{proc:?}"
    );
}

#[test]
fn dnat_rewrites_the_destination_and_replies_come_from_the_original_one() {
    let mut lab = Lab::new(
        "*nat\n:PREROUTING ACCEPT [0:0]\n\
         -A PREROUTING -d 10.99.1.1 -p tcp --dport 8080 -j DNAT --to-destination 10.99.2.100:80\n\
         COMMIT\n",
    );
    let d = lab.packet("c tcp 10.99.1.100:41000 > 10.99.1.1:8080 S seq=1000");
    assert_eq!(
        d.path,
        Some(Path::Forward),
        "DNAT before routing: forwarded"
    );
    let sent = lab.sent();
    assert_eq!(sent[0].0, "rtr-s");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.1.100:41000 > 10.99.2.100:80 S ")
    );
    lab.packet("s tcp 10.99.2.100:80 > 10.99.1.100:41000 SA seq=5000 ack=1001");
    let sent = lab.sent();
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.1.1:8080 > 10.99.1.100:41000 SA "),
        "{sent:?}"
    );
    let proc = lab.proc();
    assert!(
        proc[0].contains("src=10.99.2.100 dst=10.99.1.100 sport=80 dport=41000"),
        "{proc:?}"
    );
}

#[test]
fn snat_port_clash_remaps_the_second_client_and_both_connections_work() {
    let mut lab = Lab::new(SNAT);
    lab.packet(SYN_FORWARD_80);
    let first = lab.sent_raw().remove(0).1;
    lab.packet("c tcp 10.99.1.101:41000 > 10.99.2.100:80 S seq=9000 win=64240");
    let second = lab.sent_raw().remove(0).1;
    let sport = |p: &[u8]| Fields::parse(p).unwrap().l4.sport.unwrap();
    let src = |p: &[u8]| Fields::parse(p).unwrap().src;
    assert_eq!(src(&first), ip("10.99.2.1"));
    assert_eq!(src(&second), ip("10.99.2.1"));
    assert_eq!(sport(&first), 41000);
    let p2 = sport(&second);
    assert_ne!(p2, 41000, "the clash is resolved by another source port");
    assert!(p2 >= 1024, "a port of the same class (>= 1024): {p2}");

    // Each server reply reaches its own client.
    for (port, client, seq) in [(41000, "10.99.1.100", 1001), (p2, "10.99.1.101", 9001)] {
        let d = lab.packet(&format!(
            "s tcp 10.99.2.100:80 > 10.99.2.1:{port} SA seq=5000 ack={seq} win=65160"
        ));
        assert!(accepted(&d));
        assert_eq!(d.ctstate, Some(CtState::Established));
        let sent = lab.sent();
        assert_eq!(sent[0].0, "rtr-c");
        assert!(
            sent[0]
                .1
                .starts_with(&format!("tcp 10.99.2.100:80 > {client}:41000 SA ")),
            "{sent:?}"
        );
    }
    for (client, seq) in [("10.99.1.100", 1001), ("10.99.1.101", 9001)] {
        let d = lab.packet(&format!(
            "c tcp {client}:41000 > 10.99.2.100:80 A seq={seq} ack=5001 win=502"
        ));
        assert_eq!(d.ctstate, Some(CtState::Established), "{client}");
    }
    let proc = lab.proc();
    assert_eq!(proc.len(), 2);
    assert!(proc.iter().all(|l| l.contains(" ESTABLISHED ")), "{proc:?}");
    assert!(
        proc.iter()
            .any(|l| l.contains(&format!("dst=10.99.2.1 sport=80 dport={p2} "))),
        "{proc:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 5. The seed's fix 3, from its own command lines
// ---------------------------------------------------------------------------------------

/// The raw rules exactly as the seed writes them.
const SEED_RAW: &str = "\
# packets coming in to this host
/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
# packets going out of this host
/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
";

/// A CentOS-style /etc/sysconfig/iptables filter table, as commands; `states` is the first
/// rule's state list.
fn seed_script(states: &str) -> String {
    format!(
        "#!/bin/sh\n{SEED_RAW}\
         iptables -A INPUT -m state --state {states} -j ACCEPT\n\
         iptables -A INPUT -p icmp -j ACCEPT\n\
         iptables -A INPUT -i lo -j ACCEPT\n\
         iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n\
         iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 80 -j ACCEPT\n\
         iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited\n\
         iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited\n"
    )
}

fn seed_lab(states: &str) -> Lab {
    let loaded = rules::load_script(&seed_script(states), "seed.sh")
        .unwrap_or_else(|e| panic!("seed script: {e}"));
    Lab::with(Pipeline::new(
        Sysctl::default(),
        loaded.v4,
        loaded.v6,
        router(),
    ))
}

const WEB_SYN: &str = "c tcp 10.99.1.100:41000 > 10.99.1.1:80 S seq=1000 win=64240 mss=1460";

/// SSH works and is tracked: the handshake ends ESTABLISHED in the table.
fn ssh_is_tracked(lab: &mut Lab) {
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.1.1:22 S seq=2000 win=64240");
    assert!(accepted(&d));
    assert_eq!(d.ctstate, Some(CtState::New));
    let d = lab.packet("r tcp 10.99.1.1:22 > 10.99.1.100:41001 SA seq=7000 ack=2001 win=65160");
    assert!(accepted(&d));
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.1.1:22 A seq=2001 ack=7001 win=502");
    assert_eq!(d.ctstate, Some(CtState::Established));
    assert!(accepted(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    let proc = lab.proc();
    assert!(
        proc.iter()
            .any(|l| l.contains(" ESTABLISHED ") && l.contains("dport=22 ")),
        "{proc:?}"
    );
    assert!(!proc.iter().any(|l| l.contains("dport=80 ")), "{proc:?}");
}

#[test]
fn seed_fix3_without_untracked_rejects_the_web_port() {
    let mut lab = seed_lab("RELATED,ESTABLISHED");
    let d = lab.packet(WEB_SYN);
    assert!(dropped(&d));
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 6));
    let sent = lab.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0]
            .1
            .starts_with("icmp 10.99.1.1 > 10.99.1.100 unreach code=10 "),
        "host-prohibited: {sent:?}"
    );
    assert_eq!(lab.count(), 0);
    ssh_is_tracked(&mut lab);
}

#[test]
fn seed_fix3_with_untracked_serves_the_web_port_without_tracking_it() {
    let mut lab = seed_lab("RELATED,ESTABLISHED,UNTRACKED");
    let d = lab.packet(WEB_SYN);
    assert!(accepted(&d));
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    let d = lab.packet("r tcp 10.99.1.1:80 > 10.99.1.100:41000 SA seq=5000 ack=1001 win=65160");
    assert!(accepted(&d));
    assert_eq!(
        d.ctstate,
        Some(CtState::Untracked),
        "raw OUTPUT --sports 80"
    );
    let sent = lab.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "rtr-c");
    let d = lab.packet("c tcp 10.99.1.100:41000 > 10.99.1.1:80 A seq=1001 ack=5001 win=502");
    assert!(accepted(&d));
    assert_eq!(lab.count(), 0, "port 80 never enters the table");
    ssh_is_tracked(&mut lab);
}

#[test]
fn seed_fix3_leaves_loopback_traffic_untracked() {
    let mut lab = seed_lab("RELATED,ESTABLISHED,UNTRACKED");
    let d = lab.packet("r tcp 127.0.0.1:40000 > 127.0.0.1:22 S seq=1 win=64240");
    assert!(accepted(&d));
    assert_eq!(d.ctstate, Some(CtState::Untracked));
    assert!(
        lab.sent().is_empty(),
        "lo traffic is delivered, not transmitted"
    );
    assert_eq!(lab.count(), 0);
    // It came back in through lo and was accepted in INPUT (by the UNTRACKED rule).
    assert_eq!(lab.packets(TableName::Filter, "INPUT", Some(1)), 1);
    assert_eq!(lab.packets(TableName::Raw, "PREROUTING", Some(2)), 1);
}

// ---------------------------------------------------------------------------------------
// 6. Without tracking
// ---------------------------------------------------------------------------------------

#[test]
fn without_tracking_packets_have_no_state_and_rules_still_filter() {
    let p = pipeline(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         -A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
    )
    .without_tracking()
    .expect("no rule needs tracking");
    let mut lab = Lab::with(p);
    assert!(lab.p.conntrack().is_none());
    let d = lab.packet(&to_port(22));
    assert!(accepted(&d));
    assert_eq!(d.ctstate, None);
    assert_eq!(d.conn, None);
    assert_eq!(d.rule, by_rule(TableName::Filter, "INPUT", 1));
    let d = lab.packet(&to_port(23));
    assert!(dropped(&d));
    assert_eq!(d.rule, by_policy(TableName::Filter, "INPUT"));
    let d = lab.packet(SYN_FORWARD_80);
    assert!(accepted(&d));
    assert_eq!(d.ctstate, None);
    assert_eq!(lab.sent().len(), 1);
    assert!(lab.p.conntrack().is_none());
}

#[test]
fn without_tracking_a_rule_set_that_needs_it_is_refused() {
    // Like `modprobe -r nf_conntrack`: the state match (xt_state) cannot load without it.
    let p = pipeline(&filter(
        "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n",
    ));
    let err = p.without_tracking().err().expect("refused");
    assert_eq!(err.0.len(), 1);
    assert!(err.to_string().contains("INPUT rule 1"), "{err}");
}

// ---------------------------------------------------------------------------------------
// 7. Reload
// ---------------------------------------------------------------------------------------

#[test]
fn reload_keeps_the_trackers_settings_and_its_connections() {
    let mut lab = Lab::new(&filter(""));
    lab.p
        .conntrack_mut()
        .unwrap()
        .set_sysctl("net.netfilter.nf_conntrack_max", "100")
        .unwrap();
    lab.packet(SYN_FORWARD_80);
    lab.packet("s tcp 10.99.2.100:80 > 10.99.1.100:41000 SA seq=5000 ack=1001 win=65160");
    lab.packet("c tcp 10.99.1.100:41000 > 10.99.2.100:80 A seq=1001 ack=5001 win=502");

    let strict = rules::load(
        "*filter\n:FORWARD DROP [0:0]\n\
         -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\nCOMMIT\n",
        "strict.rules",
    )
    .unwrap();
    lab.p
        .set_rules(Family::V4, strict.v4)
        .expect("tracking is on");

    let ct = lab.p.conntrack().unwrap();
    assert_eq!(ct.sysctl().max, 100);
    assert_eq!(
        ct.sysctl().get("net.netfilter.nf_conntrack_max").as_deref(),
        Some("100")
    );
    assert_eq!(ct.count(), 1);
    let d = lab.packet("c tcp 10.99.1.100:41000 > 10.99.2.100:80 PA seq=1001 ack=5001 len=10");
    assert!(accepted(&d));
    assert_eq!(d.ctstate, Some(CtState::Established));
    assert_eq!(d.rule, by_rule(TableName::Filter, "FORWARD", 1));
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.2.100:80 S seq=1");
    assert!(dropped(&d), "a new connection meets the new policy");
    assert_eq!(d.rule, by_policy(TableName::Filter, "FORWARD"));
}

// ---------------------------------------------------------------------------------------
// 8. REJECT
// ---------------------------------------------------------------------------------------

const REJECT_1001: &str = "*filter\n:FORWARD ACCEPT [0:0]\n\
    -A FORWARD -p tcp --dport 1001 -j REJECT --reject-with tcp-reset\nCOMMIT\n";

#[test]
fn tcp_reset_for_a_syn_goes_back_to_the_sender_acking_the_syn() {
    let mut lab = Lab::new(REJECT_1001);
    let d = lab.packet("c tcp 10.99.1.100:41001 > 10.99.2.100:1001 S seq=1000 win=64240");
    assert!(dropped(&d));
    assert_eq!(d.rule, by_rule(TableName::Filter, "FORWARD", 1));
    let sent = lab.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.2.100:1001 > 10.99.1.100:41001 RA seq=0 ack=1001 win=0 len=0 "),
        "{sent:?}"
    );
    assert_eq!(lab.count(), 0, "the rejected connection is never confirmed");
}

#[test]
fn tcp_reset_acks_syn_data_and_fin() {
    // RFC 793: no ACK in the offending segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
    // where SYN and FIN each count one.
    let mut lab = Lab::new(REJECT_1001);
    lab.packet("c tcp 10.99.1.100:41002 > 10.99.2.100:1001 S seq=1000 len=10");
    lab.packet("c tcp 10.99.1.100:41003 > 10.99.2.100:1001 F seq=2000 len=5");
    let sent = lab.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].1.contains(" RA seq=0 ack=1011 "), "{sent:?}");
    assert!(sent[1].1.contains(" RA seq=0 ack=2006 "), "{sent:?}");
}

#[test]
fn tcp_reset_for_an_ack_segment_takes_its_ack_number_as_seq() {
    // RFC 793: the offending segment has ACK: <SEQ=SEG.ACK><CTL=RST>.
    let mut lab = Lab::new(REJECT_1001);
    lab.packet("c tcp 10.99.1.100:41011 > 10.99.2.100:1001 A seq=7000 ack=9000 win=502");
    let sent = lab.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.2.100:1001 > 10.99.1.100:41011 R seq=9000 ack=0 win=0 "),
        "{sent:?}"
    );
}

#[test]
fn tcp_reset_never_answers_a_reset() {
    let mut lab = Lab::new(REJECT_1001);
    let d = lab.packet("c tcp 10.99.1.100:41011 > 10.99.2.100:1001 R seq=7000");
    assert!(dropped(&d));
    assert!(lab.sent().is_empty());
}

#[test]
fn tcp_reset_on_an_established_connection_closes_its_entry() {
    let mut lab = Lab::new(
        "*filter\n:FORWARD ACCEPT [0:0]\n\
         -A FORWARD -p tcp --dport 80 -m state --state ESTABLISHED -m tcp --tcp-flags PSH PSH \
         -j REJECT --reject-with tcp-reset\nCOMMIT\n",
    );
    lab.packet(SYN_FORWARD_80);
    lab.packet("s tcp 10.99.2.100:80 > 10.99.1.100:41000 SA seq=5000 ack=1001 win=65160");
    lab.packet("c tcp 10.99.1.100:41000 > 10.99.2.100:80 A seq=1001 ack=5001 win=502");
    let _ = lab.sent();
    assert!(lab.proc()[0].contains(" ESTABLISHED "));
    let d = lab.packet("c tcp 10.99.1.100:41000 > 10.99.2.100:80 PA seq=1001 ack=5001 len=30");
    assert!(dropped(&d));
    assert_eq!(d.ctstate, Some(CtState::Established));
    let sent = lab.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0]
            .1
            .starts_with("tcp 10.99.2.100:80 > 10.99.1.100:41000 R seq=5001 ack=0 "),
        "{sent:?}"
    );
    let proc = lab.proc();
    assert_eq!(proc.len(), 1);
    assert!(proc[0].contains(" CLOSE "), "{proc:?}");
}

#[test]
fn icmp_rejects_are_rate_limited_per_destination_but_resets_are_not() {
    // icmp_ratelimit 1000 ms with a burst of 6 (inet_peer_xrlim_allow), for the types in
    // icmp_ratemask (destination unreachable is one); a TCP reset is no ICMP message.
    let mut lab = Lab::new(
        "*filter\n:INPUT ACCEPT [0:0]\n\
         -A INPUT -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited\n\
         -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset\nCOMMIT\n",
    );
    let mut icmp = 0;
    for i in 0..8 {
        assert!(dropped(&lab.packet(&format!(
            "c tcp 10.99.1.100:{} > 10.99.1.1:80 S seq=1",
            41000 + i
        ))));
        icmp += lab.sent().len();
    }
    assert_eq!(icmp, 6, "a burst of 6, 50 ms apart");
    lab.t += 1.0;
    lab.packet("c tcp 10.99.1.100:42000 > 10.99.1.1:80 S seq=1");
    assert_eq!(lab.sent().len(), 1, "a token a second");
    // Another destination has its own bucket.
    lab.packet("c tcp 10.99.1.101:41000 > 10.99.1.1:80 S seq=1");
    assert_eq!(lab.sent().len(), 1);
    for i in 0..10 {
        lab.packet(&format!(
            "c tcp 10.99.1.100:{} > 10.99.1.1:81 S seq=1",
            43000 + i
        ));
        assert_eq!(lab.sent().len(), 1, "reset {i}");
    }
}

#[test]
fn udp_port_unreachable_quotes_the_datagram() {
    let mut lab = Lab::new(
        "*filter\n:INPUT ACCEPT [0:0]\n\
         -A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n",
    );
    let line = "c udp 10.99.1.100:5000 > 10.99.1.1:2004 len=20";
    let original = build(line).ip_packet().to_vec();
    let d = lab.packet(line);
    assert!(dropped(&d));
    let sent = lab.sent_raw();
    assert_eq!(sent.len(), 1);
    let (iface, reply) = &sent[0];
    assert_eq!(iface, "rtr-c");
    let f = Fields::parse(reply).expect("an IP packet");
    assert_eq!((f.src, f.dst), (ip("10.99.1.1"), ip("10.99.1.100")));
    assert_eq!(f.l4.icmp, Some((3, 3)), "destination unreachable, port");
    let ihl = usize::from(reply[0] & 0x0f) * 4;
    assert_eq!(
        &reply[ihl + 8..],
        &original[..],
        "quotes the whole datagram"
    );
    let text = describe::packet(reply);
    assert!(!text.contains("badsum"), "{text}");
}

#[test]
fn udp_port_unreachable_for_a_forwarded_datagram_quotes_it_as_forwarded() {
    let mut lab = Lab::new("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p udp -j REJECT\nCOMMIT\n");
    lab.packet("c udp 10.99.1.100:5000 > 10.99.2.100:2004 len=20");
    let sent = lab.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0].1.starts_with(
            "icmp 10.99.1.1 > 10.99.1.100 unreach code=3 len=48 ttl=64 tos=0xc0 iplen=76 \
             quote=[udp 10.99.1.100:5000 > 10.99.2.100:2004 len=20 ttl=63 df iplen=48]"
        ),
        "{sent:?}"
    );
}

#[test]
fn ipv6_udp_reject_sends_icmp6_port_unreachable() {
    let mut lab = Lab::new("ip6tables -A FORWARD -p udp -j REJECT\n");
    let d = lab.packet("c udp [fd00:99:1::100]:5000 > [fd00:99:2::100]:2004 len=20");
    assert!(dropped(&d));
    let sent = lab.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "rtr-c");
    assert!(
        sent[0]
            .1
            .starts_with("icmp6 fd00:99:1::1 > fd00:99:1::100 unreach code=4 "),
        "{sent:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 9. Never panics
// ---------------------------------------------------------------------------------------

const FUZZ_RULES: &str = "\
iptables -t raw -A PREROUTING -p udp --dport 53 -j NOTRACK
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.99.2.100:80
iptables -t nat -A POSTROUTING -o rtr-s -j MASQUERADE
iptables -A INPUT -p tcp --dport 22 -j LOG --log-prefix \"in: \" --log-tcp-options
iptables -A INPUT -p udp -j REJECT
iptables -A FORWARD -p tcp --dport 1001 -j REJECT --reject-with tcp-reset
iptables -A FORWARD -p icmp -j LOG --log-ip-options
iptables -A OUTPUT -p udp -j REJECT --reject-with icmp-host-prohibited
ip6tables -A FORWARD -p tcp --dport 1001 -j REJECT --reject-with tcp-reset
ip6tables -A INPUT -j LOG
";

const MAX: u32 = 8;

/// Valid packets to start from; the proptest mutates them or replaces them with noise.
const SEEDS: &[&str] = &[
    "c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 mss=1460 sackok wscale=7",
    "c tcp 10.99.1.100:41000 > 10.99.1.1:8080 S seq=1000",
    "s tcp 10.99.2.100:80 > 10.99.2.1:41000 SA seq=5000 ack=1001",
    "c tcp 10.99.1.100:41001 > 10.99.2.100:1001 S seq=1",
    "c udp 10.99.1.100:5000 > 10.99.1.1:53 len=20",
    "c udp 10.99.1.100:5000 > 10.99.2.100:53 len=20",
    "c icmp 10.99.1.100 > 10.99.2.100 echo-request id=1 seq=1 len=8",
    "c tcp [fd00:99:1::100]:41000 > [fd00:99:2::100]:1001 S seq=1",
    "c udp 10.99.1.100:5000 > 10.99.2.100:2004 len=1400 frag=512",
    "r udp 10.99.1.1:5000 > 10.99.1.100:53 len=8",
];

#[derive(Clone, Debug)]
enum Fuzz {
    /// Noise as a frame of this link type, received or (`send`) sent.
    Noise(u8, bool, Vec<u8>),
    /// A seed packet with a new source port and some bytes overwritten.
    Mutated(usize, u16, Vec<(usize, u8)>),
}

fn fuzz_item() -> impl Strategy<Value = Fuzz> {
    prop_oneof![
        (
            0u8..6,
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..120)
        )
            .prop_map(|(l, s, b)| Fuzz::Noise(l, s, b)),
        (
            0..SEEDS.len(),
            1024u16..1100,
            prop::collection::vec((0usize..120, any::<u8>()), 0..4)
        )
            .prop_map(|(i, p, m)| Fuzz::Mutated(i, p, m)),
    ]
}

fn link(n: u8) -> LinkType {
    match n {
        0 => LinkType::Ethernet,
        1 => LinkType::LinuxSll,
        2 => LinkType::LinuxSll2,
        3 => LinkType::Raw,
        4 => LinkType::Ipv4,
        _ => LinkType::Ipv6,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn pipeline_never_panics_and_never_exceeds_the_table_limit(
        items in prop::collection::vec(fuzz_item(), 1..40)
    ) {
        let mut lab = Lab::new(FUZZ_RULES);
        lab.p
            .conntrack_mut()
            .unwrap()
            .set_sysctl("net.netfilter.nf_conntrack_max", &MAX.to_string())
            .unwrap();
        for item in items {
            let now = lab.now();
            match item {
                Fuzz::Noise(_, true, bytes) => {
                    let _ = lab.p.send(&bytes, now);
                }
                Fuzz::Noise(l, false, bytes) => {
                    let _ = lab.p.receive("rtr-c", link(l), &bytes, now);
                }
                Fuzz::Mutated(i, port, edits) => {
                    let line = SEEDS[i].replacen(":41000", &format!(":{port}"), 1);
                    let scn = Scenario::parse("fuzz", &line).expect("seed line");
                    for pk in scn.packets {
                        let mut frame = pk.frame.clone();
                        for &(at, b) in &edits {
                            if let Some(x) = frame.get_mut(at) {
                                *x = b;
                            }
                        }
                        let _ = match pk.side {
                            Side::Router => lab.p.send(frame.get(14..).unwrap_or_default(), now),
                            side => lab.p.receive(
                                side.router_interface(),
                                LinkType::Ethernet,
                                &frame,
                                now,
                            ),
                        };
                    }
                }
            }
            let _ = lab.sent_raw();
            prop_assert!(lab.count() <= MAX, "{} entries, max {MAX}", lab.count());
        }
        let _ = lab.proc();
        let _ = rules::save(lab.p.rules(Family::V4));
    }
}
