//! Replay: captured (or simulated) packets through the whole pipeline on the capture's own
//! clock, and what the table did: per-packet verdicts, the table at the end, the counters,
//! the kernel's log lines, a timeline, and what the capture would have needed.
//!
//! - [`config`]: the host the capture was taken on (its addresses and interface), rules,
//!   settings.
//! - [`replayer`]: one packet at a time in, a [`replayer::Verdict`] out.
//! - [`summary`]: peaks, the first table-full, drops, top services and sources, a
//!   per-second timeline.
//! - [`capacity`]: the smallest `nf_conntrack_max` that would have dropped nothing, by
//!   re-simulation.
//! - [`clients`]: legitimate clients' connections (`--clients`): started, completed.
//! - [`json`]: the JSON lines and summary writers.

pub mod capacity;
pub mod clients;
pub mod config;
pub mod diff;
pub mod incident;
pub mod json;
pub mod plot;
pub mod replayer;
pub mod simulate;
pub mod summary;

pub use config::Config;
pub use replayer::{Replayer, Verdict};
pub use summary::Summary;
