//! Legitimate clients' connections (`--clients PREFIX`): how many started and how many
//! completed, a connection counting as completed when every one of its packets was accepted.
//! A capture has no labels; the clients' addresses are what tells their traffic from a
//! flood's.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use ctguard_conntrack::addr_from_bytes;
use ctguard_conntrack::intake::{self, LinkType};
use ctguard_wire::ip::protocol;

/// An address prefix, `198.51.100.0/24` or `2001:db8::/32` (a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl FromStr for Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Prefix, String> {
        let bad = || format!("{s:?}: want an address prefix such as 198.51.100.0/24");
        let (a, l) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let full = if addr.is_ipv4() { 32 } else { 128 };
        let len = if l.is_empty() {
            full
        } else {
            l.parse::<u8>()
                .ok()
                .filter(|n| *n <= full)
                .ok_or_else(bad)?
        };
        Ok(Prefix { addr, len })
    }
}

impl Prefix {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(a) & m == u32::from(b) & m
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(a) & m == u128::from(b) & m
            }
            _ => false,
        }
    }
}

/// One connection: protocol, then the client's and the server's address and port.
type Flow = (u8, IpAddr, u16, IpAddr, u16);

/// The clients' TCP and UDP connections and whether each has had every packet accepted.
#[derive(Clone, Debug, Default)]
pub struct Clients {
    prefixes: Vec<Prefix>,
    flows: HashMap<Flow, bool>,
}

impl Clients {
    pub fn new(prefixes: Vec<Prefix>) -> Clients {
        Clients {
            prefixes,
            flows: HashMap::new(),
        }
    }

    fn is_client(&self, a: IpAddr) -> bool {
        self.prefixes.iter().any(|p| p.contains(a))
    }

    /// One frame and whether it was accepted (forwarded, delivered).
    pub fn packet(&mut self, link: LinkType, frame: &[u8], accepted: bool) {
        let Ok(ip) = intake::parse_frame(link, frame) else {
            return;
        };
        if !matches!(ip.proto, protocol::TCP | protocol::UDP) || ip.fragment.is_some() {
            return;
        }
        let [a, b, c, d, ..] = *ip.l4() else {
            return;
        };
        let (sport, dport) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
        let (src, dst) = (
            addr_from_bytes(ip.l3, &ip.src),
            addr_from_bytes(ip.l3, &ip.dst),
        );
        let flow = if self.is_client(src) {
            (ip.proto, src, sport, dst, dport)
        } else if self.is_client(dst) {
            (ip.proto, dst, dport, src, sport)
        } else {
            return;
        };
        let ok = self.flows.entry(flow).or_insert(true);
        *ok &= accepted;
    }

    pub fn started(&self) -> u64 {
        self.flows.len() as u64
    }

    pub fn completed(&self) -> u64 {
        self.flows.values().filter(|ok| **ok).count() as u64
    }

    /// `"N of M completed (P%)"`.
    pub fn render(&self) -> String {
        let (s, c) = (self.started(), self.completed());
        let pct = if s == 0 {
            100.0
        } else {
            100.0 * c as f64 / s as f64
        };
        format!("{c} of {s} connections completed ({pct:.1}%)")
    }

    pub fn prefixes(&self) -> String {
        let v: Vec<String> = self
            .prefixes
            .iter()
            .map(|p| format!("{}/{}", p.addr, p.len))
            .collect();
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p: Prefix = "198.51.100.0/24".parse().unwrap();
        assert!(p.contains("198.51.100.7".parse().unwrap()));
        assert!(!p.contains("198.51.101.7".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let all: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let one: Prefix = "10.0.0.1".parse().unwrap();
        assert!(one.contains("10.0.0.1".parse().unwrap()));
        assert!(!one.contains("10.0.0.2".parse().unwrap()));
        let v6: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
        assert!("nonsense".parse::<Prefix>().is_err());
    }

    #[test]
    fn a_connection_completes_only_if_every_packet_was_accepted() {
        use crate::simulate::frame::{F_SYN, HOST_MAC, PEER_MAC, Seg, tcp};
        let seg = |src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16| Seg {
            src,
            dst,
            sport,
            dport,
            seq: 1,
            ack: 0,
            flags: F_SYN,
            len: 0,
        };
        let (c, srv, flood) = ([198, 51, 100, 7], [10, 0, 0, 1], [203, 0, 113, 9]);
        let mut t = Clients::new(vec!["198.51.100.0/24".parse().unwrap()]);
        let e = LinkType::Ethernet;
        // Two client connections (one loses its reply), and a flood packet that is not
        // theirs.
        t.packet(e, &tcp(&seg(c, 1000, srv, 80), HOST_MAC, PEER_MAC), true);
        t.packet(e, &tcp(&seg(srv, 80, c, 1000), PEER_MAC, HOST_MAC), true);
        t.packet(e, &tcp(&seg(c, 1001, srv, 80), HOST_MAC, PEER_MAC), true);
        t.packet(e, &tcp(&seg(srv, 80, c, 1001), PEER_MAC, HOST_MAC), false);
        t.packet(e, &tcp(&seg(flood, 5, srv, 80), HOST_MAC, PEER_MAC), false);
        assert_eq!((t.started(), t.completed()), (2, 1));
        assert_eq!(t.render(), "1 of 2 connections completed (50.0%)");
    }
}
