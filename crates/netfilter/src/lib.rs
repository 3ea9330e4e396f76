//! iptables rule sets run over ctguard's connection tracker.
//!
//! - [`rules`]: the rule-set model, its parsers (iptables-save files and iptables command
//!   scripts) and its writer (`iptables-save -c`).
//! - [`pipeline`]: a packet's walk through raw, conntrack, mangle, nat and filter in the
//!   kernel's hook order, with NAT bound to the tracker.
//! - [`reject`]: the replies the REJECT target sends.

pub mod hook;
pub mod lint;
pub mod modules;
pub mod packet;
pub mod pipeline;
pub mod reject;
pub mod rules;

pub use hook::{Family, Hook, TableName};
pub use packet::PacketCtx;
