//! Conformance of the whole pipeline: every recorded scenario that carries a rule set, or
//! packets to or from the router itself, is replayed through ctguard's pipeline (rules,
//! tracker, NAT, REJECT, LOG) and compared with what the real kernel did
//! (conformance/goldens).
//!
//! Matching means, for every packet: the same verdict and ctstate; the same /proc lines
//! (`use=` aside, timeouts within 1 s); the same log lines; the same packets leaving each
//! interface (compared as `describe::packet` renders them, which leaves out what the kernel
//! randomises: the IPv4 id, the IPv6 flow label). At the end: the same `iptables-save -c`
//! output, and the same `conntrack -S` counters.
//!
//! One kernel choice is random and compared loosely: a source port that NAT remaps because
//! of a clash (any port the kernel could have chosen is accepted, in /proc and in packets).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl, Verdict};
use ctguard_netfilter::pipeline::{Host, Output, Pipeline};
use ctguard_netfilter::rules::RuleSet;
use ctguard_netfilter::{Family, rules};
use ctguard_scenario::topology::{self, ROUTER_CLIENT_IF};
use ctguard_scenario::{Golden, Scenario, Side, describe, proc_key};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// How long after a packet the recorder reads /proc.
const READ_DELAY: f64 = 0.005;

/// The recorder's router (conformance/topology.sh).
fn router() -> Host {
    Host::from_parts(&topology::ROUTER_NETS, &topology::ROUTER_ROUTES)
}

fn load_rules(file: Option<&ctguard_scenario::RuleFile>, family: Family) -> RuleSet {
    match file {
        None => RuleSet::new(family),
        Some(f) => {
            let loaded = rules::load_save(&f.text, &f.path.display().to_string(), family)
                .unwrap_or_else(|e| panic!("{}: rule set refused: {e}", f.path.display()));
            match family {
                Family::V4 => loaded.v4,
                Family::V6 => loaded.v6,
            }
        }
    }
}

