//! `-m iprange` (xt_iprange): addresses within `from-to` (inclusive).

use std::net::IpAddr;

use super::{Module, ParseCtx, bang, once};
use crate::hook::Family;
use crate::packet::PacketCtx;
use crate::rules::addr::{bits, parse_addr};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iprange {
    family: Family,
    pub src: Option<(IpAddr, IpAddr, bool)>,
    pub dst: Option<(IpAddr, IpAddr, bool)>,
}

impl Iprange {
    pub fn new(family: Family) -> Self {
        Iprange {
            family,
            src: None,
            dst: None,
        }
    }
}

fn parse_range(family: Family, s: &str) -> Result<(IpAddr, IpAddr), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let p = |x: &str| parse_addr(family, x).ok_or_else(|| format!("iprange: bad address \"{x}\""));
    // A reversed range is accepted; the kernel warns that it will never match.
    Ok((p(a)?, p(b)?))
}

fn within(ip: IpAddr, lo: IpAddr, hi: IpAddr) -> bool {
    let v = bits(ip);
    bits(lo) <= v && v <= bits(hi)
}

impl Module for Iprange {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let slot = match opt {
            "--src-range" => &mut self.src,
            "--dst-range" => &mut self.dst,
            _ => return Ok(false),
        };
        let v = w.value(opt)?;
        once("iprange", opt, slot.is_some())?;
        let (lo, hi) = parse_range(ctx.family, v)?;
        *slot = Some((lo, hi, invert));
        self.family = ctx.family;
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.src.is_none() && self.dst.is_none() {
            return Err("iprange match: You must specify `--src-range' or `--dst-range'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        if let Some((lo, hi, inv)) = self.src
            && within(pkt.src, lo, hi) == inv
        {
            return false;
        }
        if let Some((lo, hi, inv)) = self.dst
            && within(pkt.dst, lo, hi) == inv
        {
            return false;
        }
        true
    }

    fn save(&self, out: &mut String) {
        if let Some((lo, hi, inv)) = self.src {
            bang(out, inv);
            out.push_str(&format!(" --src-range {lo}-{hi}"));
        }
        if let Some((lo, hi, inv)) = self.dst {
            bang(out, inv);
            out.push_str(&format!(" --dst-range {lo}-{hi}"));
        }
    }
}
