//! Port ranges (`--dport 1024:65535`) as tcp, udp and conntrack write them.

use crate::rules::names::parse_port;
use crate::rules::words::Words;

/// An inclusive port range; a single port has `lo == hi`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { lo: 0, hi: 65535 };

    pub fn contains(&self, p: u16) -> bool {
        self.lo <= p && p <= self.hi
    }

    /// `a`, `a:b`, `:b` (from 0) or `a:` (to 65535); names are services of `proto`.
    pub fn parse(s: &str, proto: u8) -> Result<PortRange, String> {
        match s.split_once(':') {
            None => {
                let p = parse_port(s, proto)?;
                Ok(PortRange { lo: p, hi: p })
            }
            Some((a, b)) => {
                let lo = if a.is_empty() {
                    0
                } else {
                    parse_port(a, proto)?
                };
                let hi = if b.is_empty() {
                    65535
                } else {
                    parse_port(b, proto)?
                };
                if lo > hi {
                    return Err("invalid portrange (min > max)".into());
                }
                Ok(PortRange { lo, hi })
            }
        }
    }

    /// `a` or `a:b`, as iptables-save prints it.
    pub fn save(&self, out: &mut String) {
        if self.lo == self.hi {
            out.push_str(&self.lo.to_string());
        } else {
            out.push_str(&format!("{}:{}", self.lo, self.hi));
        }
    }
}

/// A port option with its `!`, in the form iptables-nft stores it: an inverted range that
/// starts at 0 becomes the plain range above it (recorded with iptables-nft v1.8.9:
/// `! --dport 0:1023` and `! --sport :1023` save as `--dport 1024:65535`/`--sport 1024:65535`;
/// a single inverted port such as `! --dport 0` stays as written).
pub fn normalise(range: PortRange, invert: bool) -> (PortRange, bool) {
    if invert && range.lo == 0 && range.lo < range.hi && range.hi < 65535 {
        (
            PortRange {
                lo: range.hi + 1,
                hi: 65535,
            },
            false,
        )
    } else {
        (range, invert)
    }
}

/// A port test as `-m tcp` and `-m udp` keep it: the range and whether it is inverted.
pub type PortTest = Option<(PortRange, bool)>;

/// `--sport`/`--dport` and their long names, which `-m tcp` and `-m udp` share: Ok(false)
/// when `opt` is neither.
pub(crate) fn parse_port_option(
    opt: &str,
    invert: bool,
    w: &mut Words<'_>,
    proto: u8,
    sport: &mut PortTest,
    dport: &mut PortTest,
) -> Result<bool, String> {
    let (slot, long) = match opt {
        "--sport" | "--source-port" => (sport, "--source-port"),
        "--dport" | "--destination-port" => (dport, "--destination-port"),
        _ => return Ok(false),
    };
    let v = w.value(opt)?;
    if slot.is_some() {
        return Err(format!("Only one `{long}' allowed"));
    }
    *slot = Some(normalise(PortRange::parse(v, proto)?, invert));
    Ok(true)
}

/// The port tests of `-m tcp` and `-m udp` on a packet (the caller has failed later
/// fragments, which carry no ports).
pub(crate) fn ports_match(
    sport: PortTest,
    dport: PortTest,
    pkt: &crate::packet::PacketCtx<'_>,
) -> bool {
    let one = |test: PortTest, port: Option<u16>| match (test, port) {
        (None, _) => true,
        (Some((r, inv)), Some(p)) => r.contains(p) != inv,
        (Some(_), None) => false,
    };
    one(sport, pkt.l4.sport) && one(dport, pkt.l4.dport)
}

/// The port tests as iptables-save prints them (an uninverted full range is left out).
pub(crate) fn save_ports(sport: PortTest, dport: PortTest, out: &mut String) {
    for (test, name) in [(sport, " --sport "), (dport, " --dport ")] {
        if let Some((r, inv)) = test
            && (r != PortRange::ALL || inv)
        {
            super::bang(out, inv);
            out.push_str(name);
            r.save(out);
        }
    }
}
