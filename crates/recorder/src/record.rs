//! Playing one scenario through the router and writing down what the kernel did.
//!
//! Each packet is injected at its scheduled time; a few milliseconds later the probe counters
//! tell its verdict and ct state, and the table, the kernel log and (for scenarios that need the
//! pipeline) the packets the router transmitted are read. Injecting on
//! schedule and reading promptly makes the timeouts shown deterministic: an entry refreshed at
//! time `t` with timeout `T` and read at `t' + ε` shows `floor(T - (t' - t) - ε)`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ctguard_scenario::topology::{ROUTER_CLIENT_IF, ROUTER_SERVER_IF};
use ctguard_scenario::{
    Emit, Golden, PacketRecord, ProcMode, RunRecord, Scenario, Side, Tally, Verdict, describe,
};

use crate::capture::Capture;
use crate::inject::{Injector, LocalSender};
use crate::kmsg::KernelLog;
use crate::netns::Netns;
use crate::probe::{self, Counters};
use crate::rules;
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
/// How long to wait for the frames the router transmitted after a packet to be captured.
const EMIT_LIMIT: Duration = Duration::from_millis(50);

/// The recorder's handles on the topology.
pub struct Lab {
    pub router: Netns,
    pub client: Injector,
    pub server: Injector,
    /// Sends the router's own (`r`) packets.
    pub local: LocalSender,
    /// What the router transmits on rtr-c (captured on cli0) and rtr-s (on srv0).
    pub capture: [Capture; 2],
    pub log: KernelLog,
}

/// What one run recorded.
struct Run {
    packets: Vec<PacketRecord>,
    record: RunRecord,
    slowest_read: Duration,
    counters4: Vec<String>,
    counters6: Vec<String>,
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
    if logs_invalid || scenario.uses_log_target() {
        // nf_log drops lines from child namespaces unless this is set (init namespace only).
        global.push(("net.netfilter.nf_log_all_netns".into(), "1".into()));
    }
    let _global = Applied::apply(Scope::Global, &global).map_err(|e| e.to_string())?;

    let mut golden = Golden {
        kernel: kernel.to_string(),
        scenario: scenario.name.clone(),
        proc_mode: scenario.proc_mode,
        packets: Vec::new(),
        counters4: Vec::new(),
        counters6: Vec::new(),
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
        let io = |e: std::io::Error| e.to_string();
        rules::reset(&lab.router).map_err(io)?;
        let outcome = rules::load(&lab.router, scenario)
            .map_err(io)
            .and_then(|()| run_once(lab, scenario, run));
        // No rule outlives its run, whatever happened.
        let reset = rules::reset(&lab.router).map_err(io);
        let outcome = outcome?;
        reset?;
        slowest_read = slowest_read.max(outcome.slowest_read);
        if run == 1 {
            golden.packets = outcome.packets;
            golden.counters4 = outcome.counters4;
            golden.counters6 = outcome.counters6;
        }
        golden.runs.push(outcome.record);
        // `_local` restores the router's settings here (and on every early return).
    }
    Ok(Recording {
        golden,
        slowest_read,
    })
    // `_global` restores the init namespace's settings here (and on every early return).
}

fn run_once(lab: &Lab, scenario: &Scenario, run: u32) -> Result<Run, String> {
    let io = |e: std::io::Error| e.to_string();
    let pipeline = scenario.needs_pipeline();
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
    if before.egress != quiet.egress {
        return Err(format!(
            "the router transmitted {:?} IP packets while idle (rtr-c, rtr-s)",
            [0, 1].map(|i| before.egress[i] - quiet.egress[i])
        ));
    }
    for capture in &lab.capture {
        capture.take().map_err(io)?;
    }
    // Frames captured so far, cumulative like the egress counters.
    let mut captured = before.egress;
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
        match packet.side {
            Side::Client => lab.client.send(&packet.frame),
            Side::Server => lab.server.send(&packet.frame),
            Side::Router => lab.local.send(packet.ip_packet()),
        }
        .map_err(|e| format!("packet {}: {e}", packet.index))?;
        std::thread::sleep(SETTLE);
        let after = wait_for_arrival(&lab.router, packet.side, &before, packet.index)?;
        let (verdict, ctstate) = probe::classify(packet.side, &before, &after)
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
            emit: collect_emits(lab, &mut captured, &after, pipeline)
                .map_err(|e| format!("packet {}: {e}", packet.index))?,
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
    let counters4 = match scenario.rules {
        Some(_) => rules::counters(&lab.router, false).map_err(io)?,
        None => Vec::new(),
    };
    let counters6 = match scenario.rules6 {
        Some(_) => rules::counters(&lab.router, true).map_err(io)?,
        None => Vec::new(),
    };
    Ok(Run {
        packets: records,
        record,
        slowest_read,
        counters4,
        counters6,
    })
}

/// The IP packets the router transmitted since the last call. With `wait`, waits (at most
/// [`EMIT_LIMIT`]) until as many were captured on each side as the egress counters in `after`
/// say were sent, and describes them, rtr-c's first; without, just empties the sockets.
fn collect_emits(
    lab: &Lab,
    captured: &mut [u64; 2],
    after: &Counters,
    wait: bool,
) -> Result<Vec<Emit>, String> {
    let interfaces = [ROUTER_CLIENT_IF, ROUTER_SERVER_IF];
    let mut frames: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    let start = Instant::now();
    loop {
        for (i, capture) in lab.capture.iter().enumerate() {
            let new = capture.take().map_err(|e| e.to_string())?;
            captured[i] += new.len() as u64;
            frames[i].extend(new);
        }
        let done = (0..2).all(|i| captured[i] >= after.egress[i]);
        if !wait || done {
            break;
        }
        if start.elapsed() > EMIT_LIMIT {
            return Err(format!(
                "the router transmitted {:?} IP packets (rtr-c, rtr-s) but {:?} were captured",
                after.egress, captured
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if !wait {
        // Not recorded; keep the running count in step with the counters.
        *captured = (*captured).max(after.egress);
        return Ok(Vec::new());
    }
    Ok(interfaces
        .iter()
        .zip(frames)
        .flat_map(|(interface, list)| {
            list.into_iter().map(move |ip| Emit {
                interface: interface.to_string(),
                packet: describe::packet(&ip),
            })
        })
        .collect())
}

/// Polls the counters until the packet has reached the router (or, for the router's own
/// packets, entered OUTPUT).
fn wait_for_arrival(
    router: &Netns,
    side: Side,
    before: &Counters,
    index: usize,
) -> Result<Counters, String> {
    let start = Instant::now();
    loop {
        let now = probe::read(router).map_err(|e| e.to_string())?;
        let arrived = probe::arrived(side, before, &now);
        if arrived || start.elapsed() > ARRIVAL_LIMIT {
            if !arrived {
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
