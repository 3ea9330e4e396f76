//! `-m addrtype` (xt_addrtype): the routing type of the source or destination address.
//!
//! ctguard has no routing table; it classifies an address from [`Addresses`]
//! (crate::packet::Addresses) instead:
//! - IPv4: `0.0.0.0` and `255.255.255.255` are BROADCAST (as the kernel's inet_addr_type says),
//!   then 224.0.0.0/4 is MULTICAST, an address in `addresses.local` is LOCAL, one in
//!   `addresses.broadcast` is BROADCAST, anything else UNICAST. An address has exactly one type,
//!   and the match tests whether it is in the list.
//! - IPv6 follows the kernel's own rules: every listed type must hold. MULTICAST needs a
//!   multicast address, UNICAST a non-multicast address other than `::`, UNSPEC `::`; LOCAL
//!   (and ANYCAST, UNREACHABLE, which never hold here) need a local address.
//!
//! `--limit-iface-in/out` restrict the lookup to one interface's addresses; ctguard does not
//! know which interface holds which address, so they change nothing in evaluation (their
//! hook restrictions are still checked).

use std::net::IpAddr;

use super::{Module, ParseCtx, bang, no_invert, once};
use crate::hook::{Family, Hook};
use crate::packet::{Addresses, PacketCtx};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

pub const UNSPEC: u16 = 1 << 0;
pub const UNICAST: u16 = 1 << 1;
pub const LOCAL: u16 = 1 << 2;
pub const BROADCAST: u16 = 1 << 3;
pub const ANYCAST: u16 = 1 << 4;
pub const MULTICAST: u16 = 1 << 5;
pub const BLACKHOLE: u16 = 1 << 6;
pub const UNREACHABLE: u16 = 1 << 7;
pub const PROHIBIT: u16 = 1 << 8;
pub const THROW: u16 = 1 << 9;
pub const NAT: u16 = 1 << 10;
pub const XRESOLVE: u16 = 1 << 11;

/// In the order iptables-save prints them.
const TYPES: &[(&str, u16)] = &[
    ("UNSPEC", UNSPEC),
    ("UNICAST", UNICAST),
    ("LOCAL", LOCAL),
    ("BROADCAST", BROADCAST),
    ("ANYCAST", ANYCAST),
    ("MULTICAST", MULTICAST),
    ("BLACKHOLE", BLACKHOLE),
    ("UNREACHABLE", UNREACHABLE),
    ("PROHIBIT", PROHIBIT),
    ("THROW", THROW),
    ("NAT", NAT),
    ("XRESOLVE", XRESOLVE),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addrtype {
    family: Family,
    pub src: Option<(u16, bool)>,
    pub dst: Option<(u16, bool)>,
    pub limit_iface_in: bool,
    pub limit_iface_out: bool,
}

impl Addrtype {
    pub fn new(family: Family) -> Self {
        Addrtype {
            family,
            src: None,
            dst: None,
            limit_iface_in: false,
            limit_iface_out: false,
        }
    }

    pub(crate) fn check_hooks(&self, hooks: &[Hook]) -> Result<(), String> {
        if self.limit_iface_out
            && hooks
                .iter()
                .any(|h| matches!(h, Hook::Prerouting | Hook::Input))
        {
            return Err(
                "addrtype: output interface limitation not valid in PREROUTING and INPUT".into(),
            );
        }
        if self.limit_iface_in
            && hooks
                .iter()
                .any(|h| matches!(h, Hook::Postrouting | Hook::Output))
        {
            return Err(
                "addrtype: input interface limitation not valid in POSTROUTING and OUTPUT".into(),
            );
        }
        Ok(())
    }
}

/// The single type of an IPv4 address.
fn type_v4(ip: IpAddr, a: &Addresses) -> u16 {
    let IpAddr::V4(v4) = ip else {
        return UNSPEC;
    };
    if v4.is_unspecified() || v4.is_broadcast() {
        BROADCAST
    } else if v4.is_multicast() {
        MULTICAST
    } else if a.local.contains(&ip) {
        LOCAL
    } else if a.broadcast.contains(&ip) {
        BROADCAST
    } else {
        UNICAST
    }
}

fn match_v6(ip: IpAddr, mask: u16, a: &Addresses) -> bool {
    let IpAddr::V6(v6) = ip else {
        return false;
    };
    let multicast = v6.is_multicast();
    let any = v6.is_unspecified();
    if mask & MULTICAST != 0 && !multicast {
        return false;
    }
    if mask & UNICAST != 0 && (multicast || any) {
        return false;
    }
    if mask & UNSPEC != 0 && !any {
        return false;
    }
    if mask & (LOCAL | ANYCAST | UNREACHABLE) != 0 {
        let found = if a.local.contains(&ip) { LOCAL } else { 0 };
        return mask & found != 0;
    }
    true
}

impl Module for Addrtype {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String> {
        self.family = ctx.family;
        match opt {
            "--src-type" | "--dst-type" => {
                let v = w.value(opt)?;
                let mut m = 0;
                for part in v.split(',') {
                    m |= TYPES
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(part))
                        .map(|&(_, b)| b)
                        .ok_or_else(|| format!("addrtype: bad type \"{part}\""))?;
                }
                let slot = if opt == "--src-type" {
                    &mut self.src
                } else {
                    &mut self.dst
                };
                once("addrtype", opt, slot.is_some())?;
                *slot = Some((m, invert));
            }
            "--limit-iface-in" | "--limit-iface-out" => {
                no_invert("addrtype", opt, invert)?;
                if opt == "--limit-iface-in" {
                    self.limit_iface_in = true;
                } else {
                    self.limit_iface_out = true;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.src.is_none() && self.dst.is_none() {
            return Err("addrtype: you must specify --src-type or --dst-type".into());
        }
        if self.limit_iface_in && self.limit_iface_out {
            return Err(
                "addrtype: both incoming and outgoing interface limitation cannot be selected"
                    .into(),
            );
        }
        if self.family == Family::V6 {
            let all = self.src.map_or(0, |s| s.0) | self.dst.map_or(0, |d| d.0);
            if all & BLACKHOLE != 0 {
                return Err("addrtype: ipv6 BLACKHOLE matching not supported".into());
            }
            if all >= PROHIBIT {
                return Err(
                    "addrtype: ipv6 PROHIBIT (THROW, NAT ..) matching not supported".into(),
                );
            }
            if all & BROADCAST != 0 {
                return Err("addrtype: ipv6 does not support BROADCAST matching".into());
            }
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let test = |ip: IpAddr, mask: u16| match pkt.family {
            Family::V4 => type_v4(ip, pkt.addresses) & mask != 0,
            Family::V6 => match_v6(ip, mask, pkt.addresses),
        };
        if let Some((m, inv)) = self.src
            && test(pkt.src, m) == inv
        {
            return false;
        }
        if let Some((m, inv)) = self.dst
            && test(pkt.dst, m) == inv
        {
            return false;
        }
        true
    }

    fn save(&self, out: &mut String) {
        let names = |m: u16| {
            TYPES
                .iter()
                .filter(|(_, b)| m & b != 0)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some((m, inv)) = self.src {
            bang(out, inv);
            out.push_str(&format!(" --src-type {}", names(m)));
        }
        if let Some((m, inv)) = self.dst {
            bang(out, inv);
            out.push_str(&format!(" --dst-type {}", names(m)));
        }
        if self.limit_iface_in {
            out.push_str(" --limit-iface-in");
        }
        if self.limit_iface_out {
            out.push_str(" --limit-iface-out");
        }
    }
}
