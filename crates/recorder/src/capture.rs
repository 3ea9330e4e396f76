//! What the router transmits: an AF_PACKET socket on the client's and on the server's veth end
//! receives every frame the router sends on rtr-c / rtr-s (and not the frames the recorder
//! injects there, which are outgoing on that socket's interface).
//!
//! The kernel leaves some checksums to the NIC (CHECKSUM_PARTIAL: the IPv4 TCP RST of
//! `REJECT --reject-with tcp-reset`, for one): the field holds only the pseudo-header's sum, and
//! a veth passes it on as is. The socket's auxiliary data says so (`TP_STATUS_CSUMNOTREADY`),
//! and [`complete_checksum`] then fills in the checksum the NIC would have written, so that the
//! golden shows what goes on the wire.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::netns::Netns;
use crate::packet_socket;

/// PACKET_IGNORE_OUTGOING (linux/if_packet.h, since 4.20).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// PACKET_AUXDATA (linux/if_packet.h).
const PACKET_AUXDATA: libc::c_int = 8;
/// TP_STATUS_CSUMNOTREADY: the checksum is left to offload (CHECKSUM_PARTIAL).
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
/// PACKET_STATISTICS (linux/if_packet.h): `struct tpacket_stats`, reset on every read.
const PACKET_STATISTICS: libc::c_int = 6;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;

/// A non-blocking socket receiving the frames that arrive on one interface.
pub struct Capture {
    fd: OwnedFd,
}

impl Capture {
    /// Opens the socket inside `ns`, bound to `interface`, and empties it.
    pub fn open(ns: &Netns, interface: &str) -> io::Result<Capture> {
        let fd = packet_socket::open(
            ns,
            interface,
            (libc::ETH_P_ALL as u16).to_be(),
            libc::SOCK_NONBLOCK,
            |fd| {
                packet_socket::set_int(fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)?;
                packet_socket::set_int(fd, libc::SOL_PACKET, PACKET_AUXDATA, 1)
            },
            "capture",
        )?;
        let capture = Capture { fd };
        // Frames from before the bind (other interfaces) may be queued.
        capture.take()?;
        Ok(capture)
    }

    /// Raises the socket's receive buffer to `bytes` (past rmem_max: needs CAP_NET_ADMIN), so
    /// that a burst is queued rather than dropped.
    pub fn set_receive_buffer(&self, bytes: libc::c_int) -> io::Result<()> {
        packet_socket::set_int(&self.fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes)
    }

    /// Frames the socket dropped for want of buffer space since the last call.
    pub fn drops(&self) -> io::Result<u64> {
        // struct tpacket_stats { unsigned int tp_packets; unsigned int tp_drops; }
        let mut stats = [0u32; 2];
        let mut len = size_of_val(&stats) as libc::socklen_t;
        // SAFETY: `stats` is valid for `len` bytes, and the kernel writes at most that many.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                stats.as_mut_ptr().cast::<libc::c_void>(),
                &raw mut len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(stats[1]))
    }

    /// The IPv4 and IPv6 packets received since the last call (Ethernet header removed,
    /// checksums left to offload completed), in arrival order; other frames are left out.
    pub fn take(&self) -> io::Result<Vec<Vec<u8>>> {
        let mut packets = Vec::new();
        let mut buf = vec![0u8; 65_536];
        // Room for one tpacket_auxdata control message (aligned generously).
        let mut control = [0u64; 16];
        // Bounded: a socket buffer holds far fewer frames than this.
        for _ in 0..100_000 {
            // SAFETY: sockaddr_ll is plain data; all-zero is a valid starting value.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
                iov_len: buf.len(),
            };
            // SAFETY: msghdr is plain data; all-zero is a valid starting value.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_name = (&raw mut from).cast::<libc::c_void>();
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &raw mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
            msg.msg_controllen = size_of_val(&control) as _;
            // SAFETY: every pointer in `msg` is valid for the length given with it.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &raw mut msg, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    break;
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let status = aux_status(&msg);
            let frame = &buf[..(n as usize).min(buf.len())];
            if from.sll_pkttype == libc::PACKET_OUTGOING || frame.len() < 14 {
                continue;
            }
            let ether_type = u16::from_be_bytes([frame[12], frame[13]]);
            if ether_type == ETH_P_IP || ether_type == ETH_P_IPV6 {
                let mut ip = frame[14..].to_vec();
                if status & TP_STATUS_CSUMNOTREADY != 0 {
                    complete_checksum(&mut ip);
                }
                packets.push(ip);
            }
        }
        Ok(packets)
    }
}

impl AsRawFd for Capture {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// `tp_status` from the PACKET_AUXDATA control message of a received frame (0 if absent).
fn aux_status(msg: &libc::msghdr) -> u32 {
    // SAFETY: `msg` was filled in by recvmsg; the CMSG macros walk its control buffer within
    // msg_controllen, and the data is read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_PACKET && (*cmsg).cmsg_type == PACKET_AUXDATA {
                // tpacket_auxdata starts with `__u32 tp_status`.
                return std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<u32>());
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    0
}

/// Writes the TCP or UDP checksum that offload would have: the ones' complement of the sum
/// over the pseudo-header and the whole segment. Other packets, fragments and packets too
/// short to hold the field are left as they are.
pub fn complete_checksum(ip: &mut [u8]) {
    let (header_len, proto, total, pseudo) = match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
            if fragment || ihl < 20 || total < ihl || total > ip.len() {
                return;
            }
            let len = (total - ihl) as u16;
            let mut pseudo = ip[12..20].to_vec();
            pseudo.extend_from_slice(&[0, ip[9]]);
            pseudo.extend_from_slice(&len.to_be_bytes());
            (ihl, ip[9], total, pseudo)
        }
        Some(6) if ip.len() >= 40 => {
            // Only a transport header right after the fixed header (the kernel's own replies).
            let total = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            if total > ip.len() {
                return;
            }
            let mut pseudo = ip[8..40].to_vec();
            pseudo.extend_from_slice(&((total - 40) as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, ip[6]]);
            (40, ip[6], total, pseudo)
        }
        _ => return,
    };
    let field = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let at = header_len + field;
    if at + 2 > total {
        return;
    }
    ip[at] = 0;
    ip[at + 1] = 0;
    let mut sum: u64 = 0;
    for part in [&pseudo[..], &ip[header_len..total]] {
        for pair in part.chunks(2) {
            let hi = u64::from(pair[0]) << 8;
            sum += hi | u64::from(*pair.get(1).unwrap_or(&0));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut check = !(sum as u16);
    if proto == 17 && check == 0 {
        check = 0xffff;
    }
    ip[at..at + 2].copy_from_slice(&check.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctguard_scenario::{Scenario, describe};

    #[test]
    fn completes_a_partial_checksum() {
        for line in [
            "c tcp 10.99.2.100:1001 > 10.99.1.100:41001 RA seq=0 ack=1001 win=0",
            "c tcp [fd00:99:2::100]:1001 > [fd00:99:1::100]:41001 RA seq=0 ack=1001 win=0",
            "c udp 10.99.1.100:5000 > 10.99.2.100:53 len=7",
        ] {
            let s = Scenario::parse("t", line).unwrap();
            let good = s.packets[0].ip_packet().to_vec();
            let mut partial = good.clone();
            let at =
                if good[0] >> 4 == 4 { 20 } else { 40 } + if line.contains("tcp") { 16 } else { 6 };
            partial[at] ^= 0x5a;
            assert!(describe::packet(&partial).contains("badsum"));
            complete_checksum(&mut partial);
            assert_eq!(partial, good, "{line}");
        }
    }
}
