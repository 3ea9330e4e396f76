//! `ctguard demo --scenario FILE` for scenarios with rule sets or packets to and from the
//! router: the whole pipeline (raw, conntrack, mangle, nat, filter) on the recorder's router.

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Instant, Sysctl, Verdict};
use ctguard_netfilter::Family;
use ctguard_netfilter::pipeline::{Host, Output, Pipeline};
use ctguard_netfilter::rules::{self, RuleSet};
use ctguard_scenario::{RuleFile, Scenario, Side, describe, topology};

fn load(file: Option<&RuleFile>, family: Family) -> Result<RuleSet, String> {
    let Some(f) = file else {
        return Ok(RuleSet::new(family));
    };
    let loaded = rules::load_save(&f.text, &f.path.display().to_string(), family)
        .map_err(|e| format!("{e}\nrule set refused; nothing was applied"))?;
    Ok(match family {
        Family::V4 => loaded.v4,
        Family::V6 => loaded.v6,
    })
}

pub fn run(scenario: &Scenario, each: bool) -> Result<(), String> {
    let mut sysctl = Sysctl::default();
    for (k, v) in scenario.global_sysctl.iter().chain(&scenario.sysctl) {
        // Settings outside the tracker (icmp_ratelimit, nf_log_all_netns) concern the host.
        if k.starts_with("net.netfilter.nf_conntrack") {
            sysctl
                .set(k, v)
                .map_err(|e| format!("{}: {e}", scenario.name))?;
        }
    }
    let v4 = load(scenario.rules.as_ref(), Family::V4)?;
    let v6 = load(scenario.rules6.as_ref(), Family::V6)?;
    let host = Host::from_parts(&topology::ROUTER_NETS, &topology::ROUTER_ROUTES);
    let mut p = Pipeline::new(sysctl, v4, v6, host);
    for (k, v) in &scenario.sysctl {
        p.set_host_sysctl(k, v)?;
    }
    println!(
        "scenario {}: {}",
        scenario.name,
        scenario.description.lines().next().unwrap_or("")
    );
    println!("router: rtr-c 10.99.1.1/24 fd00:99:1::1/64, rtr-s 10.99.2.1/24 fd00:99:2::1/64\n");
    let mut now = Instant::ZERO;
    for pk in &scenario.packets {
        now = Instant::from_secs_f64(pk.time);
        let d = match pk.side {
            Side::Router => p.send(pk.ip_packet(), now),
            side => p.receive(side.router_interface(), LinkType::Ethernet, &pk.frame, now),
        };
        let verdict = match d.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Held => "HELD",
        };
        let state = d.ctstate.map_or("-", |s| s.name());
        let by = d.rule.map(|r| format!("  [{r}]")).unwrap_or_default();
        println!(
            "#{:<3} {:<6} {:<11} {}{by}",
            pk.index, verdict, state, pk.text
        );
        while let Some(o) = p.poll_output() {
            match o {
                Output::Log { line, .. } => println!("     kernel: {line}"),
                Output::Table(_) => {}
                Output::Transmit { iface, packet } => {
                    println!("     sent on {iface}: {}", describe::packet(&packet))
                }
            }
        }
        if each && let Some(ct) = p.conntrack_mut() {
            crate::demo::print_table(ct, now);
        }
    }
    if let Some(ct) = p.conntrack_mut() {
        if !each {
            println!();
            crate::demo::print_table(ct, now);
        }
        println!("conntrack -S:\n{}", ct.stats().conntrack_s_line(0));
    }
    println!("\niptables-save -c:");
    print!("{}", rules::save(p.rules(Family::V4)));
    if !p.rules(Family::V6).is_empty() {
        println!("\nip6tables-save -c:");
        print!("{}", rules::save(p.rules(Family::V6)));
    }
    Ok(())
}
