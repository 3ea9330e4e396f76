//! The hash table: buckets of chains, each entry linked once per direction, as in the kernel.
//! Bucket geometry matters for behaviour: early drop only searches a few buckets near the new
//! tuple's, so the number of buckets decides how often a full table can make room.

use crate::Instant;
use crate::entry::{Conn, ConnId, Status};
use crate::hash::{scale, tuple_hash};
use crate::protect::{Class, EXPIRED_SCAN, Eviction, HANDSHAKE_GRACE_MS, Protect};
use crate::tuple::{Dir, Tuple};

const NIL: u32 = u32::MAX;

/// How many buckets early drop searches, starting at the new tuple's bucket.
pub const EVICTION_RANGE: u32 = 8;

/// The most hashes [`Table::warm`] takes at once.
pub const WARM_BATCH: usize = 32;

/// Entries are stored in chunks of this many, so that growing the table never moves them.
const CHUNK: usize = 4096;

/// The kernel allocates buckets a page of heads at a time: 4096 / 8 = 512.
pub fn round_buckets(n: u32) -> u32 {
    n.max(1).div_ceil(512).saturating_mul(512)
}

/// What a chain walk needs of an entry, kept apart from the entry so that a walk reads a
/// small, cache-resident array and touches an entry only when it may be the one sought or
/// may have expired.
#[derive(Copy, Clone, Debug)]
struct Links {
    /// Next node in the chain of each direction's bucket; a node is `slot << 1 | dir`.
    next: [u32; 2],
    /// Whole seconds of `expires`, rounded down: a lower bound, so an entry whose bound is
    /// still ahead of the clock cannot have expired. Zero when unknown.
    expires_floor: u32,
    /// Eight bits of each direction's hash: a tuple with another tag cannot match.
    tag: [u8; 2],
    /// The entry's class under the protect policy (in what was padding, so a packet's
    /// bookkeeping reads a line the lookup brought in already).
    class: Class,
}

#[derive(Debug)]
pub struct Table {
    seed: u64,
    heads: Vec<u32>,
    links: Vec<Links>,
    chunks: Vec<Box<[Option<Conn>]>>,
    free: Vec<u32>,
    len: u32,
    /// The protect policy's lists and quota; None under the kernel policy.
    protect: Option<Box<Protect>>,
}

#[inline]
fn node(id: u32, dir: Dir) -> u32 {
    id << 1 | dir as u32
}

#[inline]
fn node_dir(n: u32) -> Dir {
    if n & 1 == 0 {
        Dir::Original
    } else {
        Dir::Reply
    }
}

#[inline]
fn tag(hash: u32) -> u8 {
    hash as u8
}

#[inline]
fn floor_secs(t: Instant) -> u32 {
    (t.as_nanos() / 1_000_000_000).min(u64::from(u32::MAX)) as u32
}

#[inline]
fn slot_in(chunks: &[Box<[Option<Conn>]>], id: u32) -> Option<&Conn> {
    chunks
        .get(id as usize / CHUNK)?
        .get(id as usize % CHUNK)?
        .as_ref()
}

impl Table {
    pub fn new(buckets: u32, seed: u64) -> Self {
        Table {
            seed,
            heads: vec![NIL; round_buckets(buckets) as usize],
            links: Vec::new(),
            chunks: Vec::new(),
            free: Vec::new(),
            len: 0,
            protect: None,
        }
    }

    /// Turns the protect policy's bookkeeping on (with or without a source quota) or off.
    /// Existing entries join the lists in /proc order.
    pub fn set_protect(&mut self, on: bool, quota: bool) {
        self.protect = on.then(|| Box::new(Protect::new(quota)));
        for id in self.ids_in_proc_order() {
            let c = slot_in(&self.chunks, id.0).expect("listed entries are live");
            let class = Class::of(c);
            if let Some(p) = &mut self.protect {
                p.added(id.0, class, c);
            }
            self.links[id.0 as usize].class = if on { class } else { Class::Protected };
        }
    }

