//! The iptables rule-set model, its two parsers, its checks, match evaluation and the
//! `iptables-save -c` writer.
//!
//! # Loading
//!
//! ```
//! use ctguard_netfilter::rules;
//! use ctguard_netfilter::{Hook, TableName};
//!
//! let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
//! let loaded = rules::load(text, "rules.v4").unwrap();
//! let input = loaded.v4.builtin_rules(TableName::Filter, Hook::Input);
//! assert_eq!(input[0].spec(), "-p tcp -m tcp --dport 22 -j ACCEPT");
//! assert_eq!(
//!     rules::save(&loaded.v4),
//!     "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
//!      [0:0] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"
//! );
//! ```
//!
//! - [`load`] reads either format ([`detect_format`]): an iptables-save file (family from
//!   [`detect_family`]) or a shell script of iptables/ip6tables commands. [`load_save`] and
//!   [`load_script`] pick the format explicitly. All return a [`Loaded`]: one [`RuleSet`] per
//!   family (`v4` from iptables, `v6` from ip6tables) plus warnings, or every error found
//!   ([`RuleErrors`]; nothing is applied). Errors render as `FILE:LINE: error: MESSAGE`, the
//!   message echoing the offending line or naming the rule (`filter INPUT rule 3 `...``).
//!
//! # The model
//!
//! A [`RuleSet`] has the four [`Table`]s; each has its built-in [`Chain`]s (exactly
//! [`TableName::hooks`](crate::TableName::hooks), policy ACCEPT, counters `[0:0]` until set)
//! and user chains (sorted by name). A [`Rule`] keeps its IP-header part ([`IpMatch`]: `-s -d
//! -i -o -p -f`), its `-m` [`Match`]es in the order written (the match `-p tcp --dport` loads
//! implicitly included), its [`Target`], its [`Counters`] and its [`Location`]. Rules are
//! numbered from 1 within a chain, as `iptables -L --line-numbers` does
//! ([`RuleSet::rule_name`]).
//!
//! For the pipeline:
//! - walk a built-in chain: `rules.table(t).builtin(hook)` ([`Table::builtin`]), or
//!   [`RuleSet::builtin_rules`]; jumps and gotos carry their chain's index
//!   ([`ChainRef::index`], into [`Table::chains`]) once loaded;
//! - evaluate: [`Rule::matches`]`(&mut self, &PacketCtx, &mut MatchState) -> bool` (all
//!   matches ANDed, IP part first, stopping at the first failure as the kernel does; `&mut`
//!   because `-m limit` keeps its bucket in the rule). [`MatchState`] holds what rules share
//!   (recent lists, hashlimit tables) and the hotdrop flag; create it once per family and call
//!   [`MatchState::register`] after loading. Evaluation allocates only when a recent list or a
//!   hashlimit table meets a new address;
//! - count: `rule.counters.add(bytes)`, `chain.policy_counters.add(bytes)`;
//! - write: [`save`] (`iptables-save -c`), [`save_with`];
//! - features: [`RuleSet::features`] and [`RuleSet::conntrack_users`] list every match,
//!   target and table with a human name ("state match", "NAT target SNAT", "nat table"), its
//!   kernel module and whether it needs connection tracking; per item:
//!   [`Match::needs_conntrack`], [`Match::feature`], [`Match::kernel_module`] and the same on
//!   [`Target`].
//!
//! # Decisions where iptables is silent or where ctguard differs
//!
//! - A packet without a connection (`CtView.state` None) is INVALID to `-m state` and
//!   `--ctstate`, as in the kernel's xt_state (no conntrack entry and not untracked); it has no
//!   connection mark (`-m connmark` never matches it) and no tuples (`-m conntrack` options
//!   other than `--ctstate` fail).
//! - `-m connlimit` counts with the tracker's table (see `matches/connlimit.rs`).
//! - A table block named twice, a policy on a user chain, and a user chain named like a
//!   built-in chain (`:INPUT - [0:0]` in raw) are refused; iptables-restore v1.8.9 accepts
//!   them silently.
//! - `--limit-burst 0` is refused (the kernel's xt_limit refuses it; iptables-nft turns the
//!   rule into an nftables limit and accepts it). `--log-prefix` longer than 29 characters is
//!   cut, with a warning, as iptables-nft does.
//! - Host names and service names beyond the common ones in `names.rs` are not looked up.
//! - Unsupported targets (QUEUE, NFQUEUE, TCPMSS, ...) and matches are refused by name.
//! - In scripts, jump targets must exist when the rule is added (as for iptables); in
//!   iptables-save files they are checked at COMMIT, so forward references work (as for
//!   iptables-restore).

