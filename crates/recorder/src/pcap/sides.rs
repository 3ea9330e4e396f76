//! Which side of the router a pcap frame enters from (by `--server PREFIX`), and the Ethernet
//! header it is sent with there.

use std::net::Ipv4Addr;
use std::str::FromStr;

use ctguard_scenario::Side;

/// An IPv4 prefix, `A.B.C.D/LEN` (a bare address is a /32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    net: u32,
    len: u8,
}

impl Ipv4Prefix {
    fn mask(len: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & Self::mask(self.len) == self.net
    }
}

impl FromStr for Ipv4Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected an IPv4 prefix like 10.99.2.0/24");
        let (addr, len) = s.split_once('/').unwrap_or((s, "32"));
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let len: u8 = len.parse().ok().filter(|l| *l <= 32).ok_or_else(bad)?;
        Ok(Ipv4Prefix {
            net: u32::from(addr) & Self::mask(len),
            len,
        })
    }
}

/// The IPv4 destination of a (checked) IPv4 packet.
pub fn destination(ip: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19])
}

/// Packets to the server enter from the client side; everything else from the server side.
pub fn side_for(server: &Ipv4Prefix, ip: &[u8]) -> Side {
    if server.contains(destination(ip)) {
        Side::Client
    } else {
        Side::Server
    }
}

/// Whether the router can deliver to `dst` out of the side opposite `from` without asking ARP
/// (topology.sh's permanent neighbours, spoofable ranges and the added default route).
pub fn reachable(from: Side, dst: Ipv4Addr) -> bool {
    let [a, b, c, d] = dst.octets();
    let host = (100..=109).contains(&d);
    let server_side = (a, b) == (10, 97) || (a, b, c) == (10, 99, 2);
    match from {
        Side::Client => ((a, b, c) == (10, 99, 2) && host) || (a, b) == (10, 97),
        // Out of rtr-c: its neighbours, or whatever the default route takes.
        _ => ((a, b, c) == (10, 99, 1) && host) || !(server_side || (a, b, c) == (10, 99, 1)),
    }
}

/// The Ethernet frame that carries `ip` from `side`'s host to the router.
pub fn ethernet_frame(side: Side, ip: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + ip.len());
    frame.extend_from_slice(&side.router_mac());
    frame.extend_from_slice(&side.host_mac());
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(ip);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20-byte IPv4 header from `src` to `dst` (fields the tests do not read left zero).
    fn header(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut ip = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        ip
    }

    #[test]
    fn parses_prefixes() {
        let p: Ipv4Prefix = "10.99.2.0/24".parse().unwrap();
        assert!(p.contains(Ipv4Addr::new(10, 99, 2, 100)));
        assert!(!p.contains(Ipv4Addr::new(10, 99, 1, 100)));
        let host: Ipv4Prefix = "10.99.2.100".parse().unwrap();
        assert!(host.contains(Ipv4Addr::new(10, 99, 2, 100)));
        assert!(!host.contains(Ipv4Addr::new(10, 99, 2, 101)));
        let all: Ipv4Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(Ipv4Addr::new(1, 2, 3, 4)));
        // Host bits are masked off.
        assert_eq!("10.99.2.7/24".parse::<Ipv4Prefix>(), Ok(p));
        for bad in ["10.99.2.0/33", "10.99.2/24", "fd00::/8", "x"] {
            assert!(bad.parse::<Ipv4Prefix>().is_err(), "{bad}");
        }
    }

    #[test]
    fn picks_the_side_by_destination() {
        let server: Ipv4Prefix = "10.99.2.0/24".parse().unwrap();
        let to_server = header([10, 98, 1, 5], [10, 99, 2, 100]);
        let reply = header([10, 99, 2, 100], [10, 98, 1, 5]);
        let flood_reply = header([10, 99, 2, 100], [10, 200, 3, 4]);
        assert_eq!(side_for(&server, &to_server), Side::Client);
        assert_eq!(side_for(&server, &reply), Side::Server);
        assert_eq!(side_for(&server, &flood_reply), Side::Server);
    }

    #[test]
    fn knows_what_the_router_can_reach() {
        assert!(reachable(Side::Client, Ipv4Addr::new(10, 99, 2, 100)));
        assert!(reachable(Side::Client, Ipv4Addr::new(10, 97, 3, 3)));
        assert!(!reachable(Side::Client, Ipv4Addr::new(10, 99, 2, 50)));
        assert!(!reachable(Side::Client, Ipv4Addr::new(10, 128, 0, 1)));
        assert!(reachable(Side::Server, Ipv4Addr::new(10, 128, 0, 1)));
        assert!(reachable(Side::Server, Ipv4Addr::new(10, 99, 1, 109)));
        assert!(!reachable(Side::Server, Ipv4Addr::new(10, 99, 1, 50)));
        assert!(!reachable(Side::Server, Ipv4Addr::new(10, 99, 2, 100)));
        assert!(!reachable(Side::Server, Ipv4Addr::new(10, 97, 0, 1)));
        assert!(reachable(Side::Server, Ipv4Addr::new(10, 98, 0, 1)));
    }

    #[test]
    fn rewrites_the_macs() {
        let ip = header([10, 98, 1, 5], [10, 99, 2, 100]);
        let c = ethernet_frame(Side::Client, &ip);
        assert_eq!(c[..6], [2, 0, 0, 0, 1, 1]);
        assert_eq!(c[6..12], [2, 0, 0, 0, 1, 0x64]);
        assert_eq!(c[12..14], [8, 0]);
        assert_eq!(c[14..], ip[..]);
        let s = ethernet_frame(Side::Server, &ip);
        assert_eq!(s[..6], [2, 0, 0, 0, 2, 1]);
        assert_eq!(s[6..12], [2, 0, 0, 0, 2, 0x64]);
    }
}
