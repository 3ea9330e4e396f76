//! `ctguard`: see what Linux connection tracking does with your traffic.

mod bench;
mod check;
mod demo;
mod demo_incident;
mod demo_rules;
mod diff;
mod lint;
mod modules;
mod replay;
mod rulesets;
mod settings;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ctguard",
    version,
    about = "A userspace nf_conntrack: see what the kernel's connection tracker does with your traffic."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The seed's incident (a web server under a crowd that fills the table) under five
    /// configurations, side by side, with plots; or, with --scenario, a scenario file.
    Demo {
        /// A scenario file (conformance/scenarios/*.scn syntax) instead of the seed's incident.
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// With --scenario: print the table after every packet, not only at the end.
        #[arg(long)]
        each: bool,
        /// Where the incident's plots go (demo-1.svg ... demo-5.svg).
        #[arg(long, value_name = "DIR", default_value = "ctguard-demo")]
        plots: PathBuf,
        /// Scale the incident down by this factor (traffic and table alike), for a quick run.
        #[arg(long, value_name = "N", default_value_t = 1)]
        scale: u32,
    },
    /// Load iptables rule sets as iptables-restore would and report every refused rule
    /// as FILE:LINE: error: ...; nothing is applied when one rule is refused.
    Check {
        #[command(flatten)]
        files: rulesets::RuleFiles,
        /// Check as if nf_conntrack were removed (the seed's fix 2): rules that need it
        /// (state, conntrack, NAT, CT, NOTRACK, connlimit, CONNMARK) are refused.
        #[arg(long)]
        no_conntrack: bool,
        /// Print the loaded rule sets in iptables-save -c form.
        #[arg(long)]
        save: bool,
    },
    /// List the kernel modules the rule sets need, lsmod-style, and the rules that depend
    /// on connection tracking.
    Modules {
        #[command(flatten)]
        files: rulesets::RuleFiles,
    },
    /// Check rule sets and settings for the traps (NOTRACK without UNTRACKED, one-way
    /// NOTRACK, NAT on untracked traffic, legacy sysctl names, sizing, short timeouts,
    /// shadowed rules); exit status 1 when an error-level finding exists.
    Lint(lint::Args),
    /// Replay a capture (pcap, pcapng, gzip) through the rules and the tracker on the
    /// capture's own clock: what the table did, and what it would have needed.
    Replay(Box<replay::Args>),
    /// Replay a capture under two configurations and list the connections whose fate
    /// differs (accepted under one, dropped under the other; tracked or not), by service,
    /// with the deciding rule on each side.
    Diff(Box<diff::Args>),
    /// Simulate traffic from a TOML profile (web clients, SYN floods, DNS, scans, the seed's
    /// crowd) through the rules and the tracker, with replay's outputs; --write-pcap keeps
    /// the packets for replay or a real kernel.
    Simulate(Box<simulate::Args>),
    /// Time the engine on named workloads (OVS's UDP benchmark, a TCP mix, a million
    /// established connections, a SYN flood, large rule sets, replay): Mpps, ns per packet
    /// and bytes per connection, as text or --json. See BENCHMARKS.md.
    Bench(Box<bench::Args>),
    /// List every tracker setting with its value, as `sysctl -a` prints them; with
    /// `--conf`, after applying a sysctl.conf file (as `sysctl -p FILE`).
    Sysctl {
        /// A sysctl.conf file (legacy ip_conntrack names are mapped, with a notice).
        #[arg(long, value_name = "FILE")]
        conf: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Demo {
        scenario: None,
        each: false,
        plots: PathBuf::from("ctguard-demo"),
        scale: 1,
    }) {
        Command::Demo {
            scenario: Some(s),
            each,
            ..
        } => demo::run(Some(&s), each),
        Command::Demo { plots, scale, .. } => demo_incident::run(scale, &plots),
        Command::Sysctl { conf } => settings::run(&conf),
        Command::Check {
            files,
            no_conntrack,
            save,
        } => check::run(&files, no_conntrack, save),
        Command::Modules { files } => modules::run(&files),
        Command::Replay(args) => replay::run(&args).map_err(|replay::Unreadable(m)| m),
        Command::Diff(args) => diff::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Lint(args) => match lint::run(&args) {
            Ok(true) => return ExitCode::from(1),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctguard: {e}");
            ExitCode::from(2)
        }
    }
}
