//! Golden files: write → parse → write is the identity, and malformed goldens are refused.

use ctguard_scenario::{CtState, Emit, Golden, PacketRecord, ProcMode, RunRecord, Tally, Verdict};

fn sample() -> Golden {
    Golden {
        kernel: "6.18.44-test".into(),
        scenario: "tcp-close-client".into(),
        proc_mode: ProcMode::Each,
        packets: vec![
            PacketRecord {
                index: 0,
                time: 0.0,
                text: "c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000".into(),
                verdict: Verdict::Accept,
                ctstate: Some(CtState::New),
                table: Some(vec![
                    "ipv4     2 tcp      6 119 SYN_SENT src=10.99.1.100 dst=10.99.2.100 sport=41000 dport=80 [UNREPLIED] src=10.99.2.100 dst=10.99.1.100 sport=80 dport=41000 mark=0 use=1".into(),
                ]),
                log: vec![],
                emit: vec![],
            },
            PacketRecord {
                index: 1,
                time: 0.05,
                text: "c udp 10.99.1.100:5000 > 10.99.2.100:53 len=100 frag=64 [fragment 1/2 offset=0 MF]".into(),
                verdict: Verdict::Held,
                ctstate: None,
                table: Some(vec![]),
                log: vec!["nf_ct_proto_6: invalid packet ignored in state SYN_SENT IN=rtr-s OUT= SRC=10.99.2.100".into()],
                emit: vec![],
            },
        ],
        counters4: vec![],
        counters6: vec![],
        runs: vec![RunRecord {
            run: 1,
            stats: vec![("found".into(), 0), ("invalid".into(), 1), ("drop".into(), 0)],
            tally: Tally { accept: 1, drop: 0, held: 1, entries: 1 },
        }],
    }
}

#[test]
fn round_trips() {
    let golden = sample();
    let text = golden.write();
    let parsed = Golden::parse(&text).unwrap();
    assert_eq!(parsed, golden);
    assert_eq!(parsed.write(), text);
    assert!(text.starts_with("# recorded by ctguard-record on Linux 6.18.44-test; do not edit\n"));
    assert!(text.contains("\nentries 0\n"));
    assert_eq!(parsed.runs[0].stat("invalid"), Some(1));
}

/// A golden with the pipeline's additions: emitted packets and the rule counters.
fn with_rules() -> Golden {
    let mut golden = sample();
    golden.packets[0].emit = vec![
        Emit {
            interface: "rtr-c".into(),
            packet: "icmp 10.99.1.1 > 10.99.1.100 unreach code=10 len=28 ttl=64 tos=0xc0 iplen=56 quote=[tcp 10.99.1.100:41000 > 10.99.1.1:80 seq=1000 ttl=64 df iplen=40 cut=28]".into(),
        },
        Emit {
            interface: "rtr-s".into(),
            packet: "tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 ack=0 win=64240 len=0 ttl=63 df iplen=40".into(),
        },
    ];
    golden.counters4 = vec![
        "*filter".into(),
        ":INPUT ACCEPT [3:120]".into(),
        "[1:60] -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT".into(),
        "COMMIT".into(),
    ];
    golden.counters6 = vec!["*filter".into(), "COMMIT".into()];
    golden
}

#[test]
fn round_trips_emits_and_counters() {
    let golden = with_rules();
    let text = golden.write();
    assert!(text.contains("\nemit rtr-c icmp 10.99.1.1 > 10.99.1.100 unreach"));
    assert!(text.contains("\n\ncounters4 *filter\ncounters4 :INPUT ACCEPT [3:120]\n"));
    assert!(text.contains("counters6 COMMIT\n\nstats run=1"));
    let parsed = Golden::parse(&text).unwrap();
    assert_eq!(parsed, golden);
    assert_eq!(parsed.write(), text);
    // Without them, nothing changes in the text.
    assert!(!sample().write().contains("emit"));
    assert!(!sample().write().contains("counters"));
    for bad in ["emit rtr-c", "emit", "emit  x"] {
        let broken = text.replacen("verdict ACCEPT", &format!("verdict ACCEPT\n{bad}"), 1);
        assert!(Golden::parse(&broken).is_err(), "{bad}");
    }
}

#[test]
fn proc_final_omits_tables() {
    let mut golden = sample();
    golden.proc_mode = ProcMode::Final;
    golden.packets[0].table = None;
    let text = golden.write();
    assert!(text.contains("snapshots final"));
    assert_eq!(Golden::parse(&text).unwrap(), golden);
}

#[test]
fn refuses_malformed_goldens() {
    let good = sample().write();
    for (from, to, words) in [
        ("verdict ACCEPT", "verdict MAYBE", "verdict"),
        ("ctstate NEW", "ctstate OLD", "ctstate"),
        ("packet 1 ", "packet 7 ", "out of order"),
        ("t=0.050", "t=soon", "t=SECONDS"),
        ("entries 1", "entries 2", "entries"),
        ("entries 1\n", "", "without `entries`"),
        ("stats run=1", "stats", "run=N"),
        ("found=0", "found=x", "KEY=NUMBER"),
        ("tally run=1 accept=1", "tally run=1 bogus=1", "tally key"),
        (
            "scenario tcp-close-client",
            "scenery x",
            "unknown golden line",
        ),
    ] {
        let bad = good.replacen(from, to, 1);
        assert_ne!(bad, good, "{from}");
        let err = Golden::parse(&bad).unwrap_err();
        assert!(err.to_string().contains(words), "{from} → {to}: {err}");
    }
}

#[test]
fn arbitrary_lines_never_panic() {
    let good = with_rules().write();
    let lines: Vec<&str> = good.lines().collect();
    for cut in 0..lines.len() {
        for junk in [
            "",
            "proc x",
            "packet",
            "stats run=",
            "entries 99999999999999999999",
            "log",
            "emit",
            "emit x",
            "counters4",
            "counters6 [0:0] x",
        ] {
            let mut mutated: Vec<&str> = lines.clone();
            mutated.insert(cut, junk);
            let _ = Golden::parse(&mutated.join("\n"));
            let _ = Golden::parse(&lines[..cut].join("\n"));
        }
    }
}
