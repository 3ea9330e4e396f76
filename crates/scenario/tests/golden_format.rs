//! Golden files: write → parse → write is the identity, and malformed goldens are refused.

use ctguard_scenario::{CtState, Golden, PacketRecord, ProcMode, RunRecord, Tally, Verdict};

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
            },
            PacketRecord {
                index: 1,
                time: 0.05,
                text: "c udp 10.99.1.100:5000 > 10.99.2.100:53 len=100 frag=64 [fragment 1/2 offset=0 MF]".into(),
                verdict: Verdict::Held,
                ctstate: None,
                table: Some(vec![]),
                log: vec!["nf_ct_proto_6: invalid packet ignored in state SYN_SENT IN=rtr-s OUT= SRC=10.99.2.100".into()],
            },
        ],
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
    let good = sample().write();
    let lines: Vec<&str> = good.lines().collect();
    for cut in 0..lines.len() {
        for junk in [
            "",
            "proc x",
            "packet",
            "stats run=",
            "entries 99999999999999999999",
            "log",
        ] {
            let mut mutated: Vec<&str> = lines.clone();
            mutated.insert(cut, junk);
            let _ = Golden::parse(&mutated.join("\n"));
            let _ = Golden::parse(&lines[..cut].join("\n"));
        }
    }
}
