//! The router's probe rules: counters at each step of a packet's way through the router, read
//! after every packet to tell what the kernel did with it. The `ct state` rules are also what
//! makes the kernel track at all (tracking starts only once a rule needs it).
//!
//! | counter     | hook and priority                | a packet counted here …            |
//! |-------------|----------------------------------|------------------------------------|
//! | ingress     | netdev ingress on rtr-c / rtr-s  | reached the router                 |
//! | early       | prerouting −450 (before defrag)  | passed the IP layer's checks       |
//! | tracked     | prerouting −300 (after defrag)   | is a whole datagram, about to be tracked |
//! | local       | output −500, tagged `r` packets  | is one of the recorder's own packets, about to enter OUTPUT |
//! | NEW … UNTRACKED | forward, input and output −151 (just before iptables' mangle), one `ct state` rule each (output: tagged `r` packets only) | had that state |
//! | delivered   | input 2147483647, after conntrack's confirm hook | was delivered locally (then dropped: the sink) |
//! | out         | postrouting 2147483647, tagged in forward | was forwarded                  |
//! | sent        | postrouting 2147483647, tagged `r` packets | was sent out by the router     |
//! | egress-c, egress-s | netdev egress on rtr-c / rtr-s, IPv4 and IPv6 | the router transmitted an IP packet there |
//!
//! Packets are tagged with the skb priority, not the mark, so that the rules under test see and
//! set marks undisturbed: the recorder's raw socket sends `r` packets with `SO_PRIORITY`
//! [`TAG_LOCAL`], and the forward probe sets [`TAG_FORWARD`] on every forwarded packet.
//!
//! **The sink.** The chains at priority 2147483647 (NF_IP_PRI_LAST) live in their own table,
//! `inet ctguard_sink`, installed *before* the probe table. Hooks of equal priority run in the
//! reverse order of registration (a new hook goes before the existing ones of its priority), and
//! conntrack registers its hooks when the probe table's `ct state` rules first need them, after
//! the sink: so conntrack's confirm hook (also 2147483647) runs first, then the sink. A packet
//! delivered locally is thus confirmed (it shows in /proc/net/nf_conntrack) and then dropped,
//! so the router's own stack never answers it (no RST from a closed port, no port unreachable).
//! [`self_test`] checks this on every new topology.

use std::io;
use std::time::{Duration, Instant};

use ctguard_scenario::topology::{ROUTER_CLIENT_IF, ROUTER_SERVER_IF};
use ctguard_scenario::{CtState, Scenario, Side, Verdict};

use crate::inject::Injector;
use crate::netns::Netns;
use crate::table;

/// The skb priority of the recorder's own (`r`) packets ("ctlo").
pub const TAG_LOCAL: u32 = 0x6374_6c6f;
/// The skb priority the forward probe gives forwarded packets ("ctfw").
pub const TAG_FORWARD: u32 = 0x6374_6677;

/// `meta priority` as nft writes it: `MAJOR:MINOR` in hex.
fn nft_priority(tag: u32) -> String {
    format!("{:x}:{:x}", tag >> 16, tag & 0xffff)
}

/// The tables, in the order they are installed (the sink before the probe: see the module
/// documentation).
const TABLES: [&str; 3] = [
    "inet ctguard_sink",
    "netdev ctguard_ingress",
    "inet ctguard",
];

fn sink_ruleset() -> String {
    let (fwd, local) = (nft_priority(TAG_FORWARD), nft_priority(TAG_LOCAL));
    format!(
        "table inet ctguard_sink {{\n\
  chain sink {{\n    type filter hook input priority 2147483647; policy accept;\n    iifname {{ \"{ROUTER_CLIENT_IF}\", \"{ROUTER_SERVER_IF}\" }} counter comment \"delivered\"\n    drop\n  }}\n\
  chain leaving {{\n    type filter hook postrouting priority 2147483647; policy accept;\n    meta priority {fwd} counter comment \"out\"\n    meta priority {local} counter comment \"sent\"\n  }}\n\
}}\n"
    )
}