mod addr;
mod apply;
mod detect;
mod error;
mod lexer;
pub mod matches;
mod model;
mod names;
mod save;
mod save_file;
mod script;
mod spec;
mod state;
pub mod targets;
mod validate;
mod words;

#[cfg(test)]
mod tests;

pub use addr::Net;
pub use detect::{Format, detect_family, detect_format};
pub use error::{Location, RuleError, RuleErrors, Warning};
pub use lexer::{split_restore, split_shell};
pub use matches::Match;
pub use model::{Chain, Counters, FeatureUse, IfaceMatch, IpMatch, Policy, Rule, RuleSet, Table};
pub use save::{SAVE_ORDER, SaveOptions, save, save_with};
pub use state::{HZ, MatchState, jiffies};
pub use targets::{
    ChainRef, ConnmarkTarget, CtTarget, Log, MarkTarget, NatRange, RejectWith, Target,
};

use crate::hook::Family;

/// A loaded input: one rule set per family.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub v4: RuleSet,
    pub v6: RuleSet,
    pub warnings: Vec<Warning>,
}

impl Loaded {
    pub fn family(&self, family: Family) -> &RuleSet {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    pub fn family_mut(&mut self, family: Family) -> &mut RuleSet {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }
}

fn finish(
    mut v4: RuleSet,
    mut v6: RuleSet,
    mut errors: Vec<RuleError>,
    warnings: Vec<Warning>,
) -> Result<Loaded, RuleErrors> {
    if errors.is_empty() {
        errors.extend(validate::validate(&v4));
        errors.extend(validate::validate(&v6));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.location.line);
        return Err(RuleErrors(errors));
    }
    for t in v4.tables_mut().chain(v6.tables_mut()) {
        t.relink();
    }
    Ok(Loaded { v4, v6, warnings })
}

/// Reads an iptables-save (or ip6tables-save) file for `family`, as iptables-restore does.
/// The other family's rule set is empty.
pub fn load_save(text: &str, file: &str, family: Family) -> Result<Loaded, RuleErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut rs = RuleSet::new(family);
    save_file::parse_save_into(text, file, &mut rs, &mut errors, &mut warnings);
    let other = RuleSet::new(match family {
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    });
    let (v4, v6) = match family {
        Family::V4 => (rs, other),
        Family::V6 => (other, rs),
    };
    finish(v4, v6, errors, warnings)
}

/// Runs a shell script of iptables/ip6tables commands on empty rule sets.
pub fn load_script(text: &str, file: &str) -> Result<Loaded, RuleErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut v4 = RuleSet::new(Family::V4);
    let mut v6 = RuleSet::new(Family::V6);
    script::parse_script_into(text, file, &mut v4, &mut v6, &mut errors, &mut warnings);
    finish(v4, v6, errors, warnings)
}

/// Reads either format, detected from the text ([`detect_format`], [`detect_family`]).
pub fn load(text: &str, file: &str) -> Result<Loaded, RuleErrors> {
    match detect_format(text) {
        Format::Save => load_save(text, file, detect_family(text)),
        Format::Script => load_script(text, file),
    }
}
