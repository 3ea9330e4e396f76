//! UDP (RFC 768) and UDP-Lite (RFC 3828) headers: the same layout, but UDP-Lite's length
//! field is the checksum coverage.

use crate::{Error, Result, be16, put16};

pub const HEADER_LEN: usize = 8;

/// A UDP or UDP-Lite datagram.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the header is present. The length field is not checked: UDP and UDP-Lite read it
    /// differently.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

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
