//! `ctguard demo`: a scenario through the engine, printed as the kernel would show it.

use std::path::Path;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, Event, Instant, Sysctl, Verdict};
use ctguard_scenario::Scenario;

const BUILT_IN: &str = include_str!("demo.scn");

pub fn run(path: Option<&Path>, each: bool) -> Result<(), String> {
    let scenario = match path {
        Some(p) => Scenario::load(p).map_err(|e| e.to_string())?,
        None => Scenario::parse("demo", BUILT_IN).map_err(|e| e.to_string())?,
    };
    if scenario.needs_pipeline() {
        return crate::demo_rules::run(&scenario, each);
    }
    let mut sysctl = Sysctl::default();
    for (k, v) in scenario.global_sysctl.iter().chain(&scenario.sysctl) {
        sysctl
            .set(k, v)
            .map_err(|e| format!("{}: {e}", scenario.name))?;
    }
    let mut ct = Conntrack::new(sysctl);
    println!(
        "scenario {}: {}",
        scenario.name,
        scenario.description.lines().next().unwrap_or("")
    );
    println!(
        "nf_conntrack_max={} buckets={}\n",
        ct.sysctl().max,
        ct.buckets()
    );
    let mut now = Instant::ZERO;
    for p in &scenario.packets {
        now = Instant::from_secs_f64(p.time);
        let out = ct.process(LinkType::Ethernet, &p.frame, now);
        let state = out.ctstate.map_or("-", |s| s.name());
        let verdict = match out.verdict {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Held => "HELD",
        };
        println!("#{:<3} {:<6} {:<11} {}", p.index, verdict, state, p.text);
        while let Some(ev) = ct.poll_event() {
            if let Event::Log { line, .. } = ev {
                println!("     kernel: {line}");
            }
        }
        if each {
            print_table(&mut ct, now);
        }
    }
    if !each {
        println!();
        print_table(&mut ct, now);
    }
    println!("conntrack -S:\n{}", ct.stats().conntrack_s_line(0));
    Ok(())
}

pub fn print_table(ct: &mut Conntrack, now: Instant) {
    let lines = ct.proc_lines(now);
    println!("/proc/net/nf_conntrack ({} entries):", lines.len());
    for l in lines {
        println!("{l}");
    }
    println!();
}
