//! Any input: no panic, only a clean error or a rule set.

use proptest::prelude::*;

use crate::hook::Family;
use crate::rules::{load, load_save, load_script, save};

const WORDS: &[&str] = &[
    "*filter",
    "*nat",
    "*raw",
    "*mangle",
    "COMMIT",
    ":INPUT",
    ":X",
    "ACCEPT",
    "DROP",
    "-",
    "[0:0]",
    "[1:2]",
    "-A",
    "-I",
    "-D",
    "-R",
    "-N",
    "-X",
    "-F",
    "-P",
    "-Z",
    "-E",
    "-t",
    "INPUT",
    "OUTPUT",
    "PREROUTING",
    "X",
    "-p",
    "tcp",
    "udp",
    "icmp",
    "-s",
    "-d",
    "10.0.0.0/8",
    "::1",
    "-i",
    "-o",
    "eth+",
    "-f",
    "!",
    "-m",
    "-j",
    "-g",
    "state",
    "--state",
    "NEW,ESTABLISHED",
    "conntrack",
    "--ctstate",
    "multiport",
    "--dports",
    "1,2:3",
    "--dport",
    "80",
    ":1023",
    "limit",
    "--limit",
    "3/s",
    "--limit-burst",
    "0",
    "hashlimit",
    "--hashlimit-upto",
    "--hashlimit-name",
    "recent",
    "--set",
    "--rcheck",
    "--seconds",
    "connlimit",
    "--connlimit-above",
    "LOG",
    "--log-prefix",
    "\"a b\"",
    "REJECT",
    "--reject-with",
    "tcp-reset",
    "SNAT",
    "--to-source",
    "1.2.3.4:80",
    "DNAT",
    "--to-destination",
    "[::1]:80",
    "NOTRACK",
    "CT",
    "--notrack",
    "MARK",
    "--set-mark",
    "0x1/0xf",
    "CONNMARK",
    "--save-mark",
    "iptables",
    "ip6tables",
    "\\",
    "\n",
    "'",
    "\"",
    "#",
    ";",
    "||",
    "$X",
    "-c",
    "5",
    "icmp6",
    "--icmpv6-type",
    "addrtype",
    "--dst-type",
    "LOCAL",
    "--limit-iface-out",
    "iprange",
    "--src-range",
    "1.1.1.1-1.1.1.2",
    "ttl",
    "--ttl-eq",
    "hl",
    "length",
    "--length",
    "comment",
    "--comment",
];

fn word_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..60)
        .prop_map(|w| w.join(" ").replace(" \n ", "\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let _ = load(&s, "f");
        let _ = load_save(&s, "f", Family::V6);
        let _ = load_script(&s, "f");
    }

    #[test]
    fn token_soup_never_panics_and_accepted_sets_save_and_reload(s in word_soup()) {
        for text in [s.clone(), format!("*filter\n{s}\nCOMMIT\n"), format!("iptables {s}")] {
            if let Ok(l) = load(&text, "f") {
                for rs in [&l.v4, &l.v6] {
                    let out = save(rs);
                    let again = load_save(&out, "saved", rs.family).map_err(|e| format!("{e}\n{out}"));
                    prop_assert!(again.is_ok(), "{}", again.unwrap_err());
                    prop_assert_eq!(save(again.unwrap().family(rs.family)), out);
                }
            }
        }
    }
}
