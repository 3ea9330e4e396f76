//! REJECT's ICMP replies obey the host's ICMP rate limits: a burst of six to one destination,
//! then one per `icmp_ratelimit` (recorded on Linux 6.18: ten port-unreachable errors in a
//! burst to one destination gave six replies). TCP resets are never limited.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl, Verdict};
use ctguard_netfilter::Family;
use ctguard_netfilter::pipeline::{Host, Output, Pipeline};
use ctguard_netfilter::rules;
use ctguard_scenario::{Scenario, topology};

const RULES: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A FORWARD -p udp -j REJECT --reject-with icmp-port-unreachable\n\
-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\nCOMMIT\n";

fn pipeline() -> Pipeline {
    let l = rules::load_save(RULES, "rules", Family::V4).expect("loads");
    let host = Host::from_parts(&topology::ROUTER_NETS, &topology::ROUTER_ROUTES);
    Pipeline::new(Sysctl::default(), l.v4, l.v6, host)
}

/// Sends `n` packets `spacing` seconds apart; returns how many replies left the router.
fn replies(p: &mut Pipeline, line: &str, n: usize, spacing: f64) -> usize {
    let text = format!("spacing {spacing}\nrepeat {n} {line}\n");
    let scn = Scenario::parse("burst", &text).expect("scenario");
    let mut sent = 0;
    for pk in &scn.packets {
        let d = p.receive(
            "rtr-c",
            LinkType::Ethernet,
            &pk.frame,
            Instant::from_secs_f64(pk.time),
        );
        assert_eq!(d.verdict, Verdict::Drop, "REJECT drops the packet");
        while let Some(o) = p.poll_output() {
            if matches!(o, Output::Transmit { .. }) {
                sent += 1;
            }
        }
    }
    sent
}

#[test]
fn ten_errors_in_a_burst_give_six_replies() {
    let mut p = pipeline();
    let n = replies(
        &mut p,
        "c udp 10.99.1.100:{5000+i} > 10.99.2.100:53 len=10",
        10,
        0.01,
    );
    assert_eq!(n, 6);
}

#[test]
fn one_more_error_per_second_after_the_burst() {
    let mut p = pipeline();
    // 20 packets 0.25 s apart over 5 s: 6 at once, then one each 1000 ms (4 more, give or
    // take the token the first second has refilled). Only the burst of six was recorded;
    // the refill rate is the kernel source's (icmp_ratelimit, inet_peer_xrlim_allow).
    let n = replies(
        &mut p,
        "c udp 10.99.1.100:{5000+i} > 10.99.2.100:53 len=10",
        20,
        0.25,
    );
    assert!((10..=11).contains(&n), "{n}");
}

#[test]
fn the_limit_can_be_turned_off_and_resets_are_never_limited() {
    let mut p = pipeline();
    assert_eq!(p.set_host_sysctl("net.ipv4.icmp_ratelimit", "0"), Ok(true));
    assert_eq!(p.set_host_sysctl("net.ipv4.ip_forward", "1"), Ok(false));
    let n = replies(
        &mut p,
        "c udp 10.99.1.100:{5000+i} > 10.99.2.100:53 len=10",
        10,
        0.01,
    );
    assert_eq!(n, 10);
    let mut p = pipeline();
    let n = replies(
        &mut p,
        "c tcp 10.99.1.100:{5000+i} > 10.99.2.100:80 S seq=1",
        10,
        0.01,
    );
    assert_eq!(n, 10);
}