fn ruleset() -> String {
    let device = |name: &str, hook: &str, dev: &str, rule: &str| {
        format!(
            "  chain {name} {{\n    type filter hook {hook} device \"{dev}\" priority -500; policy accept;\n    {rule}\n  }}\n"
        )
    };
    let local = nft_priority(TAG_LOCAL);
    let states = |only: &str| {
        let mut text = String::new();
        for state in CtState::ALL {
            let s = state.as_str();
            text.push_str(&format!(
                "    {only}ct state {} counter comment \"{s}\"\n",
                s.to_lowercase()
            ));
        }
        text
    };
    let egress = |name: &str| format!("meta protocol {{ ip, ip6 }} counter comment \"{name}\"");
    format!(
        "table netdev ctguard_ingress {{\n{}{}{}{}}}\n\
table inet ctguard {{\n\
  chain probe_early {{\n    type filter hook prerouting priority -450; policy accept;\n    counter comment \"early\"\n  }}\n\
  chain probe_tracked {{\n    type filter hook prerouting priority -300; policy accept;\n    counter comment \"tracked\"\n  }}\n\
  chain probe_local {{\n    type filter hook output priority -500; policy accept;\n    meta priority {local} counter comment \"local\"\n  }}\n\
  chain probe_state {{\n    type filter hook forward priority -151; policy accept;\n{}    meta priority set {}\n  }}\n\
  chain probe_state_in {{\n    type filter hook input priority -151; policy accept;\n{}  }}\n\
  chain probe_state_out {{\n    type filter hook output priority -151; policy accept;\n{}  }}\n\
}}\n",
        device(
            "from_client",
            "ingress",
            ROUTER_CLIENT_IF,
            "counter comment \"ingress\""
        ),
        device(
            "from_server",
            "ingress",
            ROUTER_SERVER_IF,
            "counter comment \"ingress\""
        ),
        device("to_client", "egress", ROUTER_CLIENT_IF, &egress("egress-c")),
        device("to_server", "egress", ROUTER_SERVER_IF, &egress("egress-s")),
        states(""),
        nft_priority(TAG_FORWARD),
        states(""),
        states(&format!("meta priority {local} ")),
    )
}

/// Installs the probe rules in the router (replacing earlier ones): the sink first, then the
/// probe, whose `ct state` rules register conntrack's hooks after the sink's.
pub fn install(router: &Netns) -> io::Result<()> {
    for table in TABLES {
        let words: Vec<&str> = ["delete", "table"]
            .into_iter()
            .chain(table.split(' '))
            .collect();
        // Absent on a fresh router: the error is expected and ignored.
        let _ = router.command("nft", &words, None);
    }
    router.command("nft", &["-f", "-"], Some(&sink_ruleset()))?;
    router.command("nft", &["-f", "-"], Some(&ruleset()))?;
    Ok(())
}

/// Whether an nft table (`FAMILY NAME`) is one of the recorder's.
pub fn is_probe_table(family_and_name: &str) -> bool {
    TABLES.contains(&family_and_name)
}

