//! `-m state` (xt_state): the packet's connection-tracking state.

use ctguard_conntrack::CtState;

use super::{Module, ParseCtx, bang};
use crate::packet::{CtView, PacketCtx};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// A set of states; the bits also carry conntrack's SNAT and DNAT pseudo-states.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct StateMask(pub u16);

impl StateMask {
    pub const INVALID: u16 = 1 << 0;
    pub const NEW: u16 = 1 << 1;
    pub const RELATED: u16 = 1 << 2;
    pub const ESTABLISHED: u16 = 1 << 3;
    pub const UNTRACKED: u16 = 1 << 4;
    pub const SNAT: u16 = 1 << 5;
    pub const DNAT: u16 = 1 << 6;

    /// In the order iptables-save prints them.
    pub(crate) const NAMES: &'static [(&'static str, u16)] = &[
        ("INVALID", Self::INVALID),
        ("NEW", Self::NEW),
        ("RELATED", Self::RELATED),
        ("ESTABLISHED", Self::ESTABLISHED),
        ("UNTRACKED", Self::UNTRACKED),
        ("SNAT", Self::SNAT),
        ("DNAT", Self::DNAT),
    ];

    /// A comma list; names are case-insensitive (`--state new` saves as NEW).
    pub(crate) fn parse(
        s: &str,
        allow_nat: bool,
        err: impl Fn(&str) -> String,
    ) -> Result<Self, String> {
        let mut v = 0;
        for part in s.split(',') {
            let up = part.to_ascii_uppercase();
            let bit = Self::NAMES
                .iter()
                .find(|(n, b)| *n == up && (allow_nat || *b < Self::SNAT))
                .map(|&(_, b)| b)
                .ok_or_else(|| err(part))?;
            v |= bit;
        }
        Ok(StateMask(v))
    }

    pub(crate) fn save(self, out: &mut String) {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(_, b)| self.0 & b != 0)
            .map(|(n, _)| *n)
            .collect();
        out.push_str(&names.join(","));
    }

    /// The packet's state bit, as the kernel derives it. A packet that has no connection and is
    /// not marked untracked counts as INVALID, as in the kernel's xt_state (a packet the
    /// tracker refused, or one that `CtView::NONE` describes).
    pub fn of(ct: &CtView) -> u16 {
        match ct.state {
            Some(CtState::New) => Self::NEW,
            Some(CtState::Established) => Self::ESTABLISHED,
            Some(CtState::Related) => Self::RELATED,
            Some(CtState::Untracked) => Self::UNTRACKED,
            Some(CtState::Invalid) | None => Self::INVALID,
        }
    }
}

/// True when the packet has a connection (`nf_ct_get` returns one): NEW, ESTABLISHED or
/// RELATED. INVALID and UNTRACKED packets have none.
pub(crate) fn has_conn(ct: &CtView) -> bool {
    matches!(
        ct.state,
        Some(CtState::New | CtState::Established | CtState::Related)
    )
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub mask: Option<StateMask>,
    pub invert: bool,
}

impl Module for State {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        if opt != "--state" {
            return Ok(false);
        }
        let v = w.value(opt)?;
        super::once("state", opt, self.mask.is_some())?;
        self.mask = Some(StateMask::parse(v, false, |p| {
            format!("Bad state \"{p}\"")
        })?);
        self.invert = invert;
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.mask.is_none() {
            return Err("state: option \"--state\" must be specified".into());
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let mask = self.mask.map_or(0, |m| m.0);
        (mask & StateMask::of(&pkt.ct) != 0) != self.invert
    }

    fn save(&self, out: &mut String) {
        if let Some(m) = self.mask {
            bang(out, self.invert);
            out.push_str(" --state ");
            m.save(out);
        }
    }
}
