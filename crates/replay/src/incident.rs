//! The seed's incident as traffic: a web server on port 80 whose table fills with the
//! connections of a malicious crowd, while legitimate clients keep coming. The crowd's
//! clients complete the handshake, send a request and vanish without closing: their entries
//! are ASSURED and ESTABLISHED, which early drop may not evict, and with the default
//! established timeout (5 days) they outlive the attack. Legitimate clients make whole
//! exchanges (handshake, request, response, both FINs).
//!
//! Frames are Ethernet/IPv4/TCP with correct checksums ([`crate::simulate::frame`]),
//! generated deterministically. `ctguard simulate examples/profiles/seed-incident.toml` makes
//! the same kind of traffic from a profile.

use ctguard_conntrack::Instant;

use crate::simulate::frame::{self as builder, F_ACK, F_FIN, F_PSH, F_SYN, Seg};

/// The web server's filter rules, as CentOS ships /etc/sysconfig/iptables, with port 80
/// open (the seed's rule set, as `iptables` commands).
pub const SEED_FILTER: &str = "\
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p icmp -j ACCEPT
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 80 -j ACCEPT
iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
";

/// The web server's address; it is the capture host (`--local`).
pub const SERVER: [u8; 4] = [10, 0, 0, 1];

/// How much traffic.
#[derive(Clone, Copy, Debug)]
pub struct Incident {
    pub seconds: u32,
    /// New malicious connections per second (each: SYN, SYN/ACK, ACK, request; then nothing).
    pub attack_rate: u32,
    /// New legitimate connections per second (each a whole exchange of 10 packets).
    pub legit_rate: u32,
}

/// One packet of the traffic.
#[derive(Clone, Debug)]
pub struct Packet {
    pub time: Instant,
    pub frame: Vec<u8>,
    /// The legitimate connection it belongs to, if any.
    pub legit: Option<u32>,
}

/// The incident's frames all go from the peer's MAC to the host's, whichever the direction.
fn frame(s: &Seg) -> Vec<u8> {
    builder::tcp(s, builder::HOST_MAC, builder::PEER_MAC)
}

/// A client address: `base.x.y` for client number `n` of `span` (at most 65536).
fn client(base: [u8; 2], n: u32, span: u32) -> [u8; 4] {
    let k = n % span.clamp(1, 65536);
    [base[0], base[1], (k >> 8) as u8, k as u8]
}

impl Incident {
    /// The traffic, in time order.
    pub fn packets(&self) -> Vec<Packet> {
        let mut out = Vec::new();
        let ns = |s: f64| Instant::from_nanos((s * 1e9) as u64);
        let attack_total = self.seconds * self.attack_rate;
        for i in 0..attack_total {
            let t = f64::from(i) / f64::from(self.attack_rate.max(1));
            let src = client([203, 0], i, 4096);
            let sport = 1024 + (i % 60000) as u16;
            let (cs, ss) = (1000 + i, 50_000 + i);
            let segs = [
                (0.0, src, SERVER, sport, 80, cs, 0, F_SYN, 0),
                (0.001, SERVER, src, 80, sport, ss, cs + 1, F_SYN | F_ACK, 0),
                (0.002, src, SERVER, sport, 80, cs + 1, ss + 1, F_ACK, 0),
                (
                    0.003,
                    src,
                    SERVER,
                    sport,
                    80,
                    cs + 1,
                    ss + 1,
                    F_PSH | F_ACK,
                    60,
                ),
            ];
            for (dt, s, d, sp, dp, seq, ack, flags, len) in segs {
                out.push(Packet {
                    time: ns(t + dt),
                    frame: frame(&Seg {
                        src: s,
                        dst: d,
                        sport: sp,
                        dport: dp,
                        seq,
                        ack,
                        flags,
                        len,
                    }),
                    legit: None,
                });
            }
        }
        let legit_total = self.seconds * self.legit_rate;
        for i in 0..legit_total {
            let t = (f64::from(i) + 0.5) / f64::from(self.legit_rate.max(1));
            let src = client([198, 51], i, 1024);
            let sport = 30000 + (i % 30000) as u16;
            let (c, s) = (7000u32.wrapping_mul(i + 1), 9000u32.wrapping_mul(i + 3));
            let segs = [
                (0.000, true, c, 0, F_SYN, 0),
                (0.010, false, s, c + 1, F_SYN | F_ACK, 0),
                (0.020, true, c + 1, s + 1, F_ACK, 0),
                (0.021, true, c + 1, s + 1, F_PSH | F_ACK, 100),
                (0.030, false, s + 1, c + 101, F_ACK, 0),
                (0.031, false, s + 1, c + 101, F_PSH | F_ACK, 1000),
                (0.040, true, c + 101, s + 1001, F_ACK, 0),
                (0.041, false, s + 1001, c + 101, F_FIN | F_ACK, 0),
                (0.050, true, c + 101, s + 1002, F_FIN | F_ACK, 0),
                (0.060, false, s + 1002, c + 102, F_ACK, 0),
            ];
            for (dt, from_client, seq, ack, flags, len) in segs {
                let (s_, d_, sp, dp) = if from_client {
                    (src, SERVER, sport, 80)
                } else {
                    (SERVER, src, 80, sport)
                };
                out.push(Packet {
                    time: ns(t + dt),
                    frame: frame(&Seg {
                        src: s_,
                        dst: d_,
                        sport: sp,
                        dport: dp,
                        seq,
                        ack,
                        flags,
                        len,
                    }),
                    legit: Some(i),
                });
            }
        }
        out.sort_by_key(|p| p.time);
        out
    }

    pub fn legit_connections(&self) -> u32 {
        self.seconds * self.legit_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctguard_conntrack::intake::{self, LinkType};

    #[test]
    fn frames_parse_with_good_checksums() {
        let inc = Incident {
            seconds: 1,
            attack_rate: 3,
            legit_rate: 2,
        };
        let p = inc.packets();
        assert_eq!(p.len(), 3 * 4 + 2 * 10);
        assert!(p.windows(2).all(|w| w[0].time <= w[1].time));
        for pk in &p {
            let ip = intake::parse_frame(LinkType::Ethernet, &pk.frame).expect("parses");
            assert!(intake::parse_l4(&ip, true).is_ok(), "checksum");
        }
    }
}
