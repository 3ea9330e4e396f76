//! Text views of the engine's state in the kernel's formats.

mod proc;

pub use proc::{format_ip, proc_line};
