//! The generators: one per `[[traffic]]` table, each making connections in start order, and
//! a merge of them into one stream in time order. Only the packets of connections already
//! started are held (in a heap), so a long or heavy profile streams in little memory.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;

use ctguard_conntrack::Instant;

use super::frame::{self, F_ACK, F_FIN, F_PSH, F_RST, F_SYN, MSS, Seg};
use super::profile::{Arrivals, Dist, Prefix, Profile, Spec, Traffic};

/// xorshift64* seeded through splitmix64: small, fast, deterministic everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `[0, n)` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with this mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// One packet of the simulated traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPacket {
    pub time: Instant,
    /// An Ethernet frame.
    pub frame: Vec<u8>,
    /// The `[[traffic]]` table it comes from (0-based, in file order).
    pub traffic: usize,
    /// The connection within that traffic (0-based, in start order): a connection for web
    /// and crowd, a query for dns, a SYN for syn-flood, a probe for scan.
    pub conn: u64,
}

/// What a queued packet will be, built when it leaves the queue.
#[derive(Clone, Debug)]
enum Body {
    Tcp(Seg),
    Dns {
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        id: u16,
        answer: bool,
    },
}

#[derive(Debug)]
struct Queued {
    at: u64,
    order: u64,
    traffic: usize,
    conn: u64,
    body: Body,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    // Reversed: BinaryHeap is a max-heap and the earliest must come out first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.order).cmp(&(self.at, self.order))
    }
}

fn ns(s: f64) -> u64 {
    (s.max(0.0) * 1e9).round() as u64
}

/// Ephemeral ports, as Linux hands them out (`ip_local_port_range` 32768 60999).
const EPHEMERAL: (u16, u16) = (32768, 60999);

fn is_special(a: u32) -> bool {
    let o = (a >> 24) as u8;
    o == 0 || o == 127 || o >= 224
}

/// One traffic's generator.
struct Gen {
    index: usize,
    t: Traffic,
    host: [u8; 4],
    rng: Rng,
    /// The next connection's start, in seconds; None when done.
    next: Option<f64>,
    count: u64,
    port_offset: u16,
    scan_sport: u16,
}

