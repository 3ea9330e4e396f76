//! `-m hl` (ip6t_hl, IPv6): compare the hop limit with a value.

use super::ttl::{TtlOp, parse_cmp, save_cmp};
use super::{Module, ParseCtx};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hl {
    pub cmp: Option<(TtlOp, u8)>,
}

impl Module for Hl {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        parse_cmp("hl", &mut self.cmp, opt, invert, w)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.cmp.is_none() {
            return Err("hl: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        self.cmp.is_some_and(|(op, n)| op.test(pkt.ttl, n))
    }

    fn save(&self, out: &mut String) {
        save_cmp(out, "hl", self.cmp);
    }
}
