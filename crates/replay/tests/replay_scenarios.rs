//! Replay end to end on the demo's packets (a web server whose small table fills under a
//! spoofed SYN flood): the summary says when it filled, what it dropped and what it would
//! have needed, and the per-packet verdicts are the pipeline's.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl};
use ctguard_replay::{Config, Replayer, capacity, json};
use ctguard_scenario::Scenario;

const DEMO: &str = include_str!("../../cli/src/demo.scn");

fn config() -> (Scenario, Config) {
    let scn = Scenario::parse("demo", DEMO).expect("demo parses");
    let mut sysctl = Sysctl::default();
    for (k, v) in scn.global_sysctl.iter().chain(&scn.sysctl) {
        sysctl.set(k, v).unwrap();
    }
    (scn, Config::new(sysctl))
}

fn run(scn: &Scenario, cfg: &Config) -> (Replayer, Vec<String>) {
    let mut r = Replayer::new(cfg, &[]).expect("tracking on");
    let mut lines = Vec::new();
    for p in &scn.packets {
        let v = r.packet(
            Instant::from_secs_f64(p.time),
            LinkType::Ethernet,
            None,
            &p.frame,
            true,
        );
        lines.push(json::verdict_line(&v));
    }
    (r, lines)
}

#[test]
fn the_flood_fills_the_table_and_the_summary_says_so() {
    let (scn, cfg) = config();
    let (r, lines) = run(&scn, &cfg);
    let s = r.summary();
    assert_eq!(s.packets as usize, scn.packets.len());
    assert_eq!(s.peak, 16, "nf_conntrack_max=16 in the demo");
    assert!(s.first_full.is_some());
    assert_eq!(s.full_drops, 9, "the demo's conntrack -S drop=9");
    assert_eq!(s.full_dropped_conns, 9);
    let snap = s
        .at_first_full
        .as_ref()
        .expect("snapshot at the first table-full");
    assert_eq!(snap.entries, 16);
    assert!(
        snap.by_state.contains_key("tcp SYN_SENT"),
        "{:?}",
        snap.by_state
    );
    let text = s.render();
    assert!(text.contains("table FULL first at"), "{text}");
    assert!(text.contains("9 packets dropped (9 connections)"), "{text}");
    assert!(
        lines[0].starts_with("{\"index\":0,\"time\":"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(
            "\"verdict\":\"ACCEPT\",\"ctstate\":\"NEW\",\"conntrack\":\"ipv4     2 tcp      6 "
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"verdict\":\"DROP\",\"ctstate\":null,\"conntrack\":null"))
    );
}

#[test]
fn capacity_answer_is_the_unlimited_runs_peak() {
    let (scn, mut cfg) = config();
    cfg.sysctl = capacity::unlimited(&cfg.sysctl);
    let (r, _) = run(&scn, &cfg);
    let s = r.summary();
    assert_eq!(s.full_drops, 0, "no limit, no drops");
    let (max, buckets) = capacity::needed(s.peak);
    assert!(max > 16, "the demo needed more than its 16: {max}");
    // With exactly that max, the same capture drops nothing.
    let (scn, mut cfg) = config();
    cfg.sysctl.max = max;
    let (r, _) = run(&scn, &cfg);
    assert_eq!(r.summary().full_drops, 0);
    assert_eq!(r.summary().peak, max);
    assert_eq!(buckets % 512, 0);
    // One less and something is dropped.
    let (scn, mut cfg) = config();
    cfg.sysctl.max = max - 1;
    let (r, _) = run(&scn, &cfg);
    assert!(r.summary().full_drops > 0);
}

#[test]
fn local_addresses_decide_the_path() {
    let (scn, mut cfg) = config();
    cfg.local = vec!["10.99.2.100".parse().unwrap()];
    let mut r = Replayer::new(&cfg, &[]).unwrap();
    let p = &scn.packets[0];
    let v = r.packet(
        Instant::from_secs_f64(p.time),
        LinkType::Ethernet,
        None,
        &p.frame,
        false,
    );
    assert_eq!(
        v.decision.path,
        Some(ctguard_netfilter::pipeline::Path::Input)
    );
}
