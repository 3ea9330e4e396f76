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
    let scn = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo.scn");
    let (code, out, _) = ctguard(&["demo", "--scenario", scn]);
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
fn demo_tells_the_seeds_story_in_five_rows() {
    let dir = std::env::temp_dir().join(format!("ctguard-cli-{}-demo", std::process::id()));
    let (code, out, err) = ctguard(&["demo", "--scale", "64", "--plots", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let row = |n: &str| {
        out.lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("row {n}: {out}"))
            .split_whitespace()
            .rev()
            .take(7)
            .collect::<Vec<_>>()
    };
    // Columns from the right: legit total, "/", legit completed, table-full, max, "/", peak.
    let legit = |r: &[&str]| (r[2].parse::<u32>().unwrap(), r[0].parse::<u32>().unwrap());
    let defaults = row("1 defaults");
    let (ok, all) = legit(&defaults);
    assert!(
        ok < all,
        "defaults: the full table turns legitimate clients away: {out}"
    );
    assert!(
        defaults[3].parse::<u64>().unwrap() > 0,
        "table-full drops: {out}"
    );
    let fix1 = row("2 fix 1");
    assert_eq!(
        legit(&fix1).0,
        legit(&fix1).1,
        "fix 1 serves everyone: {out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("3 fix 2") && l.ends_with("rules refused"))
    );
    assert!(
        out.contains("filter INPUT rule 1 uses state match (xt_state), which needs nf_conntrack")
    );
    assert_eq!(
        legit(&row("4 fix 3")).0,
        0,
        "no UNTRACKED rule: the site dies: {out}"
    );
    let fixed = row("5 fix 3");
    assert_eq!(legit(&fixed).0, legit(&fixed).1, "{out}");
    assert_eq!(fixed[6], "0", "port 80 never enters the table: {out}");
    for i in 1..=5 {
        if i == 3 {
            continue;
        }
        let svg = std::fs::read_to_string(dir.join(format!("demo-{i}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"));
    }
    std::fs::remove_dir_all(&dir).ok();
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
    let (kernel, ours) = out
        .split_once("# ctguard's own")
        .expect("ctguard's keys apart");
    assert_eq!(kernel.lines().count(), 32);
    assert!(kernel.contains("net.netfilter.nf_conntrack_tcp_timeout_established = 432000\n"));
    assert!(kernel.contains("net.netfilter.nf_conntrack_max = 262144\n"));
    assert!(ours.contains("net.netfilter.nf_conntrack_policy = kernel\n"));
    assert_eq!(ours.lines().count(), 5);
}

#[test]
fn sysctl_reads_the_protect_policy_from_a_file_and_refuses_a_bad_one() {
    let f = temp_file(
        "protect.conf",
        "net.netfilter.nf_conntrack_policy = protect\n\
         net.netfilter.nf_conntrack_protect_adaptive_start = 70\n",
    );
    let (code, out, err) = ctguard(&["sysctl", "--conf", &f]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("net.netfilter.nf_conntrack_policy = protect\n"));
    assert!(out.contains("net.netfilter.nf_conntrack_protect_adaptive_start = 70\n"));
    assert!(
        err.contains("protect.conf:1: notice: net.netfilter.nf_conntrack_policy is ctguard's own"),
        "{err}"
    );
    let bad = temp_file(
        "bad-protect.conf",
        "net.netfilter.nf_conntrack_policy = strict\n\
         net.netfilter.nf_conntrack_protect_adaptive_end = 50\n",
    );
    let (code, _, err) = ctguard(&["sysctl", "--conf", &bad]);
    assert_ne!(code, 0);
    assert!(
        err.contains("bad-protect.conf:1: error: bad value \"strict\"")
            && err.contains("kernel or protect"),
        "{err}"
    );
    assert!(
        err.contains("bad-protect.conf:2: error:") && err.contains("must be below"),
        "{err}"
    );
}

/// A file in a directory of its own per test process and file name: tests run in parallel
/// and one of them removes its directory.
fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ctguard-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

/// The seed's raw-table lines, as its README gives them, plus the fixed INPUT rule.
const SEED_SCRIPT: &str = "# packets coming in to this host
/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
# packets going out of this host
/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
/sbin/iptables -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT
";

#[test]
fn check_loads_the_seeds_script_and_prints_it_as_iptables_save() {
    let f = temp_file("seed.sh", SEED_SCRIPT);
    let (code, out, _) = ctguard(&["check", "--rules", &f, "--save"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("[0:0] -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK\n"),
        "{out}"
    );
    assert!(
        out.contains("[0:0] -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n"),
        "{out}"
    );
}

#[test]
fn check_refuses_a_raw_rule_on_input_naming_the_line() {
    let f = temp_file(
        "bad.rules",
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A INPUT -j NOTRACK\nCOMMIT\n",
    );
    let (code, out, err) = ctguard(&["check", "--rules", &f, "--save"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "nothing applied: {out}");
    assert!(err.contains("bad.rules:3: error:"), "{err}");
    assert!(
        err.contains("chain INPUT does not exist in table raw"),
        "{err}"
    );
}

#[test]
fn without_conntrack_every_rule_that_needs_it_is_named() {
    let f = temp_file("seed2.sh", SEED_SCRIPT);
    let (code, _, err) = ctguard(&["check", "--rules", &f, "--no-conntrack"]);
    assert_eq!(code, 2);
    let named: Vec<&str> = err.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(named.len(), 5, "{err}");
    assert!(
        err.contains("seed2.sh:7: error: filter INPUT rule 1 uses state match (xt_state), which needs nf_conntrack"),
        "{err}"
    );
    let stateless = temp_file(
        "plain.rules",
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
    );
    assert_eq!(
        ctguard(&["check", "--rules", &stateless, "--no-conntrack"]).0,
        0
    );
}

#[test]
fn modules_lists_nf_conntrack_and_its_users() {
    let f = temp_file("seed3.sh", SEED_SCRIPT);
    let (code, out, _) = ctguard(&["modules", "--rules", &f]);
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.starts_with("nf_conntrack "))
        .expect("nf_conntrack listed");
    assert!(line.ends_with("2 xt_NOTRACK,xt_state"), "{line}");
    assert!(
        out.contains("seed3.sh:7: filter INPUT rule 1: state match (xt_state)"),
        "{out}"
    );
}

#[test]
fn sysctl_conf_with_the_seeds_legacy_names() {
    let f = temp_file(
        "sysctl.conf",
        "net.ipv4.ip_conntrack_max = 393216\nnet.ipv4.netfilter.ip_conntrack_tcp_timeout_established = 300\n",
    );
    let (code, out, err) = ctguard(&["sysctl", "--conf", &f]);
    assert_eq!(code, 0);
    assert!(
        out.contains("net.netfilter.nf_conntrack_max = 393216\n"),
        "{out}"
    );
    assert!(
        out.contains("net.netfilter.nf_conntrack_tcp_timeout_established = 300\n"),
        "{out}"
    );
    assert!(
        err.contains("sysctl.conf:1: notice: net.ipv4.ip_conntrack_max is the pre-2.6.25 name"),
        "{err}"
    );
    let bad = temp_file("bad.conf", "net.netfilter.nf_conntrack_max = lots\n");
    let (code, _, err) = ctguard(&["sysctl", "--conf", &bad]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.conf:1: error:"), "{err}");
}

#[test]
fn demo_runs_a_rule_set_scenario_through_the_pipeline() {
    let scn = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/scenarios/rules-seed-notrack-broken.scn"
    );
    let (code, out, err) = ctguard(&["demo", "--scenario", scn]);
    assert_eq!(code, 0, "{err}");
    // The seed's incident: the web request dies with the final REJECT rule's reply.
    let first = out
        .lines()
        .find(|l| l.starts_with("#0 "))
        .expect("packet 0");
    assert!(
        first.contains("DROP   UNTRACKED") && first.ends_with("[filter INPUT 6]"),
        "{first}"
    );
    assert!(
        out.contains("sent on rtr-c: icmp 10.99.1.1 > 10.99.1.100 unreach code=10"),
        "{out}"
    );
    assert!(out.contains("iptables-save -c:"), "{out}");
    assert!(
        !out.lines()
            .any(|l| l.starts_with("ipv4") && l.contains("dport=80 ")),
        "port 80 never enters the table: {out}"
    );
}

#[test]
fn lint_finds_the_seeds_outage_and_exits_1() {
    let broken = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/rules/rules-seed-notrack-broken.rules"
    );
    let (code, out, _) = ctguard(&["lint", "--rules", broken]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rules-seed-notrack-broken.rules:6: error[CT001]"),
        "{out}"
    );
    assert!(
        out.contains("-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"),
        "{out}"
    );
    let (code, json, _) = ctguard(&["lint", "--rules", broken, "--format", "json"]);
    assert_eq!(code, 1);
    assert!(json.trim_start().starts_with('['), "{json}");
    assert!(json.contains("\"code\": \"CT001\""), "{json}");
    let fixed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/rules/rules-seed-notrack-fixed.rules"
    );
    assert_eq!(ctguard(&["lint", "--rules", fixed]).0, 0);
    let legacy = temp_file(
        "legacy.conf",
        "net.ipv4.netfilter.ip_conntrack_max = 393216\n",
    );
    let (code, out, _) = ctguard(&["lint", "--sysctl", &legacy]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning[CT005]"), "{out}");
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../capture/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn replay_of_a_real_http_capture() {
    let dir = std::env::temp_dir().join(format!("ctguard-cli-{}-replay", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let verdicts = dir.join("v.jsonl");
    let (code, out, err) = ctguard(&[
        "replay",
        &fixture("http.pcapng"),
        "--local",
        "127.0.0.1",
        "--verdicts",
        verdicts.to_str().unwrap(),
        "--dump-conntrack",
        "-",
        "--stats",
    ]);
    assert_eq!(code, 0, "{err}");
    // curl fetched twice: two connections, both closed and in TIME_WAIT at the end.
    let table: Vec<&str> = out.lines().filter(|l| l.starts_with("ipv4 ")).collect();
    assert_eq!(table.len(), 2, "{out}");
    assert!(
        table
            .iter()
            .all(|l| l.contains(" TIME_WAIT ") && l.contains("dport=8080 "))
    );
    assert!(out.contains("cpu=0   \tfound=0 invalid=0 "), "{out}");
    // The summary goes to stderr when stdout carries the table.
    assert!(err.contains("2 new connections"), "{err}");
    let lines = std::fs::read_to_string(&verdicts).unwrap();
    let first = lines.lines().next().unwrap();
    assert!(
        first.starts_with("{\"index\":0,\"time\":1795554732.")
            && first.contains("\"verdict\":\"ACCEPT\",\"ctstate\":\"NEW\"")
            && first.ends_with("\"rule\":null}"),
        "{first}"
    );
    assert_eq!(lines.lines().count(), 24);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_names_the_byte_offset_of_a_truncated_capture() {
    let bytes = std::fs::read(fixture("http.pcap")).unwrap();
    let f = temp_file("cut.pcap", "");
    std::fs::write(&f, &bytes[..300]).unwrap();
    let (code, out, err) = ctguard(&["replay", &f]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("cut.pcap: byte 286: truncated packet record header"),
        "{err}"
    );
}

#[test]
fn replay_json_summary_and_plot() {
    let plot = temp_file("p.svg", "");
    let (code, out, err) = ctguard(&[
        "replay",
        &fixture("dns.pcap"),
        "--json",
        "-",
        "--plot",
        &plot,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("{\"packets\":4,"), "{out}");
    assert!(
        out.contains("\"top_services\":[{\"service\":\"udp/53\",\"new\":2}]"),
        "{out}"
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("nf_conntrack_max"),
        "{svg}"
    );
}

#[test]
fn diff_names_the_untracked_drop_and_its_fix_on_a_real_capture() {
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../replay/tests/data/http-notrack-8080.rules"
    );
    let (code, out, err) = ctguard(&[
        "diff",
        &fixture("http.pcap"),
        "--local",
        "127.0.0.1",
        "--against-rules",
        rules,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("2 connections to tcp/8080 that were accepted are now dropped, by filter OUTPUT policy DROP"),
        "{out}"
    );
    assert!(
        out.contains("add UNTRACKED to filter OUTPUT rule 1"),
        "{out}"
    );
}

#[test]
fn simulate_writes_a_pcap_that_replay_reads_the_same() {
    let profile = temp_file(
        "small.toml",
        "duration = 5\nseed = 3\n[host]\naddress = \"10.0.0.1\"\n\
         [[traffic]]\nkind = \"web\"\nrate = 4\nport = 80\n",
    );
    let pcap = temp_file("small.pcap", "");
    let (code, out, err) = ctguard(&["simulate", &profile, "--write-pcap", &pcap, "--json", "-"]);
    assert_eq!(code, 0, "{err}");
    let (code2, out2, err2) = ctguard(&["replay", &pcap, "--local", "10.0.0.1", "--json", "-"]);
    assert_eq!(code2, 0, "{err2}");
    // The same packets give the same table story (simulate adds its traffic section).
    let key = |s: &str, k: &str| {
        s.split(&format!("\"{k}\":"))
            .nth(1)
            .map(|v| v.split(',').next().unwrap().to_string())
    };
    for k in ["packets", "accepted", "peak_entries", "new_connections"] {
        assert_eq!(key(&out, k), key(&out2, k), "{k}: {out} vs {out2}");
    }
    assert!(key(&out, "packets").unwrap().parse::<u32>().unwrap() > 0);
    let bad = temp_file(
        "bad.toml",
        "duration = 5\n[[traffic]]\nkind = \"web\"\nrat = 4\n",
    );
    let (code, _, err) = ctguard(&["simulate", &bad]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:4:"), "{err}");
}

#[test]
fn replay_plots_png_too() {
    let png = temp_file("p.png", "");
    let (code, _, err) = ctguard(&[
        "replay",
        &fixture("dns.pcap"),
        "--plot",
        &png,
        "--no-capacity",
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let bad = temp_file("p.gif", "");
    let (code, _, err) = ctguard(&[
        "replay",
        &fixture("dns.pcap"),
        "--plot",
        &bad,
        "--no-capacity",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains(".svg or .png"), "{err}");
}
