//! `ctguard bench` as a quick smoke run: every workload runs at a small size, checks its own
//! verdicts (a workload whose packets are not tracked as intended fails rather than
//! reporting a fast figure), and reports in text and JSON.

use std::process::Command;

fn bench(args: &[&str]) -> (bool, String, String) {
    let scratch = std::env::temp_dir().join(format!("ctguard-bench-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_ctguard"))
        .arg("bench")
        .args(args)
        .env("TMPDIR", &scratch)
        .output()
        .expect("ctguard runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_field(line: &str, key: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {line}"))
}

#[test]
fn every_workload_runs_small_and_reports_json() {
    let runs: &[&[&str]] = &[
        &["ovs-udp-1flow", "--packets", "2000", "--batch", "32"],
        &["ovs-udp-1flow", "--packets", "2000", "--threads", "2"],
        &["tcp-lifecycle", "--conns", "300"],
        &["established-1m", "--conns", "2000", "--packets", "5000"],
        &[
            "established-1m",
            "--conns",
            "2000",
            "--packets",
            "5000",
            "--threads",
            "2",
        ],
        &["syn-flood", "--conns", "1024", "--packets", "3000"],
        &["ruleset-10", "--packets", "3000"],
        &["ruleset-1000", "--packets", "3000"],
        &["replay", "--conns", "200"],
    ];
    for args in runs {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let (ok, out, err) = bench(&with_json);
        assert!(ok, "{args:?}: {err}");
        let line = out.lines().next().expect("a line");
        assert!(json_field(line, "packets") > 0.0, "{line}");
        assert!(json_field(line, "mpps") > 0.0, "{line}");
        assert!(json_field(line, "ns_per_packet") > 0.0, "{line}");
    }
}

#[test]
fn the_workloads_count_what_they_say() {
    let (ok, out, err) = bench(&["tcp-lifecycle", "--conns", "300", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(
        json_field(&out, "packets"),
        3000.0,
        "ten packets a connection"
    );
    assert_eq!(
        json_field(&out, "entries"),
        300.0,
        "every connection stays (TIME_WAIT)"
    );
    let (ok, out, err) = bench(&[
        "ovs-udp-1flow",
        "--packets",
        "1000",
        "--threads",
        "2",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        json_field(&out, "packets"),
        2000.0,
        "N per thread, as OVS counts"
    );
    assert_eq!(json_field(&out, "entries"), 2.0, "one flow per thread");
    let (ok, out, err) = bench(&[
        "established-1m",
        "--conns",
        "3000",
        "--packets",
        "100",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(json_field(&out, "entries"), 3000.0);
    assert!(json_field(&out, "bytes_per_conn") > 0.0, "{out}");
    let (ok, out, err) = bench(&[
        "syn-flood",
        "--conns",
        "1024",
        "--packets",
        "2000",
        "--json",
    ]);
    assert!(ok, "{err}");
    // Every spoofed SYN finds the table full; each either evicts (possibly several) or is
    // dropped, so the table stays at or just under its size.
    let entries = json_field(&out, "entries");
    assert!((900.0..=1024.0).contains(&entries), "{out}");
}

#[test]
fn unknown_workloads_are_named() {
    let (ok, _, err) = bench(&["nosuch"]);
    assert!(!ok);
    assert!(err.contains("unknown workload `nosuch'"), "{err}");
}