/// Every number written in the scenario and its rule files: ports the scenario chose, as
/// opposed to ones NAT picked.
fn written_numbers(scn: &Scenario) -> HashSet<u32> {
    let mut text: String = scn
        .packets
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for f in [&scn.rules, &scn.rules6].into_iter().flatten() {
        text.push_str(&f.text);
    }
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Replaces the port numbers NAT remapped at random with a placeholder: `sport=`/`dport=`
/// (or `ADDR:PORT`) values that differ between the two texts, are >= 1024 in both (the
/// unprivileged remap range), and appear nowhere in the scenario (`written`), so that a port
/// the scenario or its rules chose is always compared exactly.
fn loose_ports(kernel: &str, ours: &str, written: &HashSet<u32>) -> (String, String) {
    let k: Vec<&str> = kernel.split(' ').collect();
    let o: Vec<&str> = ours.split(' ').collect();
    if k.len() != o.len() {
        return (kernel.to_string(), ours.to_string());
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (x, y) in k.iter().zip(&o) {
        let port = |w: &str| {
            w.split_once('=')
                .filter(|(key, _)| matches!(*key, "sport" | "dport"))
                .and_then(|(_, v)| v.parse::<u32>().ok())
                .or_else(|| w.rsplit_once(':').and_then(|(_, v)| v.parse::<u32>().ok()))
        };
        match (port(x), port(y)) {
            (Some(p), Some(q))
                if p != q
                    && p >= 1024
                    && q >= 1024
                    && !written.contains(&p)
                    && !written.contains(&q) =>
            {
                a.push("PORT".to_string());
                b.push("PORT".to_string());
            }
            _ => {
                a.push(x.to_string());
                b.push(y.to_string());
            }
        }
    }
    (a.join(" "), b.join(" "))
}

fn run(name: &str) -> Vec<String> {
    let scn = Scenario::load(root().join("scenarios").join(format!("{name}.scn")))
        .expect("scenario parses");
    let golden =
        Golden::load(root().join("goldens").join(format!("{name}.golden"))).expect("golden parses");
    let mut sysctl = Sysctl::default();
    for (k, v) in scn.global_sysctl.iter().chain(&scn.sysctl) {
        // Only the tracker's settings: others (icmp_ratelimit, nf_log_all_netns) concern
        // the recording machine.
        if k.starts_with("net.netfilter.nf_conntrack") {
            sysctl.set(k, v).expect("scenario sysctl is known");
        }
    }
    let written = written_numbers(&scn);
    let rules4 = load_rules(scn.rules.as_ref(), Family::V4);
    let rules6 = load_rules(scn.rules6.as_ref(), Family::V6);
    let mut p = Pipeline::new(sysctl, rules4, rules6, router());
    for (k, v) in &scn.sysctl {
        p.set_host_sysctl(k, v).expect("a good host setting");
    }
    let mut problems = Vec::new();
    let mut fail = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    fail(
        golden.packets.len() == scn.packets.len(),
        format!(
            "golden {} packets, scenario {}",
            golden.packets.len(),
            scn.packets.len()
        ),
    );
    for (pk, g) in scn.packets.iter().zip(&golden.packets) {
        let now = Instant::from_secs_f64(pk.time);
        let d = match pk.side {
            Side::Router => p.send(pk.ip_packet(), now),
            side => p.receive(side.router_interface(), LinkType::Ethernet, &pk.frame, now),
        };
        let verdict = match d.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Held => "HELD",
        };
        let what = format!("packet {} `{}`", pk.index, pk.text);
        fail(
            verdict == g.verdict.as_str(),
            format!(
                "{what}: verdict {verdict} (by {:?}), kernel {}",
                d.rule, g.verdict
            ),
        );
        let ours = d.ctstate.map(|s| s.name());
        let kernel = g.ctstate.map(|s| s.as_str());
        fail(
            ours == kernel,
            format!("{what}: ctstate {ours:?}, kernel {kernel:?}"),
        );
        let mut logs = Vec::new();
        let mut emits: Vec<(String, String)> = Vec::new();
        while let Some(o) = p.poll_output() {
            match o {
                Output::Log { line, .. } => logs.push(line),
                Output::Table(_) => {}
                Output::Transmit { iface, packet } => {
                    emits.push((iface.to_string(), describe::packet(&packet)))
                }
            }
        }
        // The recorder lists rtr-c's packets first, each side in order.
        emits.sort_by_key(|(i, _)| i != ROUTER_CLIENT_IF);
        let kernel_emits: Vec<(String, String)> = g
            .emit
            .iter()
            .map(|e| (e.interface.clone(), e.packet.clone()))
            .collect();
        let same_emits = emits.len() == kernel_emits.len()
            && emits.iter().zip(&kernel_emits).all(|(a, b)| {
                let (x, y) = loose_ports(&b.1, &a.1, &written);
                a.0 == b.0 && x == y
            });
        fail(
            same_emits,
            format!("{what}: sent {emits:#?}, kernel sent {kernel_emits:#?}"),
        );
        fail(
            logs == g.log,
            format!("{what}: log {logs:#?}, kernel {:#?}", g.log),
        );
        if let Some(table) = &g.table {
            let ours = p
                .conntrack_mut()
                .expect("tracking on")
                .proc_lines(Instant::from_secs_f64(pk.time + READ_DELAY));
            let mut k: Vec<_> = table.iter().map(|l| proc_key(l)).collect();
            let mut o: Vec<_> = ours.iter().map(|l| proc_key(l)).collect();
            k.sort();
            o.sort();
            let same = k.len() == o.len()
                && k.iter().zip(&o).all(|(a, b)| {
                    let (x, y) = loose_ports(&a.0, &b.0, &written);
                    x == y && (a.1 - b.1).abs() <= 1
                });
            fail(
                same,
                format!("{what}: table\n  kernel: {table:#?}\n  ctguard: {ours:#?}"),
            );
        }
    }
    for (family, kernel) in [
        (Family::V4, &golden.counters4),
        (Family::V6, &golden.counters6),
    ] {
        if kernel.is_empty() {
            continue;
        }
        let ours: Vec<String> = rules::save(p.rules(family))
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect();
        fail(
            &ours == kernel,
            format!("{family:?} counters:\n  kernel: {kernel:#?}\n  ctguard: {ours:#?}"),
        );
    }
    if let Some(run) = golden.runs.first() {
        let stats = p.conntrack().expect("tracking on").stats();
        for (k, v) in &run.stats {
            let got = stats
                .fields()
                .into_iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v);
            fail(
                got == Some(*v),
                format!("conntrack -S {k}: ctguard {got:?}, kernel {v}"),
            );
        }
    }
    problems
}

fn check(name: &str) {
    let problems = run(name);
    assert!(
        problems.is_empty(),
        "{name}: {} mismatches with the kernel:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

macro_rules! rulesets {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($name);
            }
        )*

        const LISTED: &[&str] = &[$($name),*];
    };
}

rulesets! {
    seed_notrack_broken => "rules-seed-notrack-broken",
    seed_notrack_fixed => "rules-seed-notrack-fixed",
    reject => "rules-reject",
    snat => "rules-snat",
    dnat => "rules-dnat",
    masquerade => "rules-masquerade",
    redirect => "rules-redirect",
    log => "rules-log",
    counters => "rules-counters",
    mark_connmark => "rules-mark-connmark",
    ct_zone => "rules-ct-zone",
    nat_icmp => "rules-nat-icmp",
}

#[test]
fn every_pipeline_scenario_is_listed() {
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root().join("scenarios")).expect("scenarios") {
        let path = e.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        let scn = Scenario::load(&path).expect("parses");
        if scn.needs_pipeline() && !LISTED.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "not listed in kernel_rulesets.rs: {missing:?}"
    );
}
