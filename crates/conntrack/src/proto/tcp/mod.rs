//! The TCP tracker: the kernel's state table and window tracking.
//!
//! STUB: the public API below is fixed; the bodies are being written.

use core::fmt;
use core::time::Duration;

use crate::sysctl::Sysctl;
use crate::tuple::Dir;

/// TCP flag bits as they sit in byte 13 of the header.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// What the tracker needs of one TCP segment.
#[derive(Copy, Clone, Debug)]
pub struct TcpSegment<'a> {
    pub seq: u32,
    pub ack: u32,
    /// Byte 13 of the header (see [`flags`]).
    pub flags: u8,
    pub window: u16,
    /// Bytes of payload after the TCP header.
    pub payload_len: u32,
    /// The option bytes between the fixed header and the payload.
    pub options: &'a [u8],
}

/// The kernel's TCP conntrack states, in its numbering.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    None = 0,
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    SynSent2 = 9,
}

impl TcpState {
    /// The name /proc/net/nf_conntrack prints.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }
}

/// Status bits of the entry that the TCP tracker reads.
#[derive(Copy, Clone, Debug, Default)]
pub struct TcpContext {
    /// IPS_SEEN_REPLY before this packet (the core sets it after the tracker runs).
    pub seen_reply: bool,
    pub assured: bool,
    /// False for the packet that creates the entry.
    pub confirmed: bool,
}

/// Why a segment is INVALID, worded as the kernel logs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpInvalid {
    Placeholder,
}

impl fmt::Display for TcpInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
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

/// Per-connection TCP state.
#[derive(Clone, Debug)]
pub struct TcpConn {
    state: TcpState,
}

impl TcpConn {
    /// Header checks that run on every segment: the flag combination.
    pub fn check_flags(_flags: u8) -> Result<(), TcpInvalid> {
        todo!()
    }

    /// A segment with no entry: may it create one? Called before [`TcpConn::packet`].
    pub fn new(_seg: &TcpSegment<'_>, _sysctl: &Sysctl) -> Result<TcpConn, TcpInvalid> {
        todo!()
    }

    /// Runs one segment through the state machine and window tracking.
    pub fn packet(&mut self, _dir: Dir, _seg: &TcpSegment<'_>, _ctx: TcpContext, _sysctl: &Sysctl) -> TcpVerdict {
        todo!()
    }

    pub fn state(&self) -> TcpState {
        self.state
    }
}
