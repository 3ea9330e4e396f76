//! One workload's result, as text or JSON.

use core::fmt;
use std::collections::BTreeMap;

use serde::Serialize;

/// What a workload measured. Rates are per second of wall time over the timed part only.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub workload: String,
    /// The table policy (`nf_conntrack_policy`).
    pub policy: &'static str,
    pub threads: usize,
    pub packets: u64,
    pub seconds: f64,
    pub mpps: f64,
    pub ns_per_packet: f64,
    /// Entries in the table(s) at the end.
    pub entries: u64,
    /// Resident memory grown while the table filled, divided by the entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_conn: Option<f64>,
    /// Workload-specific rates and counts (e.g. inserts and early drops per second).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

impl Report {
    pub fn new(workload: &str, threads: usize, packets: u64, seconds: f64) -> Report {
        let seconds = seconds.max(1e-9);
        Report {
            workload: workload.to_string(),
            threads,
            packets,
            seconds,
            mpps: packets as f64 / seconds / 1e6,
            ns_per_packet: seconds * 1e9 / packets.max(1) as f64,
            ..Report::default()
        }
    }

    /// Threads that ran side by side: the packets add up, the slowest thread's time is the
    /// wall time.
    pub fn from_threads(workload: &str, runs: &[(u64, f64, u64)]) -> Report {
        let packets = runs.iter().map(|r| r.0).sum();
        let secs = runs.iter().map(|r| r.1).fold(0.0, f64::max);
        let mut r = Report::new(workload, runs.len(), packets, secs);
        r.entries = runs.iter().map(|r| r.2).sum();
        r
    }

    pub fn extra(mut self, name: &str, value: f64) -> Report {
        self.extra.insert(name.to_string(), value);
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} threads={} packets={} {:.3} Mpps {:.1} ns/packet entries={}",
            self.workload, self.threads, self.packets, self.mpps, self.ns_per_packet, self.entries
        )?;
        if let Some(b) = self.bytes_per_conn {
            write!(f, " {b:.1} B/conn")?;
        }
        if self.policy != "kernel" && !self.policy.is_empty() {
            write!(f, " policy={}", self.policy)?;
        }
        for (k, v) in &self.extra {
            write!(f, " {k}={v:.3}")?;
        }
        Ok(())
    }
}
