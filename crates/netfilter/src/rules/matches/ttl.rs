//! `-m ttl` (ipt_ttl, IPv4): compare the TTL with a value.

use super::{Module, ParseCtx, bang, no_invert};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::{Words, parse_num};

/// The comparison; `Ne` is `! --ttl-eq` (or `! --hl-eq`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TtlOp {
    Eq,
    Ne,
    Lt,
    Gt,
}

impl TtlOp {
    pub fn test(self, have: u8, want: u8) -> bool {
        match self {
            TtlOp::Eq => have == want,
            TtlOp::Ne => have != want,
            TtlOp::Lt => have < want,
            TtlOp::Gt => have > want,
        }
    }
}

/// Shared by ttl and hl: `prefix` is "ttl" or "hl".
pub(crate) fn parse_cmp(
    module: &str,
    slot: &mut Option<(TtlOp, u8)>,
    opt: &str,
    invert: bool,
    w: &mut Words<'_>,
) -> Result<bool, String> {
    let eq = format!("--{module}-eq");
    let lt = format!("--{module}-lt");
    let gt = format!("--{module}-gt");
    let op = if opt == eq {
        if invert { TtlOp::Ne } else { TtlOp::Eq }
    } else if opt == lt {
        no_invert(module, opt, invert)?;
        TtlOp::Lt
    } else if opt == gt {
        no_invert(module, opt, invert)?;
        TtlOp::Gt
    } else {
        return Ok(false);
    };
    let v = w.value(opt)?;
    if let Some((prev, _)) = slot {
        let name = |o: &TtlOp| match o {
            TtlOp::Eq | TtlOp::Ne => eq.clone(),
            TtlOp::Lt => lt.clone(),
            TtlOp::Gt => gt.clone(),
        };
        return Err(format!(
            "{module}: option \"{}\" cannot be used together with \"{}\".",
            name(prev),
            name(&op)
        ));
    }
    *slot = Some((op, parse_num(module, opt, v, 0, 255)? as u8));
    Ok(true)
}

pub(crate) fn save_cmp(out: &mut String, module: &str, v: Option<(TtlOp, u8)>) {
    if let Some((op, n)) = v {
        bang(out, op == TtlOp::Ne);
        let o = match op {
            TtlOp::Eq | TtlOp::Ne => "eq",
            TtlOp::Lt => "lt",
            TtlOp::Gt => "gt",
        };
        out.push_str(&format!(" --{module}-{o} {n}"));
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ttl {
    pub cmp: Option<(TtlOp, u8)>,
}

impl Module for Ttl {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        parse_cmp("ttl", &mut self.cmp, opt, invert, w)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.cmp.is_none() {
            return Err("ttl: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        self.cmp.is_some_and(|(op, n)| op.test(pkt.ttl, n))
    }

    fn save(&self, out: &mut String) {
        save_cmp(out, "ttl", self.cmp);
    }
}
