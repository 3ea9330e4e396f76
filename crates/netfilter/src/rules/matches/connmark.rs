//! `-m connmark` (xt_connmark): the connection's mark. A packet without a connection
//! (INVALID, UNTRACKED) never matches, even with `!`, as in the kernel.

use super::mark::{parse_mark_option, save_mark};
use super::state::has_conn;
use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connmark {
    pub mark: Option<(u32, u32, bool)>,
}

impl Module for Connmark {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        parse_mark_option("connmark", &mut self.mark, opt, invert, w)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.mark.is_none() {
            return Err("connmark: option \"--mark\" must be specified".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let Some((v, m, inv)) = self.mark else {
            return false;
        };
        if !has_conn(&pkt.ct) {
            return false;
        }
        ((pkt.ct.mark & m) == v) != inv
    }

    fn save(&self, out: &mut String) {
        if let Some((v, m, inv)) = self.mark {
            bang(out, inv);
            out.push_str(" --mark");
            save_mark(out, v, m);
        }
    }
}
