//! A scenario file: settings, then packets and sleeps, one a line. See conformance/README.md
//! for the full syntax.

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::build::{self, Fragment};
use crate::error::Error;
use crate::repeat;
use crate::spec::{self, L4, QuoteRef};
use crate::topology::{self, Side};

/// When the recorder reads `/proc/net/nf_conntrack`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProcMode {
    /// After every packet.
    #[default]
    Each,
    /// After the last packet only.
    Final,
}

impl ProcMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcMode::Each => "each",
            ProcMode::Final => "final",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "each" => Some(ProcMode::Each),
            "final" => Some(ProcMode::Final),
            _ => None,
        }
    }
}

/// One frame to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    /// Position in the scenario, from 0 (fragments and repeats each count).
    pub index: usize,
    /// Scheduled time, in seconds since the first packet.
    pub time: f64,
    pub side: Side,
    /// A complete Ethernet frame, from the side's host MAC to the router's.
    pub frame: Vec<u8>,
    /// The scenario line it came from (1-based).
    pub line: usize,
    /// The line's text (with `repeat` substitutions done and the `repeat N` prefix removed).
    pub text: String,
    /// Set when this frame is one fragment of the line's datagram.
    pub fragment: Option<Fragment>,
}

impl Packet {
    /// The IP packet: the frame after its 14-byte Ethernet header. For [`Side::Router`]
    /// packets this is what the recorder sends (their Ethernet header is a placeholder).
    pub fn ip_packet(&self) -> &[u8] {
        self.frame.get(14..).unwrap_or_default()
    }

    /// The IP destination address (`None` if the frame is too short to hold one).
    pub fn destination(&self) -> Option<IpAddr> {
        let ip = self.ip_packet();
        match ip.first().map(|b| b >> 4) {
            Some(4) => {
                let b: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
                Some(IpAddr::from(b))
            }
            Some(6) => {
                let b: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
                Some(IpAddr::from(b))
            }
            _ => None,
        }
    }

    /// Whether the packet is addressed to one of the router's own addresses (it is delivered
    /// locally, through INPUT, unless a rule sends it elsewhere).
    pub fn to_router(&self) -> bool {
        self.destination().is_some_and(topology::is_router_address)
    }

    /// The text with the fragment named, as the golden shows it.
    pub fn label(&self) -> String {
        match self.fragment {
            None => self.text.clone(),
            Some(f) => format!(
                "{} [fragment {}/{} offset={}{}]",
                self.text,
                f.number + 1,
                f.count,
                f.offset,
                if f.more { " MF" } else { "" }
            ),
        }
    }
}

/// A rule file named by `rules FILE` or `rules6 FILE`, read when the scenario is parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFile {
    /// The file, resolved against the scenario file's directory.
    pub path: PathBuf,
    /// Its contents (iptables-save format), as `iptables-restore` / `ip6tables-restore` read it.
    pub text: String,
}

impl RuleFile {
    /// Whether some rule jumps to the LOG target (`-j LOG`), which logs through nf_log.
    pub fn uses_log_target(&self) -> bool {
        self.text.lines().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| w == ["-j", "LOG"] || w == ["--jump", "LOG"])
        })
    }
}

/// A parsed scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The leading comment lines, without their `#`.
    pub description: String,
    /// Router-namespace sysctls, e.g. (`net.netfilter.nf_conntrack_tcp_loose`, `0`).
    pub sysctl: Vec<(String, String)>,
    /// Init-namespace sysctls (nf_conntrack_max, nf_conntrack_buckets), restored afterwards.
    pub global_sysctl: Vec<(String, String)>,
    pub proc_mode: ProcMode,
    /// How many times to record (for scenarios with a random outcome).
    pub runs: u32,
    /// Seconds between consecutive packets, on top of sleeps.
    pub spacing: f64,
    /// IPv4 rules for the router (`rules FILE`), loaded with `iptables-restore`.
    pub rules: Option<RuleFile>,
    /// IPv6 rules for the router (`rules6 FILE`), loaded with `ip6tables-restore`.
    pub rules6: Option<RuleFile>,
    pub packets: Vec<Packet>,
}

/// Sysctls that live only in the init namespace.
pub const GLOBAL_SYSCTLS: &[&str] = &[
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
];

/// The default [`Scenario::spacing`], in microseconds.
const DEFAULT_SPACING_US: u64 = 50_000;
const MAX_PACKETS: usize = 100_000;
const MAX_RUNS: u32 = 100;

