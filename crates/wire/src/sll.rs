//! Linux "cooked" capture headers: LINKTYPE_LINUX_SLL (16 bytes) and LINKTYPE_LINUX_SLL2
//! (20 bytes), which `tcpdump -i any` writes in place of the real link header.

use crate::{be16, be32};

/// Length of the SLL (v1) header.
pub const HEADER_LEN: usize = 16;
/// Length of the SLL2 header.
pub const HEADER2_LEN: usize = 20;

/// Where the packet was going, as the kernel's `skb->pkt_type` (PACKET_*).
pub mod packet_type {
    pub const HOST: u8 = 0;
    pub const BROADCAST: u8 = 1;
    pub const MULTICAST: u8 = 2;
    /// Addressed to another host; only seen in promiscuous captures.
    pub const OTHERHOST: u8 = 3;
    /// Sent by this host.
    pub const OUTGOING: u8 = 4;
}

crate::view! {
    /// An SLL (v1) header: packet type, ARPHRD type, address length, 8 address bytes, protocol.
    Packet, HEADER_LEN
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A PACKET_* value (see [`packet_type`]); the field is 16 bits on the wire.
    pub fn packet_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    /// The ARPHRD_* type of the capturing device.
    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The link-layer address, at most 8 bytes of it.
    pub fn address(&self) -> &[u8] {
        let len = usize::from(be16(self.buffer.as_ref(), 4)).min(8);
        &self.buffer.as_ref()[6..6 + len]
    }

    /// The ethertype of the payload (or a Linux pseudo value such as 0x0004 for 802.2).
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

crate::view! {
    /// An SLL2 header: protocol, reserved, interface index, ARPHRD type, packet type, address
    /// length, 8 address bytes.
    Packet2, HEADER2_LEN
}

impl<T: AsRef<[u8]>> Packet2<T> {
    pub fn protocol(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    pub fn interface_index(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }

    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 8)
    }

    /// A PACKET_* value (see [`packet_type`]).
    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[10]
    }

    pub fn address(&self) -> &[u8] {
        let len = usize::from(self.buffer.as_ref()[11]).min(8);
        &self.buffer.as_ref()[12..12 + len]
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER2_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn reads_sll() {
        let mut h = [0u8; 18];
        h[1] = packet_type::OUTGOING;
        h[2..4].copy_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
        h[5] = 6;
        h[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        h[14..16].copy_from_slice(&0x86ddu16.to_be_bytes());
        h[16] = 0x60;
        let p = Packet::new_checked(&h[..]).unwrap();
        assert_eq!(p.packet_type(), u16::from(packet_type::OUTGOING));
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.address(), &[2, 0, 0, 0, 0, 1]);
        assert_eq!(p.protocol(), 0x86dd);
        assert_eq!(p.payload(), &[0x60, 0]);
        assert_eq!(Packet::new_checked(&h[..15]), Err(Error::Truncated));
    }

    #[test]
    fn reads_sll2() {
        let mut h = [0u8; 21];
        h[0..2].copy_from_slice(&0x0800u16.to_be_bytes());
        h[4..8].copy_from_slice(&7u32.to_be_bytes());
        h[8..10].copy_from_slice(&1u16.to_be_bytes());
        h[10] = packet_type::OTHERHOST;
        h[11] = 200; // an address length past 8 is clamped
        h[20] = 0x45;
        let p = Packet2::new_checked(&h[..]).unwrap();
        assert_eq!(p.protocol(), 0x0800);
        assert_eq!(p.interface_index(), 7);
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.packet_type(), packet_type::OTHERHOST);
        assert_eq!(p.address().len(), 8);
        assert_eq!(p.payload(), &[0x45]);
        assert_eq!(Packet2::new_checked(&h[..19]), Err(Error::Truncated));
    }
}
