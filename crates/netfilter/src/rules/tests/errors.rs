//! Every refusal, with its location and message.

use super::*;

fn one(e: &RuleErrors) -> String {
    assert_eq!(e.0.len(), 1, "{e}");
    e.0[0].to_string()
}

#[test]
fn chain_missing_from_the_table() {
    let e = refuse_script("iptables -t raw -A INPUT -j ACCEPT\n");
    assert_eq!(
        one(&e),
        "fw.sh:1: error: `iptables -t raw -A INPUT -j ACCEPT': chain INPUT does not exist in table raw (its built-in chains are PREROUTING, OUTPUT)"
    );
    let e = refuse4("*raw\n-A INPUT -j ACCEPT\nCOMMIT\n");
    assert!(one(&e).starts_with(
        "t.rules:2: error: `-A INPUT -j ACCEPT': chain INPUT does not exist in table raw"
    ));
}

#[test]
fn bad_policies() {
    let e = refuse4("*filter\n:INPUT RETURN [0:0]\nCOMMIT\n");
    assert_eq!(
        one(&e),
        "t.rules:2: error: Bad policy name `RETURN' for chain INPUT (ACCEPT or DROP)"
    );
    let e = refuse4("*filter\n:MINE DROP [0:0]\nCOMMIT\n");
    assert!(one(&e).starts_with("t.rules:2: error: user chain MINE cannot have a policy (`DROP')"));
    let e = refuse_script("iptables -N MINE\niptables -P MINE DROP\n");
    assert!(
        one(&e).starts_with("fw.sh:2: error: `iptables -P MINE DROP': Bad built-in chain name")
    );
    let e = refuse_script("iptables -P INPUT REJECT\n");
    assert!(one(&e).contains("Bad policy name `REJECT'"));
    let e = refuse4("*filter\n:INPUT ACCEPT [x:0]\nCOMMIT\n");
    assert!(one(&e).contains("invalid policy counters for chain 'INPUT'"));
}

#[test]
fn unknown_matches_options_and_missing_values() {
    let cases = [
        (
            "-A INPUT -m foo -j ACCEPT",
            "Couldn't load match `foo':No such file or directory",
        ),
        (
            "-A INPUT --dport 80 -j ACCEPT",
            "unknown option \"--dport\"",
        ),
        (
            "-A INPUT -p tcp --foo 80 -j ACCEPT",
            "unknown option \"--foo\"",
        ),
        ("-A INPUT -s", "option \"-s\" requires an argument"),
        (
            "-A INPUT -p icmp --icmpv6-type 1",
            "unknown option \"--icmpv6-type\"",
        ),
        ("-A INPUT -m tcp --dport 5", "TCP match requires '-p tcp'"),
        (
            "-A INPUT -p udp -m tcp --dport 5",
            "TCP match requires '-p tcp'",
        ),
        ("-A INPUT -j ACCEPT extra", "Bad argument `extra'"),
        (
            "-A INPUT -j ACCEPT -j DROP",
            "multiple -j flags not allowed",
        ),
        (
            "-A INPUT -m comment ! --comment x",
            "comment: option \"--comment\" cannot be inverted.",
        ),
        (
            "-A INPUT -m state",
            "state: option \"--state\" must be specified",
        ),
        (
            "-A INPUT -m hashlimit --hashlimit-upto 1/sec",
            "hashlimit: option \"--hashlimit-name\" must be specified",
        ),
        (
            "-A INPUT -m recent --set --rcheck",
            "recent: option \"--set\" cannot be used together with \"--rcheck\".",
        ),
        ("-A INPUT -m limit --limit 3/hours", "bad rate \"3/hours\""),
        (
            "-A INPUT -m limit --limit 100000/sec",
            "Rate too fast \"100000/sec\"",
        ),
        (
            "-A INPUT -p udp -m multiport --dports 53,http",
            "invalid port/service `http' specified",
        ),
        (
            "-A INPUT -m multiport ! --ports 1,2 -p udp",
            "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
        ),
        (
            "-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15,16",
            "too many ports specified",
        ),
        ("-A INPUT -j LOG --log-level 8", "log level \"8\" unknown"),
        ("-A INPUT -m conntrack --ctstate FOO", "Bad ctstate \"FOO\""),
        ("-A INPUT -i lo+ ! -o x", "Can't use -o with INPUT"),
        (
            "-A INPUT -i abcdefghijklmnopq",
            "interface name `abcdefghijklmnopq' must be shorter than IFNAMSIZ (15)",
        ),
        (
            "-A INPUT -j QUEUE",
            "target QUEUE is not supported by ctguard",
        ),
    ];
    for (line, msg) in cases {
        let e = refuse4(&format!("*filter\n{line}\nCOMMIT\n"));
        assert_eq!(
            one(&e),
            format!("t.rules:2: error: `{line}': {msg}"),
            "{line}"
        );
    }
}

