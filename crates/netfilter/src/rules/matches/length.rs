//! `-m length` (xt_length): the IP packet's length (IPv4 total length, IPv6 payload + 40).

use super::{Module, ParseCtx, bang, once};
use crate::packet::PacketCtx;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Length {
    pub range: Option<(u16, u16, bool)>,
}

impl Module for Length {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if opt != "--length" {
            return Ok(false);
        }
        let v = w.value(opt)?;
        once("length", opt, self.range.is_some())?;
        let num = |x: &str, dflt: u16| -> Result<u16, String> {
            if x.is_empty() {
                return Ok(dflt);
            }
            x.parse::<u16>()
                .ok()
                .filter(|_| x.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!(
                        "length: bad value for option \"--length\" near \"{x}\", or out of range (0-65535)."
                    )
                })
        };
        let (lo, hi) = match v.split_once(':') {
            Some((a, b)) => (num(a, 0)?, num(b, 65535)?),
            None => {
                let n = num(v, 0)?;
                (n, n)
            }
        };
        self.range = Some((lo, hi, invert));
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.range.is_none() {
            return Err("length: option \"--length\" must be specified".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let Some((lo, hi, inv)) = self.range else {
            return false;
        };
        (u32::from(lo) <= pkt.len && pkt.len <= u32::from(hi)) != inv
    }

    fn save(&self, out: &mut String) {
        if let Some((lo, hi, inv)) = self.range {
            bang(out, inv);
            if lo == hi {
                out.push_str(&format!(" --length {lo}"));
            } else {
                out.push_str(&format!(" --length {lo}:{hi}"));
            }
        }
    }
}
