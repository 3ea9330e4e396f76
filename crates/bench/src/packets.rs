//! The workloads' packets: the simulator's frames ([`ctguard_replay::simulate::frame`]:
//! Ethernet/IPv4, correct checksums, an MSS option on SYNs), built before the timed part.

use ctguard_replay::simulate::frame;
pub use ctguard_replay::simulate::frame::{F_ACK, F_FIN, F_PSH, F_RST, F_SYN, Seg};

/// A TCP frame; the client's come from the peer's MAC to the host's, replies go back.
pub fn tcp(s: &Seg, to_server: bool) -> Vec<u8> {
    if to_server {
        frame::tcp(s, frame::HOST_MAC, frame::PEER_MAC)
    } else {
        frame::tcp(s, frame::PEER_MAC, frame::HOST_MAC)
    }
}

/// A 42-byte Ethernet/IPv4/UDP frame with no payload (OVS's benchmark packet).
pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    frame::udp(
        (src, sport),
        (dst, dport),
        &[],
        frame::HOST_MAC,
        frame::PEER_MAC,
    )
}

/// Connection `i` of the TCP workloads: client 10.(1 + i>>16).(i>>8).(i), port
/// 40000 + i % 20000, to 10.2.0.1:80; client ISN 1000 + i, server ISN 5000 + i.
#[derive(Copy, Clone, Debug)]
pub struct TcpConn {
    pub client: [u8; 4],
    pub cport: u16,
    pub server: [u8; 4],
    pub sport: u16,
    /// The client's and the server's initial sequence numbers.
    pub isn: (u32, u32),
}

impl TcpConn {
    pub fn new(i: u32) -> TcpConn {
        TcpConn {
            client: [10, 1 + (i >> 16) as u8, (i >> 8) as u8, i as u8],
            cport: 40000 + (i % 20000) as u16,
            server: [10, 2, 0, 1],
            sport: 80,
            isn: (1000u32.wrapping_add(i), 5000u32.wrapping_add(i)),
        }
    }

    /// A segment of this connection, to the server or back, with `len` bytes of payload.
    pub fn seg(&self, to_server: bool, seq: u32, ack: u32, flags: u8, len: usize) -> Seg {
        let (src, dst, sport, dport) = if to_server {
            (self.client, self.server, self.cport, self.sport)
        } else {
            (self.server, self.client, self.sport, self.cport)
        };
        Seg {
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            flags,
            len,
        }
    }
}

/// The ten segments of connection `i`: handshake, a 100-byte segment each way with its ACK,
/// FIN each way and the last ACK. `true` marks client-to-server segments.
pub fn tcp_lifecycle(i: u32) -> [(bool, Seg); 10] {
    let k = TcpConn::new(i);
    let (c, s) = k.isn;
    let seg = |to_server, seq, ack, flags, len| (to_server, k.seg(to_server, seq, ack, flags, len));
    [
        seg(true, c, 0, F_SYN, 0),
        seg(false, s, c + 1, F_SYN | F_ACK, 0),
        seg(true, c + 1, s + 1, F_ACK, 0),
        seg(true, c + 1, s + 1, F_PSH | F_ACK, 100),
        seg(false, s + 1, c + 101, F_ACK, 0),
        seg(false, s + 1, c + 101, F_PSH | F_ACK, 100),
        seg(true, c + 101, s + 101, F_ACK, 0),
        seg(true, c + 101, s + 101, F_FIN | F_ACK, 0),
        seg(false, s + 101, c + 102, F_FIN | F_ACK, 0),
        seg(true, c + 102, s + 102, F_ACK, 0),
    ]
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

/// xorshift64*: the workloads' pseudo-random addresses and orders, reproducible from a seed.
pub fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}
