//! The writer against real `iptables-save -c` output (see testdata/README.md), and round trips.

use super::*;
use crate::rules::{detect_family, load, save};

fn strip_comments(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn rich_v4_saves_exactly_as_iptables_save_printed_it() {
    let input = include_str!("../testdata/rich.v4.rules");
    let expected = include_str!("../testdata/rich.v4.save");
    let l = load4(input);
    assert_eq!(save(&l.v4), expected);
    // Only the over-long log prefix is worth a warning.
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert!(
        l.warnings[0]
            .message
            .contains("--log-prefix is longer than 29")
    );
}

#[test]
fn rich_v6_saves_exactly_as_ip6tables_save_printed_it() {
    let input = include_str!("../testdata/rich.v6.rules");
    let expected = include_str!("../testdata/rich.v6.save");
    assert_eq!(detect_family(input), Family::V6);
    let l = load(input, "rich.v6.rules").unwrap();
    assert_eq!(save(&l.v6), expected);
    assert!(l.v4.is_empty());
}

#[test]
fn centos_default_file_loads_and_saves_as_iptables_does() {
    let l = load(include_str!("../testdata/centos.save"), "iptables").unwrap();
    assert_eq!(save(&l.v4), include_str!("../testdata/centos.expected"));
}

#[test]
fn save_output_parses_back_to_the_same_rule_set() {
    for (text, family) in [
        (include_str!("../testdata/rich.v4.save"), Family::V4),
        (include_str!("../testdata/rich.v6.save"), Family::V6),
    ] {
        let once = load_save(text, "a", family).unwrap();
        let first = save(once.family(family));
        assert_eq!(strip_comments(text), first);
        let twice = load_save(&first, "b", family).unwrap();
        assert_eq!(save(twice.family(family)), first);
    }
}

#[test]
fn empty_table_blocks_create_nothing_and_rules_create_every_builtin_chain() {
    // Recorded: `*nat` + `COMMIT` alone leaves no nat table; a rule in INPUT alone still
    // prints FORWARD and OUTPUT.
    let l = load4("*nat\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
    assert_eq!(
        save(&l.v4),
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[0:0] -A INPUT -j ACCEPT\nCOMMIT\n"
    );
}

#[test]
fn counters_are_kept_from_prefixes_chain_lines_and_dash_c() {
    let l = load4(
        "*filter\n:INPUT DROP [1:2]\n[3:4] -A INPUT -j ACCEPT\n-A INPUT -c 5 6 -j DROP\nCOMMIT\n",
    );
    let input = l.v4.table(TableName::Filter).builtin(Hook::Input).unwrap();
    assert_eq!(input.policy_counters, crate::rules::Counters::new(1, 2));
    assert_eq!(input.rules[0].counters, crate::rules::Counters::new(3, 4));
    assert_eq!(input.rules[1].counters, crate::rules::Counters::new(5, 6));
    let out = save(&l.v4);
    assert!(out.contains(":INPUT DROP [1:2]\n"));
    assert!(out.contains("\n[3:4] -A INPUT -j ACCEPT\n[5:6] -A INPUT -j DROP\n"));
}

#[test]
fn user_chains_print_sorted_after_builtins_and_jumps_are_linked() {
    let l =
        load4("*filter\n:ZZZ - [0:0]\n:AAA - [0:0]\n-A INPUT -j ZZZ\n-A INPUT -g AAA\nCOMMIT\n");
    let t = l.v4.table(TableName::Filter);
    let names: Vec<&str> = t.chains().iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["INPUT", "FORWARD", "OUTPUT", "AAA", "ZZZ"]);
    let rules = &t.builtin(Hook::Input).unwrap().rules;
    assert_eq!(rules[0].target.chain().unwrap().index, 4);
    assert_eq!(rules[1].target.chain().unwrap().index, 3);
    assert!(
        save(&l.v4)
            .contains(":AAA - [0:0]\n:ZZZ - [0:0]\n[0:0] -A INPUT -j ZZZ\n[0:0] -A INPUT -g AAA\n")
    );
}

#[test]
fn forward_references_to_chains_declared_later_work_in_restore_files() {
    let l = load4("*filter\n-A INPUT -j LATER\n:LATER - [0:0]\nCOMMIT\n");
    assert_eq!(l.v4.table(TableName::Filter).chain_index("LATER"), Some(3));
}
