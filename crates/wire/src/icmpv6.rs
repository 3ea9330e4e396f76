//! ICMPv6 (RFC 4443): the 8-byte header, and the redirect message of neighbour discovery
//! (RFC 4861 section 4.5), whose options can quote the redirected packet.

use crate::checksum;
use crate::{array, put16};

pub const HEADER_LEN: usize = 8;
/// A redirect: the header, then target and destination addresses.
pub const REDIRECT_LEN: usize = 40;

/// Message types.
pub mod msg_type {
    pub const DEST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const MLD_QUERY: u8 = 130;
    pub const MLD_REPORT: u8 = 131;
    pub const MLD_DONE: u8 = 132;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    pub const NODE_INFO_QUERY: u8 = 139;
    pub const NODE_INFO_REPLY: u8 = 140;
    pub const MLD2_REPORT: u8 = 143;

    /// Types below 128 are errors (RFC 4443 section 2.1) and quote the offending packet.
    pub const fn is_error(ty: u8) -> bool {
        ty < 128
    }

    /// Echo and node information messages carry an identifier in bytes 4-5.
    pub const fn is_query(ty: u8) -> bool {
        matches!(
            ty,
            ECHO_REQUEST | ECHO_REPLY | NODE_INFO_QUERY | NODE_INFO_REPLY
        )
    }
}

/// Neighbour discovery option type of the "redirected header" option.
pub const ND_OPT_REDIRECTED_HEADER: u8 = 4;
/// The redirected header option's own header: type, length, 6 reserved bytes.
pub const ND_OPT_REDIRECTED_HEADER_LEN: usize = 8;

crate::view! {
    /// An ICMPv6 message.
    Packet, HEADER_LEN
}

crate::icmp_header!(Packet, HEADER_LEN);

impl<T: AsRef<[u8]>> Packet<T> {
    /// True when the checksum, over the pseudo-header and the whole message, verifies.
    pub fn verify_checksum(&self, src: &[u8; 16], dst: &[u8; 16]) -> bool {
        let b = self.buffer.as_ref();
        let mut c =
            checksum::pseudo_header_v6(src, dst, crate::ip::protocol::ICMPV6, b.len() as u32);
        c.add_bytes(b);
        c.verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn fill_checksum(&mut self, src: &[u8; 16], dst: &[u8; 16]) {
        put16(self.buffer.as_mut(), 2, 0);
        let b = self.buffer.as_ref();
        let mut c =
            checksum::pseudo_header_v6(src, dst, crate::ip::protocol::ICMPV6, b.len() as u32);
        c.add_bytes(b);
        put16(self.buffer.as_mut(), 2, c.checksum());
    }
}

crate::view! {
    /// A redirect message: header, target, destination, then neighbour discovery options.
    Redirect, REDIRECT_LEN
}

impl<T: AsRef<[u8]>> Redirect<T> {
    pub fn target(&self) -> [u8; 16] {
        array(self.buffer.as_ref(), 8)
    }

    pub fn destination(&self) -> [u8; 16] {
        array(self.buffer.as_ref(), 24)
    }

    /// The neighbour discovery options.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[REDIRECT_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_covers_the_pseudo_header() {
        let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
        src[0] = 0x20;
        src[15] = 1;
        dst[0] = 0x20;
        dst[15] = 2;
        let mut m = [128, 0, 0, 0, 0xab, 0xcd, 0, 7, 1, 2, 3];
        let mut p = Packet::new_checked(&mut m[..]).unwrap();
        p.fill_checksum(&src, &dst);
        assert!(p.verify_checksum(&src, &dst));
        assert!(!p.verify_checksum(&dst, &dst));
        assert_eq!(
            (p.msg_type(), p.ident(), p.seq_number(), p.data()),
            (128, 0xabcd, 7, &[1u8, 2, 3][..])
        );
    }

    #[test]
    fn reads_a_redirect() {
        let mut m = [0u8; 48];
        m[0] = msg_type::REDIRECT;
        m[8] = 0xfe;
        m[24] = 0x20;
        m[40] = ND_OPT_REDIRECTED_HEADER;
        m[41] = 1;
        let r = Redirect::new_checked(&m[..]).unwrap();
        assert_eq!((r.target()[0], r.destination()[0]), (0xfe, 0x20));
        assert_eq!(r.options()[..2], [ND_OPT_REDIRECTED_HEADER, 1]);
        assert_eq!(
            Redirect::new_checked(&m[..39]),
            Err(crate::Error::Truncated)
        );
    }

    #[test]
    fn classifies_types() {
        assert!(msg_type::is_error(1) && msg_type::is_error(0) && !msg_type::is_error(128));
        assert!(msg_type::is_query(139) && !msg_type::is_query(137));
    }
}