impl Gen {
    fn new(index: usize, t: &Traffic, host: Ipv4Addr, seed: u64) -> Gen {
        let mut rng = Rng::new(seed ^ (index as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
        let port_offset = rng.below(u64::from(EPHEMERAL.1 - EPHEMERAL.0) + 1) as u16;
        let scan_sport = 1024 + rng.below(64511) as u16;
        let mut g = Gen {
            index,
            t: t.clone(),
            host: host.octets(),
            rng,
            next: None,
            count: 0,
            port_offset,
            scan_sport,
        };
        g.next = g.first_start();
        g
    }

    fn gap(&mut self) -> f64 {
        match self.t.arrivals {
            Arrivals::Even => 1.0 / self.t.rate,
            Arrivals::Poisson => self.rng.exp(1.0 / self.t.rate),
        }
    }

    fn first_start(&mut self) -> Option<f64> {
        let first = match self.t.arrivals {
            Arrivals::Even => self.t.start,
            Arrivals::Poisson => self.t.start + self.gap(),
        };
        (first < self.t.stop).then_some(first)
    }

    fn exhausted(&self) -> bool {
        match &self.t.spec {
            Spec::Scan { ports, .. } => self.count >= ports.len() as u64,
            _ => false,
        }
    }

    /// An address of `p`, avoiding 0/8, 127/8, multicast and reserved space and the host
    /// where the prefix has other addresses.
    fn draw(&mut self, p: Prefix) -> [u8; 4] {
        let mut a = p.base;
        for _ in 0..32 {
            a = p.base.wrapping_add(self.rng.below(p.size()) as u32);
            if !is_special(a) && a.to_be_bytes() != self.host {
                break;
            }
        }
        a.to_be_bytes()
    }

    /// The k-th connection's source port: sequential from a random offset, so that one
    /// client does not reuse a port until the range wraps.
    fn ephemeral(&self, k: u64) -> u16 {
        let span = u64::from(EPHEMERAL.1 - EPHEMERAL.0) + 1;
        EPHEMERAL.0 + ((u64::from(self.port_offset) + k) % span) as u16
    }

    /// Queues the next connection's packets; false when the generator is done.
    fn start_next(&mut self, q: &mut BinaryHeap<Queued>, order: &mut u64) -> bool {
        let Some(t0) = self.next else {
            return false;
        };
        let k = self.count;
        let index = self.index;
        let mut push = |dt: f64, body: Body| {
            q.push(Queued {
                at: ns(t0 + dt),
                order: *order,
                traffic: index,
                conn: k,
                body,
            });
            *order += 1;
        };
        let host = self.host;
        match self.t.spec.clone() {
            Spec::Web {
                port,
                duration,
                request_bytes,
                response_bytes,
                clients,
            } => {
                let c = self.draw(clients);
                let sport = self.ephemeral(k);
                let (ci, si) = (self.rng.next_u32(), self.rng.next_u32());
                let d = match duration {
                    Dist::Uniform { min, max } => min + (max - min) * self.rng.unit(),
                    Dist::Exp { mean, min, max } => self.rng.exp(mean).clamp(min, max),
                }
                .max(0.001);
                web(
                    &mut push,
                    (c, sport),
                    (host, port),
                    (ci, si),
                    d,
                    request_bytes,
                    response_bytes,
                );
            }
            Spec::SynFlood {
                port,
                sources,
                synack,
            } => {
                let src = self.draw(sources);
                let sport = 1024 + self.rng.below(64512) as u16;
                let (ci, si) = (self.rng.next_u32(), self.rng.next_u32());
                let syn = Seg {
                    src,
                    dst: host,
                    sport,
                    dport: port,
                    seq: ci,
                    ack: 0,
                    flags: F_SYN,
                    len: 0,
                };
                push(0.0, Body::Tcp(syn));
                if synack {
                    push(
                        0.0005,
                        Body::Tcp(reply(&syn, si, ci.wrapping_add(1), F_SYN | F_ACK)),
                    );
                }
            }
            Spec::Dns {
                server,
                port,
                clients,
            } => {
                let server = server.octets();
                let client = if server == host {
                    self.draw(clients)
                } else {
                    host
                };
                // Sequential, so that a query never meets an earlier one's entry.
                let sport = self.ephemeral(k);
                let id = self.rng.next_u32() as u16;
                let latency = 0.001 + 0.019 * self.rng.unit();
                let (a, b) = ((client, sport), (server, port));
                push(
                    0.0,
                    Body::Dns {
                        src: a,
                        dst: b,
                        id,
                        answer: false,
                    },
                );
                push(
                    latency,
                    Body::Dns {
                        src: b,
                        dst: a,
                        id,
                        answer: true,
                    },
                );
            }
            Spec::Scan {
                source,
                ports,
                open,
            } => {
                let dport = ports[k as usize];
                let isn = self.rng.next_u32();
                let syn = Seg {
                    src: source.octets(),
                    dst: host,
                    sport: self.scan_sport,
                    dport,
                    seq: isn,
                    ack: 0,
                    flags: F_SYN,
                    len: 0,
                };
                push(0.0, Body::Tcp(syn));
                if open.contains(&dport) {
                    let si = self.rng.next_u32();
                    push(
                        0.0002,
                        Body::Tcp(reply(&syn, si, isn.wrapping_add(1), F_SYN | F_ACK)),
                    );
                    let rst = Seg {
                        seq: isn.wrapping_add(1),
                        flags: F_RST,
                        ..syn
                    };
                    push(0.0004, Body::Tcp(rst));
                } else {
                    push(
                        0.0002,
                        Body::Tcp(reply(&syn, 0, isn.wrapping_add(1), F_RST | F_ACK)),
                    );
                }
            }
            Spec::Crowd {
                port,
                clients,
                request_bytes,
            } => {
                let c = self.draw(clients);
                let sport = self.ephemeral(k);
                let (ci, si) = (self.rng.next_u32(), self.rng.next_u32());
                let syn = Seg {
                    src: c,
                    dst: host,
                    sport,
                    dport: port,
                    seq: ci,
                    ack: 0,
                    flags: F_SYN,
                    len: 0,
                };
                let (c1, s1) = (ci.wrapping_add(1), si.wrapping_add(1));
                push(0.0, Body::Tcp(syn));
                push(0.001, Body::Tcp(reply(&syn, si, c1, F_SYN | F_ACK)));
                let ack = Seg {
                    seq: c1,
                    ack: s1,
                    flags: F_ACK,
                    ..syn
                };
                push(0.002, Body::Tcp(ack));
                if request_bytes > 0 {
                    let req = Seg {
                        flags: F_PSH | F_ACK,
                        len: request_bytes as usize,
                        ..ack
                    };
                    push(0.003, Body::Tcp(req));
                }
            }
        }
        self.count += 1;
        let next = match self.t.arrivals {
            // From the count, so that rounding does not add up over many gaps.
            Arrivals::Even => self.t.start + self.count as f64 / self.t.rate,
            Arrivals::Poisson => t0 + self.gap(),
        };
        self.next = (next < self.t.stop && !self.exhausted()).then_some(next);
        true
    }
}

/// The reply direction of `s`'s connection.
fn reply(s: &Seg, seq: u32, ack: u32, flags: u8) -> Seg {
    Seg {
        src: s.dst,
        dst: s.src,
        sport: s.dport,
        dport: s.sport,
        seq,
        ack,
        flags,
        len: 0,
    }
}

/// A whole web exchange lasting `d` seconds: handshake, request, the response in MSS
/// segments each acknowledged, the server's FIN, the client's FIN, the last ACK.
fn web(
    push: &mut impl FnMut(f64, Body),
    (c, sport): ([u8; 4], u16),
    (s, port): ([u8; 4], u16),
    (ci, si): (u32, u32),
    d: f64,
    request: u32,
    response: u32,
) {
    let r = (d / 5.0).min(0.02);
    let cs = |seq: u32, ack: u32, flags: u8, len: usize| Seg {
        src: c,
        dst: s,
        sport,
        dport: port,
        seq,
        ack,
        flags,
        len,
    };
    let sc = |seq: u32, ack: u32, flags: u8, len: usize| Seg {
        src: s,
        dst: c,
        sport: port,
        dport: sport,
        seq,
        ack,
        flags,
        len,
    };
    let (c1, s1) = (ci.wrapping_add(1), si.wrapping_add(1));
    let c_end = c1.wrapping_add(request);
    let s_end = s1.wrapping_add(response);
    push(0.0, Body::Tcp(cs(ci, 0, F_SYN, 0)));
    push(r / 2.0, Body::Tcp(sc(si, c1, F_SYN | F_ACK, 0)));
    push(r, Body::Tcp(cs(c1, s1, F_ACK, 0)));
    if request > 0 {
        push(r, Body::Tcp(cs(c1, s1, F_PSH | F_ACK, request as usize)));
    }
    let (a, b) = (1.5 * r, d - r);
    let n = (response as usize).div_ceil(MSS);
    if n == 0 {
        push(a, Body::Tcp(sc(s1, c_end, F_ACK, 0)));
    }
    let mut sent = 0usize;
    for i in 0..n {
        let len = (response as usize - sent).min(MSS);
        let t = a + (b - a) * i as f64 / n as f64;
        let flags = if i + 1 == n { F_PSH | F_ACK } else { F_ACK };
        push(
            t,
            Body::Tcp(sc(s1.wrapping_add(sent as u32), c_end, flags, len)),
        );
        sent += len;
        push(
            t + r / 2.0,
            Body::Tcp(cs(c_end, s1.wrapping_add(sent as u32), F_ACK, 0)),
        );
    }
    push(d - r / 2.0, Body::Tcp(sc(s_end, c_end, F_FIN | F_ACK, 0)));
    push(
        d - r / 4.0,
        Body::Tcp(cs(c_end, s_end.wrapping_add(1), F_FIN | F_ACK, 0)),
    );
    push(
        d,
        Body::Tcp(sc(s_end.wrapping_add(1), c_end.wrapping_add(1), F_ACK, 0)),
    );
}

/// The profile's packets in time order (ties in the order they were made).
pub struct Packets {
    gens: Vec<Gen>,
    queue: BinaryHeap<Queued>,
    order: u64,
    host: [u8; 4],
}

impl Packets {
    pub fn new(p: &Profile) -> Packets {
        Packets {
            gens: p
                .traffic
                .iter()
                .enumerate()
                .map(|(i, t)| Gen::new(i, t, p.host, p.seed))
                .collect(),
            queue: BinaryHeap::new(),
            order: 0,
            host: p.host.octets(),
        }
    }

    /// Connections started so far, per traffic.
    pub fn started(&self) -> Vec<u64> {
        self.gens.iter().map(|g| g.count).collect()
    }

    fn build(&self, b: &Body) -> Vec<u8> {
        let macs = |dst: [u8; 4]| {
            if dst == self.host {
                (frame::HOST_MAC, frame::PEER_MAC)
            } else {
                (frame::PEER_MAC, frame::HOST_MAC)
            }
        };
        match b {
            Body::Tcp(s) => {
                let (d, sm) = macs(s.dst);
                frame::tcp(s, d, sm)
            }
            Body::Dns {
                src,
                dst,
                id,
                answer,
            } => {
                let (d, sm) = macs(dst.0);
                frame::udp(*src, *dst, &frame::dns(*id, *answer), d, sm)
            }
        }
    }
}

impl Iterator for Packets {
    type Item = SimPacket;

    fn next(&mut self) -> Option<SimPacket> {
        loop {
            let head = self.queue.peek().map(|q| q.at);
            // The generator whose next connection starts first (the lowest index on a tie).
            let due = self
                .gens
                .iter()
                .enumerate()
                .filter_map(|(i, g)| g.next.map(|t| (ns(t), i)))
                .min();
            match (due, head) {
                (Some((t, i)), h) if h.is_none_or(|h| t <= h) => {
                    self.gens[i].start_next(&mut self.queue, &mut self.order);
                }
                (_, Some(_)) => {
                    let q = self.queue.pop().expect("peeked");
                    return Some(SimPacket {
                        time: Instant::from_nanos(q.at),
                        frame: self.build(&q.body),
                        traffic: q.traffic,
                        conn: q.conn,
                    });
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_spread() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(10)).collect();
        assert_eq!(xs, ys);
        assert!((0..10).all(|d| xs.contains(&d)));
        assert_ne!(Rng::new(2).next_u64(), Rng::new(1).next_u64());
    }
}
