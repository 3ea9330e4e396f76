//! ctguard's table policy settings: `nf_conntrack_policy` and the `nf_conntrack_protect_*`
//! keys. No kernel has them.

use core::fmt;

/// How a full table makes room for a new connection.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// The kernel's: early drop searches 8 buckets for an unassured entry, else the packet is
    /// dropped.
    #[default]
    Kernel,
    /// ctguard's: expired entries, then the least recently used unassured entry table-wide,
    /// then the least recently used closing one; adaptive timeouts and a per-source quota.
    Protect,
}

impl Policy {
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "kernel" => Some(Policy::Kernel),
            "protect" => Some(Policy::Protect),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Kernel => "kernel",
            Policy::Protect => "protect",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The policy and its knobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protect {
    pub policy: Policy,
    /// Percent of `nf_conntrack_max` above which unassured and closing timeouts shrink (pf's
    /// `adaptive.start`, whose default is 60% of the limit).
    pub adaptive_start: u32,
    /// Percent of `nf_conntrack_max` at which they reach zero (pf's `adaptive.end`, default
    /// 120%): above 100, a full table still keeps some of every timeout.
    pub adaptive_end: u32,
    /// Percent of `nf_conntrack_max` that one IPv4 /24 or IPv6 /64 may hold in unassured
    /// entries; 0 turns the quota off.
    pub source_quota: u32,
}

/// The largest percent the adaptive settings take.
pub const MAX_PERCENT: u32 = 1000;

impl Default for Protect {
    fn default() -> Self {
        Protect {
            policy: Policy::Kernel,
            adaptive_start: 60,
            adaptive_end: 120,
            source_quota: 10,
        }
    }
}

impl Protect {
    pub fn on(&self) -> bool {
        self.policy == Policy::Protect
    }

    /// The quota as a count of entries for a table of `max` (at least one), or None when off.
    pub fn quota_entries(&self, max: u32) -> Option<u32> {
        (self.source_quota > 0)
            .then(|| (u64::from(max) * u64::from(self.source_quota) / 100).max(1) as u32)
    }
}
