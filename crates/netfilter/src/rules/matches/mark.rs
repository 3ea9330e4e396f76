//! `-m mark` (xt_mark): the packet's mark (`--mark value[/mask]`).

use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::{Words, parse_mark_mask};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// (value, mask, inverted); the mask is all ones when none was given.
    pub mark: Option<(u32, u32, bool)>,
}

/// ` 0xV` or ` 0xV/0xM` (the mask only when it is not all ones).
pub(crate) fn save_mark(out: &mut String, v: u32, m: u32) {
    if m == u32::MAX {
        out.push_str(&format!(" 0x{v:x}"));
    } else {
        out.push_str(&format!(" 0x{v:x}/0x{m:x}"));
    }
}

/// Parses `--mark` for mark and connmark.
pub(crate) fn parse_mark_option(
    module: &str,
    slot: &mut Option<(u32, u32, bool)>,
    opt: &str,
    invert: bool,
    w: &mut Words<'_>,
) -> Result<bool, String> {
    if opt != "--mark" {
        return Ok(false);
    }
    let v = w.value(opt)?;
    super::once(module, opt, slot.is_some())?;
    let (value, mask) = parse_mark_mask(module, opt, v)?;
    *slot = Some((value, mask.unwrap_or(u32::MAX), invert));
    Ok(true)
}

impl Module for Mark {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        parse_mark_option("mark", &mut self.mark, opt, invert, w)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.mark.is_none() {
            return Err("mark: option \"--mark\" must be specified".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let Some((v, m, inv)) = self.mark else {
            return false;
        };
        ((pkt.mark & m) == v) != inv
    }

    fn save(&self, out: &mut String) {
        if let Some((v, m, inv)) = self.mark {
            bang(out, inv);
            out.push_str(" --mark");
            save_mark(out, v, m);
        }
    }
}
