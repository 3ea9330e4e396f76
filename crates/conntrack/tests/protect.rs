//! The protect policy (`nf_conntrack_policy = protect`): its eviction order, its adaptive
//! timeouts and its per-source quota, on the engine, packet by packet. No kernel has this
//! policy, so these tests pin ctguard's own rules (see conntrack/src/protect/).

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::protect::{Eviction, ProtectStats};
use ctguard_conntrack::{
    Conntrack, CtState, DestroyReason, Event, LogLine, Reason, Sysctl, Verdict,
};

mod common;
use common::{at, frames};

/// A tracker under protect with `max` entries; `extra` are more sysctl settings.
fn protect(max: u32, extra: &[(&str, &str)]) -> Conntrack {
    let mut s = Sysctl {
        max,
        ..Sysctl::default()
    };
    s.set("net.netfilter.nf_conntrack_policy", "protect")
        .unwrap();
    for (k, v) in extra {
        s.set(k, v).unwrap();
    }
    Conntrack::new(s)
}

/// No adaptive timeouts (they shrink only past 999% of the max) and no quota: eviction alone.
const FIXED: [(&str, &str); 3] = [
    ("net.netfilter.nf_conntrack_protect_adaptive_start", "999"),
    ("net.netfilter.nf_conntrack_protect_adaptive_end", "1000"),
    ("net.netfilter.nf_conntrack_protect_source_quota", "0"),
];

fn syn(client: &str, sport: u16) -> String {
    format!("c tcp {client}:{sport} > 10.99.2.100:80 S seq=1000 win=64240\n")
}

fn handshake(client: &str, sport: u16) -> String {
    format!(
        "{}s tcp 10.99.2.100:80 > {client}:{sport} SA seq=5000 ack=1001 win=65160\n\
         c tcp {client}:{sport} > 10.99.2.100:80 A seq=1001 ack=5001 win=502\n",
        syn(client, sport)
    )
}

fn fin(client: &str, sport: u16) -> String {
    format!("c tcp {client}:{sport} > 10.99.2.100:80 FA seq=1001 ack=5001 win=502\n")
}

/// Plays `text` one packet per millisecond from `start`; returns the outcomes.
fn play(ct: &mut Conntrack, text: &str, start: f64) -> Vec<ctguard_conntrack::Outcome> {
    frames(text)
        .iter()
        .enumerate()
        .map(|(i, f)| ct.process(LinkType::Ethernet, f, at(start + i as f64 * 0.001)))
        .collect()
}

/// The source ports of the TCP entries in the table, sorted.
fn sports(ct: &mut Conntrack, now: f64) -> Vec<u16> {
    let mut v: Vec<u16> = ct
        .proc_lines(at(now))
        .iter()
        .filter_map(|l| {
            let s = l.split("sport=").nth(1)?;
            s.split(' ').next()?.parse().ok()
        })
        .collect();
    v.sort();
    v
}

fn evictions(ct: &mut Conntrack) -> Vec<(u16, DestroyReason)> {
    let mut v = Vec::new();
    while let Some(ev) = ct.poll_event() {
        if let Event::Destroyed { conn, reason, .. } = ev {
            v.push((conn.original().sport, reason));
        }
    }
    v
}

#[test]
fn the_least_recently_used_unassured_entry_goes_table_wide() {
    // 262144 buckets and 4 entries: the kernel's early drop (8 buckets) almost never finds a
    // victim, so the kernel policy drops the newcomers.
    let flood: String = (0..6).map(|i| syn("10.98.0.1", 1000 + i)).collect();
    let mut kernel = Conntrack::new(Sysctl {
        max: 4,
        ..Sysctl::default()
    });
    let out = play(&mut kernel, &flood, 1.0);
    assert_eq!(out[4].reason, Some(Reason::TableFull));
    assert_eq!(out[5].reason, Some(Reason::TableFull));

    let mut ct = protect(4, &FIXED);
    // 1000..1003 fill the table; 1000 then answers (it is used, so newest), so 1001 and 1002
    // are the two oldest when 1004 and 1005 come.
    let text = format!(
        "{}s tcp 10.99.2.100:80 > 10.98.0.1:1000 SA seq=5000 ack=1001 win=65160\n{}",
        (0..4)
            .map(|i| syn("10.98.0.1", 1000 + i))
            .collect::<String>(),
        (4..6)
            .map(|i| syn("10.98.0.1", 1000 + i))
            .collect::<String>()
    );
    let out = play(&mut ct, &text, 1.0);
    assert!(out.iter().all(|o| o.verdict == Verdict::Accept), "{out:?}");
    let gone = evictions(&mut ct);
    assert_eq!(
        gone,
        [
            (1001, DestroyReason::Protect(Eviction::Unassured)),
            (1002, DestroyReason::Protect(Eviction::Unassured)),
        ]
    );
    assert_eq!(sports(&mut ct, 1.1), [1000, 1003, 1004, 1005]);
    assert_eq!(ct.protect_stats().evicted_unassured, 2);
    assert_eq!(ct.stats().early_drop, 2, "evictions count as early drops");
    assert_eq!(ct.stats().drop, 0);
}

