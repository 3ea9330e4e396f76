//! `-m tcp` (xt_tcpudp): ports, flags and options of a TCP segment.

use super::ports::{PortTest, parse_port_option, ports_match, save_ports};
use super::{Module, ParseCtx, bang};
use crate::hook::Family;
use crate::packet::PacketCtx;
use crate::rules::names::IPPROTO_TCP;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// TCP flag bits by name, in the order iptables-save prints them.
const FLAGS: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
];
const ALL: u8 = 0x3f;
/// `--syn` is `--tcp-flags SYN,RST,ACK,FIN SYN`.
pub const SYN_MASK: u8 = 0x17;
pub const SYN_COMP: u8 = 0x02;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tcp {
    pub sport: PortTest,
    pub dport: PortTest,
    /// (mask, comparison, inverted).
    pub flags: Option<(u8, u8, bool)>,
    /// (option kind, inverted).
    pub option: Option<(u8, bool)>,
}

fn parse_flags(s: &str) -> Result<u8, String> {
    let mut v = 0;
    for name in s.split(',') {
        let up = name.to_ascii_uppercase();
        v |= match up.as_str() {
            "ALL" => ALL,
            "NONE" => 0,
            _ => FLAGS
                .iter()
                .find(|(n, _)| *n == up)
                .map(|&(_, b)| b)
                .ok_or_else(|| format!("Unknown TCP flag `{name}'"))?,
        };
    }
    Ok(v)
}

fn save_flags(out: &mut String, v: u8) {
    if v == 0 {
        out.push_str("NONE");
        return;
    }
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, b)| v & b != 0)
        .map(|(n, _)| *n)
        .collect();
    out.push_str(&names.join(","));
}

/// The TCP header of the packet, found from the IP header (IPv4 IHL, IPv6 extension chain).
pub(crate) fn l4_offset(pkt: &PacketCtx<'_>) -> Option<usize> {
    let ip = pkt.ip;
    match pkt.family {
        Family::V4 => {
            let ihl = usize::from(*ip.first()? & 0x0f) * 4;
            (ihl >= 20).then_some(ihl)
        }
        Family::V6 => {
            let mut next = *ip.get(6)?;
            let mut off = 40;
            for _ in 0..8 {
                if next == pkt.proto {
                    return Some(off);
                }
                match next {
                    0 | 43 | 60 => {
                        let len = (usize::from(*ip.get(off + 1)?) + 1) * 8;
                        next = *ip.get(off)?;
                        off += len;
                    }
                    44 => {
                        next = *ip.get(off)?;
                        off += 8;
                    }
                    51 => {
                        let len = (usize::from(*ip.get(off + 1)?) + 2) * 4;
                        next = *ip.get(off)?;
                        off += len;
                    }
                    _ => return None,
                }
            }
            None
        }
    }
}

/// Whether the TCP options of the segment contain `kind` (the kernel's tcp_find_option).
fn has_option(pkt: &PacketCtx<'_>, kind: u8) -> Option<bool> {
    let off = l4_offset(pkt)?;
    let tcp = pkt.ip.get(off..)?;
    let doff = usize::from(*tcp.get(12)? >> 4) * 4;
    if doff < 20 {
        return None;
    }
    let opts = tcp.get(20..doff)?;
    let mut i = 0;
    while i < opts.len() {
        let k = opts[i];
        if k == kind {
            return Some(true);
        }
        if k < 2 {
            i += 1;
        } else {
            let len = usize::from(*opts.get(i + 1)?);
            i += len.max(1);
        }
    }
    Some(false)
}

impl Tcp {
    pub(crate) fn absorb(&mut self, b: &Tcp) {
        self.sport = b.sport.or(self.sport);
        self.dport = b.dport.or(self.dport);
        self.flags = b.flags.or(self.flags);
        self.option = b.option.or(self.option);
    }
}

impl Module for Tcp {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if parse_port_option(
            opt,
            invert,
            w,
            IPPROTO_TCP,
            &mut self.sport,
            &mut self.dport,
        )? {
            return Ok(true);
        }
        match opt {
            "--syn" => {
                if self.flags.is_some() {
                    return Err("Only one of `--syn' or `--tcp-flags'  allowed".into());
                }
                self.flags = Some((SYN_MASK, SYN_COMP, invert));
            }
            "--tcp-flags" => {
                let mask = w.value(opt)?;
                let comp = match w.peek() {
                    Some(c) if !c.starts_with('-') && c != "!" => {
                        w.next_word();
                        c
                    }
                    _ => return Err("--tcp-flags requires two args.".into()),
                };
                if self.flags.is_some() {
                    return Err("Only one of `--syn' or `--tcp-flags'  allowed".into());
                }
                self.flags = Some((parse_flags(mask)?, parse_flags(comp)?, invert));
            }
            "--tcp-option" => {
                let v = w.value(opt)?;
                if self.option.is_some() {
                    return Err("Only one `--tcp-option' allowed".into());
                }
                let kind = v
                    .parse::<u8>()
                    .ok()
                    .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| format!("Bad TCP option \"{v}\""))?;
                self.option = Some((kind, invert));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(&mut self, ctx: &ParseCtx) -> Result<(), String> {
        if ctx.exact_proto() != Some(IPPROTO_TCP) {
            return Err("TCP match requires '-p tcp'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        // Later fragments carry no TCP header: the kernel's tcp match fails them.
        if pkt.later_fragment {
            return false;
        }
        if !ports_match(self.sport, self.dport, pkt) {
            return false;
        }
        if let Some((mask, comp, inv)) = self.flags {
            match pkt.l4.tcp_flags {
                Some(f) if ((f & mask) == comp) != inv => {}
                _ => return false,
            }
        }
        if let Some((kind, inv)) = self.option {
            match has_option(pkt, kind) {
                Some(found) if found != inv => {}
                _ => return false,
            }
        }
        true
    }

    fn save(&self, out: &mut String) {
        save_ports(self.sport, self.dport, out);
        if let Some((kind, inv)) = self.option {
            bang(out, inv);
            out.push_str(&format!(" --tcp-option {kind}"));
        }
        if let Some((mask, comp, inv)) = self.flags {
            bang(out, inv);
            out.push_str(" --tcp-flags ");
            save_flags(out, mask);
            out.push(' ');
            save_flags(out, comp);
        }
    }
}
