//! `diff`: one capture under two configurations, and the connections that fare differently.
//!
//! 1. The seed's change on scenario packets: the CentOS-style filter table without and with the
//!    raw NOTRACK rules for port 80 (no UNTRACKED in the state rule). Every port-80 connection
//!    that was accepted is now rejected by the final REJECT, and lint's CT001 names the rule to
//!    add UNTRACKED to.
//! 2. A real capture (`crates/capture/tests/data/http.pcap`, curl against python's
//!    http.server on 127.0.0.1:8080): accept-all against NOTRACK for 8080 with state rules
//!    that lack UNTRACKED.

use std::net::IpAddr;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_netfilter::Family;
use ctguard_netfilter::rules::{self, RuleSet};
use ctguard_replay::Config;
use ctguard_replay::diff::{Diff, Fate, Report, Tracking};
use ctguard_scenario::Scenario;

const SEED_BROKEN: &str =
    include_str!("../../../conformance/rules/rules-seed-notrack-broken.rules");
const SEED_BROKEN_NAME: &str = "rules-seed-notrack-broken.rules";

/// The seed's web server: three clients fetch a page on port 80, one logs in over SSH, one
/// pings.
const SEED_TRAFFIC: &str = "\
c tcp 10.99.1.100:41000 > 10.99.1.1:80 S seq=1000 win=64240 mss=1460
r tcp 10.99.1.1:80 > 10.99.1.100:41000 SA seq=5000 ack=1001 win=65160 mss=1460
c tcp 10.99.1.100:41000 > 10.99.1.1:80 A seq=1001 ack=5001 win=502
c tcp 10.99.1.100:41000 > 10.99.1.1:80 PA seq=1001 ack=5001 win=502 len=80
r tcp 10.99.1.1:80 > 10.99.1.100:41000 PA seq=5001 ack=1081 win=509 len=400
c tcp 10.99.1.101:42000 > 10.99.1.1:80 S seq=2000 win=64240 mss=1460
r tcp 10.99.1.1:80 > 10.99.1.101:42000 SA seq=6000 ack=2001 win=65160 mss=1460
c tcp 10.99.1.101:42000 > 10.99.1.1:80 A seq=2001 ack=6001 win=502
c tcp 10.99.1.102:43000 > 10.99.1.1:80 S seq=3000 win=64240 mss=1460
r tcp 10.99.1.1:80 > 10.99.1.102:43000 SA seq=7000 ack=3001 win=65160 mss=1460
c tcp 10.99.1.102:43000 > 10.99.1.1:80 A seq=3001 ack=7001 win=502
c tcp 10.99.1.103:44000 > 10.99.1.1:22 S seq=4000 win=64240 mss=1460
r tcp 10.99.1.1:22 > 10.99.1.103:44000 SA seq=8000 ack=4001 win=65160 mss=1460
c tcp 10.99.1.103:44000 > 10.99.1.1:22 A seq=4001 ack=8001 win=502
c tcp 10.99.1.103:44000 > 10.99.1.1:22 PA seq=4001 ack=8001 win=502 len=21
r tcp 10.99.1.1:22 > 10.99.1.103:44000 PA seq=8001 ack=4022 win=509 len=40
c icmp 10.99.1.104 > 10.99.1.1 echo-request id=7 seq=1 len=56
r icmp 10.99.1.1 > 10.99.1.104 echo-reply id=7 seq=1 len=56
";

fn load(text: &str, name: &str) -> RuleSet {
    rules::load_save(text, name, Family::V4)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .v4
}

