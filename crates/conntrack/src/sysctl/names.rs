//! Which sysctl names ctguard knows, what each one means to it, and the range the kernel
//! accepts for each.
//!
//! Sources (names and ranges only; no kernel code is copied):
//! - modern names and handlers: `net/netfilter/nf_conntrack_standalone.c`,
//!   `nf_conntrack_proto_tcp.c`, `nf_conntrack_reasm.c`, `net/ipv4/ip_fragment.c` (Linux 6.x);
//! - legacy names: `ip_conntrack_standalone.c` (Linux <= 2.6.24, where both
//!   `net.ipv4.ip_conntrack_max` and `net.ipv4.netfilter.ip_conntrack_*` lived) and the
//!   `CONFIG_NF_CONNTRACK_PROC_COMPAT` tables that kept the `net.ipv4.netfilter.ip_conntrack_*`
//!   names in later kernels (`nf_conntrack_l3proto_ipv4.c`: max, count (0444), buckets (0444),
//!   checksum, log_invalid; `nf_conntrack_proto_tcp.c`: the TCP timeouts including
//!   `_syn_sent2`, loose, be_liberal, max_retrans; the UDP, ICMP and generic timeouts), and the
//!   `kernel/sysctl_binary.c` name table, which lists the same set plus the SCTP timeouts;
//! - ranges: measured with procps `sysctl -p` in a child network namespace of Linux
//!   6.18.44 (`CONFIG_HZ=250`); see `conf.rs` for the record.

use super::{CTGUARD_KEYS, KEYS};

/// `CONFIG_HZ` of the kernel the defaults were recorded on. A `proc_dointvec_jiffies` sysctl
/// refuses any value whose magnitude exceeds `INT_MAX / HZ` seconds, so the bound depends on it:
/// 8589934 at HZ=250 (measured: 8589934 accepted, 8589935 "Invalid argument"), 2147483 at
/// HZ=1000, 21474836 at HZ=100.
pub const KERNEL_HZ: u64 = 250;

/// The largest timeout, in seconds, that a `proc_dointvec_jiffies` sysctl accepts.
pub const MAX_JIFFIES_SECS: u64 = (i32::MAX as u64) / KERNEL_HZ;

/// `nf_ct_alloc_hashtable` rounds the bucket count up to whole pages of 8-byte heads (512 on
/// 4 KiB pages) and refuses more than `INT_MAX / 8` heads after rounding (ENOMEM).
pub const BUCKETS_ROUND: u32 = 512;
/// The largest bucket count the kernel accepts (`INT_MAX / 8` rounded down to 512).
pub const MAX_BUCKETS: u32 = ((i32::MAX as u32) / 8) / BUCKETS_ROUND * BUCKETS_ROUND;

/// How the kernel parses and bounds one key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `proc_dointvec_jiffies`: seconds, |v| <= INT_MAX / HZ. The kernel takes negative values
    /// (and then uses a wrapped, enormous timeout); ctguard refuses them.
    Jiffies,
    /// `proc_dointvec_minmax` with 0..=INT_MAX (`nf_conntrack_max`, `net.nf_conntrack_max`).
    IntMax,
    /// `nf_conntrack_hash_sysctl`: 1..=[`MAX_BUCKETS`], rounded up to [`BUCKETS_ROUND`].
    Buckets,
    /// `proc_dou8vec_minmax` with 0..=1: no sign at all (even `-0` is refused).
    Bool,
    /// `proc_dou8vec_minmax` with 0..=255.
    U8,
    /// `proc_doulongvec_minmax` for the reassembly thresholds: no sign, `low <= high`.
    /// ctguard holds them in 32 bits, so it also refuses values above `u32::MAX`.
    Thresh,
    /// ctguard's `nf_conntrack_policy`: `kernel` or `protect`.
    Policy,
    /// ctguard's percentages of `nf_conntrack_max`: 0..=[`super::policy::MAX_PERCENT`].
    Percent,
}

