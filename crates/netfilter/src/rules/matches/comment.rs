//! `-m comment` (xt_comment): text that always matches.

use super::{Module, ParseCtx, no_invert, once};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::{Words, save_string};

/// The kernel keeps 256 bytes including the terminating NUL.
const MAX_LEN: usize = 255;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comment {
    pub text: Option<String>,
}

impl Module for Comment {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if opt != "--comment" {
            return Ok(false);
        }
        let v = w.value(opt)?;
        no_invert("comment", opt, invert)?;
        once("comment", opt, self.text.is_some())?;
        if v.len() > MAX_LEN {
            return Err(format!(
                "comment: option \"--comment\" is longer than {MAX_LEN} characters"
            ));
        }
        self.text = Some(v.to_string());
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.text.is_none() {
            return Err("comment: option \"--comment\" must be specified".into());
        }
        Ok(())
    }

    fn matches(&mut self, _pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        true
    }

    fn save(&self, out: &mut String) {
        if let Some(t) = &self.text {
            out.push_str(" --comment");
            save_string(out, t);
        }
    }
}