#[test]
fn bad_addresses_ports_and_numbers() {
    let cases = [
        (
            "-A INPUT -s 1.2.3.400 -j ACCEPT",
            "host/network `1.2.3.400' not found",
        ),
        (
            "-A INPUT -s 1.2.3.4/33 -j ACCEPT",
            "invalid mask `33' specified",
        ),
        (
            "-A INPUT -p tcp --dport 70000 -j ACCEPT",
            "invalid port/service `70000' specified",
        ),
        (
            "-A INPUT -p tcp --dport 90:80 -j ACCEPT",
            "invalid portrange (min > max)",
        ),
        (
            "-A INPUT -m mark --mark 4294967296",
            "mark: bad integer value for option \"--mark\", or out of range.",
        ),
        (
            "-A INPUT -m length --length 70000",
            "length: bad value for option \"--length\" near \"70000\", or out of range (0-65535).",
        ),
    ];
    for (line, msg) in cases {
        let e = refuse4(&format!("*filter\n{line}\nCOMMIT\n"));
        assert_eq!(
            one(&e),
            format!("t.rules:2: error: `{line}': {msg}"),
            "{line}"
        );
    }
}

#[test]
fn jumps_to_missing_or_builtin_chains() {
    let e = refuse4("*filter\n-A INPUT -j FOO\nCOMMIT\n");
    assert_eq!(
        one(&e),
        "t.rules:2: error: filter INPUT rule 1 `-A INPUT -j FOO': Chain 'FOO' does not exist"
    );
    let e = refuse4("*filter\n-A INPUT -j OUTPUT\nCOMMIT\n");
    assert!(one(&e).contains("cannot jump to built-in chain OUTPUT"));
    let e = refuse_script("iptables -A INPUT -j LATER\niptables -N LATER\n");
    assert_eq!(
        one(&e),
        "fw.sh:1: error: `iptables -A INPUT -j LATER': Chain 'LATER' does not exist"
    );
}

#[test]
fn loops_reachable_from_a_builtin_chain() {
    let e =
        refuse4("*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n-A INPUT -j A\nCOMMIT\n");
    assert_eq!(
        one(&e),
        "t.rules:5: error: filter B rule 1 `-A B -j A': jumping to A makes a loop (A -> B -> A); the kernel refuses loops (Too many links)"
    );
    // Recorded: a loop no built-in chain reaches is accepted.
    load4("*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -g A\nCOMMIT\n");
    let e = refuse4("*filter\n:A - [0:0]\n-A A -g A\n-A FORWARD -j A\nCOMMIT\n");
    assert!(one(&e).contains("(A -> A)"));
}

