//! Rewriting a packet for its connection's NAT: addresses, ports or ICMP id, and every
//! checksum that covers them, updated incrementally (RFC 1624) so that a packet whose
//! checksum was wrong stays wrong, as in the kernel.

use ctguard_wire::checksum::replace;
use ctguard_wire::ip::protocol;

use super::range::Manip;
use crate::engine::invert;
use crate::entry::{Conn, Status};
use crate::tuple::{Dir, L3, Tuple};

/// Applies `conn`'s NAT to a packet travelling in `dir` at a hook that rewrites `manip`
/// (PREROUTING, OUTPUT: destination; POSTROUTING, INPUT: source). Returns whether the
/// packet changed. `packet` is the whole IP datagram.
pub fn nat_packet(conn: &Conn, dir: Dir, manip: Manip, packet: &mut [u8]) -> bool {
    let mut bit = manip.nat_bit();
    if dir == Dir::Reply {
        bit ^= Status::SRC_NAT | Status::DST_NAT;
    }
    if !conn.status.has(bit) {
        return false;
    }
    let Some(target) = invert(&conn.tuple(dir.flip())) else {
        return false;
    };
    manip_packet(packet, &target, manip)
}

/// Rewrites the `manip` end of `packet` to `target`'s.
pub fn manip_packet(packet: &mut [u8], target: &Tuple, manip: Manip) -> bool {
    let Ok(ip) = crate::intake::parse_ip(packet) else {
        return false;
    };
    let (l3, proto, l4_at, first) = (
        ip.l3,
        ip.proto,
        ip.l4_offset,
        ip.fragment.is_none_or(|f| f.offset == 0),
    );
    let (addr_at, n) = match (l3, manip) {
        (L3::V4, Manip::Src) => (12, 4),
        (L3::V4, Manip::Dst) => (16, 4),
        (L3::V6, Manip::Src) => (8, 16),
        (L3::V6, Manip::Dst) => (24, 16),
    };
    let new_addr = match manip {
        Manip::Src => &target.src[..n],
        Manip::Dst => &target.dst[..n],
    };
    let mut old_addr = [0u8; 16];
    old_addr[..n].copy_from_slice(&packet[addr_at..addr_at + n]);
    let old_addr = &old_addr[..n];
    if first {
        manip_l4(packet, l4_at, proto, l3, target, manip, old_addr, new_addr);
    }
    packet[addr_at..addr_at + n].copy_from_slice(new_addr);
    if l3 == L3::V4 {
        replace(packet, 10, old_addr, new_addr);
    }
    true
}

#[allow(clippy::too_many_arguments)]
fn manip_l4(
    packet: &mut [u8],
    at: usize,
    proto: u8,
    l3: L3,
    target: &Tuple,
    manip: Manip,
    old_addr: &[u8],
    new_addr: &[u8],
) {
    let len = packet.len().saturating_sub(at);
    let port_at = at + if manip == Manip::Src { 0 } else { 2 };
    let new_port = match manip {
        Manip::Src => target.sport,
        Manip::Dst => target.dport,
    };
    match proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE => {
            if len < 8 {
                return;
            }
            let old_port = [packet[port_at], packet[port_at + 1]];
            packet[port_at..port_at + 2].copy_from_slice(&new_port.to_be_bytes());
            let check_at = match proto {
                protocol::TCP if len >= 20 => at + 16,
                protocol::TCP => return,
                _ => at + 6,
            };
            // A zero UDP checksum over IPv4 means "none" and stays so.
            let none = proto == protocol::UDP
                && l3 == L3::V4
                && packet[check_at] == 0
                && packet[check_at + 1] == 0;
            if none {
                return;
            }
            replace(packet, check_at, old_addr, new_addr);
            replace(packet, check_at, &old_port, &new_port.to_be_bytes());
            if proto == protocol::UDP && packet[check_at] == 0 && packet[check_at + 1] == 0 {
                packet[check_at] = 0xff;
                packet[check_at + 1] = 0xff;
            }
        }
        protocol::ICMP | protocol::ICMPV6 if len >= 8 => {
            let is_query = matches!(packet[at], 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18 | 128 | 129);
            if is_query {
                let old_id = [packet[at + 4], packet[at + 5]];
                let new_id = target.sport.to_be_bytes();
                packet[at + 4..at + 6].copy_from_slice(&new_id);
                replace(packet, at + 2, &old_id, &new_id);
            }
            if proto == protocol::ICMPV6 {
                replace(packet, at + 2, old_addr, new_addr);
            }
        }
        _ => {}
    }
}
