//! The router's probe rules: counters at each step of the forward path, read after every packet
//! to tell what the kernel did with it. The `ct state` rules are also what makes the kernel
//! track at all (tracking starts only once a rule needs it).
//!
//! | counter     | hook and priority                | a packet counted here …            |
//! |-------------|----------------------------------|------------------------------------|
//! | ingress     | netdev ingress on rtr-c / rtr-s  | reached the router                 |
//! | early       | prerouting −450 (before defrag)  | passed the IP layer's checks       |
//! | tracked     | prerouting −300 (after defrag)   | is a whole datagram, about to be tracked |
//! | NEW … UNTRACKED | forward −150 (mangle), one `ct state` rule each | had that state |
//! | out         | postrouting −150, marked in forward | was forwarded                   |

use std::io;

use ctguard_scenario::topology::{ROUTER_CLIENT_IF, ROUTER_SERVER_IF};
use ctguard_scenario::{CtState, Verdict};

use crate::netns::Netns;

/// Marks packets that went through the forward hook, so that the router's own packets (MLD
/// reports and the like) are not counted as forwarded.
const FORWARD_MARK: &str = "0x00637467";

fn ruleset() -> String {
    let ingress = |name: &str, dev: &str| {
        format!(
            "  chain {name} {{\n    type filter hook ingress device \"{dev}\" priority -500; policy accept;\n    counter comment \"ingress\"\n  }}\n"
        )
    };
    let mut states = String::new();
    for state in CtState::ALL {
        let s = state.as_str();
        states.push_str(&format!(
            "    ct state {} counter comment \"{s}\"\n",
            s.to_lowercase()
        ));
    }
    format!(
        "table netdev ctguard_ingress {{\n{}{}}}\n\
table inet ctguard {{\n\
  chain probe_early {{\n    type filter hook prerouting priority -450; policy accept;\n    counter comment \"early\"\n  }}\n\
  chain probe_tracked {{\n    type filter hook prerouting priority -300; policy accept;\n    counter comment \"tracked\"\n  }}\n\
  chain probe_state {{\n    type filter hook forward priority -150; policy accept;\n{states}    meta mark set {FORWARD_MARK}\n  }}\n\
  chain probe_out {{\n    type filter hook postrouting priority -150; policy accept;\n    meta mark {FORWARD_MARK} counter comment \"out\"\n  }}\n\
}}\n",
        ingress("from_client", ROUTER_CLIENT_IF),
        ingress("from_server", ROUTER_SERVER_IF),
    )
}

/// Installs the probe rules in the router (replacing earlier ones).
pub fn install(router: &Netns) -> io::Result<()> {
    for table in ["netdev ctguard_ingress", "inet ctguard"] {
        let words: Vec<&str> = ["delete", "table"]
            .into_iter()
            .chain(table.split(' '))
            .collect();
        // Absent on a fresh router: the error is expected and ignored.
        let _ = router.command("nft", &words, None);
    }
    router.command("nft", &["-f", "-"], Some(&ruleset()))?;
    Ok(())
}

/// The probe counters (packets), cumulative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub ingress: u64,
    pub early: u64,
    pub tracked: u64,
    /// Indexed like [`CtState::ALL`].
    pub states: [u64; 5],
    pub out: u64,
}

/// Reads the counters.
pub fn read(router: &Netns) -> io::Result<Counters> {
    let output = router.command("nft", &["list", "ruleset"], None)?;
    parse(&String::from_utf8_lossy(&output.stdout)).map_err(io::Error::other)
}

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
            state => match CtState::ALL.iter().position(|s| s.as_str() == state) {
                Some(at) => &mut counters.states[at],
                None => continue,
            },
        };
        *slot += packets;
        seen += 1;
    }
    // Two ingress counters, early, tracked, five states, out.
    if seen != 10 {
        return Err(format!(
            "found {seen} of the 10 probe counters in the router's ruleset: was it changed?"
        ));
    }
    Ok(counters)
}

/// What one packet did, from the counters before and after it.
pub fn classify(before: &Counters, after: &Counters) -> Result<(Verdict, Option<CtState>), String> {
    let d = |a: u64, b: u64| a.saturating_sub(b);
    let ingress = d(after.ingress, before.ingress);
    if ingress != 1 {
        return Err(format!(
            "the router received {ingress} packets for one injected: it is not idle"
        ));
    }
    if d(after.early, before.early) == 0 {
        // Dropped by the IP layer's checks (header checksum, lengths) before netfilter.
        return Ok((Verdict::Drop, None));
    }
    if d(after.tracked, before.tracked) == 0 {
        return Ok((Verdict::Held, None));
    }
    let mut state = None;
    for (at, s) in CtState::ALL.into_iter().enumerate() {
        match d(after.states[at], before.states[at]) {
            0 => {}
            1 if state.is_none() => state = Some(s),
            n => return Err(format!("{n} packets counted as {s} for one injected")),
        }
    }
    let verdict = if d(after.out, before.out) > 0 {
        Verdict::Accept
    } else {
        Verdict::Drop
    };
    Ok((verdict, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"table netdev ctguard_ingress {
	chain from_client {
		type filter hook ingress device "rtr-c" priority -500; policy accept;
		counter packets 3 bytes 180 comment "ingress"
	}
	chain from_server {
		type filter hook ingress device "rtr-s" priority -500; policy accept;
		counter packets 2 bytes 120 comment "ingress"
	}
}
table inet ctguard {
	chain probe_early {
		counter packets 5 bytes 300 comment "early"
	}
	chain probe_tracked {
		counter packets 4 bytes 300 comment "tracked"
	}
	chain probe_state {
		ct state new counter packets 1 bytes 60 comment "NEW"
		ct state established counter packets 2 bytes 120 comment "ESTABLISHED"
		ct state related counter packets 0 bytes 0 comment "RELATED"
		ct state invalid counter packets 1 bytes 40 comment "INVALID"
		ct state untracked counter packets 0 bytes 0 comment "UNTRACKED"
		meta mark set 0x00637467
	}
	chain probe_out {
		meta mark 0x00637467 counter packets 4 bytes 220 comment "out"
	}
}"#;

    #[test]
    fn parses_the_listing() {
        let c = parse(LISTING).unwrap();
        assert_eq!((c.ingress, c.early, c.tracked, c.out), (5, 5, 4, 4));
        assert_eq!(c.states, [1, 2, 0, 1, 0]);
        assert!(parse("table inet x {}").is_err());
    }

    #[test]
    fn the_ruleset_has_every_counter() {
        let text = ruleset();
        assert_eq!(text.matches("counter comment").count(), 10);
    }

    #[test]
    fn classifies() {
        let base = Counters::default();
        let step = |f: &dyn Fn(&mut Counters)| {
            let mut c = base;
            c.ingress = 1;
            f(&mut c);
            classify(&base, &c).unwrap()
        };
        assert_eq!(step(&|_| {}), (Verdict::Drop, None));
        assert_eq!(step(&|c| c.early = 1), (Verdict::Held, None));
        assert_eq!(
            step(&|c| {
                c.early = 1;
                c.tracked = 1;
                c.states[3] = 1;
                c.out = 1;
            }),
            (Verdict::Accept, Some(CtState::Invalid))
        );
        assert_eq!(
            step(&|c| {
                c.early = 1;
                c.tracked = 1;
            }),
            (Verdict::Drop, None)
        );
        assert!(classify(&base, &base).is_err());
    }
}
