//! `ovs-udp-1flow`: Open vSwitch's `test-conntrack benchmark T N B`. Each of T threads sends
//! N copies of one 42-byte UDP packet, 10.1.1.1:(1+thread) -> 10.1.1.2:2, in batches of B, and
//! every packet gets a full lookup. OVS's threads share one tracker behind its locks; here
//! each thread owns a shard, as flows spread by a symmetric hash would land.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, CtState, Instant};

use super::{Params, timed_threads};
use crate::Report;
use crate::packets::udp;

pub fn run(p: &Params) -> Result<Report, String> {
    let n = p.packets.unwrap_or(3_000_000);
    let batch = p.batch.max(1) as u64;
    let threads = p.threads.max(1);
    let runs = timed_threads(threads, |t| {
        let frame = udp([10, 1, 1, 1], 1 + t as u16, [10, 1, 1, 2], 2);
        let mut ct = Conntrack::new(p.sysctl());
        ct.set_record_events(false);
        let start = Instant::from_secs_f64(1000.0);
        // The first packet creates the flow; the rest find it.
        let first = ct.process(LinkType::Ethernet, &frame, start);
        if first.ctstate != Some(CtState::New) {
            return Err(format!("first packet: {first:?}"));
        }
        let mut found = 0u64;
        let timed = std::time::Instant::now();
        let mut sent = 1;
        while sent < n {
            // OVS reads the clock once per batch.
            let now = start + core::time::Duration::from_micros(sent / batch);
            for _ in 0..batch.min(n - sent) {
                let o = ct.process(LinkType::Ethernet, &frame, now);
                // One-way traffic stays NEW; what counts is that the entry was found.
                found += u64::from(o.conn == first.conn);
                sent += 1;
            }
        }
        let secs = timed.elapsed().as_secs_f64();
        if found != n - 1 {
            return Err(format!("{found} of {} packets found the flow", n - 1));
        }
        Ok((n, secs, u64::from(ct.count())))
    })?;
    Ok(Report::from_threads("ovs-udp-1flow", &runs))
}
