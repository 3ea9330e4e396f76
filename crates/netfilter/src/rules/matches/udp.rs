//! `-m udp` (xt_tcpudp): UDP ports.

use super::ports::{PortTest, parse_port_option, ports_match, save_ports};
use super::{Module, ParseCtx};
use crate::packet::PacketCtx;
use crate::rules::names::IPPROTO_UDP;
use crate::rules::state::MatchState;
use crate::rules::words::Words;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    pub sport: PortTest,
    pub dport: PortTest,
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
        parse_port_option(
            opt,
            invert,
            w,
            IPPROTO_UDP,
            &mut self.sport,
            &mut self.dport,
        )
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
        ports_match(self.sport, self.dport, pkt)
    }

    fn save(&self, out: &mut String) {
        save_ports(self.sport, self.dport, out);
    }
}
