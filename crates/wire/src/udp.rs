//! UDP (RFC 768) and UDP-Lite (RFC 3828) headers: the same layout, but UDP-Lite's length
//! field is the checksum coverage.

use crate::{be16, put16};

pub const HEADER_LEN: usize = 8;

crate::view! {
    /// A UDP or UDP-Lite datagram. `new_checked` leaves the length field alone: UDP and
    /// UDP-Lite read it differently.
    Packet, HEADER_LEN
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The UDP length, or the UDP-Lite checksum coverage (0 meaning all).
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_length(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 4, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 6, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn reads_and_writes_fields() {
        let mut d = [0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, b'h', b'i'];
        let mut p = Packet::new_checked(&mut d[..]).unwrap();
        assert_eq!(
            (p.src_port(), p.dst_port(), p.length(), p.checksum()),
            (1234, 53, 10, 0)
        );
        assert_eq!(p.payload(), b"hi");
        p.set_checksum(0xabcd);
        p.set_length(9);
        assert_eq!((p.length(), p.checksum()), (9, 0xabcd));
        assert_eq!(Packet::new_checked(&d[..7]), Err(Error::Truncated));
    }
}
