//! `ctguard demo`: the seed's incident under five configurations, side by side.

use std::path::Path;

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Sysctl, Verdict};
use ctguard_netfilter::rules;
use ctguard_replay::incident::{Incident, SEED_FILTER, SERVER};
use ctguard_replay::{Config, Replayer, plot};

/// The seed's raw-table lines, as written there.
const NOTRACK: &str = "\
/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
";

/// The seed's fix 1, as its sysctl.conf has it.
const FIX1: &str = "\
net.ipv4.ip_conntrack_max = 393216
net.ipv4.netfilter.ip_conntrack_max = 393216
net.ipv4.netfilter.ip_conntrack_tcp_timeout_established = 300
net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait = 120
net.ipv4.netfilter.ip_conntrack_tcp_timeout_close_wait = 60
net.ipv4.netfilter.ip_conntrack_tcp_timeout_fin_wait = 120
";

/// One configuration's outcome.
pub struct Row {
    pub name: &'static str,
    pub max: u32,
    pub peak: u32,
    pub full_drops: u64,
    pub legit_ok: u32,
    pub legit: u32,
    /// The rule set was refused (fix 2 with state rules).
    pub refused: Option<String>,
}

/// The traffic and limits, scaled down by `scale` (1: the real thing).
pub fn incident(scale: u32) -> (Incident, u32) {
    let s = scale.max(1);
    (
        Incident {
            seconds: 60,
            attack_rate: 1500 / s,
            legit_rate: (20 / s).max(1),
        },
        65536 / s,
    )
}

fn script(parts: &[&str]) -> String {
    parts.concat()
}

pub fn rows(scale: u32, plots: Option<&Path>) -> Result<Vec<Row>, String> {
    let (inc, max) = incident(scale);
    let packets = inc.packets();
    let base = Sysctl {
        max,
        buckets: max,
        ..Sysctl::default()
    };
    let mut fix1 = base.clone();
    let conf = ctguard_conntrack::sysctl::conf::parse("fix1.conf", FIX1);
    fix1.apply_conf(&conf)
        .map_err(|_| "fix 1 settings refused".to_string())?;
    if scale > 1 {
        fix1.max /= scale;
    }
    let fixed_filter =
        SEED_FILTER.replace("RELATED,ESTABLISHED ", "RELATED,ESTABLISHED,UNTRACKED ");
    let configs: [(&'static str, Sysctl, String, bool); 5] = [
        (
            "1 defaults (max 65536, established 5 days)",
            base.clone(),
            script(&[SEED_FILTER]),
            true,
        ),
        (
            "2 fix 1: sysctl max 393216, established 300 s",
            fix1,
            script(&[SEED_FILTER]),
            true,
        ),
        (
            "3 fix 2: no connection tracking",
            base.clone(),
            script(&[SEED_FILTER]),
            false,
        ),
        (
            "4 fix 3: NOTRACK port 80, no UNTRACKED rule",
            base.clone(),
            script(&[NOTRACK, SEED_FILTER]),
            true,
        ),
        (
            "5 fix 3: NOTRACK port 80, UNTRACKED accepted",
            base,
            script(&[NOTRACK, &fixed_filter]),
            true,
        ),
    ];
    let mut out = Vec::new();
    for (i, (name, sysctl, rules_text, tracking)) in configs.into_iter().enumerate() {
        let loaded = rules::load_script(&rules_text, "rules.sh").map_err(|e| e.to_string())?;
        let mut cfg = Config::new(sysctl.clone());
        cfg.rules4 = loaded.v4;
        cfg.rules6 = loaded.v6;
        cfg.local = vec![SERVER.into()];
        cfg.tracking = tracking;
        let mut r = match Replayer::new(&cfg, &[]) {
            Ok(r) => r,
            Err(e) => {
                out.push(Row {
                    name,
                    max: sysctl.max,
                    peak: 0,
                    full_drops: 0,
                    legit_ok: 0,
                    legit: inc.legit_connections(),
                    refused: Some(e.to_string()),
                });
                continue;
            }
        };
        let mut failed = vec![false; inc.legit_connections() as usize];
        for p in &packets {
            let v = r.packet(p.time, LinkType::Ethernet, None, &p.frame, false);
            if let Some(i) = p.legit
                && v.decision.verdict == Verdict::Drop
            {
                failed[i as usize] = true;
            }
        }
        let s = r.summary();
        if let Some(dir) = plots {
            let file = dir.join(format!("demo-{}.svg", i + 1));
            std::fs::write(&file, plot::svg(name, &s.timeline, s.max))
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
        out.push(Row {
            name,
            max: sysctl.max,
            peak: s.peak,
            full_drops: s.full_drops,
            legit_ok: failed.iter().filter(|f| !**f).count() as u32,
            legit: inc.legit_connections(),
            refused: None,
        });
    }
    Ok(out)
}

pub fn run(scale: u32, plots: &Path) -> Result<(), String> {
    let (inc, max) = incident(scale);
    println!(
        "The seed's incident: a web server (10.0.0.1:80) with nf_conntrack_max {max}. For {} s a crowd opens {} connections a second,",
        inc.seconds, inc.attack_rate
    );
    println!(
        "sends a request and vanishes without closing; {} legitimate clients a second make whole exchanges.\n",
        inc.legit_rate
    );
    std::fs::create_dir_all(plots).map_err(|e| format!("{}: {e}", plots.display()))?;
    let rows = rows(scale, Some(plots))?;
    println!(
        "{:<48} {:>16} {:>12} {:>18}",
        "configuration", "peak / max", "table-full", "legit completed"
    );
    for r in &rows {
        match &r.refused {
            Some(_) => println!(
                "{:<48} {:>16} {:>12} {:>18}",
                r.name, "-", "-", "rules refused"
            ),
            None => println!(
                "{:<48} {:>16} {:>12} {:>18}",
                r.name,
                format!("{} / {}", r.peak, r.max),
                r.full_drops,
                format!("{} / {}", r.legit_ok, r.legit)
            ),
        }
    }
    for r in &rows {
        if let Some(e) = &r.refused {
            println!(
                "\n{}: the rule set does not load without nf_conntrack:\n{e}",
                r.name
            );
        }
    }
    println!("\nplots: {}/demo-1.svg ... demo-5.svg", plots.display());
    Ok(())
}
