//! The sysctl checks: CT005 (legacy names), CT006 (sizing), CT007 (established timeout),
//! CT009 (ctguard's own keys).

use ctguard_conntrack::sysctl::{Severity as ConfSeverity, SysctlConf};

use super::{Finding, Severity, SysctlInput};
use crate::rules::Location;

/// The nf_conntrack slab object on this machine kind (shared/kernel-facts.md).
pub const ENTRY_BYTES: u64 = 256;
/// One hash bucket: an 8-byte list head.
pub const BUCKET_BYTES: u64 = 8;
/// CT006 warns above this when the machine's memory is not given.
pub const DEFAULT_MEMORY_WARN: u64 = 1 << 30;
/// Linux's default `net.ipv4.tcp_keepalive_time`.
pub const KEEPALIVE_TIME: u32 = 7200;
/// Keepalive probes (9) times their interval (75 s) after the keepalive time.
pub const KEEPALIVE_PROBES: u32 = 9 * 75;

const MAX_KEY: &str = "net.netfilter.nf_conntrack_max";
const BUCKETS_KEY: &str = "net.netfilter.nf_conntrack_buckets";
const ESTABLISHED_KEY: &str = "net.netfilter.nf_conntrack_tcp_timeout_established";

pub(super) fn check(s: &SysctlInput<'_>, mem_total: Option<u64>, out: &mut Vec<Finding>) {
    legacy(s.conf, out);
    sizing(s, mem_total, out);
    established(s, out);
    ctguard_only(s.conf, out);
}

/// CT009. procps-ng 4.0.2's `sysctl -p`, checked in a network namespace: "cannot stat" for
/// the key, the file's other lines applied, exit status 1.
fn ctguard_only(conf: &SysctlConf, out: &mut Vec<Finding>) {
    for s in &conf.settings {
        if !ctguard_conntrack::sysctl::CTGUARD_KEYS.contains(&s.key) {
            continue;
        }
        out.push(Finding {
            code: "CT009",
            severity: Severity::Info,
            location: Some(Location::new(&conf.file, s.line as u32)),
            rule: None,
            message: format!("{} is ctguard's own setting", s.key),
            explanation: format!(
                "No kernel has /proc/sys/{}: on a real host `sysctl -p` reports \"cannot stat \
                 ...: No such file or directory\" for this line and exits 1, though it applies \
                 the file's other lines.",
                s.key.replace('.', "/")
            ),
            fix: "keep ctguard's settings in a file of their own, given to ctguard only".into(),
        });
    }
}

/// The line that last sets `key`, as the file wrote it.
fn line_of(conf: &SysctlConf, key: &str) -> Option<(Location, String)> {
    conf.settings
        .iter()
        .rev()
        .find(|s| s.key == key)
        .map(|s| (Location::new(&conf.file, s.line as u32), s.written.clone()))
}

/// CT005.
fn legacy(conf: &SysctlConf, out: &mut Vec<Finding>) {
    for s in &conf.settings {
        let Some(old) = s.legacy_name else {
            continue;
        };
        let mut explanation = format!(
            "Linux 6.x has no /proc/sys/{}: `sysctl -p` reports \"cannot stat ...: No such \
             file or directory\" and the setting keeps its old value. (ctguard applies the line \
             as {} so that you can see what was meant.)",
            old.replace('.', "/"),
            s.key
        );
        if s.key == MAX_KEY {
            explanation.push_str(
                "\nThe net.netfilter keys exist only while nf_conntrack is loaded: a value set \
                 before the module loads, or before it is reloaded, does not stick. The seed saw \
                 the maximum fall back to its default after restarting iptables, so `sysctl -p` \
                 had to run again.",
            );
        }
        out.push(Finding {
            code: "CT005",
            severity: Severity::Warning,
            location: Some(Location::new(&conf.file, s.line as u32)),
            rule: None,
            message: format!("{old} is the pre-2.6.25 name of {}", s.key),
            explanation,
            fix: format!("write `{} = {}`", s.key, s.value),
        });
    }
    for d in &conf.diagnostics {
        if d.severity >= ConfSeverity::Warning && d.message.contains(".ip_conntrack_") {
            out.push(Finding {
                code: "CT005",
                severity: Severity::Warning,
                location: Some(Location::new(&d.file, d.line as u32)),
                rule: None,
                message: d.message.clone(),
                explanation: "A pre-2.6.25 connection-tracking name that modern kernels cannot \
                              set at all."
                    .into(),
                fix: "remove the line".into(),
            });
        }
    }
}

fn mib(bytes: u64) -> String {
    let m = bytes as f64 / f64::from(1u32 << 20);
    if m >= 1024.0 {
        format!("{:.1} GiB", m / 1024.0)
    } else {
        format!("{m:.1} MiB")
    }
}

/// The bucket count Linux 6.x picks from memory when no hashsize is given (64-bit).
pub fn default_buckets(mem_total: u64) -> u64 {
    let gib = 1u64 << 30;
    if mem_total > 4 * gib {
        262_144
    } else if mem_total > gib {
        65_536
    } else {
        (mem_total / 16_384 / BUCKET_BYTES).max(1024)
    }
}

