//! `sysctl.conf` files, read as procps `sysctl -p FILE` and systemd-sysctl read them, and
//! applied to a [`Sysctl`] all or nothing.
//!
//! ```
//! use ctguard_conntrack::Sysctl;
//! use ctguard_conntrack::sysctl::conf;
//!
//! let text = "net.ipv4.netfilter.ip_conntrack_max = 393216\nvm.swappiness = 10\n";
//! let parsed = conf::parse("/etc/sysctl.conf", text);
//! let mut settings = Sysctl::default();
//! let notes = settings.apply_conf(&parsed).expect("no errors");
//! assert_eq!(settings.max, 393216);
//! assert_eq!(
//!     notes[0].to_string(),
//!     "/etc/sysctl.conf:1: notice: net.ipv4.netfilter.ip_conntrack_max is the pre-2.6.25 \
//!      name of net.netfilter.nf_conntrack_max; applied as that"
//! );
//! ```
//!
//! # Syntax
//! - One `key = value` a line; blank lines and lines whose first non-blank character is `#` or
//!   `;` are skipped. There are no trailing comments: `= 300 # five minutes` hands the kernel
//!   `300 # five minutes`, which it reads as 300 (text after the number and a blank is
//!   ignored; ctguard warns), while `= 300;x` is refused.
//! - Blanks around the key, the `=` and the value are dropped; the value keeps inner blanks.
//! - A leading `-` on the key (`-net.netfilter.nf_conntrack_acct = 1`) means failure to set
//!   that key is ignored: what would be a warning or an error becomes a notice.
//! - Separators: if the first separator in the key is `.`, the key is dotted and any `/` in it
//!   is a literal `.` inside one path element; if the first is `/`, the key is a path and any
//!   `.` in it is literal. So `net/netfilter/nf_conntrack_max` is
//!   `net.netfilter.nf_conntrack_max`, but `net/netfilter.nf_conntrack_max` names the file
//!   `/proc/sys/net/netfilter.nf_conntrack_max` and `net.netfilter/nf_conntrack_max` names
//!   `/proc/sys/net/netfilter.nf_conntrack_max` too (neither exists). A leading `/` is allowed.
//! - Numbers as the kernel reads them: an optional `-` (only where the kernel takes one), then
//!   decimal, `0x` hex or `0`-prefixed octal (`010` is 8, `08` is refused); no `+`, no
//!   fraction, at most 20 characters.
//!
//! # What the real tools do (procps-ng 4.0.2 `sysctl -p` on Linux 6.18.44, in a child netns)
//! ```text
//! net.netfilter.nf_conntrack_bogus = 1
//!   sysctl: cannot stat /proc/sys/net/netfilter/nf_conntrack_bogus: No such file or directory
//! net.netfilter.nf_conntrack_log_invalid = 256        (also -1, abc, 1.5, "5", 0x, 08, 12abc)
//!   sysctl: setting key "net.netfilter.nf_conntrack_log_invalid": Invalid argument
//! net.netfilter.nf_conntrack_count = 5                (mode 0444)
//!   sysctl: setting key "net.netfilter.nf_conntrack_count": Invalid argument
//!   (a shell redirect gets "Permission denied")
//! net.netfilter.nf_conntrack_generic_timeout          (no '=')
//!   sysctl: FILE(21): invalid syntax, continuing...
//! net/netfilter.nf_conntrack_tcp_timeout_last_ack = 31
//!   sysctl: cannot stat /proc/sys/net/netfilter.nf_conntrack_tcp_timeout_last_ack: No such ...
//! ```
//! Accepted: `121 # trailing` (121), `122 123` (122), `010` (8), `0x10` (16), `-5` for a
//! timeout, 8589934 for a timeout (8589935 refused: HZ=250), `-8589934`. procps 4.0.2 still
//! printed the failure for `-`-prefixed keys (and exited 1 except for the read-only key);
//! sysctl.conf(5) and sysctl.d(5) document the prefix as silencing them, which ctguard follows.
//!
//! # Errors, warnings, notices
//! - error (nothing is applied): a bad or out-of-range value for a key ctguard applies, a
//!   read-only key, a reassembly threshold that crosses its partner.
//! - warning: an unknown connection-tracking key (with a "did you mean"), a real one ctguard
//!   does not model, a legacy key with no modern sysctl, a line with no `=`, text after the
//!   number, a key outside every `/proc/sys` tree.
//! - notice: a legacy name applied as its modern one, a key outside connection tracking
//!   (`net.ipv4.ip_forward`, `vm.*`, `kernel.*`: ignored), a bucket count rounded up, a key
//!   set twice, anything a leading `-` silenced.
//!
//! # Applying
//! [`Sysctl::apply_conf`] touches only the keys the file names; every other setting keeps the
//! value it had. Settings are therefore independent of anything else the caller holds (a rule
//! set can be reloaded without re-reading sysctl.conf, and the file can be re-applied without
//! resetting the rest).

