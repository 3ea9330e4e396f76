//! The command line as a user runs it.

use std::process::Command;

fn ctguard(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ctguard"))
        .args(args)
        .output()
        .expect("ctguard runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_shows_the_table_filling_and_the_client_surviving() {
    let (code, out, _) = ctguard(&["demo"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("kernel: nf_conntrack: table full, dropping packet"),
        "{out}"
    );
    // 16 entries at most, the established client among them, and drops counted.
    assert!(
        out.contains("/proc/net/nf_conntrack (16 entries):"),
        "{out}"
    );
    assert!(
        out.contains(" ESTABLISHED src=10.99.1.100 dst=10.99.2.100 sport=41000 dport=80 "),
        "{out}"
    );
    let stats = out
        .lines()
        .find(|l| l.starts_with("cpu=0"))
        .expect("conntrack -S line");
    assert!(stats.contains(" drop=9 "), "{stats}");
    // The client's packets after the flood are still tracked.
    assert!(
        out.lines()
            .any(|l| l.starts_with("#29 ") && l.contains("ACCEPT ESTABLISHED")),
        "{out}"
    );
}

#[test]
fn no_subcommand_runs_the_demo() {
    assert_eq!(ctguard(&[]).1, ctguard(&["demo"]).1);
}

#[test]
fn a_bad_scenario_names_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("ctguard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.scn");
    std::fs::write(&f, "c tcp 10.0.0.1:1 > 10.0.0.2:2 S\nc tcp nonsense\n").unwrap();
    let (code, _, err) = ctguard(&["demo", "--scenario", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.scn:2"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sysctl_lists_every_key_with_the_kernel_default() {
    let (code, out, _) = ctguard(&["sysctl"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 32);
    assert!(out.contains("net.netfilter.nf_conntrack_tcp_timeout_established = 432000\n"));
    assert!(out.contains("net.netfilter.nf_conntrack_max = 262144\n"));
}
