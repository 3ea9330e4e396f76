//! IPv4 headers (RFC 791).

use crate::checksum;
use crate::{Error, Result, array, be16, put16};

/// The header without options.
pub const HEADER_LEN: usize = 20;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// An IPv4 packet.
///
/// `new_checked` validates only what the header itself needs (IHL at least 5, header present):
/// packets quoted inside ICMP errors are truncated, so checking the total length against the
/// buffer is the caller's business ([`Packet::total_len`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the fixed header is present, IHL is at least 5 and the options fit.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Packet { buffer };
        if p.ihl() < 5 {
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

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// The header length field, in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[0] & 0x0f
    }

    /// The header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The type-of-service byte: DSCP in the top six bits, ECN in the bottom two.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), 6) & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), 6) & FLAG_MF != 0
    }

    /// The fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), 6) & OFFSET_MASK) << 3
    }

    /// True for any fragment: more to come, or not the first.
    pub fn is_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), 6) & (FLAG_MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }

    pub fn src_addr(&self) -> [u8; 4] {
        array(self.buffer.as_ref(), 12)
    }

    pub fn dst_addr(&self) -> [u8; 4] {
        array(self.buffer.as_ref(), 16)
    }

    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// True when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.header()).verifies()
    }

    /// The bytes after the header, up to the total length or the end of the buffer, whichever
    /// comes first.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        b.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[1] = tos;
    }

    pub fn set_total_len(&mut self, len: u16) {
        put16(self.buffer.as_mut(), 2, len);
    }

    pub fn set_ident(&mut self, ident: u16) {
        put16(self.buffer.as_mut(), 4, ident);
    }

    /// Sets the DF and MF flags and the fragment offset (in bytes, a multiple of 8).
    pub fn set_frag(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let mut v = (offset >> 3) & OFFSET_MASK;
        if dont_frag {
            v |= FLAG_DF;
        }
        if more_frags {
            v |= FLAG_MF;
        }
        put16(self.buffer.as_mut(), 6, v);
    }

    /// Recomputes the header checksum.
    pub fn fill_checksum(&mut self) {
        put16(self.buffer.as_mut(), 10, 0);
        let c = checksum::sum(self.header()).checksum();
        put16(self.buffer.as_mut(), 10, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The well-known example header: UDP, 192.168.0.1 -> 192.168.0.199, checksum b861.
    const HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!((p.version(), p.ihl(), p.header_len()), (4, 5, 20));
        assert_eq!(p.total_len(), 0x73);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!((p.ttl(), p.protocol(), p.checksum()), (64, 17, 0xb861));
        assert_eq!(p.src_addr(), [192, 168, 0, 1]);
        assert_eq!(p.dst_addr(), [192, 168, 0, 199]);
        assert!(p.verify_checksum());
        assert!(p.options().is_empty());
        // total length 0x73 runs past this 20-byte buffer: the payload is what there is.
        assert!(p.payload().is_empty());
    }

    #[test]
    fn rejects_bad_ihl_and_short_buffers() {
        assert_eq!(Packet::new_checked(&HDR[..19]), Err(Error::Truncated));
        let mut h = HDR;
        h[0] = 0x44;
        assert_eq!(Packet::new_checked(&h[..]), Err(Error::Malformed));
        h[0] = 0x46; // 24-byte header in a 20-byte buffer
        assert_eq!(Packet::new_checked(&h[..]), Err(Error::Truncated));
    }

    #[test]
    fn writes_fragment_fields_and_checksum() {
        let mut h = HDR;
        let mut p = Packet::new_checked(&mut h[..]).unwrap();
        p.set_frag(false, true, 1480);
        p.set_total_len(1500);
        p.set_ident(0xbeef);
        p.set_tos(0x03);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert!(p.more_frags() && !p.dont_frag() && p.is_fragment());
        assert_eq!(
            (p.frag_offset(), p.total_len(), p.ident(), p.tos()),
            (1480, 1500, 0xbeef, 3)
        );
    }
}