#[test]
fn closing_entries_go_only_when_no_unassured_one_is_left_and_assured_established_never() {
    let mut ct = protect(3, &FIXED);
    // 2000: ASSURED ESTABLISHED. 2001: ASSURED, then the client's FIN (FIN_WAIT: closing).
    // 2002: a lone SYN (unassured).
    let text = format!(
        "{}{}{}{}",
        handshake("10.98.0.1", 2000),
        handshake("10.98.0.1", 2001),
        fin("10.98.0.1", 2001),
        syn("10.98.0.1", 2002)
    );
    let out = play(&mut ct, &text, 1.0);
    assert!(out.iter().all(|o| o.verdict == Verdict::Accept));
    assert_eq!(ct.protect_lists(), Some((1, 1)));

    // Newcomers come at least a second after the entries they meet were last used, so the
    // handshake grace (see the next test) plays no part. Newcomer 1: the unassured SYN goes,
    // not the older closing entry.
    play(&mut ct, &syn("10.98.0.2", 3000), 3.0);
    assert_eq!(
        evictions(&mut ct),
        [(2002, DestroyReason::Protect(Eviction::Unassured))]
    );
    // Newcomer 2: 3000 is unassured and goes before the closing entry.
    play(&mut ct, &syn("10.98.0.2", 3001), 4.0);
    assert_eq!(
        evictions(&mut ct),
        [(3000, DestroyReason::Protect(Eviction::Unassured))]
    );
    // Newcomer 3 after 3001 became ASSURED ESTABLISHED: only the closing entry can go.
    let text = "s tcp 10.99.2.100:80 > 10.98.0.2:3001 SA seq=5000 ack=1001 win=65160\n\
                c tcp 10.98.0.2:3001 > 10.99.2.100:80 A seq=1001 ack=5001 win=502\n";
    play(&mut ct, text, 5.0);
    play(&mut ct, &syn("10.98.0.3", 4000), 6.0);
    assert_eq!(
        evictions(&mut ct),
        [(2001, DestroyReason::Protect(Eviction::Closing))]
    );
    // Newcomer 4 finds 4000 (unassured) to take.
    play(&mut ct, &syn("10.98.0.3", 4001), 7.0);
    assert_eq!(
        evictions(&mut ct),
        [(4000, DestroyReason::Protect(Eviction::Unassured))]
    );
    // Make 4001 assured: the table is all ASSURED ESTABLISHED, and a newcomer is dropped.
    let text = "s tcp 10.99.2.100:80 > 10.98.0.3:4001 SA seq=5000 ack=1001 win=65160\n\
                c tcp 10.98.0.3:4001 > 10.99.2.100:80 A seq=1001 ack=5001 win=502\n";
    play(&mut ct, text, 8.0);
    let out = play(&mut ct, &syn("10.98.0.4", 5000), 9.0);
    assert_eq!(out[0].reason, Some(Reason::TableFull));
    assert_eq!(evictions(&mut ct), []);
    assert_eq!(sports(&mut ct, 9.1), [2000, 3001, 4001]);
    assert_eq!(
        ct.protect_stats(),
        ProtectStats {
            evicted_unassured: 3,
            evicted_closing: 1,
            ..ProtectStats::default()
        }
    );
    assert_eq!(ct.stats().drop, 1);
}

#[test]
fn a_closing_entry_idle_for_a_second_goes_before_a_handshake_in_progress() {
    let mut ct = protect(3, &FIXED);
    // 10: ASSURED, then FIN_WAIT at about 1 s. 11 and 12: SYNs at 5 s.
    play(
        &mut ct,
        &format!("{}{}", handshake("10.98.0.1", 10), fin("10.98.0.1", 10)),
        1.0,
    );
    play(&mut ct, &syn("10.98.0.1", 11), 5.0);
    play(&mut ct, &syn("10.98.0.1", 12), 5.01);
    evictions(&mut ct);
    // 100 ms later the unassured head (11) is young and the closing entry (10) idle for 4 s:
    // the closing one goes.
    play(&mut ct, &syn("10.98.0.2", 13), 5.1);
    assert_eq!(
        evictions(&mut ct),
        [(10, DestroyReason::Protect(Eviction::Closing))]
    );
    // No closing entry left: the young unassured head goes after all.
    play(&mut ct, &syn("10.98.0.2", 14), 5.2);
    assert_eq!(
        evictions(&mut ct),
        [(11, DestroyReason::Protect(Eviction::Unassured))]
    );
    // A closing entry used within the second is young too: then the unassured one goes.
    let mut ct = protect(3, &FIXED);
    play(&mut ct, &handshake("10.98.0.1", 20), 1.0);
    play(&mut ct, &syn("10.98.0.1", 21), 5.0);
    play(&mut ct, &fin("10.98.0.1", 20), 5.05);
    play(&mut ct, &syn("10.98.0.2", 22), 5.1);
    evictions(&mut ct);
    play(&mut ct, &syn("10.98.0.2", 23), 5.2);
    assert_eq!(
        evictions(&mut ct),
        [(21, DestroyReason::Protect(Eviction::Unassured))]
    );
}

