//! The seed document's rule lines load as written.

use super::*;
use crate::rules::{Target, load, save};

/// Fix 3 of the seed: the raw-table rules, as a script.
const SEED_SCRIPT: &str = "\
# packets coming in to this host
/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
# packets going out of this host
/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
";

#[test]
fn seed_raw_rules_load_as_a_script() {
    let l = load(SEED_SCRIPT, "seed.sh").unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let raw = l.v4.table(TableName::Raw);
    let pre = &raw.builtin(Hook::Prerouting).unwrap().rules;
    let out = &raw.builtin(Hook::Output).unwrap().rules;
    assert_eq!(pre.len(), 2);
    assert_eq!(out.len(), 2);
    assert!(pre.iter().chain(out).all(|r| r.target == Target::Notrack));
    assert_eq!(pre[0].location.line, 2);
    assert_eq!(out[1].location.line, 6);
    // What iptables-save -c printed after running these four commands in a namespace.
    assert_eq!(
        save(&l.v4),
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         [0:0] -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK\n\
         [0:0] -A PREROUTING -i lo -j NOTRACK\n\
         [0:0] -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK\n\
         [0:0] -A OUTPUT -o lo -j NOTRACK\nCOMMIT\n"
    );
    // NOTRACK needs conntrack in the kernel (xt_NOTRACK depends on nf_conntrack).
    let users = l.v4.conntrack_users();
    assert!(
        users
            .iter()
            .any(|u| u.feature == "NOTRACK target" && u.kernel_module == "xt_NOTRACK")
    );
}

#[test]
fn seed_step_one_state_rule_with_untracked() {
    let text = include_str!("../testdata/centos.save").replace(
        "--state RELATED,ESTABLISHED -j",
        "--state RELATED,ESTABLISHED,UNTRACKED -j",
    );
    let l = load(&text, "/etc/sysconfig/iptables").unwrap();
    let r = &l.v4.builtin_rules(TableName::Filter, Hook::Input)[0];
    assert_eq!(
        r.spec(),
        "-m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"
    );
    // An untracked packet (port 80 after NOTRACK) now matches; without UNTRACKED it did not,
    // which is how the seed's web site stopped answering.
    let mut p = TestPkt::tcp();
    p.ct.state = Some(ctguard_conntrack::CtState::Untracked);
    assert!(hits(
        "-m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT",
        &p
    ));
    assert!(!hits("-m state --state RELATED,ESTABLISHED -j ACCEPT", &p));
}

#[test]
fn centos_file_rules_in_detail() {
    let l = load(include_str!("../testdata/centos.save"), "iptables").unwrap();
    let input = l.v4.builtin_rules(TableName::Filter, Hook::Input);
    assert_eq!(input.len(), 5);
    assert_eq!(
        input[4].target,
        Target::Reject(crate::rules::RejectWith::IcmpHostProhibited)
    );
    assert_eq!(input[4].location.line, 11);
    let users: Vec<String> =
        l.v4.conntrack_users()
            .iter()
            .map(|u| u.feature.clone())
            .collect();
    assert_eq!(users, ["state match", "state match"]);
}
