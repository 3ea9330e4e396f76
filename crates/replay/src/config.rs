//! What a replay runs with.

use std::net::IpAddr;

use ctguard_conntrack::Sysctl;
use ctguard_netfilter::Family;
use ctguard_netfilter::pipeline::Host;
use ctguard_netfilter::rules::RuleSet;

/// The capture host and its configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub sysctl: Sysctl,
    pub rules4: RuleSet,
    pub rules6: RuleSet,
    /// The capture host's own addresses (`--local`). Packets to them go PREROUTING, INPUT;
    /// packets from them OUTPUT, POSTROUTING. None: everything is forwarded.
    pub local: Vec<IpAddr>,
    /// The interface packets arrive on when the capture names none (`--iface`).
    pub iface: String,
    /// The tracker's hash seed (`--seed`).
    pub seed: u64,
    /// Connection tracking on (off: the seed's fix 2).
    pub tracking: bool,
    /// Legitimate clients (`--clients`): their connections are counted, started and
    /// completed.
    pub clients: Vec<crate::clients::Prefix>,
}

impl Config {
    pub fn new(sysctl: Sysctl) -> Config {
        Config {
            sysctl,
            rules4: RuleSet::new(Family::V4),
            rules6: RuleSet::new(Family::V6),
            local: Vec::new(),
            iface: "eth0".into(),
            seed: ctguard_conntrack::DEFAULT_SEED,
            tracking: true,
            clients: Vec::new(),
        }
    }

    /// The host: the local addresses on the capture interface, and every destination routed
    /// out of it (a router or bridge with one capture point sees both directions there).
    pub fn host(&self, ifaces: &[String]) -> Host {
        let mut h = Host::new();
        let mut names: Vec<&str> = ifaces.iter().map(String::as_str).collect();
        if names.is_empty() {
            names.push(&self.iface);
        }
        for name in &names {
            h.add_iface(name, &[]);
        }
        let first = names[0];
        for a in &self.local {
            let prefix = if a.is_ipv4() { 32 } else { 128 };
            h.add_iface(first, &[(*a, prefix)]);
        }
        h.add_route(IpAddr::from([0u8; 4]), 0, first);
        h.add_route(IpAddr::from([0u8; 16]), 0, first);
        h
    }
}