#[test]
fn expired_entries_go_before_any_live_one() {
    let mut ct = protect(2, &FIXED);
    // 6000: a SYN at 1 s (SYN_SENT, 120 s): the oldest. 6001: UDP at 2 s (30 s: expired at
    // 32 s) — newer, so the LRU alone would take 6000.
    play(&mut ct, &syn("10.98.0.1", 6000), 1.0);
    play(
        &mut ct,
        "c udp 10.98.0.1:6001 > 10.99.2.100:53 len=30\n",
        2.0,
    );
    // 40 s: before the collector's first run (60 s after the first packet).
    let out = play(&mut ct, &syn("10.98.0.2", 6002), 40.0);
    assert_eq!(out[0].verdict, Verdict::Accept);
    assert_eq!(
        evictions(&mut ct),
        [(6001, DestroyReason::Protect(Eviction::Expired))]
    );
    assert_eq!(sports(&mut ct, 40.1), [6000, 6002]);
    assert_eq!(ct.protect_stats().evicted_expired, 1);
    assert_eq!(
        ct.stats().early_drop,
        0,
        "a reaped entry is not an early drop"
    );
}

/// The remaining timeout /proc shows for the entry with source port `sport`.
fn timeout_of(ct: &mut Conntrack, sport: u16, now: f64) -> u64 {
    let lines = ct.proc_lines(at(now));
    let line = lines
        .iter()
        .find(|l| l.contains(&format!("sport={sport} ")))
        .unwrap_or_else(|| panic!("no entry {sport} in {lines:?}"));
    line.split_whitespace().nth(4).unwrap().parse().unwrap()
}

#[test]
fn adaptive_timeouts_shrink_unassured_and_closing_entries_linearly() {
    // max 10, start 50% (5 entries), end 100% (10).
    let mut ct = protect(
        10,
        &[
            ("net.netfilter.nf_conntrack_protect_adaptive_start", "50"),
            ("net.netfilter.nf_conntrack_protect_adaptive_end", "100"),
            ("net.netfilter.nf_conntrack_protect_source_quota", "0"),
        ],
    );
    // Four entries: below the start, a SYN keeps SYN_SENT's 120 s.
    play(&mut ct, &handshake("10.98.0.1", 7000), 1.0);
    play(&mut ct, &handshake("10.98.0.1", 7001), 1.1);
    play(&mut ct, &syn("10.98.0.1", 7002), 1.2);
    play(&mut ct, &syn("10.98.0.1", 7003), 1.3);
    assert_eq!(timeout_of(&mut ct, 7003, 1.3), 120);
    // Four more: the SYN of 7007 meets 7 entries: 120 * (10 - 7) / (10 - 5) = 72 s.
    for (i, p) in (7004..=7007).enumerate() {
        play(&mut ct, &syn("10.98.0.2", p), 2.0 + i as f64);
    }
    assert_eq!(timeout_of(&mut ct, 7007, 5.0), 72);
    // 7004 met 4 entries: 120 s; 7005 met 5 (the start itself): 120 s; 7006 met 6: 96 s.
    assert_eq!(timeout_of(&mut ct, 7004, 2.0), 120);
    assert_eq!(timeout_of(&mut ct, 7005, 3.0), 120);
    assert_eq!(timeout_of(&mut ct, 7006, 4.0), 96);
    // ASSURED ESTABLISHED keeps its 5 days whatever the fill.
    play(
        &mut ct,
        "c tcp 10.98.0.1:7000 > 10.99.2.100:80 A seq=1001 ack=5001 win=502\n",
        6.0,
    );
    assert_eq!(timeout_of(&mut ct, 7000, 6.0), 432_000);
    // A closing entry (FIN_WAIT, 120 s) shrinks like the unassured: 8 entries, 120 * 2 / 5.
    play(&mut ct, &fin("10.98.0.1", 7001), 7.0);
    assert_eq!(timeout_of(&mut ct, 7001, 7.0), 48);
}

