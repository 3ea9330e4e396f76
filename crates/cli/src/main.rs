//! `ctguard`: see what Linux connection tracking does with your traffic.

mod demo;
mod settings;

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
    /// Play a packet sequence through the tracker and print its verdicts and table
    /// (default: a built-in web server whose table fills up).
    Demo {
        /// A scenario file (conformance/scenarios/*.scn syntax) instead of the built-in one.
        #[arg(long, value_name = "FILE")]
        scenario: Option<PathBuf>,
        /// Print the table after every packet, not only at the end.
        #[arg(long)]
        each: bool,
    },
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
    }) {
        Command::Demo { scenario, each } => demo::run(scenario.as_deref(), each),
        Command::Sysctl { conf } => settings::run(&conf),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctguard: {e}");
            ExitCode::from(2)
        }
    }
}
