//! `syn-flood`: spoofed SYNs from random sources into a full table, as in the seed's
//! incident. Each one misses the lookup, finds the table full, and either early-drops the
//! unassured entries of its bucket and takes their place or is dropped. The table is filled
//! (untimed) first; the figures are new connections, early drops and table-full drops per
//! second of the timed part.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, CtState, Instant};

use super::{Params, timed_threads};
use crate::Report;
use crate::packets::{F_SYN, FrameBuf, Seg, tcp, xorshift};

/// Packets built per round, as a receive ring would hold them.
const RING: u64 = 1024;

/// A SYN from a pseudo-random source to the web server, as hping3 --rand-source sends.
fn spoofed(r: u64) -> Vec<u8> {
    let a = (r >> 32) as u32;
    let seg = Seg {
        src: [
            1 + (a >> 24) as u8 % 223,
            (a >> 16) as u8,
            (a >> 8) as u8,
            a as u8,
        ],
        dst: [10, 2, 0, 1],
        sport: 1024 + (r as u16 % 60000),
        dport: 80,
        seq: (r >> 16) as u32,
        ack: 0,
        flags: F_SYN,
        len: 0,
    };
    tcp(&seg, true)
}

pub fn run(p: &Params) -> Result<Report, String> {
    let max = p.conns.unwrap_or(262_144) as u32;
    let threads = p.threads.max(1);
    let packets = p.packets.unwrap_or(4_000_000) / threads as u64;
    let counts = std::sync::Mutex::new([0u64; 3]);
    let runs = timed_threads(threads, |t| {
        let mut sysctl = p.sysctl();
        // Each shard holds its part of the table, with the kernel's default bucket ratio.
        sysctl.max = max / threads as u32;
        sysctl.buckets = sysctl.max;
        let max = sysctl.max;
        let mut ct = Conntrack::new(sysctl);
        ct.set_record_events(false);
        let now = Instant::from_secs_f64(1000.0);
        let mut x = 0x51ed_270b_2765_e4f3 ^ (t as u64) << 7;
        let mut fill = 0u64;
        while ct.count() < max && fill < 4 * u64::from(max) {
            ct.process(LinkType::Ethernet, &spoofed(xorshift(&mut x)), now);
            fill += 1;
        }
        if ct.count() < max {
            return Err(format!("the table only filled to {}", ct.count()));
        }
        let before = ct.stats();
        let mut ring = FrameBuf::default();
        let (mut new, mut done, mut secs) = (0u64, 0u64, 0.0);
        while done < packets {
            ring.clear();
            for _ in 0..RING.min(packets - done) {
                ring.push(&spoofed(xorshift(&mut x)));
            }
            let timed = std::time::Instant::now();
            for f in ring.iter() {
                let o = ct.process(LinkType::Ethernet, f, now);
                new += u64::from(o.ctstate == Some(CtState::New));
            }
            secs += timed.elapsed().as_secs_f64();
            done += ring.len() as u64;
        }
        let after = ct.stats();
        let mut c = counts.lock().expect("no thread panics holding it");
        c[0] += new;
        c[1] += after.early_drop - before.early_drop;
        c[2] += after.drop - before.drop;
        Ok((packets, secs, u64::from(ct.count())))
    })?;
    let secs = runs.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let [new, early, dropped] = counts.into_inner().expect("threads are done");
    Ok(Report::from_threads("syn-flood", &runs)
        .extra("new_conns_per_sec_M", new as f64 / secs / 1e6)
        .extra("early_drops_per_sec_M", early as f64 / secs / 1e6)
        .extra("table_full_drops", dropped as f64))
}
