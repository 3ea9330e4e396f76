//! ctguard-record: plays conformance scenarios through the real kernel's conntrack and writes
//! their goldens; or (`pcap`) replays a capture through the kernel's router and records which
//! frames it forwarded. Needs root; run conformance/record.sh or record-pcap.sh rather than
//! this binary.

mod capture;
mod inject;
mod kmsg;
mod netns;
mod packet_socket;
mod pcap;
mod probe;
mod record;
mod rules;
mod sysctl;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use ctguard_scenario::{Scenario, Side};

use crate::record::{Lab, STOP};

const USAGE: &str = "\
usage: ctguard-record [--prefix P] [--out DIR] [--topology SCRIPT] [--attempts N] SCENARIO.scn...

Plays each scenario through the kernel in the router namespace P-r (client P-c, server P-s,
set up by conformance/record.sh) and writes DIR/NAME.golden.
  --prefix P     namespace prefix (default ctg)
  --out DIR      where goldens go (default conformance/goldens)
  --topology S   conformance/topology.sh: with it, each run of a repeat-runs scenario, and
                 each scenario with rules or local traffic, gets fresh namespaces (a new
                 conntrack hash seed, no ICMP rate-limit state); without it, they share one
  --attempts N   tries per scenario when the recording fails (default 3)

usage: ctguard-record pcap [--prefix P] --topology SCRIPT [--runs N] --server PREFIX
                           --rules FILE [--sysctl FILE] --out DIR PCAP

Replays PCAP (e.g. from `ctguard simulate --write-pcap`) through the router P-r, paced by its
timestamps, N times (default 3), each on fresh namespaces made with SCRIPT, and writes
DIR/kernel-run-K.forwarded (one character a frame: 1 forwarded, 0 not, - skipped as not
IPv4) and DIR/kernel-run-K.json (counts, `conntrack -S`, nf_conntrack_count).
  --server PREFIX  IPv4 frames to PREFIX enter from the client side (cli0 -> rtr-c), all
                   others from the server side (srv0 -> rtr-s); the router's default route
                   points to the client side
  --rules FILE     iptables-save file loaded into the router
  --sysctl FILE    sysctl.conf lines: nf_conntrack_max / _buckets / nf_log_all_netns go to the
                   init namespace (restored afterwards), the rest to the router; ctguard-only
                   keys (nf_conntrack_policy*, nf_conntrack_protect_*) are skipped";

struct Args {
    prefix: String,
    out: PathBuf,
    attempts: u32,
    topology: Option<PathBuf>,
    scenarios: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        prefix: "ctg".into(),
        out: PathBuf::from("conformance/goldens"),
        attempts: 3,
        topology: None,
        scenarios: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--prefix" => args.prefix = value("--prefix")?,
            "--out" => args.out = value("--out")?.into(),
            "--topology" => args.topology = Some(value("--topology")?.into()),
            "--attempts" => {
                args.attempts = value("--attempts")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10).contains(n))
                    .ok_or("--attempts takes 1–10")?;
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ => args.scenarios.push(arg.into()),
        }
    }
    if args.scenarios.is_empty() {
        return Err("no scenario given".into());
    }
    Ok(args)
}

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

fn open_lab(prefix: &str) -> Result<Lab, String> {
    let open = |suffix: char| netns::Netns::open(&format!("{prefix}-{suffix}"));
    let io = |e: std::io::Error| e.to_string();
    let router = open('r').map_err(io)?;
    let client_ns = open(Side::Client.letter()).map_err(io)?;
    let server_ns = open(Side::Server.letter()).map_err(io)?;
    let client = inject::Injector::open(&client_ns, Side::Client.host_interface()).map_err(io)?;
    let server = inject::Injector::open(&server_ns, Side::Server.host_interface()).map_err(io)?;
    let local = inject::LocalSender::open(&router, probe::TAG_LOCAL).map_err(io)?;
    // Rules left by an interrupted recording would register conntrack before the sink.
    rules::reset(&router).map_err(io)?;
    probe::install(&router).map_err(io)?;
    probe::self_test(&router, &client)?;
    let capture = [
        capture::Capture::open(&client_ns, Side::Client.host_interface()).map_err(io)?,
        capture::Capture::open(&server_ns, Side::Server.host_interface()).map_err(io)?,
    ];
    let log = kmsg::KernelLog::open(router.inode().map_err(io)?).map_err(io)?;
    Ok(Lab {
        router,
        client,
        server,
        local,
        capture,
        log,
    })
}

