//! Addresses and networks as iptables parses and prints them.
//!
//! IPv4 addresses follow iptables' own numeric parser: one to four dot-separated parts, each
//! decimal, octal (leading `0`) or hexadecimal (`0x`), missing trailing parts are zero
//! (`10/8` is `10.0.0.0/8`, `010.1.2.3` is `8.1.2.3`). Host names are not resolved: a name is
//! refused as iptables refuses an unknown host ("host/network `x' not found").

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::hook::Family;

/// A network: an address and a mask (not necessarily contiguous), as `-s`/`-d` hold them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Net {
    pub addr: IpAddr,
    pub mask: IpAddr,
}

pub(crate) fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(family: Family, v: u128) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(v as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

pub(crate) fn family_of(ip: IpAddr) -> Family {
    match ip {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

fn width(family: Family) -> u32 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

/// The mask with `len` leading one bits.
pub fn prefix_mask(family: Family, len: u32) -> IpAddr {
    let w = width(family);
    let all: u128 = if w == 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    };
    let v = if len == 0 {
        0
    } else {
        (all << (w - len)) & all
    };
    from_bits(family, v)
}

/// The prefix length of a contiguous mask, None for a mask like 255.0.255.0.
pub fn mask_len(mask: IpAddr) -> Option<u32> {
    let w = width(family_of(mask));
    let v = bits(mask);
    let ones = v.count_ones();
    if prefix_mask(family_of(mask), ones) == mask {
        let _ = w;
        Some(ones)
    } else {
        None
    }
}

impl Net {
    /// Matches every address of the family (`0.0.0.0/0`).
    pub fn any(family: Family) -> Net {
        Net {
            addr: from_bits(family, 0),
            mask: from_bits(family, 0),
        }
    }

    pub fn host(addr: IpAddr) -> Net {
        let f = family_of(addr);
        Net {
            addr,
            mask: prefix_mask(f, width(f)),
        }
    }

    pub fn family(&self) -> Family {
        family_of(self.addr)
    }

    /// True for a /0 network.
    pub fn is_any(&self) -> bool {
        bits(self.mask) == 0
    }

    /// `(ip & mask) == (addr & mask)`; an address of the other family never matches.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if family_of(ip) != self.family() {
            return false;
        }
        let m = bits(self.mask);
        bits(ip) & m == bits(self.addr) & m
    }

    /// The network with its host bits cleared (what `-s`/`-d` store).
    pub fn masked(self) -> Net {
        Net {
            addr: from_bits(self.family(), bits(self.addr) & bits(self.mask)),
            mask: self.mask,
        }
    }

    /// `addr/len`, or `addr/mask` for a non-contiguous mask (iptables-save's `-s` form).
    pub fn display_cidr(&self) -> String {
        match mask_len(self.mask) {
            Some(l) => format!("{}/{}", self.addr, l),
            None => format!("{}/{}", self.addr, self.mask),
        }
    }

    /// `addr`, with `/len` only when the mask is not a host mask (conntrack's form).
    pub fn display_plain(&self) -> String {
        match mask_len(self.mask) {
            Some(l) if l == width(self.family()) => self.addr.to_string(),
            Some(l) => format!("{}/{}", self.addr, l),
            None => format!("{}/{}", self.addr, self.mask),
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_cidr())
    }
}

/// One part of a numeric IPv4 address, in C `strtoul(.., 0)` style. Not
/// `words::parse_c_uint`: an address part may carry a leading `+`, as iptables takes it.
fn parse_c_number(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() {
        return if radix == 16 { None } else { Some(0) };
    }
    u64::from_str_radix(digits, radix).ok()
}

/// An IPv4 address in iptables' numeric syntax (see the module docs).
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        let v = parse_c_number(p)?;
        if v > 255 {
            return None;
        }
        octets[i] = v as u8;
    }
    Some(Ipv4Addr::from(octets))
}

/// An address of the given family.
pub fn parse_addr(family: Family, s: &str) -> Option<IpAddr> {
    match family {
        Family::V4 => parse_ipv4(s).map(IpAddr::V4),
        Family::V6 => s.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
    }
}

/// `addr`, `addr/len` or `addr/mask`; the address is kept as written (not masked).
pub fn parse_net_unmasked(family: Family, s: &str) -> Result<Net, String> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let addr = parse_addr(family, a).ok_or_else(|| format!("host/network `{a}' not found"))?;
    let mask = match m {
        None => prefix_mask(family, width(family)),
        Some(m) => parse_mask(family, m)?,
    };
    Ok(Net { addr, mask })
}

