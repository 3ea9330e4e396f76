//! `-m icmp` (built into ip_tables): ICMP type and code, IPv4 only.

use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::names::{ICMP_NAMES, IPPROTO_ICMP, parse_icmp_type};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// Type 255 with the full code range means any type (`--icmp-type any`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp {
    pub kind: u8,
    pub codes: (u8, u8),
    pub invert: bool,
    pub given: bool,
}

impl Default for Icmp {
    fn default() -> Self {
        // With no --icmp-type the kernel's match has type 0xff: any.
        Icmp {
            kind: 0xff,
            codes: (0, 0xff),
            invert: false,
            given: false,
        }
    }
}

/// type/code test shared with icmp6.
pub(crate) fn type_code_match(kind: u8, codes: (u8, u8), got: (u8, u8)) -> bool {
    kind == 0xff || (got.0 == kind && got.1 >= codes.0 && got.1 <= codes.1)
}

/// `type`, `type/code` or `any`, as iptables-save prints it.
pub(crate) fn save_type(out: &mut String, kind: u8, codes: (u8, u8), any_name: bool) {
    if kind == 0xff && any_name {
        out.push_str("any");
    } else if codes == (0, 0xff) {
        out.push_str(&kind.to_string());
    } else {
        out.push_str(&format!("{kind}/{}", codes.0));
    }
}

impl Module for Icmp {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if opt != "--icmp-type" {
            return Ok(false);
        }
        let v = w.value(opt)?;
        super::once("icmp", opt, self.given)?;
        let (t, lo, hi) = parse_icmp_type(v, ICMP_NAMES, "ICMP")?;
        *self = Icmp {
            kind: t,
            codes: (lo, hi),
            invert,
            given: true,
        };
        Ok(true)
    }

    fn finish(&mut self, ctx: &ParseCtx) -> Result<(), String> {
        if ctx.exact_proto() != Some(IPPROTO_ICMP) {
            return Err("icmp match requires '-p icmp'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        if pkt.later_fragment {
            return false;
        }
        match pkt.l4.icmp {
            Some(got) => type_code_match(self.kind, self.codes, got) != self.invert,
            None => false,
        }
    }

    fn save(&self, out: &mut String) {
        if !self.given && !self.invert && self.kind == 0xff {
            return;
        }
        bang(out, self.invert);
        out.push_str(" --icmp-type ");
        save_type(out, self.kind, self.codes, true);
    }
}