/// Checks that a locally delivered packet is confirmed before the sink drops it: sends a UDP
/// datagram from the client to the router, which must show in the table. Leaves the table empty.
pub fn self_test(router: &Netns, client: &Injector) -> Result<(), String> {
    let io = |e: io::Error| e.to_string();
    let probe = Scenario::parse("sink-self-test", "c udp 10.99.1.100:9 > 10.99.1.1:9 len=4")
        .map_err(|e| e.to_string())?;
    let frame = &probe.packets[0].frame;
    table::flush(router).map_err(io)?;
    let before = read(router).map_err(io)?;
    client.send(frame).map_err(io)?;
    let start = Instant::now();
    let after = loop {
        let now = read(router).map_err(io)?;
        if now.delivered != before.delivered || start.elapsed() > Duration::from_secs(1) {
            break now;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let entries = table::entries(router).map_err(io)?;
    table::flush(router).map_err(io)?;
    if after.delivered == before.delivered {
        return Err("sink self-test: a packet to 10.99.1.1 was not delivered locally".into());
    }
    if !entries.iter().any(|e| e.contains("dport=9 ")) {
        return Err(
            "sink self-test: a locally delivered packet was not confirmed: the input sink runs \
             before conntrack's confirm hook (was conntrack already registered when the sink \
             was installed?)"
                .into(),
        );
    }
    Ok(())
}

/// The probe counters (packets), cumulative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub ingress: u64,
    pub early: u64,
    pub tracked: u64,
    /// Indexed like [`CtState::ALL`]; summed over the forward, input and output probes.
    pub states: [u64; 5],
    pub out: u64,
    pub local: u64,
    pub delivered: u64,
    pub sent: u64,
    /// IP packets the router transmitted on rtr-c and rtr-s.
    pub egress: [u64; 2],
}

/// Reads the counters.
pub fn read(router: &Netns) -> io::Result<Counters> {
    let output = router.command("nft", &["list", "ruleset"], None)?;
    parse(&String::from_utf8_lossy(&output.stdout)).map_err(io::Error::other)
}

/// How many counters the ruleset has: two ingress, early, tracked, five states in each of
/// three hooks, local, delivered, out, sent, two egress.
const COUNTERS: usize = 25;

/// Parses `counter packets N bytes M comment "NAME"` lines of `nft list ruleset`.
fn parse(listing: &str) -> Result<Counters, String> {
    let mut counters = Counters::default();
    let mut seen = 0;
    for line in listing.lines() {
        let Some((_, after)) = line.split_once("counter packets ") else {
            continue;
        };
        let Some((packets, _)) = after.split_once(' ') else {
            continue;
        };
        let Some((_, comment)) = after.split_once("comment \"") else {
            continue;
        };
        let name = comment.trim_end().trim_end_matches('"');
        let packets: u64 = packets
            .parse()
            .map_err(|_| format!("bad counter in nft output: {line}"))?;
        let slot = match name {
            "ingress" => &mut counters.ingress,
            "early" => &mut counters.early,
            "tracked" => &mut counters.tracked,
            "out" => &mut counters.out,
            "local" => &mut counters.local,
            "delivered" => &mut counters.delivered,
            "sent" => &mut counters.sent,
            "egress-c" => &mut counters.egress[0],
            "egress-s" => &mut counters.egress[1],
            state => match CtState::ALL.iter().position(|s| s.as_str() == state) {
                Some(at) => &mut counters.states[at],
                None => continue,
            },
        };
        *slot += packets;
        seen += 1;
    }
    if seen != COUNTERS {
        return Err(format!(
            "found {seen} of the {COUNTERS} probe counters in the router's ruleset: was it changed?"
        ));
    }
    Ok(counters)
}

/// Whether the packet from `side` has arrived: reached the router's ingress, or, for the
/// router's own packets, entered OUTPUT.
pub fn arrived(side: Side, before: &Counters, now: &Counters) -> bool {
    match side {
        Side::Router => now.local != before.local,
        Side::Client | Side::Server => now.ingress != before.ingress,
    }
}

/// What one packet from `side` did, from the counters before and after it.
pub fn classify(
    side: Side,
    before: &Counters,
    after: &Counters,
) -> Result<(Verdict, Option<CtState>), String> {
    let d = |a: u64, b: u64| a.saturating_sub(b);
    let ingress = d(after.ingress, before.ingress);
    let local = d(after.local, before.local);
    let (expect_ingress, expect_local) = match side {
        Side::Router => (0, 1),
        Side::Client | Side::Server => (1, 0),
    };
    if ingress != expect_ingress || local != expect_local {
        return Err(format!(
            "the router received {ingress} packets and originated {local} of the recorder's \
             for one {} packet: it is not idle",
            side.letter()
        ));
    }
    if side != Side::Router {
        if d(after.early, before.early) == 0 {
            // Dropped by the IP layer's checks (header checksum, lengths) before netfilter.
            return Ok((Verdict::Drop, None));
        }
        if d(after.tracked, before.tracked) == 0 {
            return Ok((Verdict::Held, None));
        }
    }
    let mut state = None;
    for (at, s) in CtState::ALL.into_iter().enumerate() {
        match d(after.states[at], before.states[at]) {
            0 => {}
            1 if state.is_none() => state = Some(s),
            n => return Err(format!("{n} packets counted as {s} for one injected")),
        }
    }
    let passed = match side {
        Side::Router => d(after.sent, before.sent) > 0,
        Side::Client | Side::Server => {
            d(after.out, before.out) > 0 || d(after.delivered, before.delivered) > 0
        }
    };
    let verdict = if passed {
        Verdict::Accept
    } else {
        Verdict::Drop
    };
    Ok((verdict, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing like `nft list ruleset` prints, with every counter.
    fn listing() -> String {
        let mut text = String::from(
            r#"table netdev ctguard_ingress {
	chain from_client {
		type filter hook ingress device "rtr-c" priority -500; policy accept;
		counter packets 3 bytes 180 comment "ingress"
	}
	chain from_server {
		type filter hook ingress device "rtr-s" priority -500; policy accept;
		counter packets 2 bytes 120 comment "ingress"
	}
	chain to_client {
		meta protocol { ip, ip6 } counter packets 6 bytes 120 comment "egress-c"
	}
	chain to_server {
		meta protocol { ip, ip6 } counter packets 7 bytes 120 comment "egress-s"
	}
}
table inet ctguard {
	chain probe_early {
		counter packets 5 bytes 300 comment "early"
	}
	chain probe_tracked {
		counter packets 4 bytes 300 comment "tracked"
	}
	chain probe_local {
		meta priority 6374:6c6f counter packets 2 bytes 80 comment "local"
	}
"#,
        );
        for (chain, counts) in [
            ("probe_state", [1, 2, 0, 1, 0]),
            ("probe_state_in", [1, 0, 0, 0, 1]),
            ("probe_state_out", [0, 1, 0, 0, 1]),
        ] {
            text.push_str(&format!("\tchain {chain} {{\n"));
            for (state, n) in CtState::ALL.iter().zip(counts) {
                text.push_str(&format!(
                    "\t\tct state {} counter packets {n} bytes 0 comment \"{}\"\n",
                    state.as_str().to_lowercase(),
                    state.as_str()
                ));
            }
            text.push_str("\t}\n");
        }
        text.push_str(
            r#"}
table inet ctguard_sink {
	chain sink {
		iifname { "rtr-c", "rtr-s" } counter packets 1 bytes 40 comment "delivered"
		drop
	}
	chain leaving {
		meta priority 6374:6677 counter packets 4 bytes 220 comment "out"
		meta priority 6374:6c6f counter packets 2 bytes 80 comment "sent"
	}
}"#,
        );
        text
    }

    #[test]
    fn parses_the_listing() {
        let c = parse(&listing()).unwrap();
        assert_eq!((c.ingress, c.early, c.tracked, c.out), (5, 5, 4, 4));
        assert_eq!((c.local, c.delivered, c.sent), (2, 1, 2));
        assert_eq!(c.egress, [6, 7]);
        assert_eq!(c.states, [2, 3, 0, 1, 2]);
        assert!(parse("table inet x {}").is_err());
    }

    #[test]
    fn the_rulesets_have_every_counter() {
        let text = ruleset() + &sink_ruleset();
        assert_eq!(text.matches("counter comment").count(), COUNTERS);
        assert!(text.contains("meta priority 6374:6c6f counter comment \"local\""));
        assert!(text.contains("meta priority set 6374:6677"));
    }

    #[test]
    fn classifies() {
        let base = Counters::default();
        let step = |side: Side, f: &dyn Fn(&mut Counters)| {
            let mut c = base;
            match side {
                Side::Router => c.local = 1,
                _ => c.ingress = 1,
            }
            f(&mut c);
            classify(side, &base, &c).unwrap()
        };
        let c = Side::Client;
        assert_eq!(step(c, &|_| {}), (Verdict::Drop, None));
        assert_eq!(step(c, &|c| c.early = 1), (Verdict::Held, None));
        assert_eq!(
            step(c, &|c| {
                c.early = 1;
                c.tracked = 1;
                c.states[3] = 1;
                c.out = 1;
            }),
            (Verdict::Accept, Some(CtState::Invalid))
        );
        assert_eq!(
            step(c, &|c| {
                c.early = 1;
                c.tracked = 1;
            }),
            (Verdict::Drop, None)
        );
        assert_eq!(
            step(c, &|c| {
                c.early = 1;
                c.tracked = 1;
                c.states[0] = 1;
                c.delivered = 1;
            }),
            (Verdict::Accept, Some(CtState::New))
        );
        let r = Side::Router;
        assert_eq!(
            step(r, &|c| {
                c.states[4] = 1;
                c.sent = 1;
            }),
            (Verdict::Accept, Some(CtState::Untracked))
        );
        assert_eq!(step(r, &|_| {}), (Verdict::Drop, None));
        assert!(classify(c, &base, &base).is_err());
        let mut wrong = base;
        wrong.ingress = 1;
        assert!(classify(r, &base, &wrong).is_err());
    }
}