#[test]
fn targets_in_the_wrong_table_or_hook() {
    let cases = [
        (
            "*filter\n-A INPUT -j NOTRACK\nCOMMIT\n",
            "filter INPUT rule 1 `-A INPUT -j NOTRACK': the NOTRACK target is only valid in the raw table, not in filter",
        ),
        (
            "*mangle\n-A PREROUTING -j CT --notrack\nCOMMIT\n",
            "mangle PREROUTING rule 1 `-A PREROUTING -j CT --notrack': the CT target is only valid in the raw table, not in mangle",
        ),
        (
            "*nat\n-A PREROUTING -j SNAT --to-source 1.2.3.4\nCOMMIT\n",
            "nat PREROUTING rule 1 `-A PREROUTING -j SNAT --to-source 1.2.3.4': the SNAT target is not allowed in PREROUTING; the kernel allows it only in POSTROUTING, INPUT",
        ),
        (
            "*nat\n-A POSTROUTING -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
            "nat POSTROUTING rule 1 `-A POSTROUTING -j DNAT --to-destination 1.2.3.4': the DNAT target is not allowed in POSTROUTING; the kernel allows it only in PREROUTING, OUTPUT",
        ),
        (
            "*nat\n-A OUTPUT -j MASQUERADE\nCOMMIT\n",
            "nat OUTPUT rule 1 `-A OUTPUT -j MASQUERADE': the MASQUERADE target is not allowed in OUTPUT; the kernel allows it only in POSTROUTING",
        ),
        (
            "*nat\n-A INPUT -p tcp -j REDIRECT\nCOMMIT\n",
            "nat INPUT rule 1 `-A INPUT -p tcp -j REDIRECT': the REDIRECT target is not allowed in INPUT; the kernel allows it only in PREROUTING, OUTPUT",
        ),
        (
            "*mangle\n-A INPUT -j REJECT\nCOMMIT\n",
            "mangle INPUT rule 1 `-A INPUT -j REJECT': the REJECT target is only valid in the filter table, not in mangle",
        ),
        (
            "*filter\n-A INPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
            "filter INPUT rule 1 `-A INPUT -j DNAT --to-destination 1.2.3.4': the DNAT target is only valid in the nat table, not in filter",
        ),
    ];
    for (text, msg) in cases {
        let e = refuse4(text);
        assert_eq!(one(&e), format!("t.rules:2: error: {msg}"));
    }
}

#[test]
fn hook_restrictions_follow_user_chains_to_every_builtin_that_reaches_them() {
    let e = refuse4(
        "*nat\n:X - [0:0]\n-A X -j SNAT --to-source 1.2.3.4\n-A POSTROUTING -j X\n-A PREROUTING -j X\nCOMMIT\n",
    );
    assert_eq!(
        one(&e),
        "t.rules:3: error: nat X rule 1 `-A X -j SNAT --to-source 1.2.3.4': the SNAT target is not allowed in PREROUTING (chain X is reached from PREROUTING, POSTROUTING); the kernel allows it only in POSTROUTING, INPUT"
    );
    // Reached only from POSTROUTING: fine.
    load4("*nat\n:X - [0:0]\n-A X -j SNAT --to-source 1.2.3.4\n-A POSTROUTING -j X\nCOMMIT\n");
    // REJECT in a user chain reached from FORWARD and OUTPUT is fine.
    load4("*filter\n:R - [0:0]\n-A R -j REJECT\n-A FORWARD -j R\n-A OUTPUT -j R\nCOMMIT\n");
    let e = refuse4("*filter\n-A INPUT -m addrtype --dst-type LOCAL --limit-iface-out\nCOMMIT\n");
    assert!(
        one(&e).contains("addrtype: output interface limitation not valid in PREROUTING and INPUT")
    );
}

#[test]
fn target_option_checks() {
    let e = refuse4("*filter\n-A FORWARD -j REJECT --reject-with tcp-reset\nCOMMIT\n");
    assert!(one(&e).contains("REJECT --reject-with tcp-reset needs `-p tcp'"));
    let e = refuse4("*nat\n-A POSTROUTING -j SNAT --to-source 1.2.3.4:80\nCOMMIT\n");
    assert!(one(&e).ends_with("Need TCP, UDP, SCTP or DCCP with port specification"));
    let e = refuse4("*nat\n-A POSTROUTING -j SNAT\nCOMMIT\n");
    assert!(one(&e).ends_with("SNAT: option \"--to-source\" must be specified"));
    let e = refuse4("*raw\n-A PREROUTING -j CT --helper ftp\nCOMMIT\n");
    assert!(one(&e).contains("CT option --helper is not supported"));
}

#[test]
fn chain_deletion_rules() {
    let e = refuse_script("iptables -N A\niptables -A INPUT -j A\niptables -X A\n");
    assert_eq!(
        one(&e),
        "fw.sh:3: error: `iptables -X A': cannot delete chain A: it is referenced by 1 rule(s), first filter INPUT rule 1 (iptables: Too many links)"
    );
    let e = refuse_script("iptables -N A\niptables -A A -j ACCEPT\niptables -X A\n");
    assert!(one(&e).contains("cannot delete chain A: it has 1 rule(s); flush it first with -F A"));
    let e = refuse_script("iptables -X INPUT\n");
    assert!(one(&e).contains("cannot delete built-in chain INPUT"));
}

