//! Reading the pcap into the frames to send: each IPv4 packet, the side it enters from and its
//! time offset. Everything is read (and checked against the bounds) before a run starts, so
//! the pacing loop does no I/O but sending.

use std::path::Path;
use std::time::Duration;

use ctguard_capture::{Capture as PcapFile, linktype};
use ctguard_scenario::Side;
use ctguard_scenario::topology::MTU;

use crate::pcap::sides::{self, Ipv4Prefix};

/// Refuse captures with more frames than this.
pub const MAX_FRAMES: usize = 5_000_000;
/// Refuse captures spanning longer than this.
pub const MAX_SPAN: Duration = Duration::from_secs(600);

/// One frame of the pcap.
pub struct Planned {
    /// Since the first frame.
    pub at: Duration,
    /// `None`: skipped (not injectable IPv4).
    pub send: Option<Outgoing>,
}

pub struct Outgoing {
    pub side: Side,
    /// Ethernet header (rewritten for the side) and the IPv4 packet.
    pub frame: Vec<u8>,
}

impl Outgoing {
    pub fn ip(&self) -> &[u8] {
        &self.frame[14..]
    }
}

/// Why a frame is not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    NotIpv4,
    /// Cut by the snaplen, or its IPv4 header is broken.
    Malformed,
    /// Larger than the veths' MTU.
    TooBig,
}

/// The whole capture, ready to send.
pub struct Plan {
    pub frames: Vec<Planned>,
    pub injected: usize,
    pub skipped: Vec<(Skip, usize)>,
    /// Sent frames the router has no neighbour or route for on the far side.
    pub unreachable: usize,
}

/// The IPv4 packet in a captured frame, cut to its total length (dropping Ethernet padding).
pub fn ipv4_packet(link_type: u32, data: &[u8], orig_len: u32) -> Result<&[u8], Skip> {
    let ip = match link_type {
        linktype::ETHERNET if data.len() >= 14 && data[12..14] == [0x08, 0x00] => &data[14..],
        linktype::ETHERNET => return Err(Skip::NotIpv4),
        linktype::RAW | linktype::RAW_OLD | linktype::IPV4 => data,
        _ => return Err(Skip::NotIpv4),
    };
    if ip.first().map(|b| b >> 4) != Some(4) {
        return Err(Skip::NotIpv4);
    }
    if (orig_len as usize) > data.len() || ip.len() < 20 {
        return Err(Skip::Malformed);
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ihl < 20 || total < ihl || total > ip.len() {
        return Err(Skip::Malformed);
    }
    if total > MTU {
        return Err(Skip::TooBig);
    }
    Ok(&ip[..total])
}

/// Reads `path` and sorts its frames onto the sides.
pub fn load(path: &Path, server: &Ipv4Prefix) -> Result<Plan, String> {
    let mut file = PcapFile::open(path).map_err(|e| e.to_string())?;
    let mut plan = Plan {
        frames: Vec::new(),
        injected: 0,
        skipped: Vec::new(),
        unreachable: 0,
    };
    let mut first = None;
    let mut last = 0;
    while let Some(record) = file.next_record() {
        let record = record.map_err(|e| e.to_string())?;
        if plan.frames.len() == MAX_FRAMES {
            return Err(format!("{}: more than {MAX_FRAMES} frames", path.display()));
        }
        let t0 = *first.get_or_insert(record.time);
        if record.time < last {
            return Err(format!(
                "{}: frame {}: its timestamp is earlier than the one before",
                path.display(),
                record.index
            ));
        }
        last = record.time;
        let at = Duration::from_nanos(record.time - t0);
        if at > MAX_SPAN {
            return Err(format!(
                "{}: spans more than {} s (frame {})",
                path.display(),
                MAX_SPAN.as_secs(),
                record.index
            ));
        }
        let send = match ipv4_packet(record.link_type, record.data, record.orig_len) {
            Ok(ip) => {
                let side = sides::side_for(server, ip);
                if !sides::reachable(side, sides::destination(ip)) {
                    plan.unreachable += 1;
                }
                plan.injected += 1;
                Some(Outgoing {
                    side,
                    frame: sides::ethernet_frame(side, ip),
                })
            }
            Err(why) => {
                match plan.skipped.iter_mut().find(|(w, _)| *w == why) {
                    Some((_, n)) => *n += 1,
                    None => plan.skipped.push((why, 1)),
                }
                None
            }
        };
        plan.frames.push(Planned { at, send });
    }
    if plan.injected == 0 {
        return Err(format!("{}: no IPv4 frame to send", path.display()));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(total: u16) -> Vec<u8> {
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.resize(usize::from(total), 0);
        ip
    }

    fn ethernet(ether_type: [u8; 2], ip: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        f.extend_from_slice(&ether_type);
        f.extend_from_slice(ip);
        f
    }

    #[test]
    fn takes_the_ipv4_packet_out_of_the_frame() {
        let ip = ipv4(40);
        let mut padded = ethernet([8, 0], &ip);
        padded.resize(60, 0);
        let len = padded.len() as u32;
        assert_eq!(ipv4_packet(linktype::ETHERNET, &padded, len), Ok(&ip[..]));
        assert_eq!(ipv4_packet(linktype::RAW, &ip, 40), Ok(&ip[..]));
        let arp = ethernet([8, 6], &[0; 28]);
        assert_eq!(
            ipv4_packet(linktype::ETHERNET, &arp, 42),
            Err(Skip::NotIpv4)
        );
        let mut v6 = ip.clone();
        v6[0] = 0x60;
        assert_eq!(ipv4_packet(linktype::RAW, &v6, 40), Err(Skip::NotIpv4));
        assert_eq!(
            ipv4_packet(linktype::LINUX_SLL, &padded, len),
            Err(Skip::NotIpv4)
        );
        // Cut by the snaplen.
        assert_eq!(
            ipv4_packet(linktype::RAW, &ip[..30], 40),
            Err(Skip::Malformed)
        );
        let mut lying = ip.clone();
        lying[3] = 60;
        assert_eq!(ipv4_packet(linktype::RAW, &lying, 40), Err(Skip::Malformed));
        let big = ipv4(1501);
        assert_eq!(ipv4_packet(linktype::RAW, &big, 1501), Err(Skip::TooBig));
    }
}