#[test]
fn the_kernel_policy_keeps_the_kernels_timeouts() {
    let mut ct = Conntrack::new(Sysctl {
        max: 10,
        ..Sysctl::default()
    });
    for p in 0..9 {
        play(&mut ct, &syn("10.98.0.1", 7100 + p), 1.0 + f64::from(p));
    }
    assert_eq!(timeout_of(&mut ct, 7108, 9.0), 120);
    assert_eq!(ct.protect_lists(), None);
}

#[test]
fn one_source_prefix_cannot_hold_more_than_its_quota_of_unassured_entries() {
    // max 100, quota 5%: 5 unassured entries per /24.
    let mut ct = protect(
        100,
        &[("net.netfilter.nf_conntrack_protect_source_quota", "5")],
    );
    let text: String = (0..6)
        .map(|i| syn(&format!("10.98.7.{}", 1 + i), 8000))
        .collect();
    let out = play(&mut ct, &text, 1.0);
    assert!(out[..5].iter().all(|o| o.verdict == Verdict::Accept));
    assert_eq!(
        (out[5].verdict, out[5].reason.clone()),
        (Verdict::Drop, Some(Reason::SourceQuota))
    );
    // Another /24 is not affected.
    let out = play(&mut ct, &syn("10.98.8.1", 8000), 2.0);
    assert_eq!(out[0].ctstate, Some(CtState::New));
    // Once one of the five is ASSURED it no longer counts: room for one more.
    play(
        &mut ct,
        "s tcp 10.99.2.100:80 > 10.98.7.1:8000 SA seq=5000 ack=1001 win=65160\n\
         c tcp 10.98.7.1:8000 > 10.99.2.100:80 A seq=1001 ack=5001 win=502\n",
        3.0,
    );
    let out = play(&mut ct, &syn("10.98.7.99", 8001), 4.0);
    assert_eq!(out[0].verdict, Verdict::Accept);
    let out = play(&mut ct, &syn("10.98.7.100", 8002), 5.0);
    assert_eq!(out[0].reason, Some(Reason::SourceQuota));
    // An entry that leaves (here a RST kills it) frees its place too.
    play(
        &mut ct,
        "s tcp 10.99.2.100:80 > 10.98.7.2:8000 RA seq=0 ack=1001 win=0\n",
        6.0,
    );
    let out = play(&mut ct, &syn("10.98.7.101", 8003), 7.0);
    assert_eq!(out[0].verdict, Verdict::Accept);
    assert_eq!(ct.protect_stats().quota_drop, 2);
    let lines: Vec<String> = std::iter::from_fn(|| ct.poll_event())
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        lines[0],
        "ctguard protect: source 10.98.7.0/24 holds 5 unassured entries (quota 5), dropping packet"
    );
}

#[test]
fn evictions_are_logged_rate_limited() {
    let mut ct = protect(4, &FIXED);
    let text: String = (0..40).map(|i| syn("10.98.0.1", 9000 + i)).collect();
    play(&mut ct, &text, 1.0);
    let mut lines = Vec::new();
    while let Some(ev) = ct.poll_event() {
        if let Event::Log { line, .. } = ev {
            lines.push(line);
        }
    }
    assert_eq!(lines.len(), 10, "10 lines per 5 s, as net_ratelimit");
    assert_eq!(
        lines[0].to_string(),
        "ctguard protect: table full, evicted the least recently used unassured entry: tcp \
         src=10.98.0.1 dst=10.99.2.100 sport=9000 dport=80 SYN_SENT"
    );
    // The rest are counted when the window ends.
    play(&mut ct, &syn("10.98.0.1", 9999), 10.0);
    let next: Vec<String> = std::iter::from_fn(|| ct.poll_event())
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(next[0], "ctguard protect: 26 messages suppressed");
    assert!(matches!(lines[1], LogLine::Protect { .. }));
    assert_eq!(ct.protect_stats().evicted_unassured, 37);
}

#[test]
fn switching_the_policy_on_takes_in_the_entries_already_there() {
    let mut ct = Conntrack::new(Sysctl {
        max: 3,
        ..Sysctl::default()
    });
    play(&mut ct, &handshake("10.98.0.1", 100), 1.0);
    play(&mut ct, &syn("10.98.0.1", 101), 2.0);
    play(&mut ct, &syn("10.98.0.1", 102), 3.0);
    ct.set_sysctl("net.netfilter.nf_conntrack_protect_source_quota", "0")
        .unwrap();
    ct.set_sysctl("net.netfilter.nf_conntrack_policy", "protect")
        .unwrap();
    assert_eq!(ct.protect_lists(), Some((2, 0)));
    let out = play(&mut ct, &syn("10.98.0.2", 103), 4.0);
    assert_eq!(out[0].verdict, Verdict::Accept);
    let gone = evictions(&mut ct);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].1, DestroyReason::Protect(Eviction::Unassured));
    ct.set_sysctl("net.netfilter.nf_conntrack_policy", "kernel")
        .unwrap();
    assert_eq!(ct.protect_lists(), None);
}