use core::fmt;

use super::Sysctl;
use super::names::{self, BUCKETS_ROUND, Class, Kind, MAX_BUCKETS, MAX_JIFFIES_SECS};
use super::policy::{MAX_PERCENT, Policy};

/// How serious a [`Diagnostic`] is. Any [`Severity::Error`] stops the whole file applying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Notice,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One message about one line, rendered `FILE:LINE: SEVERITY: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.severity, self.message
        )
    }
}

/// One line that will set one of ctguard's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The modern key, one of [`super::KEYS`].
    pub key: &'static str,
    /// The key as written, dotted (`net.ipv4.netfilter.ip_conntrack_max`, `net.nf_conntrack_max`).
    pub written: String,
    /// The value as written, trimmed.
    pub value: String,
    /// The value the kernel would store, checked against the key's range.
    pub parsed: u32,
    /// 1-based line number.
    pub line: usize,
    /// The pre-2.6.25 name this line used, if it used one.
    pub legacy_name: Option<&'static str>,
    /// The line started with `-`: failures are notices.
    pub ignore_failure: bool,
}

/// A parsed file: what to set, and what was said about it. Nothing has been applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SysctlConf {
    pub file: String,
    pub settings: Vec<Setting>,
    pub diagnostics: Vec<Diagnostic>,
}

impl SysctlConf {
    /// Whether the file has an error already (a bad value, a read-only key): if so,
    /// [`Sysctl::apply_conf`] will refuse it.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    fn say(&mut self, line: usize, severity: Severity, ignore: bool, message: String) {
        let (severity, message) = silence(severity, ignore, message);
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line,
            severity,
            message,
        });
    }
}

/// Under a leading `-`, a warning or an error becomes a notice.
fn silence(severity: Severity, ignore: bool, message: String) -> (Severity, String) {
    if ignore && severity > Severity::Notice {
        (
            Severity::Notice,
            format!("ignored because of the leading '-': {message}"),
        )
    } else {
        (severity, message)
    }
}

/// C's `isspace`, which procps trims with.
fn c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// A key in dotted form, by procps's and systemd's rule: the first separator decides. A key
/// whose first separator is `/` (or that starts with `/`) is a path: `/` and `.` swap.
pub fn dotted_key(key: &str) -> String {
    let (key, path) = match key.strip_prefix('/') {
        Some(rest) => (rest.trim_start_matches('/'), true),
        None => (
            key,
            key.find(['.', '/']).map(|i| &key[i..i + 1]) == Some("/"),
        ),
    };
    if !path {
        return key.to_string();
    }
    key.chars()
        .map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        })
        .collect()
}

/// The `/proc/sys` path a dotted key names.
fn proc_path(dotted: &str) -> String {
    let swapped: String = dotted
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            c => c,
        })
        .collect();
    format!("/proc/sys/{swapped}")
}

/// A number as the kernel's `proc_get_long` reads it.
struct Number<'a> {
    negative: bool,
    magnitude: u64,
    /// Text after the number and a blank, which the kernel ignores.
    ignored: &'a str,
}

fn kernel_number(value: &str) -> Result<Number<'_>, &'static str> {
    if value.is_empty() {
        return Err("empty value");
    }
    let (negative, s) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return Err("not a number");
    }
    let (radix, start) = if bytes.len() > 2
        && bytes[0] == b'0'
        && (bytes[1] | 0x20) == b'x'
        && bytes[2].is_ascii_hexdigit()
    {
        (16, 2)
    } else if bytes[0] == b'0' {
        (8, 0)
    } else {
        (10, 0)
    };
    let end = start + s[start..].chars().take_while(|c| c.is_digit(radix)).count();
    // The kernel copies at most 21 characters and refuses a number that fills them.
    if end >= 21 {
        return Err("too long for the kernel");
    }
    let magnitude =
        u64::from_str_radix(&s[start..end], radix).map_err(|_| "too large for the kernel")?;
    let rest = &s[end..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err("not a number");
    }
    Ok(Number {
        negative,
        magnitude,
        ignored: rest.trim_matches(c_space),
    })
}

