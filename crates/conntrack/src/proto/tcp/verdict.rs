//! What the tracker decides for a segment, and the kernel's wording for it.

use core::fmt;
use core::time::Duration;

use super::{PacketClass, TcpState};
use crate::tuple::Dir;

/// Why a segment is INVALID, worded as the kernel logs it (`Display`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpInvalid {
    /// Flags outside the valid table: "invalid tcp flag combination".
    FlagCombination,
    /// SYN/ACK, FIN, RST or no-flag segment with no entry: "invalid new".
    New,
    /// A mid-stream segment with no entry while `nf_conntrack_tcp_loose` is 0. The kernel
    /// counts it INVALID but logs nothing (see [`TcpInvalid::logged`]).
    NotLoose,
    /// The state table says sIV: "packet (index %d) in dir %d invalid, state %s".
    Transition {
        class: PacketClass,
        dir: Dir,
        state: TcpState,
    },
    /// "SEQ is over upper bound %u (over the window of the receiver)".
    SeqOverUpperBound { bound: u32 },
    /// "ACK is over upper bound %u (ACKed data not seen yet)".
    AckOverUpperBound { bound: u32 },
    /// A RST whose sequence is below what the other side has already acknowledged:
    /// "invalid rst" (unless `nf_conntrack_tcp_ignore_invalid_rst`).
    Rst,
}

impl TcpInvalid {
    /// Does the kernel log a line for this (with `nf_conntrack_log_invalid`)?
    pub fn logged(&self) -> bool {
        !matches!(self, TcpInvalid::NotLoose)
    }
}

impl fmt::Display for TcpInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpInvalid::FlagCombination => f.write_str("invalid tcp flag combination"),
            TcpInvalid::New => f.write_str("invalid new"),
            TcpInvalid::NotLoose => {
                f.write_str("mid-stream pickup disabled (nf_conntrack_tcp_loose=0)")
            }
            TcpInvalid::Transition { class, dir, state } => {
                write!(
                    f,
                    "packet (index {}) in dir {} invalid, state {}",
                    class.index(),
                    dir.index(),
                    state.name()
                )
            }
            TcpInvalid::SeqOverUpperBound { bound } => {
                write!(
                    f,
                    "SEQ is over upper bound {bound} (over the window of the receiver)"
                )
            }
            TcpInvalid::AckOverUpperBound { bound } => {
                write!(
                    f,
                    "ACK is over upper bound {bound} (ACKed data not seen yet)"
                )
            }
            TcpInvalid::Rst => f.write_str("invalid rst"),
        }
    }
}

/// A line the kernel logs (with `nf_conntrack_log_invalid`) for a segment it lets through
/// without tracking it ([`TcpVerdict::Ignore`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpNote {
    /// The state table says sIG: "packet (index %d) in dir %d ignored, state %s".
    Ignored {
        class: PacketClass,
        dir: Dir,
        state: TcpState,
    },
    /// Data past the offered window but within the receiver's largest window:
    /// "%u bytes more than expected".
    BytesMoreThanExpected(u32),
    /// "SEQ is under lower bound %u (already ACKed data retransmitted)".
    SeqUnderLowerBound(u32),
    /// "ignored ACK under lower bound %u (possible overly delayed)".
    AckUnderLowerBound(u32),
    /// An ACK in LAST_ACK answering a SYN we let through: "challenge-ack ignored".
    ChallengeAckIgnored,
}

impl fmt::Display for TcpNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpNote::Ignored { class, dir, state } => {
                write!(
                    f,
                    "packet (index {}) in dir {} ignored, state {}",
                    class.index(),
                    dir.index(),
                    state.name()
                )
            }
            TcpNote::BytesMoreThanExpected(n) => write!(f, "{n} bytes more than expected"),
            TcpNote::SeqUnderLowerBound(b) => {
                write!(
                    f,
                    "SEQ is under lower bound {b} (already ACKed data retransmitted)"
                )
            }
            TcpNote::AckUnderLowerBound(b) => {
                write!(
                    f,
                    "ignored ACK under lower bound {b} (possible overly delayed)"
                )
            }
            TcpNote::ChallengeAckIgnored => f.write_str("challenge-ack ignored"),
        }
    }
}

/// For an INVALID FIN or RST on an ASSURED entry that answers an earlier FIN or RST from the
/// other side (`nf_tcp_handle_invalid`): the kernel shortens the entry's remaining time to
/// `timeout`, when [`TcpLowerTimeout::applies`], and logs [`TcpLowerTimeout::message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpLowerTimeout {
    /// `nf_conntrack_tcp_timeout_unacknowledged`.
    pub timeout: Duration,
    pub class: PacketClass,
    pub dir: Dir,
    /// The class of the earlier FIN or RST.
    pub last_class: PacketClass,
}

impl TcpLowerTimeout {
    /// The kernel leaves entries with less than 120 s left, or no more than `timeout`, alone.
    pub fn applies(&self, remaining: Duration) -> bool {
        remaining >= Duration::from_secs(120) && remaining > self.timeout
    }

    /// The log line. The kernel prints the new timeout in jiffies, so it depends on its HZ.
    pub fn message(&self, hz: u32) -> String {
        format!(
            "packet (index {}, dir {}) response for index {} lower timeout to {}",
            self.class.index(),
            self.dir.index(),
            self.last_class.index(),
            self.timeout.as_secs().saturating_mul(u64::from(hz))
        )
    }
}

/// The tracker's decision for one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpVerdict {
    /// Tracked: refresh the entry to `timeout`, and set ASSURED if `assure`.
    Accept { timeout: Duration, assure: bool },
    /// Let through without touching the entry's state or timeout.
    Ignore,
    /// INVALID (the kernel's -NF_ACCEPT): forwarded, not tracked, counted in `invalid`.
    Invalid(TcpInvalid),
    /// Let through, and delete the entry at once.
    AcceptAndKill,
    /// The tuple is being reused: delete the entry and track the packet as a new connection.
    Reopen,
}

/// [`TcpVerdict`] with what the kernel would log besides, and its one side effect on the
/// timeout of an INVALID segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpReport {
    pub verdict: TcpVerdict,
    /// With [`TcpVerdict::Ignore`]: the kernel's log line, if it logs one.
    pub note: Option<TcpNote>,
    /// With [`TcpVerdict::Invalid`]: shorten the entry's timeout (see [`TcpLowerTimeout`]).
    pub lower_timeout: Option<TcpLowerTimeout>,
}

impl TcpReport {
    pub(super) fn plain(verdict: TcpVerdict) -> TcpReport {
        TcpReport {
            verdict,
            note: None,
            lower_timeout: None,
        }
    }

    pub(super) fn ignore(note: TcpNote) -> TcpReport {
        TcpReport {
            verdict: TcpVerdict::Ignore,
            note: Some(note),
            lower_timeout: None,
        }
    }
}