    pub fn protect(&self) -> Option<&Protect> {
        self.protect.as_deref()
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn buckets(&self) -> u32 {
        self.heads.len() as u32
    }

    /// The raw 32-bit hash of a tuple; scale it with [`Table::bucket`].
    pub fn hash(&self, t: &Tuple, zone: u16) -> u32 {
        tuple_hash(self.seed, t, zone)
    }

    pub fn bucket(&self, hash: u32) -> u32 {
        scale(hash, self.buckets())
    }

    #[inline]
    fn slot(&self, id: u32) -> Option<&Conn> {
        slot_in(&self.chunks, id)
    }

    #[inline]
    fn live(&self, id: u32) -> &Conn {
        self.slot(id).expect("linked node points at a live slot")
    }

    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.slot(id.0)
    }

    /// The entry, to change. Its cached expiry bound is forgotten, as the caller may lower
    /// `expires`; the next walk that meets it, or [`Table::refresh`], learns it again.
    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        let c = self
            .chunks
            .get_mut(id.0 as usize / CHUNK)?
            .get_mut(id.0 as usize % CHUNK)?
            .as_mut()?;
        self.links[id.0 as usize].expires_floor = 0;
        Some(c)
    }

    /// Learns an entry's expiry again after a change through [`Table::get_mut`], and under
    /// the protect policy its class (it was used at `now`: newest on its list).
    pub fn refresh(&mut self, id: ConnId, now: Instant) {
        if let Some(c) = slot_in(&self.chunks, id.0) {
            let l = &mut self.links[id.0 as usize];
            l.expires_floor = floor_secs(c.expires);
            if let Some(p) = &mut self.protect {
                let (was, class) = (l.class, Class::of(c));
                l.class = class;
                p.touched(id.0, was, class, c);
                // Protected entries are never evicted: their use times would cost a cache
                // miss a packet for nothing.
                if class != Class::Protected {
                    p.stamp(id.0, now);
                }
            }
        }
    }

    /// Under the protect policy, notes that a new entry was used at `now`.
    pub fn stamp(&mut self, id: ConnId, now: Instant) {
        if let Some(p) = &mut self.protect {
            p.stamp(id.0, now);
        }
    }

    /// Brings the buckets of `hashes`, and the first entry of each, towards the cache: the
    /// loads of a whole batch go out together instead of one miss after another, packet by
    /// packet. Only a hint: nothing changes.
    pub fn warm(&self, hashes: &[u32]) {
        let mut first = [NIL; WARM_BATCH];
        for (f, &h) in first.iter_mut().zip(hashes) {
            *f = self.heads[self.bucket(h) as usize];
        }
        let mut touched = 0u32;
        for &n in first.iter().take(hashes.len()) {
            if n != NIL {
                touched ^= self.links[(n >> 1) as usize].next[0];
                touched ^= self.slot(n >> 1).map_or(0, |c| u32::from(c.zone));
            }
        }
        core::hint::black_box(touched);
    }

    fn next_of(&self, n: u32) -> u32 {
        self.links[(n >> 1) as usize].next[(n & 1) as usize]
    }

    /// Looks a tuple up, reaping expired entries met on the chain as the kernel's lookup does.
    pub fn find(
        &mut self,
        t: &Tuple,
        zone: u16,
        now: Instant,
        reaped: &mut impl FnMut(Conn),
    ) -> Option<(ConnId, Dir)> {
        let hash = self.hash(t, zone);
        let b = self.bucket(hash) as usize;
        let want = tag(hash);
        let now_s = floor_secs(now);
        'restart: loop {
            let mut n = self.heads[b];
            while n != NIL {
                let id = n >> 1;
                let l = self.links[id as usize];
                let dir = node_dir(n);
                if l.expires_floor <= now_s {
                    let c = self.live(id);
                    if c.is_expired(now) {
                        reaped(self.remove(ConnId(id)));
                        continue 'restart;
                    }
                    self.links[id as usize].expires_floor = floor_secs(c.expires);
                }
                if l.tag[dir.index()] == want {
                    let c = self.live(id);
                    if c.zone == zone && c.has_tuple(dir, t) {
                        return Some((ConnId(id), dir));
                    }
                }
                n = l.next[dir.index()];
            }
            return None;
        }
    }

    /// Links a confirmed entry into both of its buckets.
    pub fn insert(&mut self, mut conn: Conn) -> ConnId {
        conn.status.set(Status::CONFIRMED);
        let h = [
            self.hash(&conn.original(), conn.zone),
            self.hash(&conn.reply(), conn.zone),
        ];
        let hb = [self.bucket(h[0]) as usize, self.bucket(h[1]) as usize];
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                let id = self.links.len() as u32;
                if (id as usize).is_multiple_of(CHUNK) {
                    self.chunks.push((0..CHUNK).map(|_| None).collect());
                }
                self.links.push(Links {
                    next: [NIL; 2],
                    expires_floor: 0,
                    tag: [0; 2],
                    class: Class::Protected,
                });
                id
            }
        };
        // Push the original node, then the reply node, so that both stay linked when the two
        // directions hash to the same bucket.
        let orig_next = self.heads[hb[0]];
        self.heads[hb[0]] = node(id, Dir::Original);
        let reply_next = self.heads[hb[1]];
        self.heads[hb[1]] = node(id, Dir::Reply);
        let class = match &mut self.protect {
            Some(p) => {
                let class = Class::of(&conn);
                p.added(id, class, &conn);
                class
            }
            None => Class::Protected,
        };
        self.links[id as usize] = Links {
            next: [orig_next, reply_next],
            expires_floor: floor_secs(conn.expires),
            tag: [tag(h[0]), tag(h[1])],
            class,
        };
        self.chunks[id as usize / CHUNK][id as usize % CHUNK] = Some(conn);
        self.len += 1;
        ConnId(id)
    }

    fn unlink(&mut self, target: u32, bucket: usize) {
        let after = self.next_of(target);
        if self.heads[bucket] == target {
            self.heads[bucket] = after;
            return;
        }
        let mut n = self.heads[bucket];
        while n != NIL {
            let nx = self.next_of(n);
            if nx == target {
                self.links[(n >> 1) as usize].next[(n & 1) as usize] = after;
                return;
            }
            n = nx;
        }
    }

    /// Unlinks and returns an entry.
    pub fn remove(&mut self, id: ConnId) -> Conn {
        let (zone, t0, t1) = {
            let c = self.live(id.0);
            (c.zone, c.original(), c.reply())
        };
        let b0 = self.bucket(self.hash(&t0, zone)) as usize;
        let b1 = self.bucket(self.hash(&t1, zone)) as usize;
        self.unlink(node(id.0, Dir::Original), b0);
        self.unlink(node(id.0, Dir::Reply), b1);
        let conn = self.chunks[id.0 as usize / CHUNK][id.0 as usize % CHUNK]
            .take()
            .expect("live");
        if let Some(p) = &mut self.protect {
            p.removed(id.0, self.links[id.0 as usize].class, &conn);
        }
        self.free.push(id.0);
        self.len -= 1;
        conn
    }

    /// The kernel's early drop: from the new tuple's bucket, walk up to [`EVICTION_RANGE`]
    /// buckets; in the first that holds any unassured entry, delete every unassured entry.
    /// Expired entries met on the way are reaped but do not count. `gone` receives each
    /// removed entry and whether it was a victim (true) or merely expired. Returns the victims.
    pub fn early_drop(
        &mut self,
        hash: u32,
        now: Instant,
        gone: &mut impl FnMut(Conn, bool),
    ) -> u32 {
        let n_buckets = self.buckets();
        let mut b = self.bucket(hash);
        for _ in 0..EVICTION_RANGE {
            let mut drops = 0;
            'restart: loop {
                let mut n = self.heads[b as usize];
                while n != NIL {
                    let c = self.live(n >> 1);
                    if c.is_expired(now) {
                        gone(self.remove(ConnId(n >> 1)), false);
                        continue 'restart;
                    }
                    if !c.status.has(Status::ASSURED) && !c.status.has(Status::DYING) {
                        gone(self.remove(ConnId(n >> 1)), true);
                        drops += 1;
                        continue 'restart;
                    }
                    n = self.next_of(n);
                }
                break;
            }
            if drops > 0 {
                return drops;
            }
            b = (b + 1) % n_buckets;
        }
        0
    }

    /// The protect policy's room for one more entry, in its order: expired entries (in the
    /// new tuple's [`EVICTION_RANGE`] buckets and among the oldest [`EXPIRED_SCAN`] of each
    /// list), else the least recently used unassured entry, else the least recently used
    /// closing one; but when the unassured entry was used within [`HANDSHAKE_GRACE_MS`] and
    /// the closing one was not, the closing one goes first. Protected entries are never
    /// taken. `gone` receives each removed entry and
    /// why. Returns whether anything went.
    pub fn protect_make_room(
        &mut self,
        hash: u32,
        now: Instant,
        gone: &mut impl FnMut(Conn, Eviction),
    ) -> bool {
        if self.protect.is_none() {
            return false;
        }
        let mut reaped = false;
        let n_buckets = self.buckets();
        let mut b = self.bucket(hash);
        for _ in 0..EVICTION_RANGE {
            'restart: loop {
                let mut n = self.heads[b as usize];
                while n != NIL {
                    if self.live(n >> 1).is_expired(now) {
                        gone(self.remove(ConnId(n >> 1)), Eviction::Expired);
                        reaped = true;
                        continue 'restart;
                    }
                    n = self.next_of(n);
                }
                break;
            }
            b = (b + 1) % n_buckets;
        }
        for class in [Class::Unassured, Class::Closing] {
            let mut oldest = [NIL; EXPIRED_SCAN];
            let n = self
                .protect
                .as_ref()
                .map_or(0, |p| p.oldest(class, &mut oldest));
            for &s in &oldest[..n] {
                if self.live(s).is_expired(now) {
                    gone(self.remove(ConnId(s)), Eviction::Expired);
                    reaped = true;
                }
            }
        }
        if reaped {
            return true;
        }
        let p = self.protect.as_ref().expect("checked");
        let unassured = p.victim(Class::Unassured);
        let closing = p.victim(Class::Closing);
        let young = |s: Option<u32>| s.is_some_and(|s| p.idle_ms(s, now) < HANDSHAKE_GRACE_MS);
        let victim = match (unassured, closing) {
            (Some(_), Some(c)) if young(unassured) && !young(closing) => {
                Some((c, Eviction::Closing))
            }
            (Some(u), _) => Some((u, Eviction::Unassured)),
            (None, Some(c)) => Some((c, Eviction::Closing)),
            (None, None) => None,
        };
        match victim {
            Some((s, why)) => {
                gone(self.remove(ConnId(s)), why);
                true
            }
            None => false,
        }
    }

    /// Entries of one bucket, each entry once (by its original-direction node), in chain order.
    pub fn bucket_entries(&self, b: u32, out: &mut Vec<ConnId>) {
        out.clear();
        let mut n = self.heads[b as usize];
        while n != NIL {
            if n & 1 == 0 {
                out.push(ConnId(n >> 1));
            }
            n = self.next_of(n);
        }
    }

    /// Every node of one bucket (an entry twice if both its directions hash here), as the
    /// collector walks them.
    pub fn bucket_nodes(&self, b: u32, out: &mut Vec<ConnId>) {
        out.clear();
        let mut n = self.heads[b as usize];
        while n != NIL {
            out.push(ConnId(n >> 1));
            n = self.next_of(n);
        }
    }

    /// Every entry, in /proc/net/nf_conntrack order (bucket by bucket, chain order).
    pub fn ids_in_proc_order(&self) -> Vec<ConnId> {
        let mut all = Vec::with_capacity(self.len as usize);
        let mut one = Vec::new();
        for b in 0..self.buckets() {
            self.bucket_entries(b, &mut one);
            all.extend_from_slice(&one);
        }
        all
    }

    /// Rebuilds the buckets at a new size (the kernel's hash resize).
    pub fn resize(&mut self, buckets: u32) {
        let entries: Vec<Conn> = self
            .ids_in_proc_order()
            .into_iter()
            .map(|id| self.remove(id))
            .collect();
        self.heads = vec![NIL; round_buckets(buckets) as usize];
        self.links.clear();
        self.chunks.clear();
        self.free.clear();
        for c in entries {
            self.insert(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(sport: u16, assured: bool, expires: u64) -> Conn {
        Conn::for_test(0x0a00_0001, sport, assured, Instant::from_nanos(expires))
    }

    #[test]
    fn both_directions_find_the_same_entry() {
        let mut t = Table::new(512, 1);
        let c = conn(1000, false, 100);
        let (o, r) = (c.original(), c.reply());
        let id = t.insert(c);
        let mut none = |_c: Conn| panic!("nothing expired");
        assert_eq!(
            t.find(&o, 0, Instant::ZERO, &mut none),
            Some((id, Dir::Original))
        );
        assert_eq!(
            t.find(&r, 0, Instant::ZERO, &mut none),
            Some((id, Dir::Reply))
        );
        assert_eq!(
            t.find(&o, 1, Instant::ZERO, &mut none),
            None,
            "zones separate"
        );
        t.remove(id);
        assert_eq!(t.len(), 0);
        assert_eq!(t.find(&o, 0, Instant::ZERO, &mut none), None);
    }

    #[test]
    fn lookup_reaps_expired_entries_on_its_chain() {
        let mut t = Table::new(1, 1); // one page of buckets: 512
        assert_eq!(t.buckets(), 512);
        let mut t1 = Table::new(512, 1);
        // Force every entry into one chain by using a single-bucket geometry.
        t1.heads = vec![NIL; 1];
        for p in 0..10 {
            t1.insert(conn(p, false, if p % 2 == 0 { 5 } else { 1000 }));
        }
        let probe = conn(9999, false, 0).original();
        let mut reaped = 0;
        assert!(
            t1.find(&probe, 0, Instant::from_nanos(10), &mut |_| reaped += 1)
                .is_none()
        );
        assert_eq!(reaped, 5);
        assert_eq!(t1.len(), 5);
        t.insert(conn(1, false, 1));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn early_drop_takes_every_unassured_entry_of_the_first_bucket_with_one() {
        let mut t = Table::new(512, 1);
        t.heads = vec![NIL; 1];
        t.insert(conn(1, true, 100));
        t.insert(conn(2, false, 100));
        t.insert(conn(3, false, 100));
        let mut victims = 0;
        let drops = t.early_drop(0, Instant::ZERO, &mut |_, victim| {
            assert!(victim, "none expired");
            victims += 1
        });
        assert_eq!((drops, victims, t.len()), (2, 2, 1));
        // Only assured entries left: nothing to drop.
        assert_eq!(t.early_drop(0, Instant::ZERO, &mut |_, _| ()), 0);
    }

    #[test]
    fn both_directions_in_one_bucket_stay_linked() {
        let mut t = Table::new(512, 1);
        t.heads = vec![NIL; 1];
        let a = t.insert(conn(1, false, 100));
        let b = t.insert(conn(2, false, 100));
        assert_eq!(t.ids_in_proc_order(), vec![b, a]);
        let mut nodes = Vec::new();
        t.bucket_nodes(0, &mut nodes);
        assert_eq!(nodes, vec![b, b, a, a]);
        t.remove(b);
        t.bucket_nodes(0, &mut nodes);
        assert_eq!(nodes, vec![a, a]);
        let probe = conn(1, false, 0);
        assert_eq!(
            t.find(&probe.original(), 0, Instant::ZERO, &mut |_| ()),
            Some((a, Dir::Original))
        );
        assert_eq!(
            t.find(&probe.reply(), 0, Instant::ZERO, &mut |_| ()),
            Some((a, Dir::Reply))
        );
    }

    #[test]
    fn a_lowered_expiry_is_seen_by_the_next_lookup() {
        let mut t = Table::new(512, 1);
        t.heads = vec![NIL; 1];
        let far = 1_000 * 1_000_000_000;
        let a = t.insert(conn(1, true, far));
        t.insert(conn(2, true, far));
        let probe = conn(3, false, 0).original();
        let at = Instant::from_nanos(5_000_000_000);
        let mut reaped = 0;
        assert!(t.find(&probe, 0, at, &mut |_| reaped += 1).is_none());
        assert_eq!(reaped, 0);
        // Lowered through get_mut (as a TCP state change or tcp-reset does): the cached bound
        // must not hide it.
        t.get_mut(a).unwrap().expires = Instant::from_nanos(4_000_000_000);
        assert!(t.find(&probe, 0, at, &mut |_| reaped += 1).is_none());
        assert_eq!((reaped, t.len()), (1, 1));
    }

    #[test]
    fn resize_keeps_entries() {
        let mut t = Table::new(512, 3);
        let ids: Vec<_> = (0..100).map(|p| t.insert(conn(p, false, 10))).collect();
        assert_eq!(ids.len(), 100);
        t.resize(2000);
        assert_eq!(t.buckets(), 2048);
        assert_eq!(t.len(), 100);
        assert_eq!(t.ids_in_proc_order().len(), 100);
        let probe = conn(42, false, 0).reply();
        assert!(t.find(&probe, 0, Instant::ZERO, &mut |_| ()).is_some());
    }
}
