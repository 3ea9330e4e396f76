//! Per-protocol trackers. Each works on its own per-connection state and knows nothing of the
//! table: the engine looks the entry up and hands the tracker its state.

pub mod generic;
pub mod gre;
pub mod icmp;
pub mod tcp;
pub mod udp;
