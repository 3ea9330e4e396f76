//! Conformance: every scenario under conformance/scenarios is replayed through the engine and
//! compared with the golden the recorder took from the real kernel (conformance/goldens).
//!
//! Matching means: the same verdict and ctstate for every packet; the same /proc lines after
//! each packet (`use=` aside, timeouts within 1 s); the same log lines, byte for byte; the
//! same `conntrack -S` counters, or for scenarios the
//! kernel's random hash makes vary, counters within the spread of the kernel's runs.
//!
//! Only scenarios the bare tracker can replay are here: those with iptables rules (`rules`,
//! `rules6`), packets the router originates (`r`) or packets to the router's own addresses need
//! the whole pipeline (crates/netfilter/tests) and are skipped, by [`bare_tracker_can_replay`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, Event, Instant, LogLine, Stats, Sysctl, Verdict};
use ctguard_scenario::{Golden, Scenario, proc_key};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// How long after a packet the recorder reads /proc (it waits for the packet to be counted).
const READ_DELAY: f64 = 0.005;
/// The namespace inode the table-full line names; the goldens write it as `<netns>`.
const NETNS: u32 = 4026532000;

struct Mismatch(Vec<String>);

impl Mismatch {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
}

fn compare_tables(m: &mut Mismatch, at: usize, kernel: &[String], ours: &[String]) {
    let mut k: Vec<_> = kernel.iter().map(|l| proc_key(l)).collect();
    let mut o: Vec<_> = ours.iter().map(|l| proc_key(l)).collect();
    k.sort();
    o.sort();
    let same = k.len() == o.len()
        && k.iter()
            .zip(&o)
            .all(|(a, b)| a.0 == b.0 && (a.1 - b.1).abs() <= 1);
    m.check(same, || {
        format!("packet {at}: table differs\n  kernel: {kernel:#?}\n  ctguard: {ours:#?}")
    });
}

/// A kernel log line with the namespace inode filled in.
fn log_key(line: &str) -> String {
    line.replace("<netns>", &NETNS.to_string())
}

/// Replays a scenario; with `per_packet`, compares every packet with the golden. Returns the
/// mismatches, the final counters, and (accepted, dropped, entries at the end).
fn run_scenario(name: &str, seed: u64, per_packet: bool) -> (Vec<String>, Stats, [usize; 3]) {
    let scn = Scenario::load(root().join("scenarios").join(format!("{name}.scn")))
        .expect("scenario parses");
    let golden =
        Golden::load(root().join("goldens").join(format!("{name}.golden"))).expect("golden parses");
    let mut sysctl = Sysctl::default();
    for (k, v) in scn.global_sysctl.iter().chain(&scn.sysctl) {
        sysctl.set(k, v).expect("scenario sysctl is known");
    }
    let mut ct = Conntrack::with_seed(sysctl, seed);
    ct.set_netns(Some(NETNS));
    let mut m = Mismatch(Vec::new());
    let mut tally = [0usize; 3];
    m.check(golden.packets.len() == scn.packets.len(), || {
        format!(
            "golden has {} packets, scenario {}",
            golden.packets.len(),
            scn.packets.len()
        )
    });
    for (p, g) in scn.packets.iter().zip(&golden.packets) {
        let now = Instant::from_secs_f64(p.time);
        let out = ct.process(LinkType::Ethernet, &p.frame, now);
        let verdict = match out.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Held => "HELD",
        };
        match out.verdict {
            Verdict::Accept => tally[0] += 1,
            Verdict::Drop => tally[1] += 1,
            Verdict::Held => {}
        }
        if !per_packet {
            while ct.poll_event().is_some() {}
            continue;
        }
        m.check(verdict == g.verdict.as_str(), || {
            format!(
                "packet {} `{}`: verdict {verdict}, kernel {}",
                p.index, p.text, g.verdict
            )
        });
        let ours = out.ctstate.map(|s| s.name());
        let kernel = g.ctstate.map(|s| s.as_str());
        m.check(ours == kernel, || {
            format!(
                "packet {} `{}`: ctstate {ours:?}, kernel {kernel:?} ({:?})",
                p.index, p.text, out.reason
            )
        });
        let mut logs = Vec::new();
        while let Some(ev) = ct.poll_event() {
            // The recorder leaves out `net_ratelimit: N callbacks suppressed`: that limiter is
            // global to the machine, so other namespaces' messages move it.
            if let Event::Log { line, .. } = ev
                && !matches!(line, LogLine::Suppressed { .. })
            {
                // At PREROUTING the kernel knows the input device only.
                logs.push(line.render(p.side.router_interface(), ""));
            }
        }
        let kernel_logs: Vec<String> = g.log.iter().map(|l| log_key(l)).collect();
        m.check(logs == kernel_logs, || {
            format!(
                "packet {} `{}`: log {logs:?}, kernel {kernel_logs:?}",
                p.index, p.text
            )
        });
        if let Some(table) = &g.table {
            let ours = ct.proc_lines(Instant::from_secs_f64(p.time + READ_DELAY));
            compare_tables(&mut m, p.index, table, &ours);
        }
    }
    let end = scn.packets.last().map_or(0.0, |p| p.time) + READ_DELAY;
    tally[2] = ct.proc_lines(Instant::from_secs_f64(end)).len();
    (m.0, ct.stats(), tally)
}