/// CT006.
fn sizing(s: &SysctlInput<'_>, mem_total: Option<u64>, out: &mut Vec<Finding>) {
    let max = u64::from(s.settings.max);
    let buckets = u64::from(s.settings.buckets).max(1);
    let located = line_of(s.conf, MAX_KEY).or_else(|| line_of(s.conf, BUCKETS_KEY));
    let entries = max * ENTRY_BYTES;
    let heads = buckets * BUCKET_BYTES;
    let total = entries + heads;
    let per_bucket = 2.0 * max as f64 / buckets as f64;
    let threshold = mem_total.map_or(DEFAULT_MEMORY_WARN, |m| m / 8);
    let mut explanation = format!(
        "Each entry is a {ENTRY_BYTES}-byte nf_conntrack slab object and each bucket an \
         {BUCKET_BYTES}-byte list head: {max} entries take {} and {buckets} buckets {}. Every \
         entry is hashed twice (original and reply direction), so a full table puts {per_bucket:.1} \
         entries in each bucket on average.\nLinux 6.x sizes the hash from memory when no \
         hashsize is given (RAM / 16384 / 8 buckets, at least 1024; 65536 above 1 GiB and \
         262144 above 4 GiB on 64-bit) and then sets nf_conntrack_max = buckets (factor 1; \
         factor 8 when hashsize was given).",
        mib(entries),
        mib(heads)
    );
    if let Some(m) = mem_total {
        let d = default_buckets(m);
        explanation.push_str(&format!(
            " With {} of memory that is {d} buckets and a maximum of {d}.",
            mib(m)
        ));
    }
    let (location, key) = match &located {
        Some((l, k)) => (Some(l.clone()), k.as_str()),
        None => (None, MAX_KEY),
    };
    if max > buckets * 8 {
        let want = max.div_ceil(8).div_ceil(512) * 512;
        out.push(Finding {
            code: "CT006",
            severity: Severity::Warning,
            location: location.clone(),
            rule: None,
            message: format!(
                "nf_conntrack_max {max} is {:.0} times the {buckets} hash buckets: about \
                 {per_bucket:.0} entries per bucket when the table is full",
                max as f64 / buckets as f64
            ),
            explanation: format!(
                "{explanation}\nEvery packet's lookup walks its bucket's chain, and Linux 6.x \
                 refuses to insert into a chain longer than a limit between 50 and 80 entries \
                 (counted as chaintoolong in `conntrack -S`), dropping the packet even though \
                 the table is not full."
            ),
            fix: format!(
                "raise the buckets to at least {want} (max / 8; the kernel's own sizing uses \
                 max = buckets): `{BUCKETS_KEY} = {}` (writable in the initial network namespace \
                 only; or the nf_conntrack hashsize module parameter)",
                want.max(max.div_ceil(512) * 512).min(u64::from(u32::MAX))
            ),
        });
    } else if total > threshold {
        out.push(Finding {
            code: "CT006",
            severity: Severity::Warning,
            location: location.clone(),
            rule: None,
            message: format!(
                "a full table of {max} entries needs about {} of kernel memory",
                mib(total)
            ),
            explanation: format!(
                "{explanation}\nThat is more than {} ({}), memory the kernel cannot reclaim \
                 while the entries live; a flood that fills the table takes it from everything \
                 else on the host.",
                mib(threshold),
                if mem_total.is_some() {
                    "an eighth of the machine's memory"
                } else {
                    "the default threshold"
                }
            ),
            fix: format!("lower `{key}`, or make sure the host has the memory to spare"),
        });
    } else if located.is_some() {
        out.push(Finding {
            code: "CT006",
            severity: Severity::Info,
            location,
            rule: None,
            message: format!(
                "a full table of {max} entries takes about {} ({} of entries, {} of {buckets} \
                 buckets), {per_bucket:.1} entries per bucket",
                mib(total),
                mib(entries),
                mib(heads)
            ),
            explanation,
            fix: String::new(),
        });
    }
}

/// CT007.
fn established(s: &SysctlInput<'_>, out: &mut Vec<Finding>) {
    let v = s.settings.timeouts.tcp_established;
    if v >= KEEPALIVE_TIME {
        return;
    }
    let location = line_of(s.conf, ESTABLISHED_KEY).map(|(l, _)| l);
    // Both outcomes are recorded: conformance/goldens/tcp-pickup-loose (a mid-stream
    // segment is NEW) and tcp-pickup-strict (INVALID, no entry).
    let after = if s.settings.tcp_loose {
        "With nf_conntrack_tcp_loose = 1 (in force), the tracker picks the connection up \
         mid-stream: that packet creates a new entry and its state is NEW, not ESTABLISHED. A \
         filter that accepts RELATED,ESTABLISHED plus NEW only on listening ports drops it when \
         it comes from the far end of a connection this host opened (a database answering a \
         pooled client, a websocket server pushing an event), and the new entry counts against \
         nf_conntrack_max again."
    } else {
        "With nf_conntrack_tcp_loose = 0 (in force), no entry is created: the packet is \
         INVALID, rules that drop INVALID (or the final REJECT) drop it, and the connection \
         hangs until the application gives up."
    };
    out.push(Finding {
        code: "CT007",
        severity: Severity::Warning,
        location,
        rule: None,
        message: format!(
            "nf_conntrack_tcp_timeout_established = {v} s is shorter than TCP keepalive's \
             default {KEEPALIVE_TIME} s: idle connections lose their entries"
        ),
        explanation: format!(
            "A connection idle for {v} s (an SSH session, a database pool connection, a \
             websocket waiting for events) loses its conntrack entry while both ends still hold \
             it open; keepalives (net.ipv4.tcp_keepalive_time, {KEEPALIVE_TIME} s by default) \
             come too late to refresh it. Its next packet finds no entry.\n{after}\nThe seed's fix \
             1 sets 300 s to empty the table faster; the closing-state timeouts (fin_wait, \
             close_wait, time_wait) are the ones that are safe to shorten."
        ),
        fix: format!(
            "keep `{ESTABLISHED_KEY}` at or above {} (keepalive time plus 9 probes of 75 s) or \
             above the longest idle time of your applications (the default is 432000, 5 days); \
             make room with nf_conntrack_max and the buckets instead",
            KEEPALIVE_TIME + KEEPALIVE_PROBES
        ),
    });
}
