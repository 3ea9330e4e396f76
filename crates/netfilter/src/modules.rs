//! Which kernel modules a rule set needs and which of them depend on `nf_conntrack`: the
//! seed's `lsmod | egrep conntrack`, and the refusal when connection tracking is off (the
//! seed's fix 2, `modprobe -r nf_conntrack`, breaks every rule that needs it).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::hook::Family;
use crate::rules::{FeatureUse, RuleSet};

/// The rule set needs connection tracking, which is off: one entry per rule (or table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingRequired(pub Vec<(Family, FeatureUse)>);

impl fmt::Display for TrackingRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (family, u)) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let tool = match family {
                Family::V4 => "iptables",
                Family::V6 => "ip6tables",
            };
            match &u.location {
                Some(l) => write!(f, "{l}: error: ")?,
                None => write!(f, "{tool}: error: ")?,
            }
            match u.rule {
                Some(n) => write!(
                    f,
                    "{} {} rule {n} uses {} ({}), which needs nf_conntrack",
                    u.table, u.chain, u.feature, u.kernel_module
                )?,
                None => write!(
                    f,
                    "the {} table ({}) needs nf_conntrack",
                    u.table, u.kernel_module
                )?,
            }
            write!(f, "; connection tracking is off")?;
        }
        Ok(())
    }
}

impl std::error::Error for TrackingRequired {}

/// Refuses rule sets that need connection tracking, naming every rule that does.
pub fn check_without_tracking(sets: &[&RuleSet]) -> Result<(), TrackingRequired> {
    let users: Vec<(Family, FeatureUse)> = sets
        .iter()
        .flat_map(|rs| rs.conntrack_users().into_iter().map(|u| (rs.family, u)))
        .collect();
    if users.is_empty() {
        Ok(())
    } else {
        Err(TrackingRequired(users))
    }
}

/// The modules a module needs, as the kernel's dependencies put them.
fn depends(module: &str, family: Family) -> Vec<&'static str> {
    let (tables, nat_l3, reject) = match family {
        Family::V4 => ("ip_tables", "nf_nat", "nf_reject_ipv4"),
        Family::V6 => ("ip6_tables", "nf_nat", "nf_reject_ipv6"),
    };
    match module {
        "iptable_nat" | "ip6table_nat" => vec![tables, nat_l3],
        m if m.starts_with("iptable_") || m.starts_with("ip6table_") => vec![tables],
        "ip_tables" | "ip6_tables" => vec!["x_tables"],
        "nf_nat" => vec!["nf_conntrack"],
        "nf_conntrack" => vec!["nf_defrag_ipv4", "nf_defrag_ipv6"],
        "xt_nat" | "xt_MASQUERADE" | "xt_REDIRECT" => vec!["x_tables", nat_l3],
        "ipt_REJECT" | "ip6t_REJECT" => vec!["x_tables", reject],
        "xt_LOG" => vec!["x_tables", "nf_log_syslog"],
        m if m.starts_with("xt_") || m.starts_with("ipt_") || m.starts_with("ip6t_") => {
            vec!["x_tables"]
        }
        _ => Vec::new(),
    }
}

/// One line of the listing: a module and the modules that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub name: &'static str,
    pub used_by: BTreeSet<&'static str>,
}

/// Every module the rule sets need, with its users (`lsmod`'s "Used by"). Modules that a
/// feature needs conntrack for list `nf_conntrack` among their dependencies.
pub fn modules(sets: &[&RuleSet]) -> Vec<Module> {
    let mut used_by: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    let mut todo: Vec<(&'static str, Family)> = Vec::new();
    for rs in sets {
        for u in rs.features() {
            used_by.entry(u.kernel_module).or_default();
            if u.needs_conntrack {
                used_by
                    .entry("nf_conntrack")
                    .or_default()
                    .insert(u.kernel_module);
                todo.push(("nf_conntrack", rs.family));
            }
            todo.push((u.kernel_module, rs.family));
        }
    }
    let mut seen = BTreeSet::new();
    while let Some((m, family)) = todo.pop() {
        if !seen.insert((m, family == Family::V6)) {
            continue;
        }
        for d in depends(m, family) {
            used_by.entry(d).or_default().insert(m);
            todo.push((d, family));
        }
    }
    used_by
        .into_iter()
        .map(|(name, used_by)| Module { name, used_by })
        .collect()
}

/// The listing in `lsmod`'s layout, without sizes: `Module  Used by`, then one module a
/// line with its user count and users.
pub fn render_lsmod(modules: &[Module]) -> String {
    let mut out = String::from("Module                  Used by\n");
    for m in modules {
        let users: Vec<&str> = m.used_by.iter().copied().collect();
        out.push_str(&format!(
            "{:<23} {} {}\n",
            m.name,
            users.len(),
            users.join(",")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    const CENTOS: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n\
-A INPUT -p icmp -j ACCEPT\n\
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT\n\
-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n";

    #[test]
    fn state_rules_refused_without_tracking_naming_each_rule() {
        let l = rules::load_save(CENTOS, "/etc/sysconfig/iptables", Family::V4).unwrap();
        let err = check_without_tracking(&[&l.v4, &l.v6]).unwrap_err();
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with(
                "/etc/sysconfig/iptables:5: error: filter INPUT rule 1 uses state match (xt_state)"
            ),
            "{text}"
        );
        assert!(lines[1].starts_with("/etc/sysconfig/iptables:7: error: filter INPUT rule 3"));
        assert!(lines[0].ends_with("which needs nf_conntrack; connection tracking is off"));
    }

    #[test]
    fn stateless_rules_load_without_tracking() {
        let text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n";
        let l = rules::load_save(text, "f", Family::V4).unwrap();
        assert_eq!(check_without_tracking(&[&l.v4]), Ok(()));
        let listing = render_lsmod(&modules(&[&l.v4]));
        assert!(!listing.contains("nf_conntrack"), "{listing}");
        assert!(listing.contains("x_tables"), "{listing}");
    }

    #[test]
    fn the_seeds_lsmod_web() {
        let script = "/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK\n\
/sbin/iptables -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n\
/sbin/iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n";
        let l = rules::load_script(script, "fix3.sh").unwrap();
        let ms = modules(&[&l.v4, &l.v6]);
        let conntrack = ms.iter().find(|m| m.name == "nf_conntrack").unwrap();
        let users: Vec<&str> = conntrack.used_by.iter().copied().collect();
        for m in [
            "xt_NOTRACK",
            "xt_state",
            "iptable_nat",
            "nf_nat",
            "xt_MASQUERADE",
        ] {
            assert!(users.contains(&m), "nf_conntrack used by {users:?}");
        }
        let defrag = ms.iter().find(|m| m.name == "nf_defrag_ipv4").unwrap();
        assert!(defrag.used_by.contains("nf_conntrack"));
        let err = check_without_tracking(&[&l.v4]).unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
        assert!(
            err.to_string()
                .contains("iptables: error: the nat table (iptable_nat) needs nf_conntrack")
        );
    }
}