/// The kind of each modelled key.
pub fn kind(key: &str) -> Kind {
    match key {
        "net.netfilter.nf_conntrack_max" => Kind::IntMax,
        "net.netfilter.nf_conntrack_buckets" => Kind::Buckets,
        "net.netfilter.nf_conntrack_acct"
        | "net.netfilter.nf_conntrack_checksum"
        | "net.netfilter.nf_conntrack_tcp_be_liberal"
        | "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst"
        | "net.netfilter.nf_conntrack_tcp_loose" => Kind::Bool,
        "net.netfilter.nf_conntrack_log_invalid" | "net.netfilter.nf_conntrack_tcp_max_retrans" => {
            Kind::U8
        }
        "net.netfilter.nf_conntrack_frag6_high_thresh"
        | "net.netfilter.nf_conntrack_frag6_low_thresh"
        | "net.ipv4.ipfrag_high_thresh"
        | "net.ipv4.ipfrag_low_thresh" => Kind::Thresh,
        "net.netfilter.nf_conntrack_policy" => Kind::Policy,
        "net.netfilter.nf_conntrack_protect_adaptive_start"
        | "net.netfilter.nf_conntrack_protect_adaptive_end"
        | "net.netfilter.nf_conntrack_protect_source_quota" => Kind::Percent,
        // Every timeout, nf_conntrack_frag6_timeout and net.ipv4.ipfrag_time.
        _ => Kind::Jiffies,
    }
}

