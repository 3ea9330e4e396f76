//! Doubly linked lists threaded through entry slots, one per evictable class, oldest first:
//! O(1) to add, remove, move to the back or take the oldest, whatever the table's size.

const NIL: u32 = u32::MAX;

#[derive(Copy, Clone, Debug)]
struct Node {
    prev: u32,
    next: u32,
}

/// `N` lists over one slot space; a slot is on at most one list.
#[derive(Debug)]
pub(crate) struct Lists<const N: usize> {
    nodes: Vec<Node>,
    head: [u32; N],
    tail: [u32; N],
    len: [u32; N],
}

impl<const N: usize> Default for Lists<N> {
    fn default() -> Self {
        Lists {
            nodes: Vec::new(),
            head: [NIL; N],
            tail: [NIL; N],
            len: [0; N],
        }
    }
}

impl<const N: usize> Lists<N> {
    pub fn len(&self, list: usize) -> u32 {
        self.len[list]
    }

    /// Adds `slot` as the newest of `list`.
    pub fn push_back(&mut self, list: usize, slot: u32) {
        let i = slot as usize;
        if self.nodes.len() <= i {
            self.nodes.resize(
                i + 1,
                Node {
                    prev: NIL,
                    next: NIL,
                },
            );
        }
        let old_tail = self.tail[list];
        self.nodes[i] = Node {
            prev: old_tail,
            next: NIL,
        };
        match old_tail {
            NIL => self.head[list] = slot,
            t => self.nodes[t as usize].next = slot,
        }
        self.tail[list] = slot;
        self.len[list] += 1;
    }

    /// Takes `slot`, which must be on `list`, off it.
    pub fn unlink(&mut self, list: usize, slot: u32) {
        let Node { prev, next } = self.nodes[slot as usize];
        match prev {
            NIL => self.head[list] = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.tail[list] = prev,
            n => self.nodes[n as usize].prev = prev,
        }
        self.len[list] -= 1;
    }

    /// Makes `slot`, which is on `list`, its newest.
    pub fn move_to_back(&mut self, list: usize, slot: u32) {
        if self.tail[list] != slot {
            self.unlink(list, slot);
            self.push_back(list, slot);
        }
    }

    /// The oldest slots of `list`, oldest first, as many as fit in `out`; returns how many.
    pub fn oldest(&self, list: usize, out: &mut [u32]) -> usize {
        let mut s = self.head[list];
        let mut n = 0;
        while s != NIL && n < out.len() {
            out[n] = s;
            n += 1;
            s = self.nodes[s as usize].next;
        }
        n
    }

    pub fn front(&self, list: usize) -> Option<u32> {
        (self.head[list] != NIL).then_some(self.head[list])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(l: &Lists<2>, list: usize) -> Vec<u32> {
        let mut v = [0; 16];
        let n = l.oldest(list, &mut v);
        v[..n].to_vec()
    }

    #[test]
    fn oldest_first_and_moves() {
        let mut l = Lists::<2>::default();
        for s in [5, 1, 9] {
            l.push_back(0, s);
        }
        l.push_back(1, 3);
        assert_eq!(all(&l, 0), [5, 1, 9]);
        l.move_to_back(0, 5);
        assert_eq!(all(&l, 0), [1, 9, 5]);
        l.unlink(0, 9);
        assert_eq!(all(&l, 0), [1, 5]);
        assert_eq!((l.len(0), l.len(1)), (2, 1));
        l.unlink(0, 1);
        l.unlink(0, 5);
        assert_eq!(l.front(0), None);
        assert_eq!(l.front(1), Some(3));
        l.push_back(0, 1);
        assert_eq!(all(&l, 0), [1]);
    }
}
