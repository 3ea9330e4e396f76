//! The counters `conntrack -S` prints.

use core::fmt::Write;

/// The per-namespace conntrack statistics, summed over CPUs.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub found: u64,
    pub invalid: u64,
    pub insert: u64,
    pub insert_failed: u64,
    pub drop: u64,
    pub early_drop: u64,
    pub error: u64,
    pub search_restart: u64,
    pub clash_resolve: u64,
    pub chaintoolong: u64,
}

impl Stats {
    /// Field names and values, in `conntrack -S` order.
    pub fn fields(&self) -> [(&'static str, u64); 10] {
        [
            ("found", self.found),
            ("invalid", self.invalid),
            ("insert", self.insert),
            ("insert_failed", self.insert_failed),
            ("drop", self.drop),
            ("early_drop", self.early_drop),
            ("error", self.error),
            ("search_restart", self.search_restart),
            ("clash_resolve", self.clash_resolve),
            ("chaintoolong", self.chaintoolong),
        ]
    }

    /// The line `conntrack -S` prints for one CPU, byte for byte (ctguard is one CPU: `cpu=0`).
    pub fn conntrack_s_line(&self, cpu: u32) -> String {
        let mut s = String::with_capacity(160);
        let _ = write!(s, "cpu={cpu:<4}\t");
        for (k, v) in self.fields() {
            let _ = write!(s, "{k}={v} ");
        }
        s
    }

    /// Parses `key=value` pairs (a `conntrack -S` line, or a sum of them); unknown keys are
    /// ignored, so a line with `cpu=` parses too.
    pub fn parse(line: &str) -> Option<Stats> {
        let mut s = Stats::default();
        for kv in line.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            let v: u64 = v.parse().ok()?;
            match k {
                "found" => s.found = v,
                "invalid" => s.invalid = v,
                "insert" => s.insert = v,
                "insert_failed" => s.insert_failed = v,
                "drop" => s.drop = v,
                "early_drop" => s.early_drop = v,
                "error" => s.error = v,
                "search_restart" => s.search_restart = v,
                "clash_resolve" => s.clash_resolve = v,
                "chaintoolong" => s.chaintoolong = v,
                _ => {}
            }
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_matches_conntrack_tools_layout() {
        let s = Stats {
            invalid: 3,
            drop: 439,
            early_drop: 2,
            ..Stats::default()
        };
        // As conntrack v1.4.7 prints it: "cpu=%-4u\t" then "key=value " pairs.
        assert_eq!(
            s.conntrack_s_line(0),
            "cpu=0   \tfound=0 invalid=3 insert=0 insert_failed=0 drop=439 early_drop=2 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 "
        );
        assert_eq!(Stats::parse(&s.conntrack_s_line(0)), Some(s));
    }
}
