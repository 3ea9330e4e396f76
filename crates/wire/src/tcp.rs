//! TCP headers (RFC 9293).

use crate::{Error, Result, be16, be32, put16};

/// The header without options.
pub const HEADER_LEN: usize = 20;

/// Flag bits of byte 13.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A TCP segment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the fixed header is present, the data offset is at least 5 words and the
    /// options fit.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Packet { buffer };
        if p.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if p.header_len() > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(p)
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

    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 8)
    }

    /// The data offset field, in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[12] >> 4
    }

    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// Byte 13: CWR ECE URG ACK PSH RST SYN FIN (see [`flags`]).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[13]
    }

    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 16)
    }

    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), 18)
    }

    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 16, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment() -> [u8; 28] {
        let mut s = [0u8; 28];
        s[0..2].copy_from_slice(&40000u16.to_be_bytes());
        s[2..4].copy_from_slice(&443u16.to_be_bytes());
        s[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        s[8..12].copy_from_slice(&0xa0b0_c0d0u32.to_be_bytes());
        s[12] = 6 << 4; // 24-byte header
        s[13] = flags::SYN | flags::ACK;
        s[14..16].copy_from_slice(&64240u16.to_be_bytes());
        s[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]); // MSS 1460
        s[24..28].copy_from_slice(b"data");
        s
    }

    #[test]
    fn reads_fields() {
        let s = segment();
        let p = Packet::new_checked(&s[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (40000, 443));
        assert_eq!((p.seq_number(), p.ack_number()), (0x0102_0304, 0xa0b0_c0d0));
        assert_eq!(
            (p.data_offset(), p.header_len(), p.flags()),
            (6, 24, flags::SYN | flags::ACK)
        );
        assert_eq!((p.window_len(), p.checksum(), p.urgent_at()), (64240, 0, 0));
        assert_eq!(p.options(), &[2, 4, 0x05, 0xb4]);
        assert_eq!(p.payload(), b"data");
    }

    #[test]
    fn rejects_bad_offsets() {
        let mut s = segment();
        assert_eq!(Packet::new_checked(&s[..19]), Err(Error::Truncated));
        s[12] = 4 << 4;
        assert_eq!(Packet::new_checked(&s[..]), Err(Error::Malformed));
        s[12] = 8 << 4; // 32 bytes of header in 28
        assert_eq!(Packet::new_checked(&s[..]), Err(Error::Truncated));
    }
}
