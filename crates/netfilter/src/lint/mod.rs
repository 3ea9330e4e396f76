//! `ctguard lint`: a static checker for rule sets and connection-tracking settings, aimed at
//! the mistakes the seed describes (and the one that took its site down).
//!
//! ```
//! use ctguard_netfilter::{lint, rules};
//!
//! let script = "\
//! /sbin/iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
//! /sbin/iptables -A INPUT -j REJECT
//! /sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
//! /sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
//! ";
//! let loaded = rules::load_script(script, "fix3.sh").unwrap();
//! let findings = lint::run(&lint::LintInput::new(&loaded.v4, &loaded.v6));
//! assert_eq!(findings[0].code, "CT001");
//! assert!(lint::render_text(&findings).starts_with("fix3.sh:3: error[CT001]: "));
//! ```
//!
//! [`run`] takes a [`LintInput`] (both families' rule sets, optionally a sysctl.conf with the
//! settings it produced, whether tracking is on) and returns [`Finding`]s sorted by file and
//! line; [`render_text`] prints them as compilers do, [`render_json`] as a JSON array.
//!
//! # Checks
//!
//! **CT001 untracked traffic dropped (error).** A raw `NOTRACK` (or `CT --notrack`) rule
//! whose packets then meet, in the filter chain they reach, a DROP or REJECT (or a DROP
//! policy) before any rule accepts ctstate UNTRACKED for all of them. This is the seed's
//! outage:
//! ```text
//! -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
//! -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT     <- no UNTRACKED
//! -A INPUT -j REJECT --reject-with icmp-host-prohibited        <- every port-80 SYN ends here
//! ```
//! The check does not look for the word UNTRACKED: it evaluates the chains over the NOTRACK
//! rule's match space (see [`space`] and [`flow`]). Packets marked in raw PREROUTING are run
//! through filter INPUT, and through FORWARD when the host forwards ([`LintInput::forwarding`];
//! inferred: FORWARD has a rule that accepts or jumps); packets marked in raw OUTPUT through
//! filter OUTPUT. The fix names the existing state rule to extend ("add UNTRACKED to ...") or
//! the rule to insert before the one that drops them.
//!
//! **CT002 NOTRACK in one direction only (warning).** A raw PREROUTING NOTRACK class whose
//! replies (addresses, ports and interfaces swapped: `--dports 80` becomes `--sports 80`,
//! `-i lo` becomes `-o lo`) no raw OUTPUT NOTRACK rule covers, and the reverse. The seed:
//! "both directions must be covered".
//!
//! **CT003 NOTRACK hides traffic from NAT (warning).** A NOTRACK class that overlaps the match
//! space of a nat-table SNAT, DNAT, MASQUERADE or REDIRECT rule on the packets' path (nat
//! PREROUTING, INPUT and, when forwarding, POSTROUTING for raw PREROUTING; nat OUTPUT and
//! POSTROUTING for raw OUTPUT). NAT never sees untracked packets, so those go out
//! untranslated. Every packet of the class counts as a possible first packet.
//!
//! **CT004 needs connection tracking (error).** With tracking off
//! ([`LintInput::tracking`] false, the seed's fix 2), every rule and table that needs
//! nf_conntrack ([`crate::modules::check_without_tracking`]).
//!
//! **CT005 legacy sysctl name (warning).** `net.ipv4.netfilter.ip_conntrack_max` and the other
//! pre-2.6.25 names, with the modern key to write instead:
//! `net.ipv4.netfilter.ip_conntrack_tcp_timeout_established = 300` →
//! `net.netfilter.nf_conntrack_tcp_timeout_established = 300`.
//!
//! **CT006 table sizing (warning or info).** `nf_conntrack_max` against `nf_conntrack_buckets`
//! and memory. Linux 6.x sizes the hash from memory when no `hashsize` is given (RAM / 16384 /
//! 8 buckets, at least 1024, 65536 above 1 GiB and 262144 above 4 GiB on 64-bit) and then sets
//! max = buckets (factor 1, since 5.15; factor 8 when `hashsize` was given). Every entry is
//! hashed twice (once per direction), so a full table puts 2 × max / buckets entries in a
//! bucket on average. A warning when max > 8 × buckets (chains of 16 and more) or when a full
//! table would need more than the memory threshold ([`LintInput::mem_total`] / 8, or 1 GiB);
//! otherwise an info with the numbers when the file sets max or buckets. Cost: one
//! 256-byte nf_conntrack slab object per entry (kernel-facts.md) and 8 bytes per bucket.
//! `nf_conntrack_max = 393216` with 16384 buckets: "24 times the 16384 hash buckets".
//!
//! **CT007 established timeout shorter than keepalive (warning).**
//! `nf_conntrack_tcp_timeout_established` below 7200 s (Linux's default
//! `tcp_keepalive_time`). The seed's fix 1 sets 300: idle but live connections lose their
//! entry; what happens to their next packet depends on `nf_conntrack_tcp_loose`.
//!
//! **CT009 ctguard-only setting (info).** `nf_conntrack_policy` and the
//! `nf_conntrack_protect_*` keys exist in ctguard only: on a real host `sysctl -p` reports
//! "cannot stat" for each and exits non-zero. Keep them in a file of their own.
//!
//! **CT008 shadowed rule (warning).** A rule that can never match because earlier rules in the
//! same chain with a deciding target (ACCEPT, DROP, REJECT, RETURN, the NAT targets, a goto,
//! or a jump to a chain that decides every packet it is given) together match everything it
//! matches:
//! ```text
//! -A INPUT -p tcp -j ACCEPT
//! -A INPUT -p tcp --dport 22 -j ACCEPT      <- CT008: rule 1 already accepts it
//! ```
//!
//! # What "evaluating over the match space" covers
//!
//! Modelled exactly: `-s -d` (contiguous masks), `-i -o` (with `+`), `-p`, `-f`, `-m tcp`
//! ports and flags, `-m udp`, `-m multiport`, `-m state`, `-m conntrack --ctstate`,
//! `-m iprange`, `-m icmp` without a type, `-m comment`. Everything else (`-m mark`,
//! `connmark`, `addrtype`, `length`, `ttl`, `hl`, ICMP types, `--tcp-option`, conntrack
//! tuple options, SNAT/DNAT pseudo-states) makes the rule inexact: it may match part of what
//! its modelled tests allow. `-m limit`/`hashlimit`/`recent`/`connlimit` are stateful.
//!
//! Where it is conservative:
//! - CT001 reports only what is certain: an inexact ACCEPT (other than a rate limit) could
//!   accept the class and silences the check; an inexact DROP never decides. A NOTRACK rule
//!   with inexact tests is taken at its modelled space.
//! - CT008 reports only certain shadowing: the shadowing rules must be exact (stateful
//!   matches never shadow), and the jump targets must certainly decide.
//! - CT002 and CT003 take each raw rule's space through the jumps that reach it, without
//!   subtracting what earlier raw rules decide (raw tables rarely decide anything).
//! - Non-first fragments, marks and the mangle table are not modelled; the classes contain
//!   whole packets. A walk that grows beyond 4096 cubes gives up silently.

