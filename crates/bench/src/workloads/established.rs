//! `established-1m`: a million established, assured TCP connections, then ACKs in random
//! order over the whole table, both directions, so that nearly every lookup misses the cache.
//! The handshakes that fill the table are not timed; the resident memory they add, divided
//! by the entries, is the bytes per connection.

use std::sync::Mutex;

use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{Conntrack, CtState, Instant, shard_of};

use super::{Params, timed_threads};

/// Packets built per round, as a receive ring would hold them.
const RING: u64 = 1024;
use crate::packets::{F_ACK, F_SYN, FrameBuf, Seg, TcpConn, tcp, xorshift};
use crate::{Report, resident_bytes};

/// The three handshake segments and the two steady-state ACKs of connection `i`, each with
/// its direction (`true`: to the server).
fn segments(i: u32) -> [(bool, Seg); 5] {
    let k = TcpConn::new(i);
    let (c, s) = k.isn;
    let seg = |to_server, seq, ack, flags| (to_server, k.seg(to_server, seq, ack, flags, 0));
    [
        seg(true, c, 0, F_SYN),
        seg(false, s, c + 1, F_SYN | F_ACK),
        seg(true, c + 1, s + 1, F_ACK),
        seg(true, c + 1, s + 1, F_ACK),
        seg(false, s + 1, c + 1, F_ACK),
    ]
}

fn frame((to_server, seg): (bool, Seg)) -> Vec<u8> {
    tcp(&seg, to_server)
}

pub fn run(p: &Params) -> Result<Report, String> {
    let conns = p.conns.unwrap_or(1_000_000) as u32;
    let threads = p.threads.max(1);
    let packets = p.packets.unwrap_or(10_000_000) / threads as u64;
    let memory = Mutex::new((0u64, 0u64));
    let runs = timed_threads(threads, |t| {
        // This thread's shard: the connections the symmetric hash gives it.
        let mut mine = Vec::new();
        for i in 0..conns {
            let f = frame(segments(i)[3]);
            let ip = intake::parse_frame(LinkType::Ethernet, &f).map_err(|e| e.name())?;
            if shard_of(&ip, threads) == t {
                mine.push(i);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15 ^ t as u64;
        let mut sysctl = p.sysctl();
        sysctl.max = (mine.len() as u32).saturating_mul(2).max(sysctl.max);
        sysctl.buckets = mine.len() as u32;
        let mut ct = Conntrack::new(sysctl);
        ct.set_record_events(false);
        let now = Instant::from_secs_f64(1000.0);
        let before = resident_bytes().unwrap_or(0);
        for &i in &mine {
            for seg in &segments(i)[..3] {
                let o = ct.process(LinkType::Ethernet, &frame(*seg), now);
                if o.ctstate.is_none() || o.ctstate == Some(CtState::Invalid) {
                    return Err(format!("handshake of connection {i}: {o:?}"));
                }
            }
        }
        let after = resident_bytes().unwrap_or(0);
        {
            let mut m = memory.lock().expect("no thread panics holding it");
            m.0 += after.saturating_sub(before);
            m.1 += u64::from(ct.count());
        }
        // Packets arrive as from a NIC's ring: built (untimed) a ring at a time, hot in the
        // cache, while the entries they hit are anywhere in the table.
        let mut ring = FrameBuf::default();
        let mut outcomes = Vec::with_capacity(RING as usize);
        let (mut established, mut done, mut secs) = (0u64, 0u64, 0.0);
        while done < packets {
            ring.clear();
            for _ in 0..RING.min(packets - done) {
                let r = xorshift(&mut x);
                let i = mine[(r % mine.len() as u64) as usize];
                ring.push(&frame(segments(i)[3 + (r >> 63) as usize]));
            }
            let frames: Vec<&[u8]> = ring.iter().collect();
            outcomes.clear();
            let timed = std::time::Instant::now();
            ct.process_batch(LinkType::Ethernet, &frames, now, &mut outcomes);
            secs += timed.elapsed().as_secs_f64();
            established += outcomes
                .iter()
                .filter(|o| o.ctstate == Some(CtState::Established))
                .count() as u64;
            done += ring.len() as u64;
        }
        if established != packets {
            return Err(format!(
                "{} of {packets} packets were not ESTABLISHED",
                packets - established
            ));
        }
        Ok((packets, secs, u64::from(ct.count())))
    })?;
    let mut r = Report::from_threads("established-1m", &runs);
    let (grown, entries) = memory.into_inner().expect("threads are done");
    // With several threads filling at once the RSS deltas overlap; only one thread's is exact.
    if threads == 1 && entries > 0 {
        r.bytes_per_conn = Some(grown as f64 / entries as f64);
    }
    Ok(r)
}