/// `addr`, `addr/len` or `addr/mask`, with the host bits cleared as `-s`/`-d` store them.
pub fn parse_net(family: Family, s: &str) -> Result<Net, String> {
    parse_net_unmasked(family, s).map(Net::masked)
}

/// A prefix length or a dotted (IPv4) / colon (IPv6) mask.
pub fn parse_mask(family: Family, m: &str) -> Result<IpAddr, String> {
    let bad = || format!("invalid mask `{m}' specified");
    let dotted = match family {
        Family::V4 => m.contains('.'),
        Family::V6 => m.contains(':'),
    };
    if dotted {
        return parse_addr(family, m).ok_or_else(bad);
    }
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let len: u32 = m.parse().map_err(|_| bad())?;
    if len > width(family) {
        return Err(bad());
    }
    Ok(prefix_mask(family, len))
}

/// A comma-separated list of networks (`-s a,b/24`), each masked.
pub fn parse_net_list(family: Family, s: &str) -> Result<Vec<Net>, String> {
    s.split(',').map(|p| parse_net(family, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Net {
        parse_net(Family::V4, s).unwrap()
    }

    #[test]
    fn ipv4_partial_octal_and_hex_forms_as_iptables_reads_them() {
        // Recorded with iptables-restore v1.8.9: `-s 10/8` saves as 10.0.0.0/8, `-s 010.1.2.3`
        // as 8.1.2.3/32, `-s 0x0a.1.2.3` as 10.1.2.3/32, `-s 10.1/16` as 10.1.0.0/16.
        assert_eq!(v4("10/8").display_cidr(), "10.0.0.0/8");
        assert_eq!(v4("10.1/16").display_cidr(), "10.1.0.0/16");
        assert_eq!(v4("10.1.2/24").display_cidr(), "10.1.2.0/24");
        assert_eq!(v4("010.1.2.3").display_cidr(), "8.1.2.3/32");
        assert_eq!(v4("0x0a.1.2.3").display_cidr(), "10.1.2.3/32");
        // iptables v1.8.9 (nf_tables) takes a leading `+` too: `-A INPUT -s +1.2.3.4` lists
        // as `-s 1.2.3.4/32` (checked in a namespace); words::parse_c_uint refuses it.
        assert_eq!(v4("+1.2.3.4").display_cidr(), "1.2.3.4/32");
    }

    #[test]
    fn masks_clear_host_bits_and_print_like_iptables_save() {
        assert_eq!(v4("10.1.2.3/16").display_cidr(), "10.1.0.0/16");
        assert_eq!(v4("10.1.0.0/255.255.0.0").display_cidr(), "10.1.0.0/16");
        assert_eq!(
            v4("10.1.2.3/255.0.255.0").display_cidr(),
            "10.0.2.0/255.0.255.0"
        );
        assert_eq!(v4("1.2.3.4/255.255.255.255").display_cidr(), "1.2.3.4/32");
        assert!(v4("1.2.3.4/0").is_any());
        let v6 = parse_net(Family::V6, "2001:db8:1::/ffff:ffff:ffff::").unwrap();
        assert_eq!(v6.display_cidr(), "2001:db8:1::/48");
        let v6 = parse_net(Family::V6, "fe80::1/64").unwrap();
        assert_eq!(v6.display_cidr(), "fe80::/64");
        assert_eq!(
            parse_net(Family::V6, "2001:DB8::1").unwrap().display_cidr(),
            "2001:db8::1/128"
        );
    }

    #[test]
    fn bad_addresses_and_masks_use_iptables_wording() {
        assert_eq!(
            parse_net(Family::V4, "1.2.3.400").unwrap_err(),
            "host/network `1.2.3.400' not found"
        );
        assert_eq!(
            parse_net(Family::V4, "1.2.3.4/33").unwrap_err(),
            "invalid mask `33' specified"
        );
        assert!(parse_net(Family::V4, "example.com").is_err());
        assert!(parse_net(Family::V4, "2001:db8::1").is_err());
        assert!(parse_net(Family::V6, "1.2.3.4").is_err());
        assert!(parse_net(Family::V6, "::/129").is_err());
    }

    #[test]
    fn contains_uses_the_mask() {
        let n = v4("192.168.0.0/16");
        assert!(n.contains("192.168.7.1".parse().unwrap()));
        assert!(!n.contains("192.169.0.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        let odd = v4("10.0.2.0/255.0.255.0");
        assert!(odd.contains("10.9.2.9".parse().unwrap()));
        assert!(!odd.contains("10.9.3.9".parse().unwrap()));
    }
}
