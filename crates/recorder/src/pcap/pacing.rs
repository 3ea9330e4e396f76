//! Sending on the pcap's schedule: sleep until shortly before a frame is due, then spin, on the
//! monotonic clock; how late each frame went is kept.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::record::STOP;

/// Sleeps end up to ~100 µs late (timer slack, wake-up); the rest is spun.
const SPIN: Duration = Duration::from_micros(300);
/// Longest sleep between looks at the stop flag.
const SLICE: Duration = Duration::from_millis(100);
/// Lateness worth counting.
const LATE: Duration = Duration::from_millis(1);

pub struct Pacer {
    pub start: Instant,
    pub max_late: Duration,
    /// Frames sent more than [`LATE`] after they were due.
    pub late_frames: usize,
}

impl Pacer {
    pub fn start() -> Pacer {
        Pacer {
            start: Instant::now(),
            max_late: Duration::ZERO,
            late_frames: 0,
        }
    }

    /// Waits until `at` after the start; an error if a stop was requested.
    pub fn wait(&mut self, at: Duration) -> Result<(), String> {
        let due = self.start + at;
        loop {
            if STOP.load(Ordering::Relaxed) {
                return Err("interrupted".into());
            }
            let left = due.saturating_duration_since(Instant::now());
            if left <= SPIN {
                break;
            }
            std::thread::sleep((left - SPIN).min(SLICE));
        }
        let mut now = Instant::now();
        while now < due {
            std::hint::spin_loop();
            now = Instant::now();
        }
        let late = now - due;
        self.max_late = self.max_late.max(late);
        if late > LATE {
            self.late_frames += 1;
        }
        Ok(())
    }
}
