//! `ctguard-record pcap`: replays a capture (as `ctguard simulate --write-pcap` writes) through
//! the kernel's router, paced by its timestamps, and records which frames the router forwarded.
//! Every run gets fresh namespaces (a fresh conntrack hash seed).

pub mod args;
mod frames;
mod matching;
mod pacing;
mod report;
mod run;
mod settings;
mod sides;
mod sniffer;
mod sysctl_file;
mod topology;

use std::path::Path;
use std::sync::atomic::Ordering;

use ctguard_scenario::topology::ROUTER_CLIENT_IF;

use crate::netns::{self, Netns};
use crate::pcap::args::PcapArgs;
use crate::pcap::frames::Skip;
use crate::pcap::report::RunReport;
use crate::pcap::settings::Settings;
use crate::pcap::sysctl_file::SysctlPlan;
use crate::pcap::topology::Topology;
use crate::record::STOP;
use crate::rules;
use crate::sysctl::Scope;
use ctguard_conntrack::intake::LinkType;
use ctguard_replay::clients::Clients;

/// Flood sources are anywhere: their replies leave on the client side.
const DEFAULT_GATEWAY: &str = "10.99.1.100";

fn read_sysctl_file(path: Option<&Path>) -> Result<SysctlPlan, String> {
    let Some(path) = path else {
        return Ok(SysctlPlan::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let settings = sysctl_file::parse(&text).map_err(|e| format!("{}:{e}", path.display()))?;
    let plan = sysctl_file::classify(settings);
    for s in &plan.skipped {
        eprintln!(
            "ctguard-record: {}:{}: {} is ctguard's own: not written to the kernel",
            path.display(),
            s.line,
            s.key
        );
    }
    Ok(plan)
}

fn describe_skips(plan: &frames::Plan) {
    for (why, n) in &plan.skipped {
        let what = match why {
            Skip::NotIpv4 => "not IPv4",
            Skip::Malformed => "cut short or a broken IPv4 header",
            Skip::TooBig => "larger than the MTU",
        };
        eprintln!("ctguard-record: {n} frame(s) skipped ('-'): {what}");
    }
    if plan.unreachable > 0 {
        eprintln!(
            "ctguard-record: {} frame(s) go to addresses the router has no neighbour for on the \
             far side (10.99.2.100-109 and 10.97.0.0/16 past rtr-s): they cannot be forwarded",
            plan.unreachable
        );
    }
}

fn add_default_route(router: &Netns) -> Result<(), String> {
    router
        .command(
            "ip",
            &[
                "route",
                "add",
                "default",
                "via",
                DEFAULT_GATEWAY,
                "dev",
                ROUTER_CLIENT_IF,
            ],
            None,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// One run on fresh namespaces, torn down on the way out whatever happens.
fn one_run(
    args: &PcapArgs,
    plan: &frames::Plan,
    sysctl: &SysctlPlan,
    rules_text: &str,
    run: u32,
) -> Result<RunReport, String> {
    let _topology = Topology::up(&args.topology, &args.prefix)?;
    // Declared after the topology: its sockets close before the namespaces go.
    let lab = crate::open_lab(&args.prefix)?;
    add_default_route(&lab.router)?;
    let sysctl_path = args.sysctl.as_deref().unwrap_or(Path::new("--sysctl"));
    let _local = Settings::apply(Scope::Netns(&lab.router), &sysctl.router, sysctl_path)?;
    rules::reset(&lab.router).map_err(|e| e.to_string())?;
    rules::load_ipv4(&lab.router, &args.rules, rules_text).map_err(|e| e.to_string())?;
    run::run_once(&lab, plan, run)
}

/// The clients' connections, counted as `ctguard replay --clients` counts them: a frame the
/// router forwarded was accepted; a skipped frame counts as not.
fn clients_outcome(args: &PcapArgs, plan: &frames::Plan, report: &RunReport) -> Option<(u64, u64)> {
    if args.clients.is_empty() {
        return None;
    }
    let mut c = Clients::new(args.clients.clone());
    for (p, flag) in plan.frames.iter().zip(&report.flags) {
        if let Some(out) = &p.send {
            c.packet(LinkType::Ethernet, &out.frame, *flag == Some(true));
        }
    }
    Some((c.started(), c.completed()))
}

fn warn_if_off(report: &RunReport) {
    let warn = |what: String| eprintln!("ctguard-record: run {}: {what}", report.run);
    if report.router_received != report.injected as u64 {
        warn(format!(
            "the router received {} of the {} frames sent",
            report.router_received, report.injected
        ));
    }
    if report.capture_drops > 0 || report.uncaptured > 0 {
        warn(format!(
            "the capture lost frames ({} dropped by the sockets, {} counted by the router and \
             not captured): forwarded counts may be low",
            report.capture_drops, report.uncaptured
        ));
    }
    if report.router_forwarded != report.forwarded as u64 {
        warn(format!(
            "the router counted {} packets forwarded, the capture matched {}",
            report.router_forwarded, report.forwarded
        ));
    }
}

pub fn run(args: &PcapArgs) -> Result<(), String> {
    if !netns::in_init_namespace().map_err(|e| e.to_string())? {
        return Err("run me in the init network namespace (global sysctls are set there)".into());
    }
    let plan = frames::load(&args.pcap, &args.server)?;
    describe_skips(&plan);
    let sysctl = read_sysctl_file(args.sysctl.as_deref())?;
    let rules_text = std::fs::read_to_string(&args.rules)
        .map_err(|e| format!("{}: {e}", args.rules.display()))?;
    let sysctl_path = args.sysctl.as_deref().unwrap_or(Path::new("--sysctl"));
    let _global = Settings::apply(Scope::Global, &sysctl.global, sysctl_path)?;
    for run in 1..=args.runs {
        if STOP.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        let mut report = one_run(args, &plan, &sysctl, &rules_text, run)?;
        report.clients = clients_outcome(args, &plan, &report);
        let [forwarded, json] = report
            .write(&args.out)
            .map_err(|e| format!("{}: {e}", args.out.display()))?;
        println!(
            "run {run}: {} frames, {} sent, {} forwarded, {} from the router itself; \
             conntrack drop={} early_drop={} insert_failed={}, {} entries at the end, \
             {} table-full lines; sent <= {:.3} ms late ({} > 1 ms) -> {}, {}",
            report.flags.len(),
            report.injected,
            report.forwarded,
            report.router_originated,
            report.stat("drop"),
            report.stat("early_drop"),
            report.stat("insert_failed"),
            report.count_at_end,
            report.table_full_lines,
            report.max_late.as_secs_f64() * 1000.0,
            report.late_frames,
            forwarded.display(),
            json.display()
        );
        warn_if_off(&report);
    }
    Ok(())
    // `_global` restores the init namespace's settings here (and on every early return).
}