/// Checks a value for a key of `kind` as the kernel would, giving the value to store.
fn check_value(kind: Kind, n: &Number<'_>) -> Result<u32, String> {
    let neg = n.negative && n.magnitude != 0;
    let m = n.magnitude;
    match kind {
        Kind::Jiffies => {
            if m > MAX_JIFFIES_SECS {
                Err(format!(
                    "out of range: at most {MAX_JIFFIES_SECS} seconds (INT_MAX jiffies at \
                     HZ={})",
                    names::KERNEL_HZ
                ))
            } else if neg {
                Err(
                    "negative timeout: the kernel stores it as an enormous unsigned timeout; \
                     ctguard refuses it"
                        .into(),
                )
            } else {
                Ok(m as u32)
            }
        }
        Kind::IntMax => {
            if neg || m > i32::MAX as u64 {
                Err(format!("out of range: 0..={}", i32::MAX))
            } else {
                Ok(m as u32)
            }
        }
        Kind::Buckets => {
            if neg || m == 0 || m > u64::from(MAX_BUCKETS) {
                Err(format!("out of range: 1..={MAX_BUCKETS}"))
            } else {
                Ok(m as u32)
            }
        }
        Kind::Bool | Kind::U8 => {
            let max = if kind == Kind::Bool { 1 } else { 255 };
            if n.negative || m > max {
                Err(format!("out of range: 0..={max}, no sign"))
            } else {
                Ok(m as u32)
            }
        }
        Kind::Percent => {
            if n.negative || m > u64::from(MAX_PERCENT) {
                Err(format!(
                    "out of range: 0..={MAX_PERCENT} (percent of nf_conntrack_max)"
                ))
            } else {
                Ok(m as u32)
            }
        }
        // Policies are words, read before numbers are.
        Kind::Policy => Err("the policy is kernel or protect".into()),
        Kind::Thresh => {
            if n.negative {
                Err("out of range: must not be negative".into())
            } else if m > u64::from(u32::MAX) {
                Err(format!(
                    "ctguard holds this setting in 32 bits (at most {}); the kernel would take it",
                    u32::MAX
                ))
            } else {
                Ok(m as u32)
            }
        }
    }
}

/// Parses a whole file. Every problem is a [`Diagnostic`] naming `file_name` and the line;
/// nothing is applied. Never panics, whatever `text` holds.
pub fn parse(file_name: &str, text: &str) -> SysctlConf {
    let mut conf = SysctlConf {
        file: file_name.to_string(),
        ..SysctlConf::default()
    };
    for (index, raw) in text.split('\n').enumerate() {
        parse_line(&mut conf, index + 1, raw);
    }
    conf
}

