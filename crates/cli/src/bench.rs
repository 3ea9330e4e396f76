//! `ctguard bench`: the named workloads, timed.

use std::path::PathBuf;

use ctguard_bench::{Params, Workload};
use ctguard_conntrack::sysctl::Policy;

#[derive(clap::Args)]
pub struct Args {
    /// Workloads to run: ovs-udp-1flow, tcp-lifecycle, established-1m, syn-flood,
    /// ruleset-N (e.g. ruleset-10000), replay; or `all`.
    #[arg(value_name = "WORKLOAD", default_value = "all")]
    workloads: Vec<String>,
    /// Threads, each with its own shard of the table.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Packets to time (per thread for ovs-udp-1flow, as OVS counts them); each workload
    /// has its own default.
    #[arg(long, value_name = "N")]
    packets: Option<u64>,
    /// Packets per batch (ovs-udp-1flow).
    #[arg(long, value_name = "B", default_value_t = 32)]
    batch: usize,
    /// Connections (tcp-lifecycle, established-1m) or the table's size (syn-flood).
    #[arg(long, value_name = "N")]
    conns: Option<u64>,
    /// A capture for the replay workload instead of the generated one.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Run each workload this many times (one line each).
    #[arg(long, value_name = "R", default_value_t = 1)]
    repeat: u32,
    /// One JSON object per run, on its own line.
    #[arg(long)]
    json: bool,
    /// The table policy (`nf_conntrack_policy`): kernel or protect.
    #[arg(long, default_value = "kernel", value_parser = parse_policy)]
    policy: Policy,
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    Policy::parse(s).ok_or_else(|| format!("{s:?}: the policy is kernel or protect"))
}

pub fn run(a: &Args) -> Result<(), String> {
    let list: Vec<Workload> = if a.workloads.iter().any(|w| w == "all") {
        Workload::ALL.to_vec()
    } else {
        a.workloads
            .iter()
            .map(|w| w.parse())
            .collect::<Result<_, _>>()?
    };
    if a.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    let mut p = Params::new();
    p.threads = a.threads;
    p.packets = a.packets;
    p.batch = a.batch;
    p.conns = a.conns;
    p.pcap = a.pcap.clone();
    p.scratch = std::env::temp_dir().join("ctguard-bench");
    p.policy = a.policy;
    for w in list {
        for _ in 0..a.repeat.max(1) {
            let r = w.run(&p).map_err(|e| format!("bench {w}: {e}"))?;
            if a.json {
                println!("{}", r.to_json());
            } else {
                println!("{r}");
            }
        }
    }
    Ok(())
}
