//! What the kernel did with a scenario, as recorded by `ctguard-record`: per packet the verdict,
//! the conntrack state the forward path saw, the table afterwards and the kernel log lines; per
//! run the `conntrack -S` counters. See conformance/README.md for the text format.

use core::fmt;
use std::fmt::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::scenario::ProcMode;

/// What happened to a packet in the router.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Forwarded (it reached the router's postrouting hook).
    Accept,
    /// Dropped: by the IP layer before netfilter, by conntrack, or later.
    Drop,
    /// Kept by defragmentation, waiting for the rest of its datagram.
    Held,
}

/// The conntrack state a packet had in the forward hook (`ct state` / `--ctstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Accept, Verdict::Drop, Verdict::Held];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Held => "HELD",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == word)
    }
}

impl CtState {
    pub const ALL: [CtState; 5] = [
        CtState::New,
        CtState::Established,
        CtState::Related,
        CtState::Invalid,
        CtState::Untracked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CtState::New => "NEW",
            CtState::Established => "ESTABLISHED",
            CtState::Related => "RELATED",
            CtState::Invalid => "INVALID",
            CtState::Untracked => "UNTRACKED",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == word)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CtState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One packet's record (from the first run).
#[derive(Clone, Debug, PartialEq)]
pub struct PacketRecord {
    pub index: usize,
    /// Scheduled time in seconds; the table was read a few milliseconds after it.
    pub time: f64,
    /// The scenario line (with its fragment named), for people reading the golden.
    pub text: String,
    pub verdict: Verdict,
    /// `None` when the packet never reached the forward hook.
    pub ctstate: Option<CtState>,
    /// `/proc/net/nf_conntrack` after the packet, sorted; `None` when not read (`proc final`).
    pub table: Option<Vec<String>>,
    /// Kernel log lines the packet caused (timestamps stripped, netns inode as `<netns>`).
    pub log: Vec<String>,
}

/// Counts over one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub accept: usize,
    pub drop: usize,
    pub held: usize,
    /// Entries in the table after the last packet.
    pub entries: usize,
}

/// One run's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunRecord {
    /// From 1.
    pub run: u32,
    /// `conntrack -S` after the run minus before, summed over CPUs, in the kernel's order.
    pub stats: Vec<(String, u64)>,
    pub tally: Tally,
}

impl RunRecord {
    /// One `conntrack -S` counter, e.g. `stat("drop")`.
    pub fn stat(&self, key: &str) -> Option<u64> {
        self.stats.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// A recorded golden file.
#[derive(Clone, Debug, PartialEq)]
pub struct Golden {
    /// `uname -r` of the recording machine.
    pub kernel: String,
    pub scenario: String,
    pub proc_mode: ProcMode,
    pub packets: Vec<PacketRecord>,
    /// One per run (more than one for `repeat-runs`).
    pub runs: Vec<RunRecord>,
}

const HEADER_START: &str = "# recorded by ctguard-record on Linux ";
const HEADER_END: &str = "; do not edit";

impl Golden {
    /// Reads a golden file.
    pub fn load(path: impl AsRef<Path>) -> Result<Golden, Error> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(&label, 0, format!("cannot read: {e}")))?;
        parse(&label, &text)
    }

    /// Parses golden text; errors name `<golden>:LINE`.
    pub fn parse(text: &str) -> Result<Golden, Error> {
        parse("<golden>", text)
    }

