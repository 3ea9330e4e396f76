//! Playing one scenario through the router and writing down what the kernel did.
//!
//! Each packet is injected at its scheduled time; a few milliseconds later the probe counters
//! tell its verdict and ct state, and the table and the kernel log are read. Injecting on
//! schedule and reading promptly makes the timeouts shown deterministic: an entry refreshed at
//! time `t` with timeout `T` and read at `t' + ε` shows `floor(T - (t' - t) - ε)`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ctguard_scenario::{Golden, PacketRecord, ProcMode, RunRecord, Scenario, Side, Tally, Verdict};

use crate::inject::Injector;
use crate::kmsg::KernelLog;
use crate::netns::Netns;
use crate::probe::{self, Counters};
use crate::sysctl::{Applied, Scope};
use crate::table;

/// Set by SIGINT / SIGTERM: stop at the next packet, restoring settings on the way out.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Wait after sending before the counters are read (the router usually finishes the packet
/// before `send` returns; this covers the rest).
const SETTLE: Duration = Duration::from_millis(4);
/// How long a packet may take to show up at the router's ingress.
const ARRIVAL_LIMIT: Duration = Duration::from_secs(1);
/// How late an injection may be.
const MAX_LATE: Duration = Duration::from_millis(15);
/// How quiet the router must stay before a run.
const IDLE_CHECK: Duration = Duration::from_millis(100);

/// The recorder's handles on the topology.
pub struct Lab {
    pub router: Netns,
    pub client: Injector,
    pub server: Injector,
    pub log: KernelLog,
}

/// A golden and how promptly its tables were read.
pub struct Recording {
    pub golden: Golden,
    /// The longest time from a packet's scheduled time to the end of the table read after it.
    pub slowest_read: Duration,
}

/// Makes a fresh topology (new namespaces) for the next run.
pub type Renew<'a> = &'a dyn Fn() -> Result<Lab, String>;

/// Records `scenario` (every run) and returns its golden. With `renew`, every run after the
/// first gets a fresh topology: a new router namespace has a new conntrack hash seed, which is
/// what makes a table-full outcome vary.
pub fn record(
    lab: &mut Lab,
    renew: Option<Renew<'_>>,
    scenario: &Scenario,
    kernel: &str,
) -> Result<Recording, String> {
    let mut global = scenario.global_sysctl.clone();
    let logs_invalid = scenario
        .sysctl
        .iter()
        .any(|(k, v)| k == "net.netfilter.nf_conntrack_log_invalid" && v != "0");
    if logs_invalid {
        // nf_log drops lines from child namespaces unless this is set (init namespace only).
        global.push(("net.netfilter.nf_log_all_netns".into(), "1".into()));
    }
    let _global = Applied::apply(Scope::Global, &global).map_err(|e| e.to_string())?;

    let mut golden = Golden {
        kernel: kernel.to_string(),
        scenario: scenario.name.clone(),
        proc_mode: scenario.proc_mode,
        packets: Vec::new(),
        runs: Vec::new(),
    };
    let mut slowest_read = Duration::ZERO;
    for run in 1..=scenario.runs {
        if run > 1
            && let Some(renew) = renew
        {
            *lab = renew()?;
        }
        let _local = Applied::apply(Scope::Netns(&lab.router), &scenario.sysctl)
            .map_err(|e| e.to_string())?;
        let (packets, record, slowest) = run_once(lab, scenario, run)?;
        slowest_read = slowest_read.max(slowest);
        if run == 1 {
            golden.packets = packets;
        }
        golden.runs.push(record);
        // `_local` restores the router's settings here (and on every early return).
    }
    Ok(Recording {
        golden,
        slowest_read,
    })
    // `_global` restores the init namespace's settings here (and on every early return).
}

