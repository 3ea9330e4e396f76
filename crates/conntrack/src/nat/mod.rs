//! NAT bound to the tracker: a NAT target rewrites the unconfirmed entry's reply tuple (so
//! /proc shows the translated addresses), and every later packet of the connection is
//! rewritten from the two tuples, as the kernel's nf_nat does.
//!
//! - [`range`]: what a SNAT/DNAT/MASQUERADE/REDIRECT target asks for.
//! - [`unique`]: choosing a tuple inside the range that no other entry uses (the source
//!   port is remapped when tuples clash).
//! - [`manip`]: rewriting a packet's addresses, ports and checksums.
//! - [`jhash`]: the kernel's address-range hash, so that address choices are the kernel's.

pub mod icmp;
pub mod jhash;
pub mod manip;
pub mod range;
pub mod unique;

#[cfg(test)]
mod tests;

pub use icmp::nat_icmp_reply;
pub use manip::nat_packet;
pub use range::{Manip, NatRange};

use crate::engine::Conntrack;
use crate::entry::Status;

/// Why a NAT binding could not be set up.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NatError {
    /// No unconfirmed connection: NAT is only set up on a connection's first packet.
    NotNew,
    /// The range is of the other address family.
    WrongFamily,
}

impl Conntrack {
    /// Whether the unconfirmed connection already has its `manip` binding (the kernel's
    /// `nf_nat_initialized`): the nat table is walked only until it has.
    pub fn nat_done(&self, manip: Manip) -> bool {
        self.unconfirmed()
            .is_none_or(|c| c.status.has(manip.done_bit()))
    }

    /// A NAT target's binding on the unconfirmed connection (the kernel's
    /// `nf_nat_setup_info`): picks a unique tuple in `range` and rewrites the reply tuple.
    pub fn nat_setup(
        &mut self,
        manip: Manip,
        range: &NatRange,
        now: crate::Instant,
    ) -> Result<(), NatError> {
        let Some(conn) = self.unconfirmed() else {
            return Err(NatError::NotNew);
        };
        if !range.fits(conn.original().l3) {
            return Err(NatError::WrongFamily);
        }
        let zone = conn.zone;
        let current = crate::engine::invert(&conn.reply()).unwrap_or(conn.original());
        let new = self.unique_tuple(&current, range, manip, zone, now);
        let conn = self.unconfirmed_mut().expect("checked above");
        if new != current
            && let Some(reply) = crate::engine::invert(&new)
        {
            conn.set_reply(&reply);
            conn.status.set(manip.nat_bit());
        }
        conn.status.set(manip.done_bit());
        Ok(())
    }

    /// No NAT rule matched: bind the connection to its own addresses, which still keeps
    /// its tuple unique (`nf_nat_alloc_null_binding`).
    pub fn nat_null_binding(&mut self, manip: Manip, now: crate::Instant) {
        let Some(conn) = self.unconfirmed() else {
            return;
        };
        let addr = match manip {
            Manip::Src => conn.reply().dst_ip(),
            Manip::Dst => conn.reply().src_ip(),
        };
        let range = NatRange::to_addr(addr);
        let _ = self.nat_setup(manip, &range, now);
    }
}

impl Manip {
    /// The other end.
    pub fn flip(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }

    pub(crate) fn nat_bit(self) -> u16 {
        match self {
            Manip::Src => Status::SRC_NAT,
            Manip::Dst => Status::DST_NAT,
        }
    }

    pub(crate) fn done_bit(self) -> u16 {
        match self {
            Manip::Src => Status::SRC_NAT_DONE,
            Manip::Dst => Status::DST_NAT_DONE,
        }
    }
}
