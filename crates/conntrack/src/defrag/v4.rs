//! IPv4 reassembly: `ip_defrag` as nf_defrag_ipv4 calls it.

use std::collections::HashMap;

use ctguard_wire::ipv4;

use super::queue::{Insert, Queue, Step, ecn_bit, merge_ecn};
use super::{FragDir, QUEUE_COST, Reassembly, over_limit, truesize};
use crate::Instant;
use crate::sysctl::{Sysctl, secs};

/// `net.ipv4.ipfrag_max_dist`'s default.
const MAX_DIST: u32 = 64;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    proto: u8,
}

/// A source's fragment counter (the kernel's `inet_peer` rid), kept while it has queues.
#[derive(Debug, Default)]
struct Peer {
    rid: u32,
    queues: u32,
}

#[derive(Debug, Default)]
pub(super) struct Frags {
    pub dir: FragDir<Key>,
    peers: HashMap<[u8; 4], Peer>,
}

impl Frags {
    pub fn push(&mut self, packet: &[u8], now: Instant, sysctl: &Sysctl) -> Reassembly {
        let Ok(h) = ipv4::Packet::new_checked(packet) else {
            return Reassembly::Dropped("not-ipv4");
        };
        if !h.is_fragment() {
            return Reassembly::Complete(packet.to_vec());
        }
        self.expire(now);
        if over_limit(self.dir.mem, sysctl.ipfrag_high_thresh) {
            return Reassembly::Dropped("memory-limit");
        }
        let key = Key {
            src: h.src_addr(),
            dst: h.dst_addr(),
            id: h.ident(),
            proto: h.protocol(),
        };
        let peers = &mut self.peers;
        let q = self.dir.queue(key, now, sysctl.ipfrag_time, || {
            peers.entry(key.src).or_default().queues += 1
        });
        let before = q.charged;
        let step = queue_fragment(q, peers.entry(key.src).or_default(), &h, now, sysctl);
        let after = q.charged;
        self.dir.mem = self.dir.mem - before + after;
        match step {
            Step::Held => Reassembly::Held,
            Step::Drop(why) => Reassembly::Dropped(why),
            Step::Kill(why) => {
                self.kill(&key);
                Reassembly::Dropped(why)
            }
            Step::Complete => match self.kill(&key) {
                Some(q) => reassemble(q),
                None => Reassembly::Dropped("lost-queue"),
            },
        }
    }

    pub fn expire(&mut self, now: Instant) {
        let peers = &mut self.peers;
        self.dir.expire(now, |k| release(peers, &k.src));
    }

    fn kill(&mut self, key: &Key) -> Option<Queue> {
        let q = self.dir.remove(key)?;
        release(&mut self.peers, &key.src);
        Some(q)
    }
}

fn release(peers: &mut HashMap<[u8; 4], Peer>, src: &[u8; 4]) {
    if let Some(p) = peers.get_mut(src) {
        p.queues = p.queues.saturating_sub(1);
        if p.queues == 0 {
            peers.remove(src);
        }
    }
}

/// `ip_frag_queue`.
fn queue_fragment(
    q: &mut Queue,
    peer: &mut Peer,
    h: &ipv4::Packet<&[u8]>,
    now: Instant,
    sysctl: &Sysctl,
) -> Step {
    // ip_frag_too_far: too many fragments from this source since our last one.
    let start = q.rid;
    peer.rid = peer.rid.wrapping_add(1);
    q.rid = peer.rid;
    if q.has_fragments() && peer.rid.wrapping_sub(start) > MAX_DIST {
        q.clear(QUEUE_COST);
        q.deadline = now + secs(sysctl.ipfrag_time);
    }

    let data = h.payload();
    let offset = u32::from(h.frag_offset());
    let mut end = offset + data.len() as u32;
    if !h.more_frags() {
        if end < q.len || (q.last_in && end != q.len) {
            return Step::Kill("bad-last-fragment");
        }
        q.last_in = true;
        q.len = end;
    } else {
        end &= !7;
        if end > q.len {
            if q.last_in {
                return Step::Kill("beyond-last-fragment");
            }
            q.len = end;
        }
    }
    if end <= offset {
        return Step::Kill("empty-fragment");
    }
    match q.insert(offset, &data[..(end - offset) as usize]) {
        Insert::Added => {}
        Insert::Duplicate => return Step::Drop("duplicate"),
        Insert::Overlap => return Step::Kill("overlap"),
    }
    q.ecn |= ecn_bit(h.tos());
    q.charged += truesize(h.total_len().into());
    if offset == 0 {
        q.first_in = true;
        q.head = h.header().to_vec();
    }
    let size = end - offset + h.header_len() as u32;
    q.max_size = q.max_size.max(size);
    if h.dont_frag() {
        q.max_df_size = q.max_df_size.max(size);
    }
    Step::after(q)
}

/// `ip_frag_reasm`: the first fragment's header over all the data.
fn reassemble(q: Queue) -> Reassembly {
    let Some(ecn) = merge_ecn(q.ecn) else {
        return Reassembly::Dropped("bad-ecn");
    };
    let total = q.head.len() + q.len as usize;
    let Ok(total) = u16::try_from(total) else {
        return Reassembly::Dropped("oversize");
    };
    let dont_frag = q.max_df_size == q.max_size;
    let mut out = q.assemble();
    let mut h = ipv4::Packet::new_unchecked(&mut out[..]);
    h.set_total_len(total);
    h.set_tos(h.tos() | ecn);
    h.set_frag(dont_frag, false, 0);
    h.fill_checksum();
    Reassembly::Complete(out)
}