    /// The text form: deterministic, one fact a line.
    pub fn write(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    fn write_to(&self, out: &mut String) -> fmt::Result {
        writeln!(out, "{HEADER_START}{}{HEADER_END}", self.kernel)?;
        writeln!(out, "scenario {}", self.scenario)?;
        writeln!(out, "snapshots {}", self.proc_mode.as_str())?;
        for p in &self.packets {
            writeln!(out)?;
            let sep = if p.text.is_empty() { "" } else { " " };
            writeln!(out, "packet {} t={:.3}{sep}{}", p.index, p.time, p.text)?;
            writeln!(out, "verdict {}", p.verdict)?;
            match p.ctstate {
                Some(state) => writeln!(out, "ctstate {state}")?,
                None => writeln!(out, "ctstate -")?,
            }
            if let Some(table) = &p.table {
                writeln!(out, "entries {}", table.len())?;
                for line in table {
                    writeln!(out, "proc {line}")?;
                }
            }
            for line in &p.log {
                writeln!(out, "log {line}")?;
            }
        }
        writeln!(out)?;
        for run in &self.runs {
            write!(out, "stats run={}", run.run)?;
            for (k, v) in &run.stats {
                write!(out, " {k}={v}")?;
            }
            writeln!(out)?;
            let t = &run.tally;
            writeln!(
                out,
                "tally run={} accept={} drop={} held={} entries={}",
                run.run, t.accept, t.drop, t.held, t.entries
            )?;
        }
        Ok(())
    }
}

fn parse(file: &str, text: &str) -> Result<Golden, Error> {
    let mut golden = Golden {
        kernel: String::new(),
        scenario: String::new(),
        proc_mode: ProcMode::Each,
        packets: Vec::new(),
        runs: Vec::new(),
    };
    let mut expected_entries: Option<usize> = None;
    for (at, raw) in text.lines().enumerate() {
        let line = at + 1;
        let err = |m: String| Error::new(file, line, m);
        let raw = raw.trim_end();
        if raw.is_empty() {
            continue;
        }
        if raw.starts_with('#') {
            if let Some(kernel) = raw
                .strip_prefix(HEADER_START)
                .and_then(|r| r.strip_suffix(HEADER_END))
            {
                golden.kernel = kernel.to_string();
            }
            continue;
        }
        let (keyword, rest) = raw.split_once(' ').unwrap_or((raw, ""));
        if keyword != "proc" && expected_entries.is_some_and(|n| table_len(&golden) < n) {
            return Err(err(format!(
                "`entries` announced {} proc lines, found {}",
                expected_entries.unwrap_or_default(),
                table_len(&golden)
            )));
        }
        match keyword {
            "scenario" => golden.scenario = rest.to_string(),
            "snapshots" => {
                golden.proc_mode = ProcMode::parse(rest)
                    .ok_or_else(|| err(format!("`snapshots {rest}`: expected each or final")))?;
            }
            "packet" => {
                let (index, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                let (time, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let index: usize = index
                    .parse()
                    .map_err(|_| err(format!("packet number `{index}` is not a number")))?;
                if index != golden.packets.len() {
                    return Err(err(format!(
                        "packet {index} out of order (expected {})",
                        golden.packets.len()
                    )));
                }
                let time: f64 = time
                    .strip_prefix("t=")
                    .and_then(|t| t.parse().ok())
                    .filter(|t: &f64| t.is_finite())
                    .ok_or_else(|| err(format!("expected t=SECONDS, found `{time}`")))?;
                golden.packets.push(PacketRecord {
                    index,
                    time,
                    text: text.to_string(),
                    verdict: Verdict::Drop,
                    ctstate: None,
                    table: None,
                    log: Vec::new(),
                });
                expected_entries = None;
            }
            "verdict" | "ctstate" | "entries" | "proc" | "log" => {
                let packet = golden
                    .packets
                    .last_mut()
                    .ok_or_else(|| err(format!("`{keyword}` before the first `packet`")))?;
                match keyword {
                    "verdict" => {
                        packet.verdict = Verdict::parse(rest).ok_or_else(|| {
                            err(format!("verdict `{rest}`: expected ACCEPT, DROP or HELD"))
                        })?;
                    }
                    "ctstate" => {
                        packet.ctstate = match rest {
                            "-" => None,
                            _ => Some(CtState::parse(rest).ok_or_else(|| {
                                err(format!("ctstate `{rest}`: expected NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED or -"))
                            })?),
                        };
                    }
                    "entries" => {
                        if packet.table.is_some() {
                            return Err(err("a second `entries` for this packet".into()));
                        }
                        let n: usize = rest
                            .parse()
                            .map_err(|_| err(format!("entries `{rest}` is not a number")))?;
                        packet.table = Some(Vec::with_capacity(n.min(4096)));
                        expected_entries = Some(n);
                    }
                    "proc" => {
                        let table = packet
                            .table
                            .as_mut()
                            .ok_or_else(|| err("`proc` line without `entries` before it".into()))?;
                        if expected_entries.is_some_and(|n| table.len() >= n) {
                            return Err(err("more `proc` lines than `entries` announced".into()));
                        }
                        table.push(rest.to_string());
                    }
                    _ => packet.log.push(rest.to_string()),
                }
            }
            "stats" | "tally" => {
                let mut pairs = rest.split(' ').filter(|w| !w.is_empty());
                let run: u32 = pairs
                    .next()
                    .and_then(|w| w.strip_prefix("run="))
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| err(format!("`{keyword}` needs run=N first")))?;
                let mut values = Vec::new();
                for pair in pairs {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| err(format!("`{pair}`: expected KEY=NUMBER")))?;
                    let v: u64 = v
                        .parse()
                        .map_err(|_| err(format!("`{pair}`: expected KEY=NUMBER")))?;
                    values.push((k.to_string(), v));
                }
                let record = match golden.runs.iter_mut().find(|r| r.run == run) {
                    Some(record) => record,
                    None => {
                        golden.runs.push(RunRecord {
                            run,
                            ..RunRecord::default()
                        });
                        golden.runs.last_mut().ok_or_else(|| err("no run".into()))?
                    }
                };
                if keyword == "stats" {
                    record.stats = values;
                } else {
                    record.tally = tally(values).map_err(err)?;
                }
            }
            other => return Err(err(format!("unknown golden line `{other}`"))),
        }
    }
    if expected_entries.is_some_and(|n| table_len(&golden) < n) {
        return Err(Error::new(
            file,
            0,
            "the last `entries` has too few proc lines",
        ));
    }
    if golden.scenario.is_empty() {
        return Err(Error::new(file, 0, "no `scenario` line"));
    }
    Ok(golden)
}

fn table_len(golden: &Golden) -> usize {
    golden
        .packets
        .last()
        .and_then(|p| p.table.as_ref())
        .map_or(0, Vec::len)
}

fn tally(values: Vec<(String, u64)>) -> Result<Tally, String> {
    let mut t = Tally::default();
    for (k, v) in values {
        let v = usize::try_from(v).map_err(|_| format!("{k}={v} is too large"))?;
        match k.as_str() {
            "accept" => t.accept = v,
            "drop" => t.drop = v,
            "held" => t.held = v,
            "entries" => t.entries = v,
            _ => return Err(format!("unknown tally key `{k}`")),
        }
    }
    Ok(t)
}
