//! The host the rule set runs on: its interfaces, addresses and routes. The pipeline asks it
//! which packets are local, where a packet leaves, and which source address a generated
//! packet (REJECT, MASQUERADE) takes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::packet::Addresses;

/// One interface with its addresses (`ip addr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Shared with every packet that names it, so a packet costs no copy of it.
    pub name: Arc<str>,
    /// Address and prefix length, the primary address of each family first.
    pub addrs: Vec<(IpAddr, u8)>,
}

/// A route to a prefix through an interface (`ip route add PREFIX via … dev IFACE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix: u8,
    pub iface: Arc<str>,
}

/// Interfaces and routes. `lo` (127.0.0.1/8, ::1/128) is always there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub ifaces: Vec<Interface>,
    pub routes: Vec<Route>,
}

pub const LOOPBACK: &str = "lo";

fn in_prefix(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let p = u32::from(prefix.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let p = u32::from(prefix.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

impl Default for Host {
    fn default() -> Self {
        Host::new()
    }
}

impl Host {
    /// A host with only the loopback interface.
    pub fn new() -> Host {
        Host {
            ifaces: vec![Interface {
                name: LOOPBACK.into(),
                addrs: vec![
                    (IpAddr::V4(Ipv4Addr::LOCALHOST), 8),
                    (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
                ],
            }],
            routes: Vec::new(),
        }
    }

    /// Adds an interface with addresses (`10.0.0.1/24` style pairs).
    pub fn add_iface(&mut self, name: &str, addrs: &[(IpAddr, u8)]) -> &mut Self {
        match self.ifaces.iter_mut().find(|i| &*i.name == name) {
            Some(i) => i.addrs.extend_from_slice(addrs),
            None => self.ifaces.push(Interface {
                name: name.into(),
                addrs: addrs.to_vec(),
            }),
        }
        self
    }

    /// A host from `(interface, address, prefix)` and `(prefix, length, interface)` lists.
    pub fn from_parts(nets: &[(&str, IpAddr, u8)], routes: &[(IpAddr, u8, &str)]) -> Host {
        let mut h = Host::new();
        for (iface, addr, prefix) in nets {
            h.add_iface(iface, &[(*addr, *prefix)]);
        }
        for (dst, prefix, iface) in routes {
            h.add_route(*dst, *prefix, iface);
        }
        h
    }

    pub fn add_route(&mut self, dst: IpAddr, prefix: u8, iface: &str) -> &mut Self {
        self.routes.push(Route {
            dst,
            prefix,
            iface: self.iface_name(iface),
        });
        self
    }

    pub fn iface(&self, name: &str) -> Option<&Interface> {
        self.ifaces.iter().find(|i| &*i.name == name)
    }

    /// Whether `addr` is one of the host's own (the local routing table).
    pub fn is_local(&self, addr: IpAddr) -> bool {
        addr.is_loopback()
            || self
                .ifaces
                .iter()
                .any(|i| i.addrs.iter().any(|(a, _)| *a == addr))
    }

    /// The interface a packet to `dst` leaves by: local addresses by `lo`, then the longest
    /// matching connected prefix or route.
    pub fn route(&self, dst: IpAddr) -> Option<&Arc<str>> {
        self.route_with_prefix(dst).map(|(i, _)| i)
    }

    /// The host's shared name for an interface (a new one for a name it does not know).
    pub fn iface_name(&self, name: &str) -> Arc<str> {
        match self.iface(name) {
            Some(i) => i.name.clone(),
            None => name.into(),
        }
    }

    /// [`Host::route`] and the prefix length of the route taken (host routes for local
    /// addresses: 32 or 128).
    pub fn route_with_prefix(&self, dst: IpAddr) -> Option<(&Arc<str>, u8)> {
        if self.is_local(dst) {
            // `lo` is always the first interface (Host::new).
            return Some((&self.ifaces[0].name, if dst.is_ipv4() { 32 } else { 128 }));
        }
        let connected = self
            .ifaces
            .iter()
            .flat_map(|i| i.addrs.iter().map(move |(a, p)| (*a, *p, &i.name)));
        let routed = self.routes.iter().map(|r| (r.dst, r.prefix, &r.iface));
        connected
            .chain(routed)
            .filter(|(net, p, _)| in_prefix(dst, *net, *p))
            .max_by_key(|(_, p, _)| *p)
            .map(|(_, p, i)| (i, p))
    }

    /// The source address the host picks for a packet leaving `iface` toward `dst`: an
    /// address of that interface in `dst`'s subnet, else its first of the family.
    pub fn source_for(&self, iface: &str, dst: IpAddr) -> Option<IpAddr> {
        let i = self.iface(iface)?;
        i.addrs
            .iter()
            .find(|(a, p)| in_prefix(dst, *a, *p))
            .or_else(|| i.addrs.iter().find(|(a, _)| same_family(*a, dst)))
            .map(|(a, _)| *a)
    }

    /// The interface's primary address of `dst`'s family (REDIRECT's new destination).
    pub fn primary(&self, iface: &str, like: IpAddr) -> Option<IpAddr> {
        let i = self.iface(iface)?;
        i.addrs
            .iter()
            .find(|(a, _)| same_family(*a, like))
            .map(|(a, _)| *a)
    }

    /// What `-m addrtype` needs.
    pub fn addresses(&self) -> Addresses {
        let mut local = Vec::new();
        let mut broadcast = Vec::new();
        for i in &self.ifaces {
            for (a, p) in &i.addrs {
                local.push(*a);
                if let IpAddr::V4(v) = a
                    && *p < 31
                {
                    let host = u32::MAX >> p;
                    broadcast.push(IpAddr::V4(Ipv4Addr::from(u32::from(*v) | host)));
                }
            }
        }
        Addresses { local, broadcast }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn router() -> Host {
        let mut h = Host::new();
        h.add_iface("rtr-c", &[(ip("10.99.1.1"), 24), (ip("fd00:99:1::1"), 64)]);
        h.add_iface("rtr-s", &[(ip("10.99.2.1"), 24)]);
        h.add_route(ip("10.98.0.0"), 16, "rtr-c");
        h.add_route(ip("0.0.0.0"), 0, "rtr-s");
        h
    }

    #[test]
    fn routes_by_longest_prefix() {
        let h = router();
        assert_eq!(h.route(ip("10.99.1.100")).map(|i| &**i), Some("rtr-c"));
        assert_eq!(h.route(ip("10.98.7.7")).map(|i| &**i), Some("rtr-c"));
        assert_eq!(
            h.route(ip("192.0.2.1")).map(|i| &**i),
            Some("rtr-s"),
            "default route"
        );
        assert_eq!(h.route(ip("10.99.2.1")).map(|i| &**i), Some(LOOPBACK));
        assert_eq!(h.route(ip("fd00:99:1::100")).map(|i| &**i), Some("rtr-c"));
        assert_eq!(h.route(ip("fd00:1::1")).map(|i| &**i), None);
    }

    #[test]
    fn source_and_broadcast() {
        let h = router();
        assert_eq!(
            h.source_for("rtr-c", ip("10.99.1.100")),
            Some(ip("10.99.1.1"))
        );
        assert_eq!(
            h.source_for("rtr-c", ip("10.98.0.1")),
            Some(ip("10.99.1.1"))
        );
        assert_eq!(
            h.source_for("rtr-c", ip("fd00:99:1::5")),
            Some(ip("fd00:99:1::1"))
        );
        assert!(h.is_local(ip("127.0.0.2")));
        assert!(h.addresses().broadcast.contains(&ip("10.99.1.255")));
    }
}