fn run_once(
    lab: &Lab,
    scenario: &Scenario,
    run: u32,
) -> Result<(Vec<PacketRecord>, RunRecord, Duration), String> {
    let io = |e: std::io::Error| e.to_string();
    table::flush(&lab.router).map_err(io)?;
    let quiet = probe::read(&lab.router).map_err(io)?;
    sleep_until(Instant::now() + IDLE_CHECK)?;
    let mut before = probe::read(&lab.router).map_err(io)?;
    if before.ingress != quiet.ingress {
        return Err(format!(
            "the router received {} packets while idle: something else is sending",
            before.ingress - quiet.ingress
        ));
    }
    if !table::entries(&lab.router).map_err(io)?.is_empty() {
        return Err("the table is not empty after the flush".into());
    }
    let stats_before = table::stats(&lab.router).map_err(io)?;
    lab.log.skip_to_end().map_err(io)?;

    let mut records = Vec::with_capacity(scenario.packets.len());
    let mut last_table = Vec::new();
    let mut slowest_read = Duration::ZERO;
    let start = Instant::now();
    for packet in &scenario.packets {
        let due = start + Duration::from_secs_f64(packet.time);
        sleep_until(due)?;
        let late = Instant::now().saturating_duration_since(due);
        if late > MAX_LATE {
            return Err(format!(
                "packet {} was sent {} ms late: the machine is too busy, or `spacing` too small",
                packet.index,
                late.as_millis()
            ));
        }
        let injector = match packet.side {
            Side::Client => &lab.client,
            Side::Server => &lab.server,
        };
        injector
            .send(&packet.frame)
            .map_err(|e| format!("packet {}: {e}", packet.index))?;
        std::thread::sleep(SETTLE);
        let after = wait_for_arrival(&lab.router, &before, packet.index)?;
        let (verdict, ctstate) = probe::classify(&before, &after)
            .map_err(|e| format!("packet {}: {e}", packet.index))?;
        before = after;

        let last = packet.index + 1 == scenario.packets.len();
        let snapshot = scenario.proc_mode == ProcMode::Each || last;
        let table = if snapshot {
            let entries = table::entries(&lab.router).map_err(io)?;
            slowest_read = slowest_read.max(check_read_in_time(scenario, packet.index, due)?);
            if last {
                last_table.clone_from(&entries);
            }
            Some(entries)
        } else {
            None
        };
        records.push(PacketRecord {
            index: packet.index,
            time: packet.time,
            text: packet.label(),
            verdict,
            ctstate,
            table,
            log: lab.log.read_new().map_err(io)?,
        });
    }
    // Late kernel lines go with the last packet.
    let late_lines = lab.log.read_new().map_err(io)?;
    if let Some(last) = records.last_mut() {
        last.log.extend(late_lines);
    }
    let stats_after = table::stats(&lab.router).map_err(io)?;
    let count = |v: Verdict| records.iter().filter(|r| r.verdict == v).count();
    let tally = Tally {
        accept: count(Verdict::Accept),
        drop: count(Verdict::Drop),
        held: count(Verdict::Held),
        entries: last_table.len(),
    };
    let record = RunRecord {
        run,
        stats: table::difference(&stats_before, &stats_after),
        tally,
    };
    Ok((records, record, slowest_read))
}

/// Polls the counters until the packet has reached the router.
fn wait_for_arrival(router: &Netns, before: &Counters, index: usize) -> Result<Counters, String> {
    let start = Instant::now();
    loop {
        let now = probe::read(router).map_err(|e| e.to_string())?;
        if now.ingress != before.ingress || start.elapsed() > ARRIVAL_LIMIT {
            if now.ingress == before.ingress {
                return Err(format!("packet {index} never reached the router"));
            }
            return Ok(now);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The table must be read well within the spacing after the packet, or the timeouts it shows
/// could round differently from one recording to the next.
fn check_read_in_time(scenario: &Scenario, index: usize, due: Instant) -> Result<Duration, String> {
    let delay = due.elapsed();
    let budget = Duration::from_secs_f64(scenario.spacing / 2.0);
    if delay > budget {
        return Err(format!(
            "the table after packet {index} was read {} ms after it was due (budget {} ms)",
            delay.as_millis(),
            budget.as_millis()
        ));
    }
    Ok(delay)
}

/// Sleeps until `deadline`, in slices, so that a stop request is noticed.
fn sleep_until(deadline: Instant) -> Result<(), String> {
    loop {
        if STOP.load(Ordering::Relaxed) {
            return Err("interrupted".into());
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}
