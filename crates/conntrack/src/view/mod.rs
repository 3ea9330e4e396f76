//! Text views of the engine's state in the kernel's formats.

pub mod nflog;
mod proc;

pub use nflog::packet_fields;
pub use proc::{format_ip, proc_line};
