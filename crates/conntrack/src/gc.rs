//! The background collector (the kernel's gc_worker), driven by the caller's clock.
//!
//! It reaps expired entries and, only after a table-full drop has happened, evicts entries
//! that may be early-dropped while the table is at least 95% full. Its next run is adaptive:
//! an average of the entries' remaining lifetimes, between 1 and 60 seconds.

use crate::Instant;
use crate::entry::{Conn, ConnId, ProtoState, Status};
use crate::event::DestroyReason;
use crate::sysctl::Sysctl;
use crate::table::Table;

/// The kernel's clock tick on this machine kind (CONFIG_HZ=250).
pub const JIFFY_NS: u64 = 4_000_000;
pub const HZ: i64 = 250;
const INTERVAL_MIN: i64 = HZ;
const INTERVAL_MAX: i64 = 60 * HZ;
const INTERVAL_CLAMP: i64 = 300 * HZ;
const INITIAL_COUNT: i64 = 100;
/// At most this many entries are reaped per run before the worker yields (64000 / HZ).
const EXPIRED_MAX: u32 = (64_000 / HZ) as u32;

#[derive(Clone, Debug, Default)]
pub(crate) struct Gc {
    pub next_run: Option<Instant>,
    pub next_bucket: u32,
    avg_timeout: i64,
    count: i64,
    /// Set when a packet was dropped because the table was full.
    pub early_drop: bool,
}

fn jiffies(ns: u64) -> i64 {
    (ns / JIFFY_NS) as i64
}

/// Whether the collector may evict an assured entry under pressure (TCP closing states).
fn can_early_drop(c: &Conn) -> bool {
    if !c.status.has(Status::ASSURED) {
        return true;
    }
    matches!(&c.proto, ProtoState::Tcp(t) if t.can_early_drop())
}

impl Gc {
    /// Runs every collector pass due by `now`.
    pub fn run_due(
        &mut self,
        table: &mut Table,
        sysctl: &Sysctl,
        now: Instant,
        destroyed: &mut impl FnMut(Conn, DestroyReason, Instant),
    ) {
        let Some(mut at) = self.next_run else {
            self.next_run = Some(now + core::time::Duration::from_secs(60));
            return;
        };
        // Bounded: each pass schedules the next at least one tick later.
        while at <= now {
            let delay = self.pass(table, sysctl, at, destroyed);
            at = Instant::from_nanos(at.as_nanos() + delay.max(1) as u64 * JIFFY_NS);
            self.next_run = Some(at);
        }
    }

