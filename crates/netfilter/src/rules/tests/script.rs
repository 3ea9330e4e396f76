//! Command scripts: every command, the program names, and the shell around them.

use super::*;
use crate::rules::{Format, Target, detect_format, load, save};

#[test]
fn commands_apply_in_order_like_iptables() {
    // The same commands run through iptables v1.8.9 in a namespace printed this.
    let script = r#"#!/bin/sh
set -e
/usr/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
/usr/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/usr/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/usr/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
iptables -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT
iptables -N LOGDROP
iptables -A LOGDROP -j LOG --log-prefix "drop: "
iptables -A LOGDROP -j DROP
iptables -I INPUT 1 -i lo -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 23 -j ACCEPT
iptables -D INPUT -p tcp --dport 23 -j ACCEPT
iptables -R INPUT 3 -p tcp --dport 2222 -j ACCEPT
iptables -A INPUT -j LOGDROP
iptables -P INPUT DROP
"#;
    let l = load(script, "fw.sh").unwrap();
    assert_eq!(
        save(&l.v4),
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         [0:0] -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK\n\
         [0:0] -A PREROUTING -i lo -j NOTRACK\n\
         [0:0] -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK\n\
         [0:0] -A OUTPUT -o lo -j NOTRACK\nCOMMIT\n\
         *filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:LOGDROP - [0:0]\n\
         [0:0] -A INPUT -i lo -j ACCEPT\n\
         [0:0] -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\n\
         [0:0] -A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT\n\
         [0:0] -A INPUT -j LOGDROP\n\
         [0:0] -A LOGDROP -j LOG --log-prefix \"drop: \"\n\
         [0:0] -A LOGDROP -j DROP\nCOMMIT\n"
    );
    // `set -e` is skipped with a warning; the shebang is a comment.
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    assert_eq!(
        l.warnings[0].to_string(),
        "fw.sh:2: warning: skipped `set -e': not an iptables command"
    );
    assert_eq!(detect_format(script), Format::Script);
}

#[test]
fn program_names_families_and_long_options() {
    let script = "iptables-legacy --append INPUT --protocol tcp --source 1.2.3.4 --jump ACCEPT\n\
                  iptables-nft --table nat --append POSTROUTING --out-interface eth0 --jump MASQUERADE\n\
                  sudo /sbin/ip6tables --insert INPUT --in-interface lo --jump ACCEPT\n\
                  ip6tables-nft -A INPUT --match state --state NEW --goto X || true\n\
                  ip6tables -N X; ip6tables -A INPUT -d 2001:db8::/32 -j X\n";
    let l = load(script, "s").unwrap();
    assert_eq!(
        l.v4.builtin_rules(TableName::Filter, Hook::Input)[0].spec(),
        "-s 1.2.3.4/32 -p tcp -j ACCEPT"
    );
    assert_eq!(
        l.v4.builtin_rules(TableName::Nat, Hook::Postrouting)[0].spec(),
        "-o eth0 -j MASQUERADE"
    );
    let v6 = l.v6.builtin_rules(TableName::Filter, Hook::Input);
    assert_eq!(v6.len(), 2);
    assert_eq!(v6[0].spec(), "-i lo -j ACCEPT");
    assert_eq!(v6[1].spec(), "-d 2001:db8::/32 -j X");
    // The goto to a chain that did not exist yet failed, but `|| true` made it a warning.
    assert!(
        l.warnings.iter().any(
            |w| w.message.contains("Chain 'X' does not exist") && w.message.contains("ignored")
        )
    );
}

#[test]
fn continuations_comments_and_skipped_lines() {
    let script = "modprobe nf_conntrack\n\
                  echo \"loading\" > /dev/null\n\
                  \n\
                  # a comment\n\
                  iptables -A INPUT -p tcp \\\n  --dport 80 \\\n  -j ACCEPT   # web\n\
                  iptables -L -n\n\
                  iptables-restore < /etc/iptables/rules.v4\n";
    let l = load(script, "s").unwrap();
    let r = &l.v4.builtin_rules(TableName::Filter, Hook::Input)[0];
    assert_eq!(r.spec(), "-p tcp -m tcp --dport 80 -j ACCEPT");
    assert_eq!(r.location.line, 5);
    let w: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "s:1: warning: skipped `modprobe nf_conntrack': not an iptables command",
            "s:2: warning: skipped `echo loading': not an iptables command",
            "s:8: warning: -L does not change the rule set; ignored",
            "s:9: warning: skipped `iptables-restore': iptables-restore/save is not followed; load its input file on its own",
        ]
    );
}

