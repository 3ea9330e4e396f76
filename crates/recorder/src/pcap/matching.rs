//! Which injected frames the router forwarded: the same IPv4 packet came out on the other side,
//! TTL and header checksum aside (the router decrements one and updates the other; there is
//! no NAT). Identical packets (a retransmitted SYN, say) are told apart by time: a captured
//! copy belongs to the latest copy sent before it that has no match yet, so a dropped original
//! followed by a forwarded retransmission is counted right.

use std::collections::HashMap;
use std::time::Duration;

/// Index of the side a frame was injected on or captured at: client 0, server 1.
pub type SideIndex = usize;

/// `ip` (an IPv4 packet) as compared: cut to its total length, TTL and header checksum zeroed.
/// `None` for anything else.
pub fn key(ip: &[u8]) -> Option<Vec<u8>> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let mut key = ip.get(..total)?.to_vec();
    key[8] = 0;
    key[10] = 0;
    key[11] = 0;
    Some(key)
}

/// An injected frame.
pub struct Sent {
    pub side: SideIndex,
    /// When it was sent (just before the `send` call).
    pub at: Duration,
    pub key: Vec<u8>,
}

/// A frame the router transmitted, as captured on one side.
pub struct Seen {
    /// When it was read from the capture socket.
    pub at: Duration,
    /// `None`: not IPv4 (not matched, not counted).
    pub key: Option<Vec<u8>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    /// One per [`Sent`].
    pub forwarded: Vec<bool>,
    /// IPv4 packets the router transmitted that match no injected frame.
    pub router_originated: usize,
}

/// Copies of one packet headed out of one side, in send order.
#[derive(Default)]
struct Copies {
    sent: Vec<usize>,
    /// How many of `sent` were sent before the capture being matched.
    due: usize,
    /// Those of them still unmatched, latest last.
    open: Vec<usize>,
}

/// Matches the frames captured on each side (`seen[s]`, in capture order) with the frames
/// injected on the other side.
pub fn match_frames(sent: &[Sent], seen: [&[Seen]; 2]) -> Matched {
    let mut copies: HashMap<(SideIndex, &[u8]), Copies> = HashMap::new();
    let mut order: Vec<usize> = (0..sent.len()).collect();
    order.sort_by_key(|&i| sent[i].at);
    for i in order {
        let out = 1 - sent[i].side;
        copies.entry((out, &sent[i].key)).or_default().sent.push(i);
    }
    let mut forwarded = vec![false; sent.len()];
    let mut router_originated = 0;
    for (side, list) in seen.into_iter().enumerate() {
        for frame in list {
            let Some(key) = &frame.key else { continue };
            let found = copies.get_mut(&(side, key.as_slice())).and_then(|c| {
                while c.due < c.sent.len() && sent[c.sent[c.due]].at <= frame.at {
                    c.open.push(c.sent[c.due]);
                    c.due += 1;
                }
                c.open.pop()
            });
            match found {
                Some(i) => forwarded[i] = true,
                None => router_originated += 1,
            }
        }
    }
    Matched {
        forwarded,
        router_originated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small IPv4/TCP packet (checksums not computed: matching does not look at them).
    fn packet(sport: u8, ttl: u8) -> Vec<u8> {
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 0, 0x40, 0, ttl, 6, 0x12, 0x34, 10, 98, 1, 5, 10, 99, 2, 100,
        ];
        ip.extend_from_slice(&[0, sport, 0, 80]);
        ip.resize(40, 0);
        ip
    }

    /// The packet as the router forwards it: TTL down, header checksum different.
    fn forwarded(ip: &[u8]) -> Vec<u8> {
        let mut out = ip.to_vec();
        out[8] -= 1;
        out[10] ^= 0xff;
        out
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sent(side: SideIndex, at: u64, ip: &[u8]) -> Sent {
        Sent {
            side,
            at: ms(at),
            key: key(ip).unwrap(),
        }
    }

    fn seen(at: u64, ip: &[u8]) -> Seen {
        Seen {
            at: ms(at),
            key: key(ip),
        }
    }

    #[test]
    fn ignores_ttl_checksum_and_padding() {
        let ip = packet(1, 64);
        let mut padded = forwarded(&ip);
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(key(&ip), key(&padded));
        let mut other = ip.clone();
        other[39] = 1;
        assert_ne!(key(&ip), key(&other));
        let mut v6 = ip.clone();
        v6[0] = 0x60;
        assert_eq!(key(&v6), None);
        assert_eq!(key(&ip[..30]), None);
    }

    #[test]
    fn matches_on_the_other_side_only() {
        let (a, b) = (packet(1, 64), packet(2, 64));
        let sends = [sent(0, 0, &a), sent(1, 10, &b)];
        // a came out on the server side; b came back out on its own side: not forwarded.
        let server = [seen(1, &forwarded(&a)), seen(11, &forwarded(&b))];
        let m = match_frames(&sends, [&[], &server]);
        assert_eq!(m.forwarded, [true, false]);
        assert_eq!(m.router_originated, 1);
    }

    #[test]
    fn counts_duplicates_by_time() {
        let syn = packet(1, 64);
        // Sent three times; the first is dropped, the second and third forwarded.
        let sends = [sent(0, 0, &syn), sent(0, 1000, &syn), sent(0, 3000, &syn)];
        let server = [seen(1001, &forwarded(&syn)), seen(3001, &forwarded(&syn))];
        let m = match_frames(&sends, [&[], &server]);
        assert_eq!(m.forwarded, [false, true, true]);
        assert_eq!(m.router_originated, 0);
        // Two copies sent at once, both forwarded; a third copy out of nowhere is the router's.
        let sends = [sent(0, 5, &syn), sent(0, 5, &syn)];
        let server = [
            seen(6, &forwarded(&syn)),
            seen(7, &forwarded(&syn)),
            seen(8, &forwarded(&syn)),
        ];
        let m = match_frames(&sends, [&[], &server]);
        assert_eq!(m.forwarded, [true, true]);
        assert_eq!(m.router_originated, 1);
    }

    #[test]
    fn counts_what_the_router_sent_itself() {
        let a = packet(1, 64);
        let mut icmp = packet(9, 64);
        icmp[9] = 1;
        let ipv6 = Seen {
            at: ms(3),
            key: None,
        };
        let m = match_frames(
            &[sent(0, 0, &a)],
            [&[seen(2, &icmp), ipv6], &[seen(1, &forwarded(&a))]],
        );
        assert_eq!(m.forwarded, [true]);
        assert_eq!(m.router_originated, 1);
        // A capture from before the send is not the send's.
        let m = match_frames(&[sent(0, 5, &a)], [&[], &[seen(4, &a)]]);
        assert_eq!(m.forwarded, [false]);
        assert_eq!(m.router_originated, 1);
    }
}
