//! pf's adaptive timeouts: above `start` entries, a timeout shrinks linearly to zero at `end`.

use core::time::Duration;

/// `timeout * (end - count) / (end - start)` once `count` passes `start`, where `start` and
/// `end` are percentages of `max`; zero from `end` on. Integer arithmetic on nanoseconds,
/// rounding down; an `end` not above `start` leaves timeouts alone.
pub fn scale(timeout: Duration, count: u32, max: u32, start_pct: u32, end_pct: u32) -> Duration {
    let start = u128::from(max) * u128::from(start_pct) / 100;
    let end = u128::from(max) * u128::from(end_pct) / 100;
    let count = u128::from(count);
    if end <= start || count <= start {
        return timeout;
    }
    if count >= end {
        return Duration::ZERO;
    }
    let ns = timeout.as_nanos() * (end - count) / (end - start);
    Duration::from_nanos(ns as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn linear_between_start_and_end() {
        // max 1000, start 60% (600), end 120% (1200): 600 entries between them.
        let t = S(120);
        assert_eq!(scale(t, 0, 1000, 60, 120), t);
        assert_eq!(scale(t, 600, 1000, 60, 120), t, "at start: unchanged");
        assert_eq!(scale(t, 601, 1000, 60, 120), Duration::from_millis(119_800));
        assert_eq!(scale(t, 900, 1000, 60, 120), S(60), "half way");
        assert_eq!(
            scale(t, 1000, 1000, 60, 120),
            S(40),
            "a full table keeps a third"
        );
        assert_eq!(scale(t, 1200, 1000, 60, 120), Duration::ZERO);
        assert_eq!(scale(t, 5000, 1000, 60, 120), Duration::ZERO);
    }

    #[test]
    fn end_at_the_max_reaches_zero_when_full() {
        assert_eq!(scale(S(60), 50, 100, 0, 100), Duration::from_secs(30));
        assert_eq!(scale(S(60), 100, 100, 0, 100), Duration::ZERO);
    }

    #[test]
    fn rounds_down_in_nanoseconds_and_never_overflows() {
        // 7 s * 2 / 3 = 4.666666666 s.
        assert_eq!(
            scale(S(7), 1, 3, 0, 100),
            Duration::from_nanos(4_666_666_666)
        );
        // The largest timeout and table: 128-bit products, no overflow. count = max with
        // start 0% and end 1000%: nine tenths of the timeout stay.
        let big = S(8_589_934);
        assert_eq!(
            scale(big, u32::MAX, u32::MAX, 0, 1000),
            S(7_730_940) + Duration::from_millis(600)
        );
    }

    #[test]
    fn end_not_above_start_leaves_timeouts() {
        assert_eq!(scale(S(10), 99, 100, 80, 80), S(10));
    }
}
