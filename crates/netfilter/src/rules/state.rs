//! Match state that outlives one packet and is shared between rules: `-m recent` lists and
//! `-m hashlimit` tables. (`-m limit` keeps its bucket inside its rule, as the kernel does.)

use ctguard_conntrack::Instant;

use crate::rules::matches::{HashlimitTables, Match, RecentTables};
use crate::rules::model::RuleSet;

/// The kernel's clock tick: HZ = 250 (a jiffy is 4 ms), the common distribution setting.
pub const HZ: u64 = 250;

/// `now` in jiffies.
pub fn jiffies(now: Instant) -> u64 {
    now.as_nanos() / (1_000_000_000 / HZ)
}

/// State the pipeline owns and passes to every evaluation.
#[derive(Clone, Debug, Default)]
pub struct MatchState {
    pub recent: RecentTables,
    pub hashlimit: HashlimitTables,
    /// Set when a match asks for the packet to be dropped at once (the kernel's hotdrop:
    /// a full hashlimit table). The pipeline should drop the packet and clear the flag.
    pub hotdrop: bool,
}

impl MatchState {
    pub fn new() -> Self {
        MatchState::default()
    }

    /// Creates the recent lists and hashlimit tables of a rule set in rule order (tables in
    /// iptables-save order, chains in order, rules in order), so that the first rule naming a
    /// list decides its mask and configuration, as loading the rules into the kernel does.
    /// Call it once per family after loading; lists not registered are created by the first
    /// rule that evaluates a packet.
    pub fn register(&mut self, rules: &RuleSet) {
        for table in rules.tables() {
            for chain in table.chains() {
                for rule in &chain.rules {
                    for m in &rule.matches {
                        match m {
                            Match::Recent(r) => {
                                self.recent.table(&r.name, r.mask, r.nstamps());
                            }
                            Match::Hashlimit(h) => {
                                if let Some(name) = &h.name {
                                    self.hashlimit.table(rules.family, name, &h.cfg);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}
