//! ctguard's conformance scenarios and the kernel goldens recorded for them.
//!
//! A scenario (`conformance/scenarios/*.scn`) lists packets in a compact text form:
//!
//! ```text
//! # the client closes first
//! sysctl net.netfilter.nf_conntrack_log_invalid=255
//! c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460
//! s tcp 10.99.2.100:80 > 10.99.1.100:41000 SA seq=5000 ack=1001
//! sleep 2
//! c tcp 10.99.1.100:41000 > 10.99.2.100:80 A seq=1001 ack=5001
//! ```
//!
//! [`Scenario::parse`] turns it into Ethernet frames ([`Packet::frame`]) for the recorder's
//! topology ([`topology`]), each with its scheduled time. `ctguard-record` plays them through
//! the real kernel and writes a [`Golden`]; the engine's tests replay the same frames and compare.
//! [`describe::packet`] renders an IP packet in one line (what the golden's `emit` lines hold).
//! The formats are described in `conformance/README.md`.

mod build;
pub mod describe;
mod error;
mod golden;
mod repeat;
mod scenario;
mod spec;
pub mod topology;

pub use build::Fragment;
pub use error::Error;
pub use golden::{CtState, Emit, Golden, PacketRecord, RunRecord, Tally, Verdict, proc_key};
pub use scenario::{GLOBAL_SYSCTLS, Packet, ProcMode, RuleFile, Scenario};
pub use topology::Side;
