//! The background collector (the kernel's gc_worker), driven by the caller's clock.
//!
//! It reaps expired entries and, only after a table-full drop has happened, evicts entries
//! that may be early-dropped while the table is at least 95% full. Its next run is adaptive:
//! an average of the entries' remaining lifetimes, between 1 and 60 seconds.

use crate::Instant;
use crate::entry::{Conn, ConnId, ProtoState, Status};
use crate::event::DestroyReason;
use crate::proto::tcp::TcpState;
use crate::sysctl::Sysctl;
use crate::table::Table;

/// The kernel's clock tick on this machine kind (CONFIG_HZ=250).
pub const JIFFY_NS: u64 = 4_000_000;
const HZ: i64 = 250;
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
    match &c.proto {
        ProtoState::Tcp(t) => matches!(
            t.state(),
            TcpState::FinWait | TcpState::LastAck | TcpState::TimeWait | TcpState::Close | TcpState::CloseWait
        ),
        _ => false,
    }
}

impl Gc {
    /// Runs every collector pass due by `now`.
    pub fn run_due(&mut self, table: &mut Table, sysctl: &Sysctl, now: Instant, destroyed: &mut impl FnMut(Conn, DestroyReason, Instant)) {
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
    fn pass(&mut self, table: &mut Table, sysctl: &Sysctl, at: Instant, destroyed: &mut impl FnMut(Conn, DestroyReason, Instant)) -> i64 {
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
                let left = jiffies(at.until(c.expires).as_nanos() as u64).clamp(INTERVAL_MIN, INTERVAL_CLAMP);
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
