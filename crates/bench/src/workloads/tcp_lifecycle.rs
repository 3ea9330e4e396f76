//! `tcp-lifecycle`: connections of ten packets each (handshake, a data segment each way with
//! its ACK, FIN each way, the last ACK), connection after connection, with window tracking.
//! The same sequence as the OVS driver in bench/ovs/tcp_mix.c.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, CtState, Instant};

use super::{Params, timed_threads};
use crate::Report;
use crate::packets::{FrameBuf, tcp, tcp_lifecycle};

pub fn run(p: &Params) -> Result<Report, String> {
    let conns = p.conns.unwrap_or(100_000) as u32;
    let threads = p.threads.max(1);
    let runs = timed_threads(threads, |t| {
        // Each thread's connections are its own shard's: the same mix, other addresses.
        let mut frames = FrameBuf::default();
        for i in 0..conns {
            for (to_server, seg) in tcp_lifecycle(i + (t as u32) * conns) {
                frames.push(&tcp(&seg, to_server));
            }
        }
        let mut sysctl = p.sysctl();
        sysctl.max = sysctl.max.max(conns * 2);
        let mut ct = Conntrack::new(sysctl);
        ct.set_record_events(false);
        let now = Instant::from_secs_f64(1000.0);
        let mut tracked = 0u64;
        let timed = std::time::Instant::now();
        for f in frames.iter() {
            let o = ct.process(LinkType::Ethernet, f, now);
            tracked += u64::from(matches!(
                o.ctstate,
                Some(CtState::New | CtState::Established)
            ));
        }
        let secs = timed.elapsed().as_secs_f64();
        let n = frames.len() as u64;
        if tracked != n {
            return Err(format!(
                "{} of {n} packets were INVALID or dropped",
                n - tracked
            ));
        }
        Ok((n, secs, u64::from(ct.count())))
    })?;
    Ok(Report::from_threads("tcp-lifecycle", &runs))
}
