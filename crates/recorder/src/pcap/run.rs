//! One run: send every frame on schedule while the router's output on both sides is captured,
//! then match and read the router's statistics.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use ctguard_scenario::Side;

use crate::pcap::frames::Plan;
use crate::pcap::matching::{self, Seen, Sent};
use crate::pcap::pacing::Pacer;
use crate::pcap::report::RunReport;
use crate::pcap::sniffer::{self, Caught, StopOnDrop};
use crate::probe;
use crate::record::Lab;
use crate::table;

/// Receive buffer of each capture socket: seconds of traffic at flood rates.
const RCVBUF: libc::c_int = 64 << 20;
/// Time after the last frame for the router's last transmissions to be captured.
const TAIL: Duration = Duration::from_millis(300);
/// The capture thread gives up this long after the pcap's span, whatever happens.
const SNIFF_EXTRA: Duration = Duration::from_secs(60);

fn io(e: std::io::Error) -> String {
    e.to_string()
}

/// Sends the frames on schedule; returns when each was sent (relative to the pacer's start).
fn send_all(lab: &Lab, plan: &Plan) -> Result<(Vec<Option<Duration>>, Pacer), String> {
    let mut sent_at = vec![None; plan.frames.len()];
    let mut pacer = Pacer::start();
    for (i, planned) in plan.frames.iter().enumerate() {
        let Some(out) = &planned.send else { continue };
        pacer.wait(planned.at)?;
        // Taken before sending: the router may forward (and the capture read) before it returns.
        let at = pacer.start.elapsed();
        let injector = match out.side {
            Side::Client => &lab.client,
            _ => &lab.server,
        };
        injector
            .send(&out.frame)
            .map_err(|e| format!("frame {i}: {e}"))?;
        sent_at[i] = Some(at);
    }
    Ok((sent_at, pacer))
}

fn side_index(side: Side) -> matching::SideIndex {
    match side {
        Side::Client => 0,
        _ => 1,
    }
}

pub fn run_once(lab: &Lab, plan: &Plan, run: u32) -> Result<RunReport, String> {
    let router = &lab.router;
    table::flush(router).map_err(io)?;
    for capture in &lab.capture {
        capture.set_receive_buffer(RCVBUF).map_err(io)?;
        capture.take().map_err(io)?;
        // Resets the socket's counters.
        capture.drops().map_err(io)?;
    }
    lab.log.skip_to_end().map_err(io)?;
    let stats_before = table::stats(router).map_err(io)?;
    let before = probe::read(router).map_err(io)?;

    let span = plan.frames.last().map_or(Duration::ZERO, |f| f.at);
    let stop = AtomicBool::new(false);
    let (sent_at, pacer, caught) = std::thread::scope(|scope| -> Result<_, String> {
        let sniffer = scope.spawn(|| sniffer::run(&lab.capture, &stop, span + SNIFF_EXTRA));
        let stopper = StopOnDrop(&stop);
        let (sent_at, pacer) = send_all(lab, plan)?;
        std::thread::sleep(TAIL);
        drop(stopper);
        let caught = sniffer
            .join()
            .map_err(|_| "the capture thread panicked".to_string())?
            .map_err(io)?;
        Ok((sent_at, pacer, caught))
    })?;

    let after = probe::read(router).map_err(io)?;
    let stats = table::difference(&stats_before, &table::stats(router).map_err(io)?);
    let count_at_end = router
        .read_to_string("/proc/sys/net/netfilter/nf_conntrack_count")
        .map_err(io)?
        .trim()
        .parse()
        .map_err(|_| "nf_conntrack_count is not a number".to_string())?;
    let table_full_lines = lab
        .log
        .read_new()
        .map_err(io)?
        .iter()
        .filter(|l| l.contains("table full"))
        .count();
    let mut capture_drops = 0;
    for capture in &lab.capture {
        capture_drops += capture.drops().map_err(io)?;
    }
    let tracked: u64 = (0..4)
        .map(|i| after.states[i].saturating_sub(before.states[i]))
        .sum();
    if tracked == 0 && count_at_end == 0 {
        return Err("conntrack saw none of the packets: is it active in the router?".into());
    }

    let mut sent = Vec::new();
    let mut frame_of = Vec::new();
    for (i, planned) in plan.frames.iter().enumerate() {
        let (Some(out), Some(at)) = (&planned.send, sent_at[i]) else {
            continue;
        };
        let Some(key) = matching::key(out.ip()) else {
            continue;
        };
        sent.push(Sent {
            side: side_index(out.side),
            at,
            key,
        });
        frame_of.push(i);
    }
    let seen = |list: &[Caught]| -> Vec<Seen> {
        list.iter()
            .map(|c| Seen {
                at: c.at.saturating_duration_since(pacer.start),
                key: matching::key(&c.ip),
            })
            .collect()
    };
    let seen = [seen(&caught[0]), seen(&caught[1])];
    let matched = matching::match_frames(&sent, [&seen[0], &seen[1]]);
    let mut flags = vec![None; plan.frames.len()];
    for (&i, &forwarded) in frame_of.iter().zip(&matched.forwarded) {
        flags[i] = Some(forwarded);
    }
    let uncaptured = (0..2)
        .map(|i| {
            after.egress[i]
                .saturating_sub(before.egress[i])
                .saturating_sub(caught[i].len() as u64)
        })
        .sum();
    Ok(RunReport {
        run,
        flags,
        injected: sent.len(),
        forwarded: matched.forwarded.iter().filter(|f| **f).count(),
        router_originated: matched.router_originated,
        max_late: pacer.max_late,
        late_frames: pacer.late_frames,
        capture_drops,
        uncaptured,
        router_received: after.ingress.saturating_sub(before.ingress),
        router_forwarded: after.out.saturating_sub(before.out),
        stats,
        count_at_end,
        table_full_lines,
        clients: None,
    })
}
