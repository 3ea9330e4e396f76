//! `ruleset-N`: the whole pipeline (raw, conntrack, mangle, nat, filter) with the seed's web
//! server rules behind N generated filter rules at the top of INPUT, so that every packet
//! faces all of them before the seed's rules decide it.
//!
//! The generated rules are a blocklist as people grow one: mostly `-s ADDR/32 -j DROP`, some
//! `-p tcp --dport PORT -s NET/24 -j DROP`, some `-i eth1 -s ADDR -j DROP`, none matching the
//! traffic. The traffic is established connections to the web server (10.2.0.1:80 on eth0):
//! their handshakes first (not timed), then rounds of a 100-byte segment each way with its
//! ACK, the client's arriving on eth0 (`receive`), the server's sent by the host (`send`).
//! Every verdict is checked (the client's packets ESTABLISHED and accepted by the seed's
//! first rule, the server's accepted): a setup that drops them fails instead of measuring.

use std::net::IpAddr;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{CtState, Instant, Verdict};
use ctguard_netfilter::pipeline::{Decision, Host, Pipeline};
use ctguard_netfilter::rules;
use ctguard_replay::incident::SEED_FILTER;
use ctguard_wire::ethernet;

use super::Params;
use crate::Report;
use crate::packets::{F_ACK, F_PSH, F_SYN, FrameBuf, Seg, TcpConn, tcp};

/// Packets built per batch (outside the timing), as a receive ring would hold them.
const BATCH: u64 = 64 * 1024;

/// Generated rule `i`: eight in ten block one address of 172.16.0.0/12, one in ten a port
/// from a /24 of 100.64.0.0/10, one in ten an address of 198.18.0.0/15 arriving on eth1.
fn generated(i: u32, out: &mut String) {
    use std::fmt::Write as _;
    let k = i / 10;
    let _ = match i % 10 {
        8 => writeln!(
            out,
            "iptables -A INPUT -p tcp --dport {} -s 100.{}.{}.0/24 -j DROP",
            [22, 80, 443, 3306, 8080][(k % 5) as usize],
            64 + (k >> 8) % 64,
            k & 0xff
        ),
        9 => writeln!(
            out,
            "iptables -A INPUT -i eth1 -s 198.{}.{}.{} -j DROP",
            18 + (k >> 16) % 2,
            (k >> 8) & 0xff,
            k & 0xff
        ),
        _ => {
            let a = i + 1;
            writeln!(
                out,
                "iptables -A INPUT -s 172.{}.{}.{}/32 -j DROP",
                16 + (a >> 16) % 16,
                (a >> 8) & 0xff,
                a & 0xff
            )
        }
    };
}

/// The rule script: N generated rules, then the seed's.
pub fn script(n: u32) -> String {
    let mut s = String::with_capacity(64 * n as usize + SEED_FILTER.len());
    for i in 0..n {
        generated(i, &mut s);
    }
    s.push_str(SEED_FILTER);
    s
}

/// The web server: 10.2.0.1/16 on eth0, the clients (10.1.0.0/16) beyond it.
fn host() -> Host {
    let ip = |s: &str| s.parse::<IpAddr>().expect("address");
    let mut h = Host::from_parts(
        &[("eth0", ip("10.2.0.1"), 16)],
        &[(ip("10.0.0.0"), 8, "eth0")],
    );
    h.add_iface("eth1", &[(ip("192.168.1.1"), 24)]);
    h
}

/// The four segments of round `r` of connection `i` (after the handshake): the client's
/// 100 bytes, the server's ACK, the server's 100 bytes, the client's ACK.
fn round(i: u32, r: u32) -> [(bool, Seg); 4] {
    let k = TcpConn::new(i);
    let c = k.isn.0.wrapping_add(1).wrapping_add(r.wrapping_mul(100));
    let s = k.isn.1.wrapping_add(1).wrapping_add(r.wrapping_mul(100));
    let seg = |to_server, seq, ack, flags, len| (to_server, k.seg(to_server, seq, ack, flags, len));
    [
        seg(true, c, s, F_PSH | F_ACK, 100),
        seg(false, s, c + 100, F_ACK, 0),
        seg(false, s, c + 100, F_PSH | F_ACK, 100),
        seg(true, c + 100, s + 100, F_ACK, 0),
    ]
}

