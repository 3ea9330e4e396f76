//! LINKTYPE_* numbers (tcpdump.org's link-layer header types) that ctguard meets. Records
//! carry the number as the file gives it; these are for matching on it.

/// BSD loopback: a 4-byte address family in host byte order.
pub const NULL: u32 = 0;
/// Ethernet, possibly with 802.1Q / 802.1ad tags.
pub const ETHERNET: u32 = 1;
/// Raw IP (the value some systems used before LINKTYPE_RAW).
pub const RAW_OLD: u32 = 12;
/// Raw IPv4 or IPv6, by the version nibble.
pub const RAW: u32 = 101;
/// OpenBSD loopback: a 4-byte address family in network byte order.
pub const LOOP: u32 = 108;
/// Linux cooked capture v1 (`tcpdump -i any` with older libpcap, `dumpcap -i any`).
pub const LINUX_SLL: u32 = 113;
/// Raw IPv4.
pub const IPV4: u32 = 228;
/// Raw IPv6.
pub const IPV6: u32 = 229;
/// Linux cooked capture v2 (`tcpdump -i any` with libpcap 1.10 and later).
pub const LINUX_SLL2: u32 = 276;
