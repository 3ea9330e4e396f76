//! ICMP for IPv4 (RFC 792): the 8-byte header every message starts with.

use crate::checksum;
use crate::put16;

pub const HEADER_LEN: usize = 8;

/// Message types.
pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACHABLE: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMP_REPLY: u8 = 14;
    pub const INFO_REQUEST: u8 = 15;
    pub const INFO_REPLY: u8 = 16;
    pub const ADDRESS_MASK: u8 = 17;
    pub const ADDRESS_MASK_REPLY: u8 = 18;

    /// Errors quote the packet that caused them after the header.
    pub const fn is_error(ty: u8) -> bool {
        matches!(
            ty,
            DEST_UNREACHABLE | SOURCE_QUENCH | REDIRECT | TIME_EXCEEDED | PARAM_PROBLEM
        )
    }

    /// Queries and replies carry an identifier in bytes 4-5.
    pub const fn is_query(ty: u8) -> bool {
        matches!(
            ty,
            ECHO_REPLY | ECHO_REQUEST | TIMESTAMP..=ADDRESS_MASK_REPLY
        )
    }
}

crate::view! {
    /// An ICMP message.
    Packet, HEADER_LEN
}

crate::icmp_header!(Packet, HEADER_LEN);

impl<T: AsRef<[u8]>> Packet<T> {
    /// True when the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()).verifies()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn fill_checksum(&mut self) {
        put16(self.buffer.as_mut(), 2, 0);
        let c = checksum::sum(self.buffer.as_ref()).checksum();
        put16(self.buffer.as_mut(), 2, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn reads_an_echo_request() {
        let mut m = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, b'p', b'i', b'n', b'g'];
        let mut p = Packet::new_checked(&mut m[..]).unwrap();
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(
            (p.msg_type(), p.msg_code(), p.ident(), p.seq_number()),
            (8, 0, 0x1234, 1)
        );
        assert_eq!(p.data(), b"ping");
        m[9] ^= 0xff;
        assert!(!Packet::new_checked(&m[..]).unwrap().verify_checksum());
        assert_eq!(Packet::new_checked(&m[..7]), Err(Error::Truncated));
    }

    #[test]
    fn classifies_types() {
        for ty in 0..=255u8 {
            let err = matches!(ty, 3 | 4 | 5 | 11 | 12);
            let query = matches!(ty, 0 | 8 | 13..=18);
            assert_eq!(
                (msg_type::is_error(ty), msg_type::is_query(ty)),
                (err, query),
                "type {ty}"
            );
        }
    }
}
