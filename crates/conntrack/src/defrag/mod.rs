//! IPv4 and IPv6 reassembly before tracking, as nf_defrag_ipv4 / nf_defrag_ipv6 do.
//!
//! What follows the kernel (Linux 6.x `ip_fragment.c`, `nf_conntrack_reasm.c`,
//! `inet_fragment.c`):
//! - Queues are keyed by (source, destination, identification, protocol) for IPv4 and
//!   (source, destination, identification) for IPv6. A queue lives `ipfrag_time` (IPv4) or
//!   `nf_conntrack_frag6_timeout` (IPv6) seconds from its first fragment; later fragments do
//!   not extend it.
//! - IPv4 and IPv6 have separate memory budgets. While a family's memory is above its
//!   `high_thresh`, every fragment of that family is dropped, for new and existing queues alike
//!   (`inet_frag_find` refuses); nothing is evicted early, memory comes back as queues complete,
//!   fail or time out. `low_thresh` plays no part in 6.x. Memory is charged per fragment as the
//!   truesize of a freshly allocated buffer of its length, plus a fixed cost per queue: an
//!   approximation, as the real truesize depends on the driver.
//! - Fragments are kept in runs of contiguous data. A fragment wholly inside one run is a
//!   duplicate and is dropped alone; any other overlap drops the whole queue (RFC 5722 for
//!   IPv6, and IPv4 too since Linux 4.19).
//! - IPv4: a non-last fragment is cut down to a multiple of 8 bytes; a last fragment that
//!   contradicts the known length, data past a known end, or an empty fragment drop the queue.
//!   With `ipfrag_max_dist` (default 64, not a [`Sysctl`] field, so fixed here) a queue whose
//!   source sent more than 64 other fragments since this queue's previous one is emptied and
//!   restarted. The reassembled header is the first fragment's, with total length, DF (kept
//!   only if the largest fragment had it), ECN and checksum fixed.
//! - IPv6: non-last fragments of a packet shorter than 1280 bytes are dropped; a non-last
//!   fragment whose end is not a multiple of 8 drops the queue; contradicting last fragments,
//!   data past the end and empty fragments drop only the fragment. The reassembled packet is
//!   the first fragment's headers up to the fragment header, which is removed, with the
//!   next-header byte before it and the payload length fixed.
//! - A reassembled packet over 65535 bytes (IPv4 total length, IPv6 payload length), or mixing
//!   not-ECT with ECT/CE fragments, is dropped.
//! - A packet that is not a fragment after all comes back unchanged as `Complete`.

mod queue;
#[cfg(test)]
mod tests;
mod v4;
mod v6;

use std::collections::HashMap;
use std::hash::Hash;

use crate::Instant;
use crate::intake::Ip;
use crate::sysctl::Sysctl;
use crate::tuple::L3;
use queue::Queue;

/// What happened to a fragment.
#[derive(Debug)]
pub enum Reassembly {
    /// Held until the rest arrives.
    Held,
    /// This fragment completed the datagram: the whole IP packet, with a fresh header.
    Complete(Vec<u8>),
    /// Dropped: overlapping, oversize, over the memory limit, or similar. The reason is a
    /// stable kebab-case name such as `overlap` or `memory-limit`.
    Dropped(&'static str),
}

/// Reassembly queues with the kernel's memory thresholds and timeouts.
#[derive(Debug, Default)]
pub struct Defrag {
    v4: v4::Frags,
    v6: FragDir<v6::Key>,
}

impl Defrag {
    pub fn new() -> Self {
        Defrag::default()
    }

    /// Offers a fragment (a packet whose `fragment` is `Some`).
    pub fn push(&mut self, ip: &Ip<'_>, now: Instant, sysctl: &Sysctl) -> Reassembly {
        match ip.l3 {
            L3::V4 => self.v4.push(ip.packet, now, sysctl),
            L3::V6 => v6::push(&mut self.v6, ip.packet, now, sysctl),
        }
    }

    /// Drops queues whose time is up.
    pub fn expire(&mut self, now: Instant, _sysctl: &Sysctl) {
        self.v4.expire(now);
        self.v6.expire(now, |_| {});
    }

    /// When the next queue times out, if any is open.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.v4.dir.next_deadline, self.v6.next_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Bytes held in queues now.
    pub fn memory(&self) -> usize {
        self.v4.dir.mem + self.v6.mem
    }

    /// Queues open now, both families.
    pub fn queues(&self) -> usize {
        self.v4.dir.queues.len() + self.v6.queues.len()
    }
}

/// Memory charged for a queue itself (about the size of the kernel's `struct ipq`).
const QUEUE_COST: usize = 192;

/// What the kernel charges for a fragment of `len` bytes: the truesize of a linear skb,
/// whose data area (headroom, data, shared info) is a power-of-two kmalloc, plus the
/// `sk_buff` itself.
fn truesize(len: usize) -> usize {
    const HEADROOM: usize = 64; // NET_SKB_PAD
    const SHARED_INFO: usize = 320; // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
    const SK_BUFF: usize = 256; // SKB_DATA_ALIGN(sizeof(struct sk_buff))
    let data = (len + HEADROOM).next_multiple_of(64) + SHARED_INFO;
    data.next_power_of_two() + SK_BUFF
}

/// `inet_frag_find` refuses any fragment while memory is above the threshold (or the
/// threshold is 0).
fn over_limit(mem: usize, high_thresh: u32) -> bool {
    high_thresh == 0 || mem > high_thresh as usize
}

/// One family's queues and memory, the kernel's `fqdir`.
#[derive(Debug)]
struct FragDir<K> {
    queues: HashMap<K, Queue>,
    mem: usize,
    /// The earliest deadline, so expiry scans only when one is due.
    next_deadline: Option<Instant>,
}

impl<K> Default for FragDir<K> {
    fn default() -> Self {
        FragDir {
            queues: HashMap::new(),
            mem: 0,
            next_deadline: None,
        }
    }
}

impl<K: Copy + Eq + Hash> FragDir<K> {
    /// The queue for `key`, created with a deadline `timeout` seconds away if there is none.
    fn queue(&mut self, key: K, now: Instant, timeout: u32, created: impl FnOnce()) -> &mut Queue {
        let FragDir {
            queues,
            mem,
            next_deadline,
        } = self;
        queues.entry(key).or_insert_with(|| {
            let deadline = now + crate::sysctl::secs(timeout);
            *mem += QUEUE_COST;
            *next_deadline = Some(next_deadline.map_or(deadline, |d| d.min(deadline)));
            created();
            Queue::new(deadline, QUEUE_COST)
        })
    }

    /// Kills a queue (`inet_frag_kill`), giving its memory back.
    fn remove(&mut self, key: &K) -> Option<Queue> {
        let q = self.queues.remove(key)?;
        self.mem -= q.charged;
        Some(q)
    }

    /// Drops the queues whose deadline is `now` or earlier, as their timers would have.
    fn expire(&mut self, now: Instant, mut removed: impl FnMut(&K)) {
        if self.next_deadline.is_none_or(|d| now < d) {
            return;
        }
        let mut freed = 0;
        let mut next: Option<Instant> = None;
        self.queues.retain(|k, q| {
            if q.deadline <= now {
                freed += q.charged;
                removed(k);
                false
            } else {
                next = Some(next.map_or(q.deadline, |d| d.min(q.deadline)));
                true
            }
        });
        self.mem -= freed;
        self.next_deadline = next;
    }
}