#[test]
fn deleting_and_inserting_out_of_range() {
    let e = refuse_script("iptables -D INPUT -p tcp --dport 23 -j ACCEPT\n");
    assert!(one(&e).contains("Bad rule (does a matching rule exist in that chain?)"));
    let e = refuse_script("iptables -A INPUT -j ACCEPT\niptables -D INPUT 2\n");
    assert!(
        one(&e).starts_with("fw.sh:2: error: `iptables -D INPUT 2': Index of deletion too big")
    );
    let e = refuse4("*filter\n-I INPUT 3 -j ACCEPT\nCOMMIT\n");
    assert!(one(&e).contains("Index of insertion too big"));
}

#[test]
fn table_block_structure() {
    let e = refuse4("*filter\n-A INPUT -j ACCEPT\n");
    assert_eq!(
        one(&e),
        "t.rules:3: error: COMMIT expected at the end of the file: table filter (opened at line 1) is not committed"
    );
    let e = refuse4("*filter\nCOMMIT\n*filter\nCOMMIT\n");
    assert!(
        one(&e)
            .starts_with("t.rules:3: error: table filter appears a second time (first at line 1)")
    );
    let e = refuse4("*foo\nCOMMIT\n");
    assert!(one(&e).starts_with("t.rules:1: error: table name 'foo' invalid"));
    let e = refuse4("-A INPUT -j ACCEPT\n");
    assert!(one(&e).contains("is outside a table block"));
    let e = refuse4("*filter\n-t nat -A INPUT -j ACCEPT\nCOMMIT\n");
    assert!(one(&e).contains("The -t option cannot be used in iptables-restore"));
}

#[test]
fn chain_names() {
    let e = refuse4("*filter\n-N ACCEPT\nCOMMIT\n");
    assert!(one(&e).ends_with("chain name may not clash with target name"));
    let e = refuse4("*filter\n-N abcdefghijabcdefghijabcdefghi\nCOMMIT\n");
    assert!(one(&e).contains("too long (must be under 29 chars)"));
    load4("*filter\n-N abcdefghijabcdefghijabcdefgh\nCOMMIT\n");
    let e = refuse4("*filter\n-N -foo\nCOMMIT\n");
    assert!(one(&e).ends_with("chain name not allowed to start with `-'"));
}

#[test]
fn all_errors_are_collected_in_line_order() {
    let e = refuse4(
        "*filter\n-A INPUT -m foo\n-A INPUT -s 300.0.0.1\n-A INPUT -j NOTRACK\n-A INPUT -j ACCEPT\nCOMMIT\n",
    );
    let lines: Vec<u32> = e.0.iter().map(|x| x.location.line).collect();
    assert_eq!(lines, [2, 3]);
    // Kernel checks run once the lines parse.
    let e = refuse4("*filter\n-A INPUT -j NOTRACK\n-A OUTPUT -j NOTRACK\nCOMMIT\n");
    assert_eq!(e.0.len(), 2);
}

#[test]
fn ip6tables_specifics() {
    let e = load_save("*filter\n-A INPUT -f\nCOMMIT\n", "t6", Family::V6).unwrap_err();
    assert!(one(&e).ends_with("`-f' is not supported in IPv6, use -m frag instead"));
    let e = load_save(
        "*filter\n-A INPUT -m ttl --ttl-eq 3\nCOMMIT\n",
        "t6",
        Family::V6,
    )
    .unwrap_err();
    assert!(one(&e).ends_with("Couldn't load match `ttl':No such file or directory"));
    let e = refuse4("*filter\n-A INPUT -m hl --hl-eq 3\nCOMMIT\n");
    assert!(one(&e).ends_with("Couldn't load match `hl':No such file or directory"));
    let e = load_save(
        "*filter\n-A INPUT -p icmpv6 --icmpv6-type any\nCOMMIT\n",
        "t6",
        Family::V6,
    )
    .unwrap_err();
    assert!(one(&e).ends_with("Unknown ICMPv6 type `any'"));
    let e = load_save(
        "*filter\n-A INPUT -p icmp --icmp-type 8\nCOMMIT\n",
        "t6",
        Family::V6,
    )
    .unwrap_err();
    assert!(one(&e).ends_with("unknown option \"--icmp-type\""));
}
