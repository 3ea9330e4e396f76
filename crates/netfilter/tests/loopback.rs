//! Local traffic to the host's own addresses leaves by `lo` and comes back in through
//! PREROUTING and INPUT with the connection it got in OUTPUT: it is tracked once, and raw
//! rules on `lo` (the seed's `-A PREROUTING -i lo -j NOTRACK`) leave it alone.

use ctguard_conntrack::{Sysctl, Verdict};
use ctguard_netfilter::Family;
use ctguard_netfilter::pipeline::{Host, Output, Path, Pipeline};
use ctguard_netfilter::rules;
use ctguard_scenario::Scenario;

fn syn() -> Vec<u8> {
    let scn = Scenario::parse("lo", "r tcp 127.0.0.1:40000 > 127.0.0.1:80 S seq=1\n").unwrap();
    scn.packets[0].ip_packet().to_vec()
}

fn run(script: &str) -> (Pipeline, Vec<String>) {
    let l = rules::load_script(script, "lo.sh").expect("loads");
    let mut sysctl = Sysctl::default();
    sysctl.set("net.netfilter.nf_conntrack_acct", "1").unwrap();
    let mut p = Pipeline::new(sysctl, l.v4, l.v6, Host::new());
    let d = p.send(&syn(), ctguard_conntrack::Instant::from_nanos(1));
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(d.path, Some(Path::Output));
    let mut logs = Vec::new();
    while let Some(o) = p.poll_output() {
        match o {
            Output::Log { line, .. } => logs.push(line),
            Output::Table(_) => {}
            Output::Transmit { iface, .. } => panic!("nothing leaves the host, sent on {iface}"),
        }
    }
    (p, logs)
}

#[test]
fn tracked_once_and_seen_as_new_in_input() {
    let (mut p, logs) = run(
        "iptables -A INPUT -i lo -m state --state NEW -j LOG --log-prefix 'in-new '\n\
         iptables -A OUTPUT -o lo -m state --state NEW -j LOG --log-prefix 'out-new '\n",
    );
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs[0].starts_with("out-new IN= OUT=lo "), "{logs:?}");
    assert!(logs[1].starts_with("in-new IN=lo OUT= "), "{logs:?}");
    let ct = p.conntrack_mut().unwrap();
    let lines = ct.proc_lines(ctguard_conntrack::Instant::from_nanos(2));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains(" packets=1 bytes=40 "),
        "counted once: {lines:?}"
    );
}

#[test]
fn the_seeds_lo_notrack_rules_leave_it_untracked_and_accepted() {
    let (p, logs) = run("/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK\n\
         /sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK\n\
         /sbin/iptables -A INPUT -m state --state UNTRACKED -j LOG --log-prefix 'untracked '\n");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("untracked IN=lo "));
    assert_eq!(p.conntrack().unwrap().count(), 0);
    let counters = rules::save(p.rules(Family::V4));
    assert!(
        counters.contains("[1:40] -A PREROUTING -i lo -j NOTRACK"),
        "the rule matches, and changes nothing: {counters}"
    );
}

#[test]
fn a_drop_in_input_after_the_loop_is_the_packets_fate() {
    let l = rules::load_script(
        "iptables -A INPUT -i lo -p tcp --dport 80 -j DROP\n",
        "lo.sh",
    )
    .expect("loads");
    let mut p = Pipeline::new(Sysctl::default(), l.v4, l.v6, Host::new());
    let d = p.send(&syn(), ctguard_conntrack::Instant::from_nanos(1));
    assert_eq!(d.verdict, Verdict::Drop);
    assert_eq!(d.path, Some(Path::Input));
    assert_eq!(
        d.rule.map(|r| r.to_string()).as_deref(),
        Some("filter INPUT 1")
    );
}

#[test]
fn input_sees_the_entry_output_created_and_confirmed() {
    // CONNMARK in OUTPUT marks the new entry; back in over lo, INPUT reads that mark.
    let (_, logs) = run(
        "iptables -t mangle -A OUTPUT -o lo -j CONNMARK --set-mark 5\n\
         iptables -A INPUT -i lo -m connmark --mark 5 -j LOG --log-prefix 'marked '\n",
    );
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].starts_with("marked IN=lo "), "{logs:?}");
}
