//! `-m icmp6` (built into ip6_tables): ICMPv6 type and code, IPv6 only.

use super::icmp::{save_type, type_code_match};
use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::names::{ICMPV6_NAMES, IPPROTO_ICMPV6, parse_icmp_type};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// ICMPv6 has no `any` name (ip6tables v1.8.9: "Unknown ICMPv6 type `any'").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Icmp6 {
    pub kind: Option<(u8, (u8, u8))>,
    pub invert: bool,
}

impl Module for Icmp6 {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if opt != "--icmpv6-type" {
            return Ok(false);
        }
        let v = w.value(opt)?;
        super::once("icmp6", opt, self.kind.is_some())?;
        if v.eq_ignore_ascii_case("any") {
            return Err(format!("Unknown ICMPv6 type `{v}'"));
        }
        let (t, lo, hi) = parse_icmp_type(v, ICMPV6_NAMES, "ICMPv6")?;
        self.kind = Some((t, (lo, hi)));
        self.invert = invert;
        Ok(true)
    }

    fn finish(&mut self, ctx: &ParseCtx) -> Result<(), String> {
        if ctx.exact_proto() != Some(IPPROTO_ICMPV6) {
            return Err("icmp6 match requires '-p icmpv6'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        if pkt.later_fragment {
            return false;
        }
        let Some((kind, codes)) = self.kind else {
            return pkt.l4.icmp.is_some();
        };
        match pkt.l4.icmp {
            Some(got) => type_code_match(kind, codes, got) != self.invert,
            None => false,
        }
    }

    fn save(&self, out: &mut String) {
        if let Some((kind, codes)) = self.kind {
            bang(out, self.invert);
            out.push_str(" --icmpv6-type ");
            save_type(out, kind, codes, false);
        }
    }
}