/// Whether the bare tracker can replay a scenario: no rules, no packets from or to the router
/// itself. The others are the netfilter pipeline's to replay.
fn bare_tracker_can_replay(scn: &Scenario) -> bool {
    scn.rules.is_none() && scn.rules6.is_none() && !scn.needs_pipeline()
}

/// The scenarios the recorder had before rule sets came in: all of them must still be replayed.
const OLD_SCENARIOS: usize = 40;

fn stats_map(s: &Stats) -> BTreeMap<&'static str, u64> {
    s.fields().into_iter().collect()
}

fn check(name: &str) {
    let scn = Scenario::load(root().join("scenarios").join(format!("{name}.scn")))
        .expect("scenario parses");
    assert!(
        bare_tracker_can_replay(&scn),
        "{name} needs the netfilter pipeline: list it there, not here"
    );
    let golden =
        Golden::load(root().join("goldens").join(format!("{name}.golden"))).expect("golden parses");
    if golden.runs.len() > 1 {
        return check_spread(name, &golden);
    }
    let (mut problems, stats, _) = run_scenario(name, ctguard_conntrack::DEFAULT_SEED, true);
    let ours = stats_map(&stats);
    if let Some(run) = golden.runs.first() {
        for (k, v) in &run.stats {
            let got = ours.get(k.as_str()).copied();
            if got != Some(*v) {
                problems.push(format!("conntrack -S {k}: ctguard {got:?}, kernel {v}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{name}: {} mismatches with the kernel:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Scenarios whose outcome depends on the kernel's randomly keyed hash (which entries share
/// buckets): which packets early drop saves differs from run to run, so packets are not
/// compared one by one. Instead ctguard runs under many hash seeds, and the median of each
/// counter must fall within the spread of the kernel's runs, and so must the accepted and
/// dropped packet counts and the final table size.
fn check_spread(name: &str, golden: &Golden) {
    const SEEDS: u64 = 21;
    let runs: Vec<(Stats, [usize; 3])> = (0..SEEDS)
        .map(|seed| {
            let (problems, stats, tally) = run_scenario(name, seed, false);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            (stats, tally)
        })
        .collect();
    let mut problems = Vec::new();
    let mut within = |what: String, ours: Vec<u64>, kernel: Vec<u64>| {
        let (lo, hi) = (
            kernel.iter().min().copied().unwrap_or(0),
            kernel.iter().max().copied().unwrap_or(0),
        );
        let m = median(ours.clone());
        if !(lo..=hi).contains(&m) {
            problems.push(format!(
                "{what}: ctguard median {m} over {SEEDS} seeds {ours:?}, kernel runs {kernel:?}"
            ));
        }
    };
    for (k, _) in Stats::default().fields() {
        let ours = runs.iter().map(|(s, _)| stats_map(s)[k]).collect();
        within(
            format!("conntrack -S {k}"),
            ours,
            golden.runs.iter().filter_map(|r| r.stat(k)).collect(),
        );
    }
    let tallies = [
        ("accepted packets", 0),
        ("dropped packets", 1),
        ("entries at the end", 2),
    ];
    for (what, i) in tallies {
        let ours = runs.iter().map(|(_, t)| t[i] as u64).collect();
        let kernel = golden
            .runs
            .iter()
            .map(|r| [r.tally.accept, r.tally.drop, r.tally.entries][i] as u64)
            .collect();
        within(what.to_string(), ours, kernel);
    }
    assert!(
        problems.is_empty(),
        "{name}: {} mismatches with the kernel:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

macro_rules! goldens {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*

        const LISTED: &[&str] = &[$($name),*];
    };
}

goldens! {
    acct => "acct",
    checksum_bad => "checksum-bad",
    checksum_off => "checksum-off",
    generic_protocol => "generic-protocol",
    icmp_echo => "icmp-echo",
    icmp_error_related => "icmp-error-related",
    icmp_error_unknown => "icmp-error-unknown",
    ipv4_fragments => "ipv4-fragments",
    ipv6_fragments => "ipv6-fragments",
    ipv6_icmp_echo => "ipv6-icmp-echo",
    ipv6_icmp_error => "ipv6-icmp-error",
    ipv6_tcp => "ipv6-tcp",
    ipv6_udp => "ipv6-udp",
    table_full => "table-full",
    table_full_small_hash => "table-full-small-hash",
    table_full_gc => "table-full-gc",
    tcp_be_liberal => "tcp-be-liberal",
    tcp_close_client => "tcp-close-client",
    tcp_close_server => "tcp-close-server",
    tcp_close_simultaneous => "tcp-close-simultaneous",
    tcp_data_retransmit => "tcp-data-retransmit",
    tcp_ignore_invalid_rst => "tcp-ignore-invalid-rst",
    tcp_invalid_flags_first => "tcp-invalid-flags-first",
    tcp_invalid_flags_midstream => "tcp-invalid-flags-midstream",
    tcp_out_of_window => "tcp-out-of-window",
    tcp_pickup_loose => "tcp-pickup-loose",
    tcp_pickup_rst => "tcp-pickup-rst",
    tcp_pickup_strict => "tcp-pickup-strict",
    tcp_refused => "tcp-refused",
    tcp_rst_invalid => "tcp-rst-invalid",
    tcp_rst => "tcp-rst",
    tcp_simultaneous_open => "tcp-simultaneous-open",
    tcp_syn_on_time_wait => "tcp-syn-on-time-wait",
    tcp_syn_retransmit => "tcp-syn-retransmit",
    tcp_unacknowledged => "tcp-unacknowledged",
    udp_one_way => "udp-one-way",
    udp_request_response => "udp-request-response",
    udp_stream => "udp-stream",
    udplite => "udplite",
    udplite_checksum_off => "udplite-checksum-off",
}

/// No scenario the bare tracker can replay may go unchecked: each has a golden and a test above.
/// Scenarios with rules, `r` packets or packets to the router are skipped here (the pipeline
/// test replays them).
#[test]
fn every_scenario_has_a_golden_and_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios dir")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".scn")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    let mut replayed = 0;
    for n in &names {
        assert!(
            root().join("goldens").join(format!("{n}.golden")).exists(),
            "{n} has no golden: run conformance/record.sh {n}"
        );
        let scn = Scenario::load(root().join("scenarios").join(format!("{n}.scn")))
            .expect("scenario parses");
        if !bare_tracker_can_replay(&scn) {
            println!("skipped {n}: rules, router packets or local delivery (the pipeline's)");
            continue;
        }
        replayed += 1;
        assert!(
            LISTED.contains(&n.as_str()),
            "{n} is not listed in kernel_goldens.rs"
        );
    }
    assert_eq!(replayed, LISTED.len(), "a listed scenario has no file");
    assert!(
        replayed >= OLD_SCENARIOS,
        "only {replayed} scenarios replayed through the bare tracker, expected at least {OLD_SCENARIOS}"
    );
}