fn parse_line(conf: &mut SysctlConf, line: usize, raw: &str) {
    use Severity::{Error, Notice, Warning};
    let text = raw.trim_matches(c_space);
    if text.is_empty() || text.starts_with(['#', ';']) {
        return;
    }
    let Some((key, value)) = text.split_once('=') else {
        let ignore = text.starts_with('-');
        conf.say(
            line,
            Warning,
            ignore,
            format!("invalid syntax: no '=' in {text:?}; line ignored"),
        );
        return;
    };
    let key = key.trim_matches(c_space);
    let value = value.trim_matches(c_space);
    // procps takes the key right after the '-' (a blank there becomes part of the key).
    let ignore = key.starts_with('-');
    let key = key.trim_start_matches('-');
    if key.is_empty() {
        conf.say(
            line,
            Warning,
            ignore,
            "invalid syntax: no key before '='; line ignored".into(),
        );
        return;
    }
    let dotted = dotted_key(key);
    let (modern, legacy_name) = match names::classify(&dotted) {
        Class::Modern { modern } => (modern, None),
        Class::Ctguard { key } => {
            conf.say(
                line,
                Notice,
                false,
                format!(
                    "{dotted} is ctguard's own setting: a real kernel has no {}, and sysctl -p \
                     fails on it there",
                    proc_path(&dotted)
                ),
            );
            (key, None)
        }
        Class::Legacy { modern } => {
            let old = names::LEGACY
                .iter()
                .find(|(old, _)| *old == dotted)
                .map(|(old, _)| *old);
            conf.say(
                line,
                Notice,
                false,
                format!("{dotted} is the pre-2.6.25 name of {modern}; applied as that"),
            );
            (modern, old)
        }
        Class::ReadOnly { hint } => {
            let hint = hint
                .map(|h| format!("; set {h} instead"))
                .unwrap_or_default();
            conf.say(
                line,
                Error,
                ignore,
                format!("permission denied on key '{dotted}': it is read-only{hint}"),
            );
            return;
        }
        Class::Gone { why } => {
            conf.say(line, Warning, ignore, format!("{dotted}: {why}; ignored"));
            return;
        }
        Class::NotModelled => {
            conf.say(
                line,
                Warning,
                ignore,
                format!("{dotted} is a kernel setting that ctguard does not model; ignored"),
            );
            return;
        }
        Class::Unrelated => {
            conf.say(
                line,
                Notice,
                ignore,
                format!("{dotted} ignored: not a connection-tracking setting"),
            );
            return;
        }
        Class::Unknown | Class::UnknownTree => {
            let hint = names::suggest(&dotted)
                .map(|s| format!("; did you mean {s}?"))
                .unwrap_or_default();
            conf.say(
                line,
                Warning,
                ignore,
                format!(
                    "unknown key {dotted} (no {}){hint}; ignored",
                    proc_path(&dotted)
                ),
            );
            return;
        }
    };
    let parsed = if names::kind(modern) == Kind::Policy {
        match Policy::parse(value) {
            Some(p) => Ok((p as u32, "")),
            None => Err("the policy is kernel or protect".to_string()),
        }
    } else {
        kernel_number(value)
            .map_err(str::to_string)
            .and_then(|n| check_value(names::kind(modern), &n).map(|v| (v, n.ignored)))
    };
    let (parsed, ignored) = match parsed {
        Ok(ok) => ok,
        Err(why) => {
            conf.say(
                line,
                Error,
                ignore,
                format!("bad value {value:?} for {dotted}: {why}"),
            );
            return;
        }
    };
    if !ignored.is_empty() {
        conf.say(
            line,
            Warning,
            false,
            format!(
                "{dotted}: the kernel reads {parsed} and ignores the rest, {ignored:?} \
                 (sysctl.conf has no trailing comments)"
            ),
        );
    }
    if let Some(prev) = conf.settings.iter().rev().find(|s| s.key == modern)
        && prev.parsed != parsed
    {
        let message = format!(
            "{modern} was also set on line {} ({}); the later value, {parsed}, wins",
            prev.line, prev.parsed
        );
        conf.say(line, Notice, false, message);
    }
    conf.settings.push(Setting {
        key: modern,
        written: dotted,
        value: value.to_string(),
        parsed,
        line,
        legacy_name,
        ignore_failure: ignore,
    });
}

/// The partner of a reassembly threshold: (other key, this one is the low one).
fn thresh_partner(key: &str) -> Option<(&'static str, bool)> {
    Some(match key {
        "net.netfilter.nf_conntrack_frag6_low_thresh" => {
            ("net.netfilter.nf_conntrack_frag6_high_thresh", true)
        }
        "net.netfilter.nf_conntrack_frag6_high_thresh" => {
            ("net.netfilter.nf_conntrack_frag6_low_thresh", false)
        }
        "net.ipv4.ipfrag_low_thresh" => ("net.ipv4.ipfrag_high_thresh", true),
        "net.ipv4.ipfrag_high_thresh" => ("net.ipv4.ipfrag_low_thresh", false),
        _ => return None,
    })
}

