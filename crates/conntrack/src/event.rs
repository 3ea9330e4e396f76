//! What the engine reports besides verdicts: table changes and kernel log lines.

use core::fmt;

use crate::Instant;
use crate::entry::{Conn, ConnId};

/// Why an entry left the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DestroyReason {
    /// Timed out and reaped by a lookup, the collector, a /proc read or early drop's walk.
    Expired,
    /// Evicted by early drop to make room for a new connection.
    EarlyDrop,
    /// Evicted by the collector because the table was at least 95% full.
    GcEvict,
    /// Deleted by its protocol tracker (e.g. a RST answering a SYN).
    Killed,
    /// Replaced because its tuple was reused (a SYN on TIME_WAIT).
    Reopened,
    /// Removed by an explicit flush.
    Flushed,
    /// Removed by the protect policy to make room (`nf_conntrack_policy = protect`).
    Protect(crate::protect::Eviction),
}

/// A kernel log line, as structured data; `Display` gives the kernel's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogLine {
    /// `nf_conntrack: table full, dropping packet`. With a namespace inode, the kernel's
    /// child-namespace wording is used.
    TableFull { netns: Option<u32> },
    /// `net_ratelimit: N callbacks suppressed`.
    Suppressed { callbacks: u32 },
    /// ctguard's protect policy: an eviction or a quota drop (no kernel prints these).
    Protect { text: String },
    /// `ctguard protect: N messages suppressed`: the protect lines have a limiter of their own.
    ProtectSuppressed { messages: u32 },
    /// An INVALID packet reported under `nf_conntrack_log_invalid`: the reason, then the
    /// packet's fields in the kernel's netfilter log format.
    Invalid {
        proto: u8,
        reason: String,
        /// The link header printed after `MAC=`, if the packet came in on Ethernet.
        mac: Option<[u8; 14]>,
        /// The IP packet.
        packet: Vec<u8>,
    },
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogLine::TableFull { netns: None } => {
                f.write_str("nf_conntrack: table full, dropping packet")
            }
            LogLine::TableFull { netns: Some(ino) } => {
                write!(
                    f,
                    "nf_conntrack: nf_conntrack: table full in netns {ino}, dropping packet"
                )
            }
            LogLine::Suppressed { callbacks } => {
                write!(f, "net_ratelimit: {callbacks} callbacks suppressed")
            }
            LogLine::Protect { text } => write!(f, "ctguard protect: {text}"),
            LogLine::ProtectSuppressed { messages } => {
                write!(f, "ctguard protect: {messages} messages suppressed")
            }
            LogLine::Invalid { .. } => f.write_str(&self.render("", "")),
        }
    }
}

impl LogLine {
    /// The line with the input and output device names the kernel prints as `IN=` and
    /// `OUT=` (the engine does not know them; the caller does).
    pub fn render(&self, in_dev: &str, out_dev: &str) -> String {
        match self {
            LogLine::Invalid {
                proto,
                reason,
                mac,
                packet,
            } => {
                let mut s = format!("nf_ct_proto_{proto}: {reason} IN={in_dev} OUT={out_dev} ");
                crate::view::packet_fields(&mut s, mac.as_ref().map(|m| &m[..]), packet);
                s
            }
            other => other.to_string(),
        }
    }
}

/// Something the caller may want to know, drained with [`crate::Conntrack::poll_event`].
/// The queue grows until drained, so callers drain it after each packet.
#[derive(Clone, Debug)]
// The entry travels inline: boxing it would allocate once per destroyed connection.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    New {
        id: ConnId,
        at: Instant,
    },
    Destroyed {
        conn: Conn,
        reason: DestroyReason,
        at: Instant,
    },
    Log {
        line: LogLine,
        at: Instant,
    },
}

/// The kernel's `net_ratelimit()`: at most 10 messages per 5 s, then a count of the rest.
#[derive(Clone, Debug, Default)]
pub(crate) struct RateLimit {
    begin: Option<Instant>,
    printed: u32,
    missed: u32,
}

const INTERVAL_NS: u64 = 5_000_000_000;
const BURST: u32 = 10;

impl RateLimit {
    /// Returns (may print, a "callbacks suppressed" count to print first).
    pub fn check(&mut self, now: Instant) -> (bool, Option<u32>) {
        let begin = *self.begin.get_or_insert(now);
        let mut suppressed = None;
        if now.as_nanos() > begin.as_nanos() + INTERVAL_NS {
            if self.missed > 0 {
                suppressed = Some(self.missed);
                self.missed = 0;
            }
            self.begin = Some(now);
            self.printed = 0;
        }
        if self.printed < BURST {
            self.printed += 1;
            (true, suppressed)
        } else {
            self.missed += 1;
            (false, suppressed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratelimit_allows_ten_per_five_seconds_then_reports_the_rest() {
        let mut r = RateLimit::default();
        let t = |s: f64| Instant::from_secs_f64(s);
        let printed = (0..100).filter(|i| r.check(t(*i as f64 * 0.01)).0).count();
        assert_eq!(printed, 10);
        assert_eq!(r.check(t(5.5)), (true, Some(90)));
        assert_eq!(r.check(t(5.6)), (true, None));
    }

    #[test]
    fn table_full_text() {
        assert_eq!(
            LogLine::TableFull { netns: None }.to_string(),
            "nf_conntrack: table full, dropping packet"
        );
    }
}
