//! The workloads behind `ctguard bench`: each builds its packets first, then times only the
//! engine, and reports packets per second, nanoseconds per packet and, where entries are
//! kept, bytes of resident memory per connection.
//!
//! The figures are for comparing runs on one machine (A B A B, medians), not absolute claims:
//! see BENCHMARKS.md.

pub mod packets;
mod report;
mod rss;
pub mod workloads;

pub use report::Report;
pub use rss::resident_bytes;
pub use workloads::{Params, Workload};
