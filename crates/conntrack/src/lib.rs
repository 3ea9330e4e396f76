//! A connection tracker with the behaviour of Linux `nf_conntrack`, with no I/O.
//!
//! Packets and the current time go in ([`Conntrack::process`]); a verdict comes out, and table
//! changes and kernel-style log lines queue up as [`Event`]s for the caller to drain. Nothing
//! here reads a clock, a file or a socket, so replay, simulation, benchmarks and a live data
//! plane all drive the same core.

pub mod defrag;
mod engine;
mod entry;
mod event;
mod gc;
mod hash;
pub mod intake;
pub mod proto;
mod stats;
pub mod sysctl;
mod table;
mod time;
mod tuple;
pub mod view;

pub use engine::{Conntrack, CtState, DEFAULT_SEED, Outcome, Reason, Verdict};
pub use entry::{Conn, ConnId, Status};
pub use event::{DestroyReason, Event, LogLine};
pub use stats::Stats;
pub use sysctl::{Sysctl, SysctlError};
pub use time::Instant;
pub use tuple::{Dir, L3, Tuple, addr_bytes};