impl Sysctl {
    /// Applies a parsed file, all or nothing, in file order (as `sysctl -p` writes them, so a
    /// later line sees an earlier one: raise a high threshold before the low one).
    ///
    /// Contract: only the keys the file names change; every other setting keeps its value.
    /// A caller that keeps these settings apart from its rule set can reload rules without
    /// losing them, and re-apply the file without resetting anything else.
    ///
    /// `Ok` holds every notice and warning (the file's, then the applier's); `Err` holds every
    /// diagnostic including at least one error, and `self` is unchanged.
    pub fn apply_conf(&mut self, conf: &SysctlConf) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        let mut out = conf.diagnostics.clone();
        let mut next = self.clone();
        for s in &conf.settings {
            let mut say = |severity: Severity, message: String| {
                let (severity, message) = silence(severity, s.ignore_failure, message);
                out.push(Diagnostic {
                    file: conf.file.clone(),
                    line: s.line,
                    severity,
                    message,
                });
            };
            let mut value = s.parsed;
            if let Some((other, is_low)) = thresh_partner(s.key) {
                let other_value: u32 = next
                    .get(other)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_default();
                if (is_low && value > other_value) || (!is_low && value < other_value) {
                    let (rel, order) = if is_low {
                        ("above", "raise it first")
                    } else {
                        ("below", "lower it first")
                    };
                    say(
                        Severity::Error,
                        format!(
                            "bad value {:?} for {}: {rel} {other} ({other_value}); {order}",
                            s.value, s.written
                        ),
                    );
                    continue;
                }
            }
            if names::kind(s.key) == Kind::Buckets && value % BUCKETS_ROUND != 0 {
                let rounded = value.div_ceil(BUCKETS_ROUND) * BUCKETS_ROUND;
                say(
                    Severity::Notice,
                    format!(
                        "{}: the kernel rounds {value} up to {rounded} (whole pages of buckets)",
                        s.written
                    ),
                );
                value = rounded;
            }
            let text = if names::kind(s.key) == Kind::Policy {
                s.value.clone()
            } else {
                value.to_string()
            };
            if let Err(e) = next.set(s.key, &text) {
                say(Severity::Error, e.to_string());
            }
        }
        let p = &next.protect;
        if p.adaptive_start >= p.adaptive_end {
            let key = "net.netfilter.nf_conntrack_protect_adaptive_";
            let line = conf
                .settings
                .iter()
                .rev()
                .find(|s| s.key.starts_with(key))
                .map_or(0, |s| s.line);
            out.push(Diagnostic {
                file: conf.file.clone(),
                line,
                severity: Severity::Error,
                message: format!(
                    "{key}start ({}) must be below {key}end ({}): timeouts shrink between them",
                    p.adaptive_start, p.adaptive_end
                ),
            });
        }
        if out.iter().any(|d| d.severity == Severity::Error) {
            return Err(out);
        }
        *self = next;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<(bool, u64, &str), &'static str> {
        kernel_number(s).map(|n| (n.negative, n.magnitude, n.ignored))
    }

    #[test]
    fn numbers_as_the_kernel_reads_them() {
        assert_eq!(num("10"), Ok((false, 10, "")));
        assert_eq!(num("010"), Ok((false, 8, "")));
        assert_eq!(num("0x10"), Ok((false, 16, "")));
        assert_eq!(num("0X1f"), Ok((false, 31, "")));
        assert_eq!(num("0"), Ok((false, 0, "")));
        assert_eq!(num("-5"), Ok((true, 5, "")));
        assert_eq!(num("121 # trailing"), Ok((false, 121, "# trailing")));
        assert_eq!(num("122\t123"), Ok((false, 122, "123")));
        for bad in [
            "", "08", "0x", "12abc", "+7", "1.5", "\"5\"", "abc", "- 5", "1=2", "0;x",
        ] {
            assert!(num(bad).is_err(), "{bad:?}");
        }
        assert!(num("000000000000000000000000005").is_err());
        assert!(num("18446744073709551615").is_ok());
        assert!(num("0x10000000000000000").is_err());
    }

    #[test]
    fn separators() {
        assert_eq!(
            dotted_key("net/netfilter/nf_conntrack_max"),
            "net.netfilter.nf_conntrack_max"
        );
        assert_eq!(
            dotted_key("/net/netfilter/nf_conntrack_max"),
            "net.netfilter.nf_conntrack_max"
        );
        assert_eq!(
            dotted_key("net/netfilter.nf_conntrack_max"),
            "net.netfilter/nf_conntrack_max"
        );
        assert_eq!(
            dotted_key("net.netfilter/nf_conntrack_max"),
            "net.netfilter/nf_conntrack_max"
        );
        assert_eq!(
            proc_path("net.netfilter/nf_conntrack_max"),
            "/proc/sys/net/netfilter.nf_conntrack_max"
        );
        assert_eq!(dotted_key("vm.swappiness"), "vm.swappiness");
    }

    #[test]
    fn ranges() {
        let n = |s| kernel_number(s).ok().unwrap();
        assert_eq!(check_value(Kind::Jiffies, &n("8589934")), Ok(8_589_934));
        assert!(check_value(Kind::Jiffies, &n("8589935")).is_err());
        assert!(check_value(Kind::Jiffies, &n("-5")).is_err());
        assert_eq!(check_value(Kind::Jiffies, &n("-0")), Ok(0));
        assert_eq!(
            check_value(Kind::IntMax, &n("2147483647")),
            Ok(i32::MAX as u32)
        );
        assert!(check_value(Kind::IntMax, &n("2147483648")).is_err());
        assert!(check_value(Kind::IntMax, &n("-1")).is_err());
        assert!(check_value(Kind::Buckets, &n("0")).is_err());
        assert!(check_value(Kind::Bool, &n("2")).is_err());
        assert!(check_value(Kind::Bool, &n("-0")).is_err());
        assert_eq!(check_value(Kind::U8, &n("255")), Ok(255));
        assert!(check_value(Kind::U8, &n("256")).is_err());
        assert!(check_value(Kind::Thresh, &n("-1")).is_err());
        assert!(check_value(Kind::Thresh, &n("4294967296")).is_err());
    }
}