    /// One run of the worker at time `at`; returns the delay to the next run, in jiffies.
    fn pass(
        &mut self,
        table: &mut Table,
        sysctl: &Sysctl,
        at: Instant,
        destroyed: &mut impl FnMut(Conn, DestroyReason, Instant),
    ) -> i64 {
        let max95 = if self.early_drop { sysctl.max95() } else { 0 };
        if self.next_bucket == 0 {
            self.avg_timeout = INTERVAL_MAX;
            self.count = INITIAL_COUNT;
        }
        let mut next_run = self.avg_timeout;
        let mut count = self.count;
        let mut expired = 0u32;
        let mut ids: Vec<ConnId> = Vec::new();
        let buckets = table.buckets();
        let mut i = self.next_bucket;
        while i < buckets {
            table.bucket_nodes(i, &mut ids);
            for &id in &ids {
                if expired > EXPIRED_MAX {
                    self.next_bucket = i;
                    self.avg_timeout = next_run;
                    self.count = count;
                    // The scan is instantaneous here, so the cycle never exceeds its budget.
                    self.early_drop = false;
                    return 1;
                }
                let Some(c) = table.get(id) else { continue };
                if c.is_expired(at) {
                    destroyed(table.remove(id), DestroyReason::Expired, at);
                    expired += 1;
                    continue;
                }
                let left = jiffies(at.until(c.expires).as_nanos() as u64)
                    .clamp(INTERVAL_MIN, INTERVAL_CLAMP);
                count += 1;
                next_run += (left - next_run) / count;
                if max95 == 0 || table.len() < max95 {
                    continue;
                }
                if can_early_drop(c) {
                    destroyed(table.remove(id), DestroyReason::GcEvict, at);
                    expired += 1;
                }
            }
            i += 1;
        }
        self.next_bucket = 0;
        let next_run = next_run.clamp(INTERVAL_MIN, INTERVAL_MAX);
        // One tick for the scan itself, as the kernel subtracts the time the pass took.
        let next_run = if next_run > 1 { next_run - 1 } else { 1 };
        self.early_drop = false;
        next_run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(i: u32, assured: bool, expires_s: f64) -> Conn {
        Conn::for_test(i, 1, assured, Instant::from_secs_f64(expires_s))
    }

    fn run(gc: &mut Gc, t: &mut Table, s: &Sysctl, at: f64) -> Vec<DestroyReason> {
        let mut out = Vec::new();
        gc.run_due(t, s, Instant::from_secs_f64(at), &mut |_, r, _| out.push(r));
        out
    }

    #[test]
    fn expired_entries_stay_until_the_collector_runs() {
        let s = Sysctl::default();
        let mut t = Table::new(s.buckets, 1);
        let mut gc = Gc::default();
        run(&mut gc, &mut t, &s, 0.0); // arms the first run at 60 s
        for i in 0..10 {
            t.insert(conn(i, false, 5.0));
        }
        assert!(run(&mut gc, &mut t, &s, 59.0).is_empty());
        assert_eq!(t.len(), 10, "expired at 5 s but not reaped yet");
        assert_eq!(
            run(&mut gc, &mut t, &s, 60.0),
            vec![DestroyReason::Expired; 10]
        );
        assert_eq!(t.len(), 0);
        // An empty table keeps the initial bias: next run about 60 s later.
        let next = gc.next_run.unwrap().as_secs_f64();
        assert!((119.0..=120.0).contains(&next), "{next}");
    }

    #[test]
    fn short_timeouts_bring_the_next_run_closer() {
        let s = Sysctl::default();
        let mut t = Table::new(s.buckets, 1);
        let mut gc = Gc::default();
        run(&mut gc, &mut t, &s, 0.0);
        for i in 0..1000 {
            t.insert(conn(i, false, 62.0)); // 2 s left at the 60 s run
        }
        run(&mut gc, &mut t, &s, 60.0);
        // gc_worker's running mean, worked by hand: it starts as if 100 entries had 60 s left
        // (15000 jiffies at HZ=250); each of the 2000 nodes (two per entry) has 2 s (500
        // jiffies) left; every step truncates towards zero, so the mean stalls once a step is
        // under one jiffy. The delay is that mean, clamped to 1..60 s, less the pass's tick.
        let (mut mean, mut count) = (15_000i64, 100i64);
        for _ in 0..2000 {
            count += 1;
            mean += (500 - mean) / count;
        }
        let expected_jiffies = mean.clamp(250, 15_000) - 1;
        assert!(
            mean > 1_200,
            "truncation keeps the mean above the exact 4.8 s: {mean}"
        );
        let gap_ns = gc.next_run.unwrap().as_nanos() - 60_000_000_000;
        assert_eq!(gap_ns, expected_jiffies as u64 * JIFFY_NS);
    }

    #[test]
    fn evicts_unassured_above_95_percent_only_after_a_table_full_drop() {
        let s = Sysctl {
            max: 200,
            ..Sysctl::default()
        }; // max95 = 190
        let mut t = Table::new(s.buckets, 1);
        let mut gc = Gc::default();
        run(&mut gc, &mut t, &s, 0.0);
        for i in 0..200 {
            t.insert(conn(i, i < 100, 1000.0));
        }
        assert!(
            run(&mut gc, &mut t, &s, 60.0).is_empty(),
            "no table-full drop yet"
        );
        gc.early_drop = true;
        let next = gc.next_run.unwrap().as_secs_f64();
        let evicted = run(&mut gc, &mut t, &s, next);
        assert!(evicted.iter().all(|r| *r == DestroyReason::GcEvict));
        // It evicts unassured entries while the count is at least 190: 11 of them.
        assert_eq!(evicted.len(), 11);
        assert_eq!(t.len(), 189);
        assert!(!gc.early_drop);
    }

    #[test]
    fn max_below_100_disables_eviction() {
        let s = Sysctl {
            max: 64,
            ..Sysctl::default()
        };
        assert_eq!(s.max95(), 0);
        let mut t = Table::new(s.buckets, 1);
        let mut gc = Gc {
            early_drop: true,
            ..Gc::default()
        };
        run(&mut gc, &mut t, &s, 0.0);
        for i in 0..64 {
            t.insert(conn(i, false, 1000.0));
        }
        gc.early_drop = true;
        assert!(run(&mut gc, &mut t, &s, 60.0).is_empty());
        assert_eq!(t.len(), 64);
    }
}
