use core::time::Duration;

/// A point on the caller's clock, in nanoseconds from an arbitrary origin.
///
/// The engine never reads a clock: every call that can expire entries takes one of these.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_nanos(ns: u64) -> Self {
        Instant(ns)
    }

    pub fn from_secs_f64(s: f64) -> Self {
        Instant((s.max(0.0) * 1e9) as u64)
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Time left until `deadline`, zero once it has passed.
    pub fn until(self, deadline: Instant) -> Duration {
        Duration::from_nanos(deadline.0.saturating_sub(self.0))
    }

    pub fn saturating_sub(self, other: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(other.0))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(
            self.0
                .saturating_add(d.as_nanos().min(u64::MAX as u128) as u64),
        )
    }
}
