//! Ethernet II frames, and the 802.1Q / 802.1ad VLAN tags that can sit between the addresses
//! and the ethertype of the payload.

use crate::{Error, Result, array, be16};

/// Destination, source, ethertype.
pub const HEADER_LEN: usize = 14;
/// One VLAN tag: TCI, then the ethertype of what follows.
pub const TAG_LEN: usize = 4;

/// Ethertype values ctguard tells apart.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    /// 802.1ad service tag.
    pub const QINQ: u16 = 0x88a8;
    /// The pre-standard QinQ service tag some switches still emit.
    pub const QINQ_LEGACY: u16 = 0x9100;

    /// True for the ethertypes that announce a VLAN tag rather than a payload.
    pub const fn is_vlan(t: u16) -> bool {
        matches!(t, VLAN | QINQ | QINQ_LEGACY)
    }
}

/// An Ethernet II frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks that the fixed header is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> [u8; 6] {
        array(self.buffer.as_ref(), 0)
    }

    pub fn src_addr(&self) -> [u8; 6] {
        array(self.buffer.as_ref(), 6)
    }

    /// The outer ethertype (a VLAN ethertype when the frame is tagged).
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 12)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The ethertype and payload under any stack of VLAN tags.
    pub fn untagged(&self) -> Result<(u16, &[u8])> {
        skip_vlan_tags(self.ethertype(), self.payload())
    }
}

/// Walks past VLAN tags, however many are stacked, starting from an ethertype and the bytes it
/// announces. Returns the first non-VLAN ethertype and its payload.
pub fn skip_vlan_tags(mut ethertype: u16, mut payload: &[u8]) -> Result<(u16, &[u8])> {
    while ethertype::is_vlan(ethertype) {
        let tag = Tag::new_checked(payload)?;
        ethertype = tag.ethertype();
        payload = tag.into_inner().get(TAG_LEN..).ok_or(Error::Truncated)?;
    }
    Ok((ethertype, payload))
}

crate::view! {
    /// One 802.1Q / 802.1ad tag, starting right after the ethertype that announced it.
    Tag, TAG_LEN
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Priority code point (3 bits).
    pub fn pcp(&self) -> u8 {
        self.buffer.as_ref()[0] >> 5
    }

    /// Drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.buffer.as_ref()[0] & 0x10 != 0
    }

    /// VLAN identifier (12 bits).
    pub fn vid(&self) -> u16 {
        be16(self.buffer.as_ref(), 0) & 0x0fff
    }

    /// The ethertype of what follows the tag.
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNTAGGED: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // dst
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // src
        0x08, 0x00, // IPv4
        0x45, 0x00,
    ];

    #[test]
    fn reads_addresses_and_type() {
        let p = Packet::new_checked(&UNTAGGED[..]).unwrap();
        assert_eq!(p.dst_addr(), [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(p.src_addr(), [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]);
        assert_eq!(p.ethertype(), ethertype::IPV4);
        assert_eq!(p.payload(), &[0x45, 0x00]);
        assert_eq!(
            p.untagged().unwrap(),
            (ethertype::IPV4, &[0x45u8, 0x00][..])
        );
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(Packet::new_checked(&UNTAGGED[..13]), Err(Error::Truncated));
    }

    #[test]
    fn walks_stacked_tags() {
        let mut f = [0u8; 14 + 4 + 4 + 2];
        f[12..14].copy_from_slice(&ethertype::QINQ.to_be_bytes());
        f[14..16].copy_from_slice(&0xa064u16.to_be_bytes()); // pcp 5, vid 100
        f[16..18].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        f[18..20].copy_from_slice(&0x0fffu16.to_be_bytes());
        f[20..22].copy_from_slice(&ethertype::IPV6.to_be_bytes());
        f[22] = 0x60;
        let p = Packet::new_checked(&f[..]).unwrap();
        let tag = Tag::new_checked(p.payload()).unwrap();
        assert_eq!(
            (tag.pcp(), tag.dei(), tag.vid(), tag.ethertype()),
            (5, false, 100, ethertype::VLAN)
        );
        let (t, payload) = p.untagged().unwrap();
        assert_eq!(t, ethertype::IPV6);
        assert_eq!(payload, &[0x60, 0]);
        // A tag cut short.
        let p = Packet::new_checked(&f[..20]).unwrap();
        assert_eq!(p.untagged(), Err(Error::Truncated));
    }
}