impl Scenario {
    /// Parses scenario text; errors name `name:LINE`. `rules FILE` lines are resolved against
    /// the current directory (see [`Scenario::parse_in`]).
    pub fn parse(name: &str, text: &str) -> Result<Scenario, Error> {
        Parser::new(name, name, Path::new(".")).run(text)
    }

    /// Parses scenario text whose `rules FILE` / `rules6 FILE` lines are relative to `dir`.
    pub fn parse_in(name: &str, text: &str, dir: &Path) -> Result<Scenario, Error> {
        Parser::new(name, name, dir).run(text)
    }

    /// Reads and parses a scenario file; the scenario is named after the file's stem.
    pub fn load(path: impl AsRef<Path>) -> Result<Scenario, Error> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(&label, 0, format!("cannot read: {e}")))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::new(&label, 0, "the file name is not valid UTF-8"))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Parser::new(&label, name, dir).run(&text)
    }

    /// Whether replaying this scenario needs more than the bare tracker: it has rules, packets
    /// the router originates (`r`), or packets addressed to the router itself (local delivery).
    /// The recorder captures what the router emits only for these.
    pub fn needs_pipeline(&self) -> bool {
        self.rules.is_some()
            || self.rules6.is_some()
            || self
                .packets
                .iter()
                .any(|p| p.side == Side::Router || p.to_router())
    }

    /// Whether some rule file uses the LOG target.
    pub fn uses_log_target(&self) -> bool {
        [&self.rules, &self.rules6]
            .into_iter()
            .flatten()
            .any(RuleFile::uses_log_target)
    }

    /// The scheduled time of the last packet.
    pub fn duration(&self) -> f64 {
        self.packets.last().map_or(0.0, |p| p.time)
    }
}