/// Tears the topology down and sets it up again with the topology script.
fn renew_lab(script: &Path, prefix: &str) -> Result<Lab, String> {
    for action in ["down", "up"] {
        let status = std::process::Command::new(script)
            .args([action, prefix])
            .status()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !status.success() {
            return Err(format!("`{} {action} {prefix}` failed", script.display()));
        }
    }
    open_lab(prefix)
}

fn write_golden(out: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("{name}.golden"));
    let partial = out.join(format!(".{name}.golden.partial"));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

fn run(args: &Args) -> Result<usize, String> {
    if !netns::in_init_namespace().map_err(|e| e.to_string())? {
        return Err("run me in the init network namespace (global sysctls are set there)".into());
    }
    let scenarios = args
        .scenarios
        .iter()
        .map(Scenario::load)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if args.topology.is_none() && scenarios.iter().any(|s| s.runs > 1) {
        eprintln!(
            "ctguard-record: without --topology, the runs of repeat-runs share one hash seed"
        );
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("kernel release: {e}"))?
        .trim()
        .to_string();
    install_signal_handlers();
    let mut lab = open_lab(&args.prefix)?;
    let renew = args
        .topology
        .as_deref()
        .map(|script| move || renew_lab(script, &args.prefix));
    let mut failed = 0;
    // Whether the topology has carried a scenario since it was set up.
    let mut lab_used = false;
    for scenario in &scenarios {
        // The router keeps state between scenarios that tables and flushes do not reset: the
        // per-destination ICMP rate limit (inetpeer tokens) above all, which decides whether a
        // REJECT's ICMP error is sent. Scenarios that need the pipeline get a fresh topology.
        if scenario.needs_pipeline()
            && lab_used
            && let Some(renew) = &renew
        {
            lab = renew()?;
        }
        lab_used = true;
        let mut attempt = 1;
        let golden = loop {
            match record::record(
                &mut lab,
                renew.as_ref().map(|f| f as record::Renew<'_>),
                scenario,
                &kernel,
            ) {
                Ok(recording) => break Some(recording),
                Err(e) if STOP.load(Ordering::Relaxed) => return Err(e),
                Err(e) if attempt < args.attempts => {
                    eprintln!("{}: attempt {attempt} failed: {e}; retrying", scenario.name);
                    attempt += 1;
                }
                Err(e) => {
                    eprintln!("{}: FAILED: {e}", scenario.name);
                    break None;
                }
            }
        };
        let Some(record::Recording {
            golden,
            slowest_read,
        }) = golden
        else {
            failed += 1;
            continue;
        };
        let path = write_golden(&args.out, &scenario.name, &golden.write())
            .map_err(|e| format!("writing the golden of {}: {e}", scenario.name))?;
        let first = golden
            .runs
            .first()
            .map(|r| r.tally.clone())
            .unwrap_or_default();
        println!(
            "{:<30} {:>3} packets: {} accepted, {} dropped, {} held; {} entries; tables read <= {} ms after their packet -> {}",
            scenario.name,
            golden.packets.len(),
            first.accept,
            first.drop,
            first.held,
            first.entries,
            slowest_read.as_millis(),
            path.display()
        );
    }
    Ok(failed)
}

/// `ctguard-record pcap …`.
fn pcap_main(argv: Vec<String>) -> ExitCode {
    let args = match pcap::args::parse(argv) {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("ctguard-record: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    install_signal_handlers();
    match pcap::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ctguard-record: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    if argv.next().as_deref() == Some("pcap") {
        return pcap_main(argv.collect());
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("ctguard-record: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!("ctguard-record: {failed} scenario(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ctguard-record: {e}");
            ExitCode::FAILURE
        }
    }
}
