//! Running a packet class through a table's chains, symbolically: rules in order, jumps,
//! gotos and RETURN as the kernel's ipt_do_table takes them.
//!
//! [`TableView::fate`] follows two sets at once:
//! - `u`, every packet of the class that may still be undecided (an upper bound), and
//! - `l`, the packets that certainly are (a lower bound).
//!
//! An exact rule (every test modelled) removes what it decides from both. A rule with an
//! unmodelled test may or may not decide a packet, so it leaves `u` alone and removes its
//! modelled space from `l`; a rule whose only unmodelled tests are rate limits (`-m limit`,
//! `-m hashlimit`) leaves both alone when it accepts, because the packets over the rate
//! certainly go on. A DROP or REJECT that certainly matches every packet in `u`, while `u`
//! is all that is left of the class and `l` is not empty, certainly drops part of the class:
//! that rule decides the class. So does a DROP policy that `l` reaches. Everything else is
//! "not certainly dead", and the lint says nothing.

use crate::hook::Hook;
use crate::lint::space::{RuleSpace, Space, Universe};
use crate::rules::{Policy, Table, Target};

/// Past this many cubes in one set, the walk gives up (and the lint stays silent).
const MAX_CUBES: usize = 4096;
/// The kernel refuses deeper rule sets; loops are refused at load.
const MAX_DEPTH: usize = 64;

/// A rule's position: (chain index into [`Table::chains`], rule index from 0).
pub type RuleAt = (usize, usize);

/// What decided a class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decider {
    Rule(RuleAt),
    /// The DROP policy of the built-in chain (its index).
    Policy(usize),
}

/// The outcome for a whole class at one built-in chain.
#[derive(Clone, Debug)]
pub enum Fate {
    /// No part of the class is certainly dropped as a whole.
    Survives,
    /// `dropped` (non-empty) certainly reaches `decider` and is dropped there; `partial`
    /// lists rules that accepted some of the class before.
    Dead {
        decider: Decider,
        dropped: Space,
        partial: Vec<RuleAt>,
    },
    /// The walk gave up (too many cubes, too deep).
    Unknown,
}

/// One table with the space of every rule.
pub struct TableView<'a> {
    pub table: &'a Table,
    pub uni: &'a Universe,
    /// `spaces[chain][rule]`.
    pub spaces: Vec<Vec<RuleSpace>>,
}

struct Flow {
    ret_u: Space,
    ret_l: Space,
    dead: Option<(Decider, Space)>,
}

struct GiveUp;