struct Parser<'a> {
    file: &'a str,
    /// What `rules FILE` is relative to.
    dir: &'a Path,
    scenario: Scenario,
    spacing_us: u64,
    slept_us: u64,
    /// The datagram of every packet so far (what `quote=#N` carries).
    datagrams: Vec<std::rc::Rc<Vec<u8>>>,
    defines: HashMap<String, std::rc::Rc<Vec<u8>>>,
    settings_closed: bool,
    /// The line being parsed (1-based).
    line: usize,
    seen_proc: bool,
    seen_runs: bool,
    seen_spacing: bool,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, name: &str, dir: &'a Path) -> Self {
        Parser {
            file,
            dir,
            scenario: Scenario {
                name: name.to_string(),
                description: String::new(),
                sysctl: Vec::new(),
                global_sysctl: Vec::new(),
                proc_mode: ProcMode::Each,
                runs: 1,
                spacing: DEFAULT_SPACING_US as f64 / 1e6,
                rules: None,
                rules6: None,
                packets: Vec::new(),
            },
            spacing_us: DEFAULT_SPACING_US,
            slept_us: 0,
            datagrams: Vec::new(),
            defines: HashMap::new(),
            settings_closed: false,
            line: 0,
            seen_proc: false,
            seen_runs: false,
            seen_spacing: false,
        }
    }

    fn run(mut self, text: &str) -> Result<Scenario, Error> {
        self.scenario.description = description(text);
        for (at, raw) in text.lines().enumerate() {
            let line = at + 1;
            let content = strip_comment(raw).trim();
            if content.is_empty() {
                continue;
            }
            self.line = line;
            self.parse_line(content)
                .map_err(|message| Error::new(self.file, line, message))?;
        }
        Ok(self.scenario)
    }

    fn parse_line(&mut self, content: &str) -> Result<(), String> {
        let words: Vec<&str> = content.split_whitespace().collect();
        let (keyword, args) = (words[0], &words[1..]);
        if content.contains(['{', '}']) && keyword != "repeat" {
            return Err("`{…}` substitutions belong in `repeat N` lines".into());
        }
        match keyword {
            "sysctl" | "global" | "proc" | "repeat-runs" | "spacing" | "rules" | "rules6" => {
                if self.settings_closed {
                    return Err(format!(
                        "`{keyword}` must come before the first packet, sleep or define"
                    ));
                }
                self.setting(keyword, args)
            }
            "sleep" => {
                self.settings_closed = true;
                let [seconds] = args else {
                    return Err("expected `sleep SECONDS`".into());
                };
                let us = seconds_to_us(seconds)?;
                self.slept_us = self
                    .slept_us
                    .checked_add(us)
                    .filter(|total| *total <= MAX_SECONDS * 1_000_000)
                    .ok_or("the scenario is longer than a day")?;
                Ok(())
            }
            "define" => {
                self.settings_closed = true;
                let [name, rest @ ..] = args else {
                    return Err("expected `define NAME PROTO SRC > DST …`".into());
                };
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(format!(
                        "define name `{name}`: use letters, digits, - and _"
                    ));
                }
                if self.defines.contains_key(*name) {
                    return Err(format!("`{name}` is already defined"));
                }
                let spec = spec::parse(rest)?;
                let quoted = self.quoted(&spec.l4)?;
                let built = build::build(&spec, 0, quoted.as_deref().map(|v| v.as_slice()))?;
                self.defines
                    .insert(name.to_string(), std::rc::Rc::new(built.datagram));
                Ok(())
            }
            "repeat" => {
                self.settings_closed = true;
                let Some(count_word) = args.first() else {
                    return Err("expected `repeat N c|s PACKET…`".into());
                };
                let count: u32 = spec::number(count_word, "repeat count")?;
                if count == 0 || count as usize > MAX_PACKETS {
                    return Err(format!("repeat count must be 1–{MAX_PACKETS}"));
                }
                // `content` starts with "repeat", then the count word, then the template.
                let template = content["repeat".len()..].trim_start()[count_word.len()..].trim();
                for i in 0..count {
                    let text = repeat::substitute(template, i64::from(i))
                        .map_err(|e| format!("repeat i={i}: {e}"))?;
                    let words: Vec<&str> = text.split_whitespace().collect();
                    let side = words
                        .first()
                        .and_then(|w| side_of(w))
                        .ok_or("`repeat N` must be followed by a packet line (c …, s … or r …)")?;
                    self.packet(side, &words[1..], &text)
                        .map_err(|e| format!("repeat i={i}: {e}"))?;
                }
                Ok(())
            }
            "c" | "s" | "r" => {
                self.settings_closed = true;
                let side = side_of(keyword).unwrap_or(Side::Client);
                self.packet(side, args, content)
            }
            other => Err(format!(
                "unknown line `{other}` (expected c, s, r, sleep, repeat, define, sysctl, global, proc, repeat-runs, spacing, rules or rules6)"
            )),
        }
    }

    fn setting(&mut self, keyword: &str, args: &[&str]) -> Result<(), String> {
        match (keyword, args) {
            ("sysctl" | "global", [assignment]) => {
                let (key, value) = assignment
                    .split_once('=')
                    .ok_or_else(|| format!("expected `{keyword} KEY=VALUE`"))?;
                let key_ok = key.starts_with("net.")
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !key_ok {
                    return Err(format!("`{key}`: sysctl keys look like net.netfilter.NAME"));
                }
                if value.is_empty() {
                    return Err(format!("`{key}` needs a value"));
                }
                let global = GLOBAL_SYSCTLS.contains(&key);
                let list = if keyword == "global" {
                    if !global {
                        return Err(format!(
                            "`global` takes only {} (`{key}` is per namespace: use `sysctl`)",
                            GLOBAL_SYSCTLS.join(", ")
                        ));
                    }
                    spec::number::<u32>(value, key)?;
                    &mut self.scenario.global_sysctl
                } else {
                    if global {
                        return Err(format!(
                            "`{key}` is read-only in a child namespace: use `global {key}=…`"
                        ));
                    }
                    &mut self.scenario.sysctl
                };
                if list.iter().any(|(k, _)| k == key) {
                    return Err(format!("`{key}` is set twice"));
                }
                list.push((key.to_string(), value.to_string()));
                Ok(())
            }
            ("proc", [mode]) => {
                if std::mem::replace(&mut self.seen_proc, true) {
                    return Err("`proc` is given twice".into());
                }
                self.scenario.proc_mode = ProcMode::parse(mode).ok_or_else(|| {
                    format!("`proc {mode}`: expected `proc each` or `proc final`")
                })?;
                Ok(())
            }
            ("repeat-runs", [n]) => {
                if std::mem::replace(&mut self.seen_runs, true) {
                    return Err("`repeat-runs` is given twice".into());
                }
                let runs: u32 = spec::number(n, "repeat-runs")?;
                if !(1..=MAX_RUNS).contains(&runs) {
                    return Err(format!("repeat-runs must be 1–{MAX_RUNS}"));
                }
                self.scenario.runs = runs;
                Ok(())
            }
            ("spacing", [seconds]) => {
                if std::mem::replace(&mut self.seen_spacing, true) {
                    return Err("`spacing` is given twice".into());
                }
                let us = seconds_to_us(seconds)?;
                if !(10_000..=60_000_000).contains(&us) {
                    return Err("spacing must be 0.01–60 seconds".into());
                }
                self.spacing_us = us;
                self.scenario.spacing = us as f64 / 1e6;
                Ok(())
            }
            ("rules" | "rules6", [file]) => {
                let slot = if keyword == "rules" {
                    &mut self.scenario.rules
                } else {
                    &mut self.scenario.rules6
                };
                if slot.is_some() {
                    return Err(format!("`{keyword}` is given twice"));
                }
                *slot = Some(read_rule_file(self.dir, file)?);
                Ok(())
            }
            _ => Err(format!("`{keyword}`: wrong number of arguments")),
        }
    }

    fn quoted(&self, l4: &L4) -> Result<Option<std::rc::Rc<Vec<u8>>>, String> {
        let L4::Icmp(icmp) = l4 else { return Ok(None) };
        match &icmp.quote {
            None => Ok(None),
            Some(QuoteRef::Index(n)) => {
                self.datagrams.get(*n).cloned().map(Some).ok_or_else(|| {
                    format!(
                        "quote=#{n}: there is no earlier packet {n} (packets are numbered from 0)"
                    )
                })
            }
            Some(QuoteRef::Name(name)) => {
                self.defines.get(name).cloned().map(Some).ok_or_else(|| {
                    format!("quote={name}: no `define {name} …` line before this one")
                })
            }
        }
    }

    fn packet(&mut self, side: Side, words: &[&str], text: &str) -> Result<(), String> {
        let spec = spec::parse(words)?;
        if side == Side::Router {
            // The kernel fills in the IPv4 header checksum of raw packets and cannot send a
            // fragment through a raw socket the way an interface receives one.
            if spec.ip.bad_ip_sum {
                return Err(
                    "badipsum: the kernel rewrites the header checksum of `r` packets".into(),
                );
            }
            if spec.ip.frag.is_some() {
                return Err("frag= is not supported on `r` packets".into());
            }
        }
        let quoted = self.quoted(&spec.l4)?;
        let index = self.scenario.packets.len();
        let default_id = (index as u32).wrapping_add(1);
        let built = build::build(&spec, default_id, quoted.as_deref().map(|v| v.as_slice()))?;
        if index + built.packets.len() > MAX_PACKETS {
            return Err(format!("more than {MAX_PACKETS} packets"));
        }
        let datagram = std::rc::Rc::new(built.datagram);
        let line = self.line;
        for (ip_packet, fragment) in built.packets {
            let index = self.scenario.packets.len();
            let time_us = self.slept_us + self.spacing_us * index as u64;
            self.scenario.packets.push(Packet {
                index,
                time: time_us as f64 / 1e6,
                side,
                frame: build::frame(side, &ip_packet),
                line,
                text: text.to_string(),
                fragment,
            });
            self.datagrams.push(datagram.clone());
        }
        Ok(())
    }
}

