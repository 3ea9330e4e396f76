//! `-m udp` (xt_tcpudp): UDP ports.

use super::ports::{PortRange, normalise};
use super::{Module, ParseCtx, bang};
use crate::packet::PacketCtx;
use crate::rules::names::IPPROTO_UDP;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    pub sport: Option<(PortRange, bool)>,
    pub dport: Option<(PortRange, bool)>,
}

impl Udp {
    pub(crate) fn absorb(&mut self, b: &Udp) {
        self.sport = b.sport.or(self.sport);
        self.dport = b.dport.or(self.dport);
    }
}

impl Module for Udp {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        match opt {
            "--sport" | "--source-port" => {
                let v = w.value(opt)?;
                if self.sport.is_some() {
                    return Err("Only one `--source-port' allowed".into());
                }
                self.sport = Some(normalise(PortRange::parse(v, IPPROTO_UDP)?, invert));
            }
            "--dport" | "--destination-port" => {
                let v = w.value(opt)?;
                if self.dport.is_some() {
                    return Err("Only one `--destination-port' allowed".into());
                }
                self.dport = Some(normalise(PortRange::parse(v, IPPROTO_UDP)?, invert));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(&mut self, ctx: &ParseCtx) -> Result<(), String> {
        if ctx.exact_proto() != Some(IPPROTO_UDP) {
            return Err("UDP match requires '-p udp'".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        if pkt.later_fragment {
            return false;
        }
        if let Some((r, inv)) = self.sport {
            match pkt.l4.sport {
                Some(p) if r.contains(p) != inv => {}
                _ => return false,
            }
        }
        if let Some((r, inv)) = self.dport {
            match pkt.l4.dport {
                Some(p) if r.contains(p) != inv => {}
                _ => return false,
            }
        }
        true
    }

    fn save(&self, out: &mut String) {
        if let Some((r, inv)) = self.sport
            && (r != PortRange::ALL || inv)
        {
            bang(out, inv);
            out.push_str(" --sport ");
            r.save(out);
        }
        if let Some((r, inv)) = self.dport
            && (r != PortRange::ALL || inv)
        {
            bang(out, inv);
            out.push_str(" --dport ");
            r.save(out);
        }
    }
}