impl<'a> TableView<'a> {
    pub fn new(table: &'a Table, uni: &'a Universe) -> TableView<'a> {
        let spaces = table
            .chains()
            .iter()
            .map(|c| c.rules.iter().map(|r| uni.rule(r)).collect())
            .collect();
        TableView { table, uni, spaces }
    }

    pub fn builtin_index(&self, hook: Hook) -> Option<usize> {
        self.table
            .chains()
            .iter()
            .position(|c| c.hook == Some(hook))
    }

    /// Runs `class` through the built-in chain of `hook`.
    pub fn fate(&self, hook: Hook, class: &Space) -> Fate {
        let Some(start) = self.builtin_index(hook) else {
            return Fate::Survives;
        };
        if !self.table.present || class.is_empty() {
            return Fate::Survives;
        }
        let mut partial = Vec::new();
        let flow = match self.walk(start, class.clone(), class.clone(), true, 0, &mut partial) {
            Ok(f) => f,
            Err(GiveUp) => return Fate::Unknown,
        };
        if let Some((decider, dropped)) = flow.dead {
            return Fate::Dead {
                decider,
                dropped,
                partial,
            };
        }
        let policy = self.table.chains()[start].policy;
        if policy == Some(Policy::Drop) && !flow.ret_l.is_empty() {
            return Fate::Dead {
                decider: Decider::Policy(start),
                dropped: flow.ret_l,
                partial,
            };
        }
        Fate::Survives
    }

    /// The packets of `class` that the chain (and what it jumps to) leaves undecided: the
    /// upper bound. Empty when the chain certainly decides every packet of `class`.
    pub fn undecided(&self, chain: usize, class: &Space) -> Option<Space> {
        let mut partial = Vec::new();
        match self.walk(chain, class.clone(), class.clone(), false, 0, &mut partial) {
            Ok(f) => Some(f.ret_u),
            Err(GiveUp) => None,
        }
    }

    fn walk(
        &self,
        chain: usize,
        mut u: Space,
        mut l: Space,
        whole: bool,
        depth: usize,
        partial: &mut Vec<RuleAt>,
    ) -> Result<Flow, GiveUp> {
        if depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        let mut ret_u = Space::empty();
        let mut ret_l = Space::empty();
        for (i, rule) in self.table.chains()[chain].rules.iter().enumerate() {
            if u.is_empty() {
                break;
            }
            let rs = &self.spaces[chain][i];
            let ku = u.intersect(&rs.space);
            if ku.is_empty() {
                continue;
            }
            let exact = rs.exact();
            // `u` is everything left of the class only while nothing has returned from here.
            let all_of_rest = whole && ret_u.is_empty() && exact && u.is_subset(&rs.space);
            match &rule.target {
                Target::Accept
                | Target::Snat(_)
                | Target::Dnat(_)
                | Target::Masquerade(_)
                | Target::Redirect(_) => {
                    if exact {
                        u = u.subtract(&rs.space);
                        l = l.subtract(&rs.space);
                    } else if !rs.rate_limited() {
                        l = l.subtract(&rs.space);
                    }
                    if !u.is_empty() && (exact || rs.rate_limited()) {
                        partial.push((chain, i));
                    }
                }
                Target::Drop | Target::Reject(_) => {
                    if all_of_rest {
                        let dead = (!l.is_empty()).then_some((Decider::Rule((chain, i)), l));
                        return Ok(Flow {
                            ret_u: Space::empty(),
                            ret_l: Space::empty(),
                            dead,
                        });
                    }
                    if exact {
                        u = u.subtract(&rs.space);
                    }
                    l = l.subtract(&rs.space);
                }
                Target::Return => {
                    let kl = l.intersect(&rs.space);
                    ret_u = ret_u.union(&ku);
                    if exact {
                        ret_l = ret_l.union(&kl);
                        u = u.subtract(&rs.space);
                    }
                    l = l.subtract(&rs.space);
                }
                Target::Jump(c) | Target::Goto(c) => {
                    let goto = matches!(rule.target, Target::Goto(_));
                    let Some(sub) = self.table.chain_index(&c.name) else {
                        continue;
                    };
                    let kl = l.intersect(&rs.space);
                    let f = self.walk(sub, ku, kl, all_of_rest, depth + 1, partial)?;
                    if f.dead.is_some() {
                        return Ok(f);
                    }
                    if goto {
                        ret_u = ret_u.union(&f.ret_u);
                        if exact {
                            ret_l = ret_l.union(&f.ret_l);
                            u = u.subtract(&rs.space);
                        }
                        l = l.subtract(&rs.space);
                    } else {
                        if exact {
                            u = u.subtract(&rs.space).union(&f.ret_u);
                        }
                        l = l.subtract(&rs.space).union(&f.ret_l);
                    }
                }
                _ => {}
            }
            if u.len() > MAX_CUBES || l.len() > MAX_CUBES || ret_u.len() > MAX_CUBES {
                return Err(GiveUp);
            }
        }
        Ok(Flow {
            ret_u: ret_u.union(&u),
            ret_l: ret_l.union(&l),
            dead: None,
        })
    }

    /// Every rule reachable from `chain` within `within` whose target `pick` selects, with
    /// the part of `within` that reaches it through the jumps on the way. Earlier rules that
    /// decide packets are not subtracted: the spaces are upper bounds.
    pub fn collect(
        &self,
        chain: usize,
        within: &Space,
        pick: &dyn Fn(&Target) -> bool,
    ) -> Vec<(RuleAt, Space)> {
        let mut out = Vec::new();
        self.collect_into(chain, within, pick, 0, &mut out);
        out
    }

    fn collect_into(
        &self,
        chain: usize,
        within: &Space,
        pick: &dyn Fn(&Target) -> bool,
        depth: usize,
        out: &mut Vec<(RuleAt, Space)>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        for (i, rule) in self.table.chains()[chain].rules.iter().enumerate() {
            let sp = within.intersect(&self.spaces[chain][i].space);
            if sp.is_empty() {
                continue;
            }
            if pick(&rule.target) {
                out.push(((chain, i), sp.clone()));
            }
            if let Some(c) = rule.target.chain()
                && let Some(sub) = self.table.chain_index(&c.name)
            {
                self.collect_into(sub, &sp, pick, depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::{Family, TableName};
    use crate::lint::space::{Dim, Ranges, UNTRACKED};
    use crate::rules;

    fn fate_of(filter: &str) -> Fate {
        let l = rules::load_save(filter, "f", Family::V4).unwrap();
        let uni = Universe::new(Family::V4, &[&l.v4]);
        let view = TableView::new(l.v4.table(TableName::Filter), &uni);
        let class = uni
            .at_hook(Hook::Input)
            .restrict(Dim::Proto, &Ranges::single(6))
            .restrict(Dim::Dport, &Ranges::single(80))
            .with(Dim::State, &Ranges::single(UNTRACKED));
        view.fate(Hook::Input, &class)
    }

    fn filter(rules: &str, policy: &str) -> String {
        format!(
            "*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{rules}COMMIT\n"
        )
    }

    #[test]
    fn final_reject_decides() {
        let f = fate_of(&filter(
            "-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n-A INPUT -j REJECT\n",
            "ACCEPT",
        ));
        match f {
            Fate::Dead {
                decider, partial, ..
            } => {
                assert_eq!(decider, Decider::Rule((0, 2)));
                assert_eq!(partial, vec![(0, 1)]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn untracked_accept_saves_it_and_partial_drops_do_not_count() {
        let f = fate_of(&filter(
            "-A INPUT -s 1.2.3.4 -j DROP\n-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n-A INPUT -j REJECT\n",
            "DROP",
        ));
        assert!(matches!(f, Fate::Survives), "{f:?}");
    }

    #[test]
    fn policy_drop_and_user_chains() {
        let f = fate_of(&filter(
            ":web - [0:0]\n-A INPUT -p tcp -j web\n-A web -p tcp --dport 443 -j ACCEPT\n-A web -j RETURN\n",
            "DROP",
        ));
        assert!(
            matches!(
                f,
                Fate::Dead {
                    decider: Decider::Policy(0),
                    ..
                }
            ),
            "{f:?}"
        );
        let f = fate_of(&filter(
            ":web - [0:0]\n-A INPUT -p tcp -j web\n-A web -p tcp --dport 80 -j ACCEPT\n",
            "DROP",
        ));
        assert!(matches!(f, Fate::Survives), "{f:?}");
        // A chain that rejects everything it is given decides the class.
        let f = fate_of(&filter(
            ":deny - [0:0]\n-A INPUT -j deny\n-A deny -j REJECT\n",
            "ACCEPT",
        ));
        assert!(
            matches!(
                f,
                Fate::Dead {
                    decider: Decider::Rule((3, 0)),
                    ..
                }
            ),
            "{f:?}"
        );
    }

    #[test]
    fn unmodelled_accepts_silence_it_but_rate_limits_do_not() {
        let f = fate_of(&filter(
            "-A INPUT -m mark --mark 1 -j ACCEPT\n-A INPUT -j REJECT\n",
            "ACCEPT",
        ));
        assert!(matches!(f, Fate::Survives), "{f:?}");
        let f = fate_of(&filter(
            "-A INPUT -p tcp --dport 80 -m limit --limit 5/s -j ACCEPT\n-A INPUT -j REJECT\n",
            "ACCEPT",
        ));
        assert!(matches!(f, Fate::Dead { .. }), "{f:?}");
    }
}