/// The seed's file without its raw table: the CentOS-style filter table alone.
fn without_raw(text: &str) -> String {
    let mut out = String::new();
    let mut in_raw = false;
    for line in text.lines() {
        if line.trim() == "*raw" {
            in_raw = true;
        } else if in_raw && line.trim() == "COMMIT" {
            in_raw = false;
            continue;
        }
        if !in_raw {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn config(rules4: RuleSet, local: &str) -> Config {
    let mut c = Config::new(Sysctl::default());
    c.rules4 = rules4;
    c.local = vec![local.parse::<IpAddr>().unwrap()];
    c
}

fn seed_report() -> Report {
    let scn = Scenario::parse("seed-traffic", SEED_TRAFFIC).expect("scenario parses");
    let a = config(
        load(&without_raw(SEED_BROKEN), "centos-filter.rules"),
        "10.99.1.1",
    );
    let b = config(load(SEED_BROKEN, SEED_BROKEN_NAME), "10.99.1.1");
    let mut d = Diff::new(&a, &b, &[]).expect("tracking on");
    for p in &scn.packets {
        d.packet(
            Instant::from_secs_f64(p.time),
            LinkType::Ethernet,
            None,
            &p.frame,
        );
    }
    d.finish()
}

#[test]
fn the_seeds_notrack_change_drops_port_80_and_lint_names_the_fix() {
    let r = seed_report();
    assert_eq!(r.packets, 18);
    assert_eq!(r.connections, 5, "three port-80 clients, SSH, ping");
    assert_eq!(r.differing, 3, "{r:#?}");
    assert_eq!(r.groups.len(), 1, "{r:#?}");
    let g = &r.groups[0];
    assert_eq!(g.connections, 3);
    assert_eq!(
        (g.a.fate, g.a.tracking),
        (Fate::Accepted, Tracking::Tracked)
    );
    assert_eq!(
        (g.b.fate, g.b.tracking),
        (Fate::Dropped, Tracking::Untracked)
    );
    assert_eq!(
        g.a.rule_text, "filter INPUT rule 5 (ACCEPT)",
        "the SYN to 80 is NEW under A"
    );
    assert_eq!(g.b.rule_text, "filter INPUT rule 6 (REJECT)");
    assert_eq!(
        g.b.rule.as_ref().map(ToString::to_string).as_deref(),
        Some("filter INPUT 6")
    );
    let fix = g.fix.as_ref().expect("lint's CT001 fix");
    assert_eq!(fix.chain, "filter INPUT");
    assert_eq!(
        fix.rule,
        Some(1),
        "the RELATED,ESTABLISHED rule is INPUT's first"
    );
    assert_eq!(fix.notrack.as_deref(), Some("raw PREROUTING rule 1"));
    assert_eq!(
        fix.text,
        format!(
            "add UNTRACKED to `-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT` \
             ({SEED_BROKEN_NAME}:15):\n-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"
        )
    );
    assert_eq!(
        g.headline(),
        "3 connections to tcp/80 that were accepted are now dropped, by filter INPUT rule 6 \
         (REJECT); they are UNTRACKED and no rule accepts UNTRACKED; add UNTRACKED to filter \
         INPUT rule 1"
    );
    let ex: Vec<String> = g.examples.iter().map(|e| e.describe()).collect();
    assert_eq!(
        ex,
        [
            "10.99.1.100:41000 > 10.99.1.1:80",
            "10.99.1.101:42000 > 10.99.1.1:80",
            "10.99.1.102:43000 > 10.99.1.1:80"
        ]
    );

    let text = r.render_text("A", "B");
    assert!(text.contains(&g.headline()), "{text}");
    assert!(
        text.contains("-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"),
        "{text}"
    );
    let json = r.render_json("A", "B");
    assert!(
        json.starts_with("{\"a\":\"A\",\"b\":\"B\",\"packets\":18,"),
        "{json}"
    );
    assert!(
        json.contains("\"service\":\"tcp/80\",\"family\":\"ipv4\",\"connections\":3,"),
        "{json}"
    );
    assert!(
        json.contains("\"fix\":{\"check\":\"CT001\",\"chain\":\"filter INPUT\",\"rule\":1,"),
        "{json}"
    );
}

#[test]
fn the_same_configuration_twice_differs_nowhere() {
    let scn = Scenario::parse("seed-traffic", SEED_TRAFFIC).unwrap();
    let b = config(load(SEED_BROKEN, SEED_BROKEN_NAME), "10.99.1.1");
    let mut d = Diff::new(&b, &b, &[]).unwrap();
    for p in &scn.packets {
        d.packet(
            Instant::from_secs_f64(p.time),
            LinkType::Ethernet,
            None,
            &p.frame,
        );
    }
    let r = d.finish();
    assert_eq!((r.connections, r.differing), (5, 0));
    assert!(r.groups.is_empty());
    assert!(
        r.render_text("A", "B")
            .contains("no connection fares differently")
    );
}

#[test]
fn the_fix_applied_is_accepted_again_but_untracked() {
    // B against the seed's fixed file: port 80 is accepted under both, tracked under A only.
    let scn = Scenario::parse("seed-traffic", SEED_TRAFFIC).unwrap();
    let fixed = include_str!("../../../conformance/rules/rules-seed-notrack-fixed.rules");
    let a = config(
        load(&without_raw(SEED_BROKEN), "centos-filter.rules"),
        "10.99.1.1",
    );
    let b = config(load(fixed, "fixed.rules"), "10.99.1.1");
    let mut d = Diff::new(&a, &b, &[]).unwrap();
    for p in &scn.packets {
        d.packet(
            Instant::from_secs_f64(p.time),
            LinkType::Ethernet,
            None,
            &p.frame,
        );
    }
    let r = d.finish();
    assert_eq!(r.differing, 3, "{r:#?}");
    let g = &r.groups[0];
    assert_eq!((g.a.fate, g.b.fate), (Fate::Accepted, Fate::Accepted));
    assert_eq!(g.b.tracking, Tracking::Untracked);
    assert!(g.fix.is_none());
    assert_eq!(
        g.headline(),
        "3 connections to tcp/80 that were tracked are now UNTRACKED (accepted under both, by \
         filter INPUT rule 1 (ACCEPT))"
    );
}

/// Classic pcap records (the fixture is little-endian, microseconds, Ethernet).
fn pcap_records(bytes: &[u8]) -> Vec<(Instant, &[u8])> {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
        1,
        "Ethernet"
    );
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let word = |o: usize| u32::from_le_bytes(bytes[at + o..at + o + 4].try_into().unwrap());
        let (sec, usec, incl) = (word(0), word(4), word(8) as usize);
        let data = &bytes[at + 16..at + 16 + incl];
        out.push((
            Instant::from_nanos(u64::from(sec) * 1_000_000_000 + u64::from(usec) * 1000),
            data,
        ));
        at += 16 + incl;
    }
    out
}

#[test]
fn a_real_capture_accept_all_against_notrack_without_untracked() {
    let bytes = include_bytes!("../../capture/tests/data/http.pcap");
    let records = pcap_records(bytes);
    assert_eq!(records.len(), 24);
    let a = config(RuleSet::new(Family::V4), "127.0.0.1");
    let b = config(
        load(
            include_str!("data/http-notrack-8080.rules"),
            "http-notrack-8080.rules",
        ),
        "127.0.0.1",
    );
    let mut d = Diff::new(&a, &b, &[]).unwrap();
    for (t, frame) in &records {
        d.packet(*t, LinkType::Ethernet, None, frame);
    }
    let r = d.finish();
    assert_eq!(
        (r.packets, r.connections, r.differing),
        (24, 2, 2),
        "{r:#?}"
    );
    assert_eq!(r.groups.len(), 1, "{r:#?}");
    let g = &r.groups[0];
    assert_eq!(g.connections, 2);
    assert_eq!(g.service, (6, 8080));
    assert_eq!(
        (g.a.fate, g.a.tracking),
        (Fate::Accepted, Tracking::Tracked)
    );
    assert_eq!(g.a.rule_text, "no rule (ACCEPT policies)");
    // The client's packets stay tracked (its SYN is NEW at OUTPUT); the server's, from port
    // 8080, are NOTRACKed in raw OUTPUT and meet OUTPUT's DROP policy.
    assert_eq!((g.b.fate, g.b.tracking), (Fate::Dropped, Tracking::Partly));
    assert_eq!(g.b.rule_text, "filter OUTPUT policy DROP");
    assert!(g.b.dropped_untracked);
    let fix = g.fix.as_ref().expect("CT001 for raw OUTPUT's NOTRACK");
    assert_eq!(fix.chain, "filter OUTPUT");
    assert_eq!(fix.rule, Some(1));
    assert_eq!(fix.notrack.as_deref(), Some("raw OUTPUT rule 1"));
    assert!(
        fix.text
            .ends_with("\n-A OUTPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"),
        "{}",
        fix.text
    );
    assert_eq!(
        g.headline(),
        "2 connections to tcp/8080 that were accepted are now dropped, by filter OUTPUT policy \
         DROP; the packets dropped are UNTRACKED and no rule accepts UNTRACKED; add UNTRACKED to \
         filter OUTPUT rule 1"
    );
    for e in &g.examples {
        assert!(e.describe().ends_with(" > 127.0.0.1:8080"), "{e:?}");
    }
}