/// Runs one packet through the host: the client's arrive on eth0, the server's are sent.
fn one(p: &mut Pipeline, to_server: bool, frame: &[u8], now: Instant) -> Decision {
    if to_server {
        p.receive("eth0", LinkType::Ethernet, frame, now)
    } else {
        p.send(&frame[ethernet::HEADER_LEN..], now)
    }
}

/// Whether a timed packet went as it must: accepted, ESTABLISHED, and the client's by the
/// seed's first rule (filter INPUT rule `established`).
fn expected(d: &Decision, to_server: bool, established: usize) -> bool {
    d.verdict == Verdict::Accept
        && d.ctstate == Some(CtState::Established)
        && (!to_server || d.rule.as_ref().and_then(|r| r.rule) == Some(established))
}

pub fn run(p: &Params, n: u32) -> Result<Report, String> {
    let packets = p.packets.unwrap_or(2_000_000);
    let conns = p.conns.unwrap_or(1000).max(1) as u32;
    let loaded = rules::load_script(&script(n), "ruleset.sh").map_err(|e| e.to_string())?;
    let mut sysctl = p.sysctl();
    sysctl.max = sysctl.max.max(conns * 2);
    let mut pipe = Pipeline::new(sysctl, loaded.v4, loaded.v6, host());
    pipe.set_table_events(false);
    let now = Instant::from_secs_f64(1000.0);
    let drain = |pipe: &mut Pipeline| while pipe.poll_output().is_some() {};

    // The handshakes, not timed.
    for i in 0..conns {
        let k = TcpConn::new(i);
        let (c, s) = k.isn;
        for (to_server, seq, ack, flags, state) in [
            (true, c, 0, F_SYN, CtState::New),
            (false, s, c + 1, F_SYN | F_ACK, CtState::Established),
            (true, c + 1, s + 1, F_ACK, CtState::Established),
        ] {
            let seg = k.seg(to_server, seq, ack, flags, 0);
            let d = one(&mut pipe, to_server, &tcp(&seg, to_server), now);
            if d.verdict != Verdict::Accept || d.ctstate != Some(state) {
                return Err(format!(
                    "ruleset-{n}: handshake of connection {i}: {:?} {:?} by {:?}",
                    d.verdict, d.ctstate, d.rule
                ));
            }
        }
        drain(&mut pipe);
    }

    // Rounds over all connections, built a batch at a time and timed batch by batch.
    let established = n as usize + 1;
    let mut dirs: Vec<bool> = Vec::with_capacity(BATCH as usize);
    let (mut done, mut secs, mut next) = (0u64, 0f64, 0u64);
    while done < packets {
        let mut frames = FrameBuf::default();
        dirs.clear();
        // A multiple of four until the last batch: no round is cut short before another.
        let want = BATCH.min(packets - done);
        while (dirs.len() as u64) < want {
            let (r, i) = (
                (next / u64::from(conns)) as u32,
                (next % u64::from(conns)) as u32,
            );
            next += 1;
            for (to_server, seg) in round(i, r) {
                if (dirs.len() as u64) < want {
                    frames.push(&tcp(&seg, to_server));
                    dirs.push(to_server);
                }
            }
        }
        let mut wrong = 0u64;
        let timed = std::time::Instant::now();
        for (k, &to_server) in dirs.iter().enumerate() {
            let d = one(&mut pipe, to_server, frames.get(k), now);
            wrong += u64::from(!expected(&d, to_server, established));
            drain(&mut pipe);
        }
        secs += timed.elapsed().as_secs_f64();
        if wrong != 0 {
            return Err(format!(
                "ruleset-{n}: {wrong} of {} packets were not accepted as ESTABLISHED by the \
                 seed's rule",
                dirs.len()
            ));
        }
        done += dirs.len() as u64;
    }
    let entries = pipe.conntrack().map_or(0, |c| u64::from(c.count()));
    let mut r = Report::new(&format!("ruleset-{n}"), 1, done, secs);
    r.entries = entries;
    let seed_rules = SEED_FILTER.lines().count() as u32;
    Ok(r.extra("rules", f64::from(n + seed_rules)))
}
