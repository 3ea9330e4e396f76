//! `-m conntrack` (xt_conntrack, revision 3): state, status, tuples and expiry of the packet's
//! connection.

use ctguard_conntrack::{Dir, Status, Tuple};

use super::ports::PortRange;
use super::state::{StateMask, has_conn};
use super::{Module, ParseCtx, bang, no_invert, once};
use crate::hook::Family;
use crate::packet::PacketCtx;
use crate::rules::addr::{Net, parse_net_unmasked};
use crate::rules::names::parse_protocol;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// `--ctstatus` bits, in the order iptables-save prints them.
const STATUS: &[(&str, u16)] = &[
    ("EXPECTED", Status::EXPECTED),
    ("SEEN_REPLY", Status::SEEN_REPLY),
    ("ASSURED", Status::ASSURED),
    ("CONFIRMED", Status::CONFIRMED),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conntrack {
    family: Family,
    pub state: Option<(StateMask, bool)>,
    pub proto: Option<(u8, bool)>,
    pub orig_src: Option<(Net, bool)>,
    pub orig_dst: Option<(Net, bool)>,
    pub repl_src: Option<(Net, bool)>,
    pub repl_dst: Option<(Net, bool)>,
    pub orig_src_port: Option<(PortRange, bool)>,
    pub orig_dst_port: Option<(PortRange, bool)>,
    pub repl_src_port: Option<(PortRange, bool)>,
    pub repl_dst_port: Option<(PortRange, bool)>,
    pub status: Option<(u16, bool)>,
    /// Seconds left, min..=max.
    pub expire: Option<((u32, u32), bool)>,
    pub dir: Option<Dir>,
}

impl Default for Conntrack {
    fn default() -> Self {
        Conntrack::new(Family::V4)
    }
}

impl Conntrack {
    /// Whether it tests anything besides `--ctstate`: the tuples, status, expiry or
    /// direction.
    pub(crate) fn tests_beyond_state(&self) -> bool {
        self.proto.is_some()
            || self.orig_src.is_some()
            || self.orig_dst.is_some()
            || self.repl_src.is_some()
            || self.repl_dst.is_some()
            || self.orig_src_port.is_some()
            || self.orig_dst_port.is_some()
            || self.repl_src_port.is_some()
            || self.repl_dst_port.is_some()
            || self.status.is_some()
            || self.expire.is_some()
            || self.dir.is_some()
    }

    pub fn new(family: Family) -> Self {
        Conntrack {
            family,
            state: None,
            proto: None,
            orig_src: None,
            orig_dst: None,
            repl_src: None,
            repl_dst: None,
            orig_src_port: None,
            orig_dst_port: None,
            repl_src_port: None,
            repl_dst_port: None,
            status: None,
            expire: None,
            dir: None,
        }
    }
}

fn port(s: &str) -> Result<PortRange, String> {
    let num = |x: &str| -> Result<u16, String> {
        x.parse::<u16>()
            .ok()
            .filter(|_| x.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("conntrack: bad port \"{s}\""))
    };
    match s.split_once(':') {
        Some((a, b)) => Ok(PortRange {
            lo: num(a)?,
            hi: num(b)?,
        }),
        None => {
            let p = num(s)?;
            Ok(PortRange { lo: p, hi: p })
        }
    }
}

fn set<T>(slot: &mut Option<(T, bool)>, v: T, invert: bool, opt: &str) -> Result<(), String> {
    once("conntrack", opt, slot.is_some())?;
    *slot = Some((v, invert));
    Ok(())
}

impl Module for Conntrack {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let family = ctx.family;
        self.family = family;
        match opt {
            "--ctstate" => {
                let v = w.value(opt)?;
                let m = StateMask::parse(v, true, |p| format!("Bad ctstate \"{p}\""))?;
                set(&mut self.state, m, invert, opt)?;
            }
            "--ctproto" => {
                let v = w.value(opt)?;
                let p = parse_protocol(v)?;
                set(&mut self.proto, p, invert, opt)?;
            }
            "--ctorigsrc" | "--ctorigdst" | "--ctreplsrc" | "--ctrepldst" => {
                let v = w.value(opt)?;
                let net = parse_net_unmasked(family, v)?;
                let slot = match opt {
                    "--ctorigsrc" => &mut self.orig_src,
                    "--ctorigdst" => &mut self.orig_dst,
                    "--ctreplsrc" => &mut self.repl_src,
                    _ => &mut self.repl_dst,
                };
                set(slot, net, invert, opt)?;
            }
            "--ctorigsrcport" | "--ctorigdstport" | "--ctreplsrcport" | "--ctrepldstport" => {
                let v = w.value(opt)?;
                let r = port(v)?;
                let slot = match opt {
                    "--ctorigsrcport" => &mut self.orig_src_port,
                    "--ctorigdstport" => &mut self.orig_dst_port,
                    "--ctreplsrcport" => &mut self.repl_src_port,
                    _ => &mut self.repl_dst_port,
                };
                set(slot, r, invert, opt)?;
            }
            "--ctstatus" => {
                let v = w.value(opt)?;
                let mut bits = 0;
                for part in v.split(',') {
                    let up = part.to_ascii_uppercase();
                    if up == "NONE" {
                        continue;
                    }
                    bits |= STATUS
                        .iter()
                        .find(|(n, _)| *n == up)
                        .map(|&(_, b)| b)
                        .ok_or_else(|| format!("Bad ctstatus \"{part}\""))?;
                }
                set(&mut self.status, bits, invert, opt)?;
            }
            "--ctexpire" => {
                let v = w.value(opt)?;
                let num = |x: &str| -> Result<u32, String> {
                    x.parse::<u32>()
                        .map_err(|_| format!("conntrack: bad expire value \"{v}\""))
                };
                let r = match v.split_once(':') {
                    Some((a, b)) => (num(a)?, num(b)?),
                    None => {
                        let n = num(v)?;
                        (n, n)
                    }
                };
                set(&mut self.expire, r, invert, opt)?;
            }
            "--ctdir" => {
                let v = w.value(opt)?;
                no_invert("conntrack", opt, invert)?;
                once("conntrack", opt, self.dir.is_some())?;
                self.dir = Some(match v.to_ascii_uppercase().as_str() {
                    "ORIGINAL" => Dir::Original,
                    "REPLY" => Dir::Reply,
                    _ => return Err(format!("Bad ctdir value \"{v}\"")),
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.state.is_none() && !self.tests_beyond_state() {
            return Err("conntrack: At least one option is required".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let ct = &pkt.ct;
        let conn = has_conn(ct);
        if let Some((mask, inv)) = self.state {
            let mut bits = StateMask::of(ct);
            if conn {
                if ct.status & Status::SRC_NAT != 0 {
                    bits |= StateMask::SNAT;
                }
                if ct.status & Status::DST_NAT != 0 {
                    bits |= StateMask::DNAT;
                }
            }
            if (mask.0 & bits != 0) == inv {
                return false;
            }
        }
        // Without a connection only a --ctstate test can have matched (the kernel's
        // `return info->match_flags & XT_CONNTRACK_STATE`).
        let (true, Some(orig), Some(reply)) = (conn, ct.original, ct.reply) else {
            return self.state.is_some();
        };
        if let Some(d) = self.dir
            && ct.dir != Some(d)
        {
            return false;
        }
        if let Some((p, inv)) = self.proto
            && (orig.proto == p) == inv
        {
            return false;
        }
        let addr = |slot: &Option<(Net, bool)>, t: &Tuple, src: bool| match slot {
            Some((net, inv)) => {
                let ip = if src { t.src_ip() } else { t.dst_ip() };
                net.contains(ip) != *inv
            }
            None => true,
        };
        if !addr(&self.orig_src, &orig, true)
            || !addr(&self.orig_dst, &orig, false)
            || !addr(&self.repl_src, &reply, true)
            || !addr(&self.repl_dst, &reply, false)
        {
            return false;
        }
        let port = |slot: &Option<(PortRange, bool)>, p: u16| match slot {
            Some((r, inv)) => r.contains(p) != *inv,
            None => true,
        };
        if !port(&self.orig_src_port, orig.sport)
            || !port(&self.orig_dst_port, orig.dport)
            || !port(&self.repl_src_port, reply.sport)
            || !port(&self.repl_dst_port, reply.dport)
        {
            return false;
        }
        if let Some((bits, inv)) = self.status
            && (bits & ct.status != 0) == inv
        {
            return false;
        }
        if let Some(((lo, hi), inv)) = self.expire
            && (lo <= ct.expires_in && ct.expires_in <= hi) == inv
        {
            return false;
        }
        true
    }

    fn save(&self, out: &mut String) {
        if let Some((m, inv)) = self.state {
            bang(out, inv);
            out.push_str(" --ctstate ");
            m.save(out);
        }
        if let Some((p, inv)) = self.proto {
            bang(out, inv);
            out.push_str(&format!(" --ctproto {p}"));
        }
        for (name, slot) in [
            ("--ctorigsrc", &self.orig_src),
            ("--ctorigdst", &self.orig_dst),
            ("--ctreplsrc", &self.repl_src),
            ("--ctrepldst", &self.repl_dst),
        ] {
            if let Some((net, inv)) = slot {
                bang(out, *inv);
                out.push_str(&format!(" {name} {}", net.display_plain()));
            }
        }
        for (name, slot) in [
            ("--ctorigsrcport", &self.orig_src_port),
            ("--ctorigdstport", &self.orig_dst_port),
            ("--ctreplsrcport", &self.repl_src_port),
            ("--ctrepldstport", &self.repl_dst_port),
        ] {
            if let Some((r, inv)) = slot {
                bang(out, *inv);
                out.push_str(&format!(" {name} "));
                r.save(out);
            }
        }
        if let Some((bits, inv)) = self.status {
            bang(out, inv);
            out.push_str(" --ctstatus ");
            if bits == 0 {
                out.push_str("NONE");
            } else {
                let names: Vec<&str> = STATUS
                    .iter()
                    .filter(|(_, b)| bits & b != 0)
                    .map(|(n, _)| *n)
                    .collect();
                out.push_str(&names.join(","));
            }
        }
        if let Some(((lo, hi), inv)) = self.expire {
            bang(out, inv);
            if lo == hi {
                out.push_str(&format!(" --ctexpire {lo}"));
            } else {
                out.push_str(&format!(" --ctexpire {lo}:{hi}"));
            }
        }
        if let Some(d) = self.dir {
            out.push_str(match d {
                Dir::Original => " --ctdir ORIGINAL",
                Dir::Reply => " --ctdir REPLY",
            });
        }
    }
}
