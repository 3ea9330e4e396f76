//! Hand-built packets with correct lengths and checksums, for tests.

use ctguard_wire::checksum::{self, Checksum};
use ctguard_wire::ip::protocol;

/// An IPv4 header to build; `new` gives 10.0.0.1 -> 10.0.0.2, TTL 64.
#[derive(Clone, Debug)]
pub(crate) struct V4 {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    pub ident: u16,
    pub df: bool,
    pub more: bool,
    pub offset: u16,
    pub ttl: u8,
    pub tos: u8,
    pub options: Vec<u8>,
}

impl V4 {
    pub fn new(proto: u8) -> Self {
        V4 {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            proto,
            ident: 1,
            df: false,
            more: false,
            offset: 0,
            ttl: 64,
            tos: 0,
            options: vec![],
        }
    }

    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let hl = 20 + self.options.len();
        let mut p = vec![0u8; hl];
        p[0] = 0x40 | (hl / 4) as u8;
        p[1] = self.tos;
        p[2..4].copy_from_slice(&((hl + payload.len()) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&self.ident.to_be_bytes());
        let frag = (self.offset >> 3)
            | if self.df { 0x4000 } else { 0 }
            | if self.more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&frag.to_be_bytes());
        p[8] = self.ttl;
        p[9] = self.proto;
        p[12..16].copy_from_slice(&self.src);
        p[16..20].copy_from_slice(&self.dst);
        p[20..].copy_from_slice(&self.options);
        let c = checksum::sum(&p).checksum();
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    fn pseudo(&self, proto: u8, len: usize) -> Checksum {
        checksum::pseudo_header_v4(&self.src, &self.dst, proto, len as u32)
    }
}

/// Edits an IPv4 header in place, then recomputes its checksum.
pub(crate) fn refill_v4(p: &mut [u8], f: impl FnOnce(&mut [u8])) {
    f(p);
    let hl = (usize::from(p[0] & 0x0f) * 4).clamp(20, p.len());
    p[10..12].fill(0);
    let c = checksum::sum(&p[..hl]).checksum();
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

/// An IPv6 header to build; `new` gives 2001:db8::1 -> 2001:db8::2, hop limit 64.
#[derive(Clone, Debug)]
pub(crate) struct V6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub hop_limit: u8,
    pub tc: u8,
}

impl V6 {
    pub fn new() -> Self {
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        let mut dst = src;
        src[15] = 1;
        dst[15] = 2;
        V6 {
            src,
            dst,
            hop_limit: 64,
            tc: 0,
        }
    }

    /// The fixed header followed by `rest` (extension headers and payload).
    pub fn build(&self, next_header: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60 | (self.tc >> 4);
        p[1] = self.tc << 4;
        p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
        p[6] = next_header;
        p[7] = self.hop_limit;
        p[8..24].copy_from_slice(&self.src);
        p[24..40].copy_from_slice(&self.dst);
        p.extend_from_slice(rest);
        p
    }

    fn pseudo(&self, proto: u8, len: usize) -> Checksum {
        checksum::pseudo_header_v6(&self.src, &self.dst, proto, len as u32)
    }
}

fn fill(mut c: Checksum, seg: &mut [u8], at: usize) {
    seg[at..at + 2].fill(0);
    c.add_bytes(seg);
    seg[at..at + 2].copy_from_slice(&c.checksum().to_be_bytes());
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + payload.len());
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    d
}

pub(crate) fn udp_v4(ip: &V4, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = udp(sport, dport, payload);
    fill(ip.pseudo(protocol::UDP, d.len()), &mut d, 6);
    d
}

pub(crate) fn udp_v6(ip: &V6, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = udp(sport, dport, payload);
    fill(ip.pseudo(protocol::UDP, d.len()), &mut d, 6);
    d
}

/// A TCP segment to build.
#[derive(Clone, Debug)]
pub(crate) struct TcpSpec {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

impl Default for TcpSpec {
    fn default() -> Self {
        TcpSpec {
            sport: 40000,
            dport: 80,
            seq: 1000,
            ack: 0,
            flags: 0x02,
            window: 65535,
            options: vec![],
            payload: vec![],
        }
    }
}

fn tcp(s: &TcpSpec) -> Vec<u8> {
    let hl = 20 + s.options.len();
    let mut d = vec![0u8; hl];
    d[0..2].copy_from_slice(&s.sport.to_be_bytes());
    d[2..4].copy_from_slice(&s.dport.to_be_bytes());
    d[4..8].copy_from_slice(&s.seq.to_be_bytes());
    d[8..12].copy_from_slice(&s.ack.to_be_bytes());
    d[12] = ((hl / 4) as u8) << 4;
    d[13] = s.flags;
    d[14..16].copy_from_slice(&s.window.to_be_bytes());
    d[20..].copy_from_slice(&s.options);
    d.extend_from_slice(&s.payload);
    d
}

pub(crate) fn tcp_v4(ip: &V4, s: &TcpSpec) -> Vec<u8> {
    let mut d = tcp(s);
    fill(ip.pseudo(protocol::TCP, d.len()), &mut d, 16);
    d
}

pub(crate) fn tcp_v6(ip: &V6, s: &TcpSpec) -> Vec<u8> {
    let mut d = tcp(s);
    fill(ip.pseudo(protocol::TCP, d.len()), &mut d, 16);
    d
}

/// An ICMP message: type, code, then `rest` from byte 4 on (identifier, sequence, data).
pub(crate) fn icmp_v4(ty: u8, code: u8, rest: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(rest);
    fill(Checksum::new(), &mut m, 2);
    m
}

pub(crate) fn icmp_v6(ip: &V6, ty: u8, code: u8, rest: &[u8]) -> Vec<u8> {
    let mut m = vec![ty, code, 0, 0];
    m.extend_from_slice(rest);
    fill(ip.pseudo(protocol::ICMPV6, m.len()), &mut m, 2);
    m
}

const MACS: [u8; 12] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];

pub(crate) fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    ethernet_tagged(&[], ethertype, payload)
}

/// An Ethernet frame whose `tags` (outermost first) each carry VLAN 100.
pub(crate) fn ethernet_tagged(tags: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MACS.to_vec();
    for t in tags {
        f.extend_from_slice(&t.to_be_bytes());
        f.extend_from_slice(&100u16.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub(crate) fn sll(packet_type: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = packet_type.to_be_bytes().to_vec();
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&MACS[..6]);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub(crate) fn sll2(packet_type: u8, protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = protocol.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&3u32.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(packet_type);
    f.push(6);
    f.extend_from_slice(&MACS[..6]);
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}
