//! ICMP errors about a NATed connection: the quoted packet is rewritten back to what its
//! sender sent, and the outer header to what the error's receiver expects (the kernel's
//! `nf_nat_icmp_reply_translation`). Without it a client behind DNAT would see an error
//! about the server's real address, which matches none of its sockets.

use ctguard_wire::checksum::{self, replace};
use ctguard_wire::ip::protocol;

use super::manip::manip_packet;
use super::range::Manip;
use crate::engine::invert;
use crate::entry::{Conn, Status};
use crate::tuple::{Dir, Tuple};

/// Rewrites an ICMP or ICMPv6 error related to `conn`, travelling in `dir`, at a hook that
/// rewrites `manip`. Returns false when the kernel would drop it (a redirect about a NATed
/// connection).
pub fn nat_icmp_reply(conn: &Conn, dir: Dir, manip: Manip, packet: &mut [u8]) -> bool {
    let Ok(ip) = crate::intake::parse_ip(packet) else {
        return true;
    };
    let (at, v6) = (ip.l4_offset, ip.l3 == crate::tuple::L3::V6);
    let (src, dst) = (ip.src, ip.dst);
    if packet.len() < at + 8 {
        return true;
    }
    let redirect = if v6 {
        packet[at] == 137
    } else {
        packet[at] == 5
    };
    let nat = conn.status.0 & (Status::SRC_NAT | Status::DST_NAT) != 0;
    let done = conn.status.has(Status::SRC_NAT_DONE) && conn.status.has(Status::DST_NAT_DONE);
    if redirect && (nat || !done) {
        return false;
    }
    let mut bit = manip.nat_bit();
    if dir == Dir::Reply {
        bit ^= Status::SRC_NAT | Status::DST_NAT;
    }
    if !conn.status.has(bit) {
        return true;
    }
    let other = conn.tuple(dir.flip());
    let inner = manip.flip();
    manip_quoted(&mut packet[at + 8..], &other, inner, v6);
    // The quote changed: the error's checksum is computed afresh.
    packet[at + 2] = 0;
    packet[at + 3] = 0;
    let sum = if v6 {
        let mut s =
            checksum::pseudo_header_v6(&src, &dst, protocol::ICMPV6, (packet.len() - at) as u32);
        s.add_bytes(&packet[at..]);
        s.checksum()
    } else {
        checksum::sum(&packet[at..]).checksum()
    };
    packet[at + 2..at + 4].copy_from_slice(&sum.to_be_bytes());
    if let Some(mut target) = invert(&other) {
        target.proto = if v6 { protocol::ICMPV6 } else { protocol::ICMP };
        manip_packet(packet, &target, manip);
    }
    true
}

/// The quoted packet's `manip` end set to `target`'s: addresses, the IPv4 header checksum,
/// ports or ICMP id, and the transport checksum when the quote holds it, as far as the
/// (usually truncated) quote reaches.
fn manip_quoted(q: &mut [u8], target: &Tuple, manip: Manip, v6: bool) {
    let (hl, proto, addr_at, n) = if v6 {
        if q.len() < 40 {
            return;
        }
        let at = if manip == Manip::Src { 8 } else { 24 };
        (40, q[6], at, 16)
    } else {
        if q.len() < 20 {
            return;
        }
        let at = if manip == Manip::Src { 12 } else { 16 };
        (usize::from(q[0] & 0x0f) * 4, q[9], at, 4)
    };
    let new_addr = if manip == Manip::Src {
        &target.src[..n]
    } else {
        &target.dst[..n]
    };
    let mut old_addr = [0u8; 16];
    old_addr[..n].copy_from_slice(&q[addr_at..addr_at + n]);
    q[addr_at..addr_at + n].copy_from_slice(new_addr);
    if !v6 {
        replace(q, 10, &old_addr[..n], new_addr);
    }
    let Some(l4) = q.get_mut(hl..) else {
        return;
    };
    let len = l4.len();
    match proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP
            if len >= 4 =>
        {
            let port_at = if manip == Manip::Src { 0 } else { 2 };
            let port = if manip == Manip::Src {
                target.sport
            } else {
                target.dport
            };
            let old_port = [l4[port_at], l4[port_at + 1]];
            l4[port_at..port_at + 2].copy_from_slice(&port.to_be_bytes());
            let check_at = match proto {
                protocol::TCP if len >= 20 => Some(16),
                protocol::UDP if len >= 8 && (l4[6] != 0 || l4[7] != 0 || v6) => Some(6),
                protocol::UDPLITE if len >= 8 => Some(6),
                _ => None,
            };
            if let Some(c) = check_at {
                replace(l4, c, &old_addr[..n], new_addr);
                replace(l4, c, &old_port, &port.to_be_bytes());
            }
        }
        protocol::ICMP | protocol::ICMPV6 if len >= 8 => {
            let old_id = [l4[4], l4[5]];
            let id = target.sport.to_be_bytes();
            l4[4..6].copy_from_slice(&id);
            replace(l4, 2, &old_id, &id);
            if proto == protocol::ICMPV6 {
                replace(l4, 2, &old_addr[..n], new_addr);
            }
        }
        _ => {}
    }
}
