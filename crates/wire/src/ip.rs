//! What IPv4 and IPv6 share: protocol numbers and the version nibble.

/// IANA protocol numbers (IPv4 protocol / IPv6 next header) ctguard tells apart.
pub mod protocol {
    pub const HOPOPTS: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    /// IPv6 "no next header".
    pub const NONE: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const DCCP: u8 = 33;
    pub const SCTP: u8 = 132;
    pub const UDPLITE: u8 = 136;
}

/// The version nibble of an IP packet, if it has a first byte.
pub fn version(packet: &[u8]) -> Option<u8> {
    packet.first().map(|b| b >> 4)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_nibble() {
        assert_eq!(super::version(&[0x45]), Some(4));
        assert_eq!(super::version(&[0x60, 0]), Some(6));
        assert_eq!(super::version(&[]), None);
    }
}