pub mod flow;
mod render;
mod rulechecks;
pub mod space;
mod sysctlchecks;

use core::fmt;

use ctguard_conntrack::sysctl::{Sysctl, SysctlConf};

use crate::rules::{Location, RuleSet};

pub use render::{render_json, render_text};

/// How serious a finding is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// "CT001" ... "CT009" (see the module docs).
    pub code: &'static str,
    pub severity: Severity,
    /// The line the finding is about (the NOTRACK rule, the sysctl.conf line, ...).
    pub location: Option<Location>,
    /// The rule it is about, as `iptables -L --line-numbers` numbers it: "raw PREROUTING rule 1"
    /// (with " (ip6tables)" for IPv6).
    pub rule: Option<String>,
    /// One line.
    pub message: String,
    /// Why it matters; may span lines.
    pub explanation: String,
    /// What to change.
    pub fix: String,
}

/// The sysctl.conf that was read and the settings it produced (`Sysctl::apply_conf` on the
/// settings in force before, usually the defaults).
#[derive(Copy, Clone, Debug)]
pub struct SysctlInput<'a> {
    pub conf: &'a SysctlConf,
    pub settings: &'a Sysctl,
}

/// What to check.
#[derive(Copy, Clone, Debug)]
pub struct LintInput<'a> {
    pub v4: &'a RuleSet,
    pub v6: &'a RuleSet,
    pub sysctl: Option<SysctlInput<'a>>,
    /// Connection tracking is on (false: the seed's fix 2, `modprobe -r nf_conntrack`).
    pub tracking: bool,
    /// The host routes packets: None infers it from each family's filter FORWARD chain (it
    /// forwards when a FORWARD rule accepts or jumps).
    pub forwarding: Option<bool>,
    /// The machine's memory in bytes, for CT006's threshold (None: a fixed 1 GiB).
    pub mem_total: Option<u64>,
}

impl<'a> LintInput<'a> {
    /// Rule sets only: tracking on, no sysctl.conf, forwarding inferred.
    pub fn new(v4: &'a RuleSet, v6: &'a RuleSet) -> LintInput<'a> {
        LintInput {
            v4,
            v6,
            sysctl: None,
            tracking: true,
            forwarding: None,
            mem_total: None,
        }
    }
}

/// Every check's code, severity and one-line title.
pub const CHECKS: &[(&str, Severity, &str)] = &[
    (
        "CT001",
        Severity::Error,
        "untracked traffic is dropped in filter",
    ),
    ("CT002", Severity::Warning, "NOTRACK in one direction only"),
    (
        "CT003",
        Severity::Warning,
        "NOTRACK traffic that NAT would translate",
    ),
    (
        "CT004",
        Severity::Error,
        "rule needs connection tracking, which is off",
    ),
    (
        "CT005",
        Severity::Warning,
        "legacy ip_conntrack sysctl name",
    ),
    ("CT006", Severity::Warning, "conntrack table sizing"),
    (
        "CT007",
        Severity::Warning,
        "established timeout shorter than TCP keepalive",
    ),
    ("CT008", Severity::Warning, "shadowed rule"),
    (
        "CT009",
        Severity::Info,
        "ctguard-only setting that no kernel has",
    ),
];

/// Runs every check. Findings come sorted by file and line (those without a location last),
/// in check order within a line.
pub fn run(input: &LintInput<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rs in [input.v4, input.v6] {
        rulechecks::check_family(rs, input, &mut out);
    }
    if !input.tracking {
        rulechecks::check_tracking_off(input, &mut out);
    }
    if let Some(s) = &input.sysctl {
        sysctlchecks::check(s, input.mem_total, &mut out);
    }
    out.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.location.is_none(),
                f.location.as_ref().map(|l| (l.file.clone(), l.line)),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}
