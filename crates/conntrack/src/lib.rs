//! A connection tracker with the behaviour of Linux `nf_conntrack`, with no I/O.
//!
//! Packets and the current time go in ([`Conntrack::process`]); a verdict comes out, and table
//! changes and kernel-style log lines queue up as [`Event`]s for the caller to drain. Nothing
//! here reads a clock, a file or a socket, so replay, simulation, benchmarks and a live data
//! plane all drive the same core.
//!
//! ```
//! use ctguard_conntrack::{Conntrack, CtState, Instant, Sysctl};
//!
//! // An IPv4/UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53 with no payload (UDP checksum 0: none).
//! let mut udp = vec![
//!     0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
//!     0x13, 0x88, 0, 53, 0, 8, 0, 0, // UDP
//! ];
//! let sum = !udp[..20].chunks(2).fold(0u32, |s, w| {
//!     let s = s + u32::from(u16::from_be_bytes([w[0], w[1]]));
//!     (s & 0xffff) + (s >> 16)
//! }) as u16;
//! udp[10..12].copy_from_slice(&sum.to_be_bytes());
//!
//! let mut ct = Conntrack::new(Sysctl::default());
//! let out = ct.process_ip(&udp, Instant::from_secs_f64(100.0));
//! assert_eq!(out.ctstate, Some(CtState::New));
//! assert_eq!(
//!     ct.proc_lines(Instant::from_secs_f64(100.5)),
//!     ["ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] \
//!       src=10.0.0.2 dst=10.0.0.1 sport=53 dport=5000 mark=0 zone=0 use=1"]
//! );
//! ```

pub mod defrag;
mod engine;
mod entry;
mod event;
mod gc;
mod hash;
pub mod intake;
pub mod nat;
pub mod protect;
pub mod proto;
mod shard;
mod stats;
pub mod sysctl;
mod table;
mod time;
mod tuple;
pub mod view;

pub use engine::{Conntrack, CtState, DEFAULT_SEED, Outcome, Reason, Verdict};
pub use entry::{Conn, ConnId, Status};
pub use event::{DestroyReason, Event, LogLine};
pub use shard::shard_of;
pub use stats::Stats;
pub use sysctl::{Sysctl, SysctlError};
pub use time::Instant;
pub use tuple::{Dir, L3, Tuple, addr_bytes, ip as addr_from_bytes};