/// What a (dotted, normalised) key means to ctguard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// One of [`KEYS`], or the `net.nf_conntrack_max` alias: `modern` is the key in [`KEYS`].
    Modern { modern: &'static str },
    /// One of [`CTGUARD_KEYS`]: ctguard's own, applied; a real kernel has no such sysctl.
    Ctguard { key: &'static str },
    /// A pre-2.6.25 name with a modern equivalent in [`KEYS`].
    Legacy { modern: &'static str },
    /// A read-only sysctl (mode 0444): writing it fails in every kernel that has it.
    ReadOnly { hint: Option<&'static str> },
    /// A legacy name whose modern kernel has no sysctl at all.
    Gone { why: &'static str },
    /// A real connection-tracking sysctl that ctguard does not model.
    NotModelled,
    /// A real sysctl tree outside connection tracking (`vm.*`, `net.core.*`, ...).
    Unrelated,
    /// Looks like a connection-tracking key but no kernel has it (a typo, most likely).
    Unknown,
    /// Not under any `/proc/sys` tree at all.
    UnknownTree,
}

/// The alias the kernel registers in the initial namespace only, at `net/nf_conntrack_max`.
pub const ALIAS_MAX: &str = "net.nf_conntrack_max";

/// Pre-2.6.25 names with a modern equivalent ctguard models.
pub const LEGACY: &[(&str, &str)] = &[
    (
        "net.ipv4.ip_conntrack_max",
        "net.netfilter.nf_conntrack_max",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_max",
        "net.netfilter.nf_conntrack_max",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_checksum",
        "net.netfilter.nf_conntrack_checksum",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_log_invalid",
        "net.netfilter.nf_conntrack_log_invalid",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_syn_sent",
        "net.netfilter.nf_conntrack_tcp_timeout_syn_sent",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_syn_recv",
        "net.netfilter.nf_conntrack_tcp_timeout_syn_recv",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_established",
        "net.netfilter.nf_conntrack_tcp_timeout_established",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_fin_wait",
        "net.netfilter.nf_conntrack_tcp_timeout_fin_wait",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_close_wait",
        "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_last_ack",
        "net.netfilter.nf_conntrack_tcp_timeout_last_ack",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait",
        "net.netfilter.nf_conntrack_tcp_timeout_time_wait",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_close",
        "net.netfilter.nf_conntrack_tcp_timeout_close",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_max_retrans",
        "net.netfilter.nf_conntrack_tcp_timeout_max_retrans",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_loose",
        "net.netfilter.nf_conntrack_tcp_loose",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_be_liberal",
        "net.netfilter.nf_conntrack_tcp_be_liberal",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_tcp_max_retrans",
        "net.netfilter.nf_conntrack_tcp_max_retrans",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_udp_timeout",
        "net.netfilter.nf_conntrack_udp_timeout",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_udp_timeout_stream",
        "net.netfilter.nf_conntrack_udp_timeout_stream",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_icmp_timeout",
        "net.netfilter.nf_conntrack_icmp_timeout",
    ),
    (
        "net.ipv4.netfilter.ip_conntrack_generic_timeout",
        "net.netfilter.nf_conntrack_generic_timeout",
    ),
];

/// Real `net.netfilter.*` sysctls (Linux 6.x, or removed ones a config may still carry) that
/// ctguard does not model: SCTP and DCCP tracking, expectations, helpers, events, timestamps,
/// flow offload, logging.
const NOT_MODELLED: &[&str] = &[
    "nf_conntrack_events",
    "nf_conntrack_expect_max",
    "nf_conntrack_helper",
    "nf_conntrack_timestamp",
    "nf_conntrack_dccp_loose",
    "nf_conntrack_dccp_timeout_request",
    "nf_conntrack_dccp_timeout_respond",
    "nf_conntrack_dccp_timeout_partopen",
    "nf_conntrack_dccp_timeout_open",
    "nf_conntrack_dccp_timeout_closereq",
    "nf_conntrack_dccp_timeout_closing",
    "nf_conntrack_dccp_timeout_timewait",
    "nf_conntrack_sctp_timeout_closed",
    "nf_conntrack_sctp_timeout_cookie_wait",
    "nf_conntrack_sctp_timeout_cookie_echoed",
    "nf_conntrack_sctp_timeout_established",
    "nf_conntrack_sctp_timeout_shutdown_sent",
    "nf_conntrack_sctp_timeout_shutdown_recd",
    "nf_conntrack_sctp_timeout_shutdown_ack_sent",
    "nf_conntrack_sctp_timeout_heartbeat_sent",
    "nf_conntrack_sctp_timeout_heartbeat_acked",
    "nf_flowtable_tcp_timeout",
    "nf_flowtable_udp_timeout",
    "nf_hooks_lwtunnel",
    "nf_log_all_netns",
];

/// The top-level directories of `/proc/sys`. A key under one of them that is not about
/// connection tracking gets a quiet notice, not an "unknown key" warning: a real
/// `/etc/sysctl.conf` is mostly such keys (`net.ipv4.ip_forward`, `vm.swappiness`, ...).
const TREES: &[&str] = &[
    "abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm",
];

/// Classifies a dotted key. The rule, in order:
/// 1. a key in [`KEYS`] or `net.nf_conntrack_max` is applied, and so is one of ctguard's
///    own [`CTGUARD_KEYS`];
/// 2. `nf_conntrack_count` and the legacy `ip_conntrack_count` / `ip_conntrack_buckets` are
///    read-only (an error, as writing them fails);
/// 3. a legacy name in [`LEGACY`] is applied as its modern key, with a notice;
/// 4. `ip_conntrack_tcp_timeout_syn_sent2` has no modern sysctl (a warning);
/// 5. a real netfilter key ctguard does not model, or a legacy SCTP name, is a warning;
/// 6. any other key under `net.netfilter.`, `net.ipv4.netfilter.`, `net.ipv6.netfilter.`,
///    `net.ipv4.ipfrag_`, or whose last part mentions `conntrack`, is unknown (a warning);
/// 7. any other key under a `/proc/sys` tree (`abi`, `crypto`, `debug`, `dev`, `fs`, `kernel`,
///    `net`, `sunrpc`, `user`, `vm`) is unrelated (a notice);
/// 8. anything else is unknown (a warning).
pub fn classify(key: &str) -> Class {
    if let Some(k) = KEYS.iter().find(|k| **k == key) {
        return Class::Modern { modern: k };
    }
    if let Some(k) = CTGUARD_KEYS.iter().find(|k| **k == key) {
        return Class::Ctguard { key: k };
    }
    if key == ALIAS_MAX {
        return Class::Modern {
            modern: "net.netfilter.nf_conntrack_max",
        };
    }
    match key {
        "net.netfilter.nf_conntrack_count" | "net.ipv4.netfilter.ip_conntrack_count" => {
            return Class::ReadOnly { hint: None };
        }
        "net.ipv4.netfilter.ip_conntrack_buckets" => {
            return Class::ReadOnly {
                hint: Some("net.netfilter.nf_conntrack_buckets"),
            };
        }
        "net.ipv4.netfilter.ip_conntrack_tcp_timeout_syn_sent2" => {
            return Class::Gone {
                why: "modern kernels have no sysctl for it: the SYN_SENT2 timeout is fixed at \
                      120 s",
            };
        }
        _ => {}
    }
    if let Some((_, modern)) = LEGACY.iter().find(|(old, _)| *old == key) {
        return Class::Legacy { modern };
    }
    if let Some(rest) = key.strip_prefix("net.netfilter.")
        && (NOT_MODELLED.contains(&rest) || rest.starts_with("nf_log."))
    {
        return Class::NotModelled;
    }
    if let Some(rest) = key.strip_prefix("net.ipv4.netfilter.ip_conntrack_sctp_timeout_")
        && NOT_MODELLED.contains(&format!("nf_conntrack_sctp_timeout_{rest}").as_str())
    {
        return Class::NotModelled;
    }
    let last = key.rsplit(['.', '/']).next().unwrap_or(key);
    if key.starts_with("net.netfilter.")
        || key.starts_with("net.ipv4.netfilter.")
        || key.starts_with("net.ipv6.netfilter.")
        || key.starts_with("net.ipv4.ipfrag_")
        || last.contains("conntrack")
    {
        return Class::Unknown;
    }
    let top = key.split('.').next().unwrap_or("");
    if TREES.contains(&top) && key.len() > top.len() + 1 && !key.contains(char::is_whitespace) {
        return Class::Unrelated;
    }
    Class::UnknownTree
}

/// The modern key that a name known to ctguard stands for, for "did you mean" hints.
fn candidates() -> impl Iterator<Item = &'static str> {
    KEYS.iter()
        .chain(CTGUARD_KEYS)
        .copied()
        .chain(LEGACY.iter().map(|(old, _)| *old))
        .chain(core::iter::once(ALIAS_MAX))
}

/// The closest known name within a small edit distance, if any.
pub fn suggest(key: &str) -> Option<&'static str> {
    candidates()
        .filter(|c| c.len().abs_diff(key.len()) <= 3)
        .map(|c| (edit_distance(key, c), c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_legacy_target_is_modelled() {
        for (old, modern) in LEGACY {
            assert!(KEYS.contains(modern), "{old} -> {modern}");
            assert_eq!(classify(old), Class::Legacy { modern });
        }
    }

    #[test]
    fn classes() {
        assert_eq!(
            classify("net.nf_conntrack_max"),
            Class::Modern {
                modern: "net.netfilter.nf_conntrack_max"
            }
        );
        assert!(matches!(
            classify("net.netfilter.nf_conntrack_count"),
            Class::ReadOnly { .. }
        ));
        assert_eq!(
            classify("net.netfilter.nf_conntrack_expect_max"),
            Class::NotModelled
        );
        assert_eq!(
            classify("net.ipv4.netfilter.ip_conntrack_sctp_timeout_closed"),
            Class::NotModelled
        );
        assert_eq!(classify("net.netfilter.nf_log.2"), Class::NotModelled);
        assert_eq!(classify("net.netfilter.nf_conntrack_bogus"), Class::Unknown);
        assert_eq!(classify("net.ipv4.ip_conntrack_foo"), Class::Unknown);
        assert_eq!(classify("net.ipv4.ip_forward"), Class::Unrelated);
        assert_eq!(classify("vm.swappiness"), Class::Unrelated);
        assert_eq!(classify("kernel.pid_max"), Class::Unrelated);
        assert_eq!(classify("net.core.somaxconn"), Class::Unrelated);
        assert_eq!(classify("foo.bar"), Class::UnknownTree);
        assert_eq!(classify("net"), Class::UnknownTree);
    }

    #[test]
    fn kinds_cover_every_key() {
        assert_eq!(
            kind("net.netfilter.nf_conntrack_udp_timeout"),
            Kind::Jiffies
        );
        assert_eq!(kind("net.ipv4.ipfrag_time"), Kind::Jiffies);
        assert_eq!(MAX_JIFFIES_SECS, 8_589_934);
        assert_eq!(MAX_BUCKETS, 268_434_944);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("net.netfilter.nf_conntrack_tcp_timeout_establised"),
            Some("net.netfilter.nf_conntrack_tcp_timeout_established")
        );
        assert_eq!(suggest("net.netfilter.zzz"), None);
    }
}