#[test]
fn shell_expansions_are_refused() {
    let e = refuse_script("iptables -A INPUT -s $TRUSTED -j ACCEPT\n");
    assert!(e.to_string().contains("shell expansion"));
}

#[test]
fn delete_by_number_flush_zero_rename_and_delete_chains() {
    let script = "iptables -A INPUT -c 5 50 -j ACCEPT\n\
                  iptables -A INPUT -c 6 60 -j DROP\n\
                  iptables -D INPUT 1\n\
                  iptables -N A\niptables -N B\n\
                  iptables -A A -j B\niptables -A INPUT -j A\n\
                  iptables -E B C\n\
                  iptables -Z INPUT\n\
                  iptables -F A\n\
                  iptables -D INPUT 2\n\
                  iptables -X\n";
    let l = load(script, "s").unwrap();
    let t = l.v4.table(TableName::Filter);
    let input = &t.builtin(Hook::Input).unwrap().rules;
    assert_eq!(input.len(), 1);
    assert_eq!(input[0].target, Target::Drop);
    assert_eq!(input[0].counters, crate::rules::Counters::default());
    assert_eq!(t.user_chains().count(), 0);
}

#[test]
fn rename_updates_jumps() {
    let l = load(
        "iptables -N OLD\niptables -A INPUT -j OLD\niptables -E OLD NEW\n",
        "s",
    )
    .unwrap();
    let r = &l.v4.builtin_rules(TableName::Filter, Hook::Input)[0];
    assert_eq!(r.spec(), "-j NEW");
    assert_eq!(r.target.chain().unwrap().index, 3);
}

#[test]
fn multiple_addresses_expand_like_iptables() {
    // Recorded: -s 1.2.3.4,5.6.7.8 -d 9.9.9.9 saves as two rules, sources outermost.
    let l = load(
        "iptables -A OUTPUT -s 1.2.3.4,5.6.7.8 -d 9.9.9.9,8.8.8.8 -j ACCEPT\n",
        "s",
    )
    .unwrap();
    let specs: Vec<String> =
        l.v4.builtin_rules(TableName::Filter, Hook::Output)
            .iter()
            .map(|r| r.spec())
            .collect();
    assert_eq!(
        specs,
        [
            "-s 1.2.3.4/32 -d 9.9.9.9/32 -j ACCEPT",
            "-s 1.2.3.4/32 -d 8.8.8.8/32 -j ACCEPT",
            "-s 5.6.7.8/32 -d 9.9.9.9/32 -j ACCEPT",
            "-s 5.6.7.8/32 -d 8.8.8.8/32 -j ACCEPT",
        ]
    );
    // -D with the same addresses removes them all.
    let l = load(
        "iptables -A OUTPUT -s 1.2.3.4,5.6.7.8 -j ACCEPT\niptables -D OUTPUT -s 1.2.3.4,5.6.7.8 -j ACCEPT\n",
        "s",
    )
    .unwrap();
    assert!(
        l.v4.builtin_rules(TableName::Filter, Hook::Output)
            .is_empty()
    );
}

#[test]
fn feature_listing_for_modules() {
    let l = load(
        "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n\
         iptables -A INPUT -p tcp --dport 22 -m limit --limit 1/s -j ACCEPT\n",
        "s",
    )
    .unwrap();
    let f: Vec<(String, &str, bool)> =
        l.v4.features()
            .into_iter()
            .map(|f| (f.feature, f.kernel_module, f.needs_conntrack))
            .collect();
    assert_eq!(
        f,
        [
            ("nat table".to_string(), "iptable_nat", true),
            ("NAT target MASQUERADE".to_string(), "xt_MASQUERADE", true),
            ("filter table".to_string(), "iptable_filter", false),
            ("tcp match".to_string(), "xt_tcpudp", false),
            ("limit match".to_string(), "xt_limit", false),
            ("ACCEPT target".to_string(), "ip_tables", false),
        ]
    );
}
