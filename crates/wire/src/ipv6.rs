//! IPv6 fixed headers (RFC 8200) and the address classes the input path checks.

use crate::{array, be16, be32, put16};

pub const HEADER_LEN: usize = 40;

crate::view! {
    /// An IPv6 packet. `new_checked` validates only the fixed header; whether the payload length
    /// fits the buffer is the caller's business ([`Packet::payload_len`]).
    Packet, HEADER_LEN
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// DSCP in the top six bits, ECN in the bottom two.
    pub fn traffic_class(&self) -> u8 {
        (be16(self.buffer.as_ref(), 0) >> 4) as u8
    }

    pub fn flow_label(&self) -> u32 {
        be32(self.buffer.as_ref(), 0) & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }

    pub fn src_addr(&self) -> [u8; 16] {
        array(self.buffer.as_ref(), 8)
    }

    pub fn dst_addr(&self) -> [u8; 16] {
        array(self.buffer.as_ref(), 24)
    }

    /// The bytes after the fixed header, up to the payload length or the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_traffic_class(&mut self, tc: u8) {
        let b = self.buffer.as_mut();
        b[0] = (b[0] & 0xf0) | (tc >> 4);
        b[1] = (b[1] & 0x0f) | (tc << 4);
    }

    pub fn set_payload_len(&mut self, len: u16) {
        put16(self.buffer.as_mut(), 4, len);
    }

    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[6] = nh;
    }
}

/// ff00::/8.
pub fn is_multicast(addr: &[u8; 16]) -> bool {
    addr[0] == 0xff
}

/// The scope nibble of a multicast address (RFC 4291 section 2.7).
pub fn multicast_scope(addr: &[u8; 16]) -> u8 {
    addr[1] & 0x0f
}

/// fe80::/10, link-local unicast.
pub fn is_link_local(addr: &[u8; 16]) -> bool {
    addr[0] == 0xfe && addr[1] & 0xc0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn header() -> [u8; 44] {
        let mut h = [0u8; 44];
        h[0..4].copy_from_slice(&0x6abc_def1u32.to_be_bytes()); // tc 0xab, flow 0xcdef1
        h[4..6].copy_from_slice(&4u16.to_be_bytes());
        h[6] = 17;
        h[7] = 64;
        h[8] = 0xfe;
        h[9] = 0x80;
        h[23] = 1;
        h[24] = 0xff;
        h[25] = 0x02;
        h[39] = 1;
        h
    }

    #[test]
    fn reads_fields() {
        let h = header();
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xab);
        assert_eq!(p.flow_label(), 0xcdef1);
        assert_eq!(
            (p.payload_len(), p.next_header(), p.hop_limit()),
            (4, 17, 64)
        );
        assert!(is_link_local(&p.src_addr()) && !is_multicast(&p.src_addr()));
        assert!(is_multicast(&p.dst_addr()) && multicast_scope(&p.dst_addr()) == 2);
        assert_eq!(p.payload().len(), 4);
        assert_eq!(Packet::new_checked(&h[..39]), Err(Error::Truncated));
    }

    #[test]
    fn writes_fields() {
        let mut h = header();
        let mut p = Packet::new_checked(&mut h[..]).unwrap();
        p.set_traffic_class(0x12);
        p.set_payload_len(2);
        p.set_next_header(6);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (6, 0x12, 0xcdef1)
        );
        assert_eq!(
            (p.payload_len(), p.next_header(), p.payload().len()),
            (2, 6, 2)
        );
    }
}