/// The maximum length of a scenario's timeline, in seconds.
const MAX_SECONDS: u64 = 86_400;

fn side_of(word: &str) -> Option<Side> {
    match word {
        "c" => Some(Side::Client),
        "s" => Some(Side::Server),
        "r" => Some(Side::Router),
        _ => None,
    }
}

/// The largest rule file read.
const MAX_RULE_FILE: u64 = 1 << 20;

/// Reads `rules FILE`: a relative path, resolved against the scenario's directory.
fn read_rule_file(dir: &Path, file: &str) -> Result<RuleFile, String> {
    if Path::new(file).is_absolute() {
        return Err(format!(
            "`{file}`: give the rule file relative to the scenario's directory"
        ));
    }
    let path = dir.join(file);
    let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_RULE_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_RULE_FILE {
        return Err(format!("{}: larger than 1 MiB", path.display()));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    Ok(RuleFile { path, text })
}

/// Text before a `#` that starts the line or follows whitespace (so `quote=#4` is not a comment).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'#' && (at == 0 || bytes[at - 1].is_ascii_whitespace()) {
            return &line[..at];
        }
    }
    line
}

/// The comment block at the top of the file.
fn description(text: &str) -> String {
    let mut lines = Vec::new();
    for raw in text.lines() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix('#') else {
            break;
        };
        lines.push(comment.strip_prefix(' ').unwrap_or(comment).trim_end());
    }
    lines.join("\n")
}

/// `2`, `0.5`, `1.250` seconds → microseconds.
fn seconds_to_us(word: &str) -> Result<u64, String> {
    let bad = || format!("`{word}` is not a number of seconds (e.g. 2 or 0.25)");
    let (whole, frac) = word.split_once('.').unwrap_or((word, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() > 6 {
        return Err(format!("`{word}`: at most 6 decimals"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    if whole > MAX_SECONDS {
        return Err(format!("`{word}`: at most {MAX_SECONDS} seconds"));
    }
    let frac_us: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    Ok(whole * 1_000_000 + frac_us)
}
