//! One datagram being reassembled: its fragments as runs of contiguous data, and the
//! bookkeeping `inet_frag_queue` keeps.

use crate::Instant;

/// What became of a fragment offered to its queue.
pub(super) enum Step {
    Held,
    Complete,
    /// Drop the fragment only.
    Drop(&'static str),
    /// Drop the fragment and the queue.
    Kill(&'static str),
}

impl Step {
    /// After a fragment went in: complete, or held for more.
    pub fn after(q: &Queue) -> Step {
        if q.complete() {
            Step::Complete
        } else {
            Step::Held
        }
    }
}

/// Where a fragment went (`inet_frag_queue_insert`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Insert {
    Added,
    /// Wholly inside data already held: drop the fragment, keep the queue.
    Duplicate,
    /// Any other overlap: drop the queue.
    Overlap,
}

/// Contiguous data received as consecutive fragments. The kernel grows a run only when a
/// fragment lands exactly at the end of the last one; a fragment filling a gap starts its own
/// run, even when it touches its neighbours.
#[derive(Debug)]
struct Run {
    start: u32,
    end: u32,
    data: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct Queue {
    pub deadline: Instant,
    /// The datagram's data length as far as known (`q.len`).
    pub len: u32,
    /// Bytes received (`q.meat`).
    pub meat: u32,
    pub first_in: bool,
    pub last_in: bool,
    /// IPFRAG_ECN_* bits of every fragment's ECN field.
    pub ecn: u8,
    /// Memory charged for this queue and its fragments.
    pub charged: usize,
    /// Headers from the offset-0 fragment: the IPv4 header, or the IPv6 headers before the
    /// fragment header.
    pub head: Vec<u8>,
    /// IPv6: offset within `head` of the next-header byte that named the fragment header.
    pub nh_at: usize,
    /// IPv6: what the first fragment's fragment header says comes next.
    pub next_header: u8,
    /// IPv4: largest fragment, and largest with DF set (header included).
    pub max_size: u32,
    pub max_df_size: u32,
    /// IPv4: the source's fragment counter after this queue's last fragment.
    pub rid: u32,
    /// Sorted and disjoint.
    runs: Vec<Run>,
}

impl Queue {
    pub fn new(deadline: Instant, charged: usize) -> Self {
        Queue {
            deadline,
            len: 0,
            meat: 0,
            first_in: false,
            last_in: false,
            ecn: 0,
            charged,
            head: Vec::new(),
            nh_at: 0,
            next_header: 0,
            max_size: 0,
            max_df_size: 0,
            rid: 0,
            runs: Vec::new(),
        }
    }

    pub fn has_fragments(&self) -> bool {
        !self.runs.is_empty()
    }

    pub fn complete(&self) -> bool {
        self.first_in && self.last_in && self.meat == self.len
    }

    /// Places `data` at `start`, as `inet_frag_queue_insert` does.
    pub fn insert(&mut self, start: u32, data: &[u8]) -> Insert {
        let end = start + data.len() as u32;
        let run = |data: &[u8]| Run {
            start,
            end,
            data: data.to_vec(),
        };
        match self.runs.last_mut() {
            None => self.runs.push(run(data)),
            // The common case: past everything held.
            Some(last) if last.end < end => {
                if start < last.end {
                    return Insert::Overlap;
                }
                if start == last.end {
                    last.data.extend_from_slice(data);
                    last.end = end;
                } else {
                    self.runs.push(run(data));
                }
            }
            Some(_) => {
                let i = self.runs.partition_point(|r| r.end <= start);
                if let Some(r) = self.runs.get(i).filter(|r| r.start < end) {
                    return if start >= r.start && end <= r.end {
                        Insert::Duplicate
                    } else {
                        Insert::Overlap
                    };
                }
                self.runs.insert(i, run(data));
            }
        }
        self.meat += end - start;
        Insert::Added
    }

    /// Forgets every fragment (`ip_frag_reinit`), leaving `base` charged.
    pub fn clear(&mut self, base: usize) {
        self.runs.clear();
        self.charged = base;
        self.len = 0;
        self.meat = 0;
        self.first_in = false;
        self.last_in = false;
        self.ecn = 0;
    }

    /// `head` followed by the data, in order. Only meaningful once complete.
    pub fn assemble(self) -> Vec<u8> {
        let mut out = self.head;
        out.reserve(self.len as usize);
        for r in self.runs {
            out.extend_from_slice(&r.data);
        }
        out
    }
}

/// The ECN bits to OR into the reassembled header (`ip_frag_ecn_table`), or `None` for a
/// mix of not-ECT with ECT or CE fragments, which is dropped.
pub(super) fn merge_ecn(bits: u8) -> Option<u8> {
    const NOT_ECT: u8 = 1;
    const CE: u8 = 8;
    if bits & NOT_ECT != 0 && bits & !NOT_ECT != 0 {
        return None;
    }
    Some(if bits & CE != 0 { 3 } else { 0 })
}

/// The IPFRAG_ECN_* bit of an ECN codepoint (the low two bits of TOS / traffic class).
pub(super) fn ecn_bit(tos: u8) -> u8 {
    1 << (tos & 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Queue {
        Queue::new(Instant::ZERO, 0)
    }

    #[test]
    fn runs_grow_only_at_the_end() {
        let mut q = q();
        assert_eq!(q.insert(0, &[1; 8]), Insert::Added);
        assert_eq!(q.insert(8, &[2; 8]), Insert::Added); // appended to the run
        assert_eq!(q.insert(24, &[4; 8]), Insert::Added); // a new run
        assert_eq!(q.insert(16, &[3; 8]), Insert::Added); // fills the gap, its own run
        assert_eq!(q.meat, 32);
        // Inside a single run: duplicate. Across two runs, though all present: overlap.
        assert_eq!(q.insert(4, &[9; 8]), Insert::Duplicate);
        assert_eq!(q.insert(12, &[9; 8]), Insert::Overlap);
        assert_eq!(q.insert(28, &[9; 8]), Insert::Overlap); // sticks out past the end
        assert_eq!(q.meat, 32);
        q.first_in = true;
        q.last_in = true;
        q.len = 32;
        assert!(q.complete());
        let all = q.assemble();
        assert_eq!(all, [[1u8; 8], [2; 8], [3; 8], [4; 8]].concat());
    }

    #[test]
    fn gaps_before_the_first_run() {
        let mut q = q();
        assert_eq!(q.insert(16, &[2; 8]), Insert::Added);
        assert_eq!(q.insert(0, &[1; 8]), Insert::Added);
        assert_eq!(q.insert(4, &[1; 8]), Insert::Overlap);
        assert_eq!(q.insert(16, &[2; 8]), Insert::Duplicate);
    }

    #[test]
    fn ecn_merging() {
        let (not_ect, ect1, ect0, ce) = (ecn_bit(0), ecn_bit(1), ecn_bit(2), ecn_bit(3));
        assert_eq!((not_ect, ect1, ect0, ce), (1, 2, 4, 8));
        assert_eq!(merge_ecn(not_ect), Some(0));
        assert_eq!(merge_ecn(ect0 | ect1), Some(0));
        assert_eq!(merge_ecn(ce | ect0), Some(3));
        assert_eq!(merge_ecn(ce), Some(3));
        assert_eq!(merge_ecn(not_ect | ce), None);
        assert_eq!(merge_ecn(not_ect | ect0), None);
    }
}
