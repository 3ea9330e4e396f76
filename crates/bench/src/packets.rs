//! Packet builders for the workloads: Ethernet frames with valid IPv4 checksums, built once
//! before the timed part.

use ctguard_wire::checksum;

pub const ETH_LEN: usize = 14;

/// TCP flag bits (byte 13 of the header).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

fn ethernet(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
}

fn ipv4(out: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], proto: u8, l4_len: usize) {
    let start = out.len();
    let total = (20 + l4_len) as u16;
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    let sum = checksum::sum(&out[start..start + 20]).checksum();
    out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
}

/// A 42-byte Ethernet/IPv4/UDP frame with no payload and no UDP checksum (OVS's benchmark
/// packet).
pub fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    ethernet(&mut f);
    ipv4(&mut f, src, dst, 17, 8);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&8u16.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f
}

/// One TCP segment of a connection, as the workloads need it.
#[derive(Copy, Clone, Debug)]
pub struct Segment {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub payload: u16,
}

/// An Ethernet/IPv4/TCP frame with a valid TCP checksum and a zero-filled payload.
pub fn tcp4(s: &Segment) -> Vec<u8> {
    let l4_len = 20 + usize::from(s.payload);
    let mut f = Vec::with_capacity(ETH_LEN + 20 + l4_len);
    ethernet(&mut f);
    ipv4(&mut f, s.src, s.dst, 6, l4_len);
    let t = f.len();
    f.extend_from_slice(&s.sport.to_be_bytes());
    f.extend_from_slice(&s.dport.to_be_bytes());
    f.extend_from_slice(&s.seq.to_be_bytes());
    f.extend_from_slice(&s.ack.to_be_bytes());
    f.extend_from_slice(&[0x50, s.flags]);
    f.extend_from_slice(&s.window.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.resize(f.len() + usize::from(s.payload), 0);
    let mut sum = checksum::pseudo_header_v4(&s.src, &s.dst, 6, l4_len as u32);
    sum.add_bytes(&f[t..]);
    let c = sum.checksum();
    f[t + 16..t + 18].copy_from_slice(&c.to_be_bytes());
    f
}

/// Frames stored back to back, so that a workload walks them without chasing pointers.
#[derive(Default)]
pub struct FrameBuf {
    data: Vec<u8>,
    ends: Vec<u32>,
}

impl FrameBuf {
    pub fn push(&mut self, frame: &[u8]) {
        self.data.extend_from_slice(frame);
        self.ends.push(self.data.len() as u32);
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Connection `i` of the TCP workloads: client 10.(1 + i>>16).(i>>8).(i), port
/// 40000 + i % 20000, to 10.2.0.1:80; client ISN 1000 + i, server ISN 5000 + i.
pub fn tcp_endpoints(i: u32) -> ([u8; 4], u16, [u8; 4], u16, u32, u32) {
    let client = [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let cport = 40000 + (i % 20000) as u16;
    (
        client,
        cport,
        [10, 2, 0, 1],
        80,
        1000u32.wrapping_add(i),
        5000u32.wrapping_add(i),
    )
}

/// The ten segments of connection `i`: handshake, a 100-byte segment each way with its ACK,
/// FIN each way and the last ACK. `true` marks client-to-server segments.
pub fn tcp_lifecycle(i: u32) -> [(bool, Segment); 10] {
    use tcp_flags::*;
    let (client, cport, server, sport, c, s) = tcp_endpoints(i);
    let seg = |to_server: bool, seq: u32, ack: u32, flags: u8, payload: u16| {
        let (src, dst, sp, dp) = if to_server {
            (client, server, cport, sport)
        } else {
            (server, client, sport, cport)
        };
        (
            to_server,
            Segment {
                src,
                dst,
                sport: sp,
                dport: dp,
                seq,
                ack,
                flags,
                window: 65535,
                payload,
            },
        )
    };
    [
        seg(true, c, 0, SYN, 0),
        seg(false, s, c + 1, SYN | ACK, 0),
        seg(true, c + 1, s + 1, ACK, 0),
        seg(true, c + 1, s + 1, PSH | ACK, 100),
        seg(false, s + 1, c + 101, ACK, 0),
        seg(false, s + 1, c + 101, PSH | ACK, 100),
        seg(true, c + 101, s + 101, ACK, 0),
        seg(true, c + 101, s + 101, FIN | ACK, 0),
        seg(false, s + 101, c + 102, FIN | ACK, 0),
        seg(true, c + 102, s + 102, ACK, 0),
    ]
}

/// xorshift64*: the workloads' pseudo-random addresses and orders, reproducible from a seed.
pub fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}
