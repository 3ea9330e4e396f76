//! Ethernet/IPv4 frames with correct checksums: the builder behind [`crate::incident`] and
//! the simulator.

use ctguard_wire::checksum;

pub const F_FIN: u8 = 0x01;
pub const F_SYN: u8 = 0x02;
pub const F_RST: u8 = 0x04;
pub const F_PSH: u8 = 0x08;
pub const F_ACK: u8 = 0x10;

/// The simulated host's MAC address.
pub const HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// Everyone else's (the host's gateway or peer on the link).
pub const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// The TCP MSS the simulated peers announce (and segment with).
pub const MSS: usize = 1460;

/// One TCP segment: addresses, ports, sequence numbers, flags and payload length (the
/// payload is filled with `a`s). SYNs carry an MSS option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub len: usize,
}

fn ethernet_ipv4(f: &mut Vec<u8>, dst_mac: [u8; 6], src_mac: [u8; 6]) {
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
}

/// The IPv4 header (DF, TTL 64, ID 0) at `f[14..34]`, checksummed.
fn ipv4(f: &mut Vec<u8>, total: usize, proto: u8, src: [u8; 4], dst: [u8; 4]) {
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        proto,
        0,
        0,
    ]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    let ip_sum = checksum::sum(&f[14..34]).checksum();
    f[24..26].copy_from_slice(&ip_sum.to_be_bytes());
}

/// An Ethernet/IPv4/TCP frame from `src_mac` to `dst_mac`.
pub fn tcp(s: &Seg, dst_mac: [u8; 6], src_mac: [u8; 6]) -> Vec<u8> {
    let opts: &[u8] = if s.flags & F_SYN != 0 {
        &[2, 4, (MSS >> 8) as u8, MSS as u8]
    } else {
        &[]
    };
    let tcp_len = 20 + opts.len() + s.len;
    let total = 20 + tcp_len;
    let mut f = Vec::with_capacity(14 + total);
    ethernet_ipv4(&mut f, dst_mac, src_mac);
    ipv4(&mut f, total, 6, s.src, s.dst);
    f.extend_from_slice(&s.sport.to_be_bytes());
    f.extend_from_slice(&s.dport.to_be_bytes());
    f.extend_from_slice(&s.seq.to_be_bytes());
    f.extend_from_slice(&s.ack.to_be_bytes());
    f.push((((20 + opts.len()) / 4) << 4) as u8);
    f.push(s.flags);
    f.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
    f.extend_from_slice(opts);
    f.resize(14 + total, 0x61);
    let mut c = checksum::pseudo_header_v4(&s.src, &s.dst, 6, tcp_len as u32);
    c.add_bytes(&f[34..]);
    let sum = c.checksum();
    f[50..52].copy_from_slice(&sum.to_be_bytes());
    f
}

/// An Ethernet/IPv4/UDP frame carrying `payload`.
pub fn udp(
    (src, sport): ([u8; 4], u16),
    (dst, dport): ([u8; 4], u16),
    payload: &[u8],
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut f = Vec::with_capacity(14 + total);
    ethernet_ipv4(&mut f, dst_mac, src_mac);
    ipv4(&mut f, total, 17, src, dst);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&(udp_len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    let mut c = checksum::pseudo_header_v4(&src, &dst, 17, udp_len as u32);
    c.add_bytes(&f[34..]);
    let sum = match c.checksum() {
        0 => 0xffff,
        s => s,
    };
    f[40..42].copy_from_slice(&sum.to_be_bytes());
    f
}

/// A DNS query for `example.com` A (or its answer, 192.0.2.80, TTL 300) with this ID.
pub fn dns(id: u16, answer: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(if answer { &[0x81, 0x80] } else { &[0x01, 0x00] });
    p.extend_from_slice(&[0, 1, 0, u8::from(answer), 0, 0, 0, 0]);
    p.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
    if answer {
        p.extend_from_slice(&[
            0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 80,
        ]);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctguard_conntrack::intake::{self, LinkType};

    #[test]
    fn udp_and_tcp_frames_verify() {
        let u = udp(
            ([10, 0, 0, 1], 40000),
            ([10, 0, 0, 53], 53),
            &dns(7, false),
            PEER_MAC,
            HOST_MAC,
        );
        let t = tcp(
            &Seg {
                src: [1, 2, 3, 4],
                dst: [10, 0, 0, 1],
                sport: 1234,
                dport: 80,
                seq: 1,
                ack: 0,
                flags: F_SYN,
                len: 0,
            },
            HOST_MAC,
            PEER_MAC,
        );
        for f in [
            u,
            t,
            tcp(
                &Seg {
                    len: 3,
                    flags: F_ACK,
                    ..Seg::default_for_tests()
                },
                HOST_MAC,
                PEER_MAC,
            ),
        ] {
            let ip = intake::parse_frame(LinkType::Ethernet, &f).expect("parses");
            assert!(intake::parse_l4(&ip, true).is_ok(), "checksum");
        }
    }

    impl Seg {
        fn default_for_tests() -> Seg {
            Seg {
                src: [1, 2, 3, 4],
                dst: [10, 0, 0, 1],
                sport: 1,
                dport: 2,
                seq: 3,
                ack: 4,
                flags: 0,
                len: 0,
            }
        }
    }
}
