//! What the capture would have needed: the table size that drops nothing, found by running
//! the capture again with no limit (the table then holds exactly what it would have held
//! had it been big enough), and the occupancy under the seed's shorter timeouts.

use ctguard_conntrack::Sysctl;

/// The seed's fix 1 timeouts (established 300 s, time_wait 120 s, close_wait 60 s,
/// fin_wait 120 s).
pub fn seed_fix1(base: &Sysctl) -> Sysctl {
    let mut s = base.clone();
    s.timeouts.tcp_established = 300;
    s.timeouts.tcp_time_wait = 120;
    s.timeouts.tcp_close_wait = 60;
    s.timeouts.tcp_fin_wait = 120;
    s
}

/// The settings for the re-simulation: no limit.
pub fn unlimited(base: &Sysctl) -> Sysctl {
    let mut s = base.clone();
    s.max = 0;
    s
}

/// The answer from an unlimited run's peak: the smallest nf_conntrack_max that never
/// refuses a new entry (the kernel drops when the count has reached the max, so the max
/// must be at least the peak), and buckets to match (the kernel's default is one bucket per
/// entry, rounded up to a page of heads: 512).
pub fn needed(peak: u32) -> (u32, u32) {
    let max = peak.max(1);
    (max, max.div_ceil(512) * 512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_rounds_buckets_to_a_page_of_heads() {
        assert_eq!(needed(0), (1, 512));
        assert_eq!(needed(512), (512, 512));
        assert_eq!(needed(70_000), (70_000, 70_144));
    }

    #[test]
    fn seed_fix1_changes_only_the_four_timeouts() {
        let d = Sysctl::default();
        let s = seed_fix1(&d);
        assert_eq!(s.timeouts.tcp_established, 300);
        assert_eq!(s.timeouts.tcp_time_wait, 120);
        assert_eq!(s.max, d.max);
        assert_eq!(s.timeouts.tcp_syn_sent, d.timeouts.tcp_syn_sent);
    }
}
