//! The `net.netfilter.nf_conntrack_*` settings, keyed by their kernel names, with the kernel's
//! defaults (Linux 6.18, read off a child network namespace).
//!
//! [`conf`] reads `sysctl.conf` files (`sysctl -p FILE`, `/etc/sysctl.d/*.conf`) into these
//! settings, with the kernel's ranges and the pre-2.6.25 `ip_conntrack_*` names.

pub mod conf;
pub mod names;
mod policy;

pub use conf::{Diagnostic, Setting, Severity, SysctlConf};
pub use policy::{Policy, Protect};

use core::fmt;
use core::time::Duration;

/// Every tracker setting. Timeouts are whole seconds, as the sysctls are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctl {
    pub max: u32,
    pub buckets: u32,
    pub acct: bool,
    pub checksum: bool,
    pub log_invalid: u8,
    pub tcp_loose: bool,
    pub tcp_be_liberal: bool,
    pub tcp_max_retrans: u8,
    pub tcp_ignore_invalid_rst: bool,
    pub frag6_timeout: u32,
    pub frag6_high_thresh: u32,
    pub frag6_low_thresh: u32,
    /// `net.ipv4.ipfrag_*`, which bound IPv4 reassembly (nf_defrag_ipv4 shares them).
    pub ipfrag_time: u32,
    pub ipfrag_high_thresh: u32,
    pub ipfrag_low_thresh: u32,
    pub timeouts: Timeouts,
    /// ctguard's own table policy (no kernel has these keys).
    pub protect: Protect,
}

/// Protocol timeouts in seconds, one field per `nf_conntrack_*_timeout*` sysctl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp_syn_sent: u32,
    pub tcp_syn_recv: u32,
    pub tcp_established: u32,
    pub tcp_fin_wait: u32,
    pub tcp_close_wait: u32,
    pub tcp_last_ack: u32,
    pub tcp_time_wait: u32,
    pub tcp_close: u32,
    pub tcp_max_retrans: u32,
    pub tcp_unacknowledged: u32,
    pub udp: u32,
    pub udp_stream: u32,
    pub icmp: u32,
    pub icmpv6: u32,
    pub generic: u32,
    pub gre: u32,
    pub gre_stream: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_syn_sent: 120,
            tcp_syn_recv: 60,
            tcp_established: 432_000,
            tcp_fin_wait: 120,
            tcp_close_wait: 60,
            tcp_last_ack: 30,
            tcp_time_wait: 120,
            tcp_close: 10,
            tcp_max_retrans: 300,
            tcp_unacknowledged: 300,
            udp: 30,
            udp_stream: 120,
            icmp: 30,
            icmpv6: 30,
            generic: 600,
            gre: 30,
            gre_stream: 180,
        }
    }
}

impl Default for Sysctl {
    fn default() -> Self {
        Sysctl {
            max: 262_144,
            buckets: 262_144,
            acct: false,
            checksum: true,
            log_invalid: 0,
            tcp_loose: true,
            tcp_be_liberal: false,
            tcp_max_retrans: 3,
            tcp_ignore_invalid_rst: false,
            frag6_timeout: 60,
            frag6_high_thresh: 4_194_304,
            frag6_low_thresh: 3_145_728,
            ipfrag_time: 30,
            ipfrag_high_thresh: 4_194_304,
            ipfrag_low_thresh: 3_145_728,
            timeouts: Timeouts::default(),
            protect: Protect::default(),
        }
    }
}

/// Why a setting was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SysctlError {
    UnknownKey(String),
    BadValue { key: String, value: String },
}

impl fmt::Display for SysctlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysctlError::UnknownKey(k) => write!(
                f,
                "cannot stat /proc/sys/{}: No such file or directory",
                k.replace('.', "/")
            ),
            SysctlError::BadValue { key, value } => write!(
                f,
                "setting key \"{key}\": Invalid argument (value {value:?})"
            ),
        }
    }
}

impl std::error::Error for SysctlError {}

enum Slot<'a> {
    U32(&'a mut u32),
    U8(&'a mut u8),
    Bool(&'a mut bool),
    Policy(&'a mut Policy),
}

macro_rules! keys {
    (
        kernel { $($name:literal => $($field:ident).+ : $kind:ident),* $(,)? }
        ctguard { $($cname:literal => $($cfield:ident).+ : $ckind:ident),* $(,)? }
    ) => {
        /// Every kernel key, in `sysctl -a` order.
        pub const KEYS: &[&str] = &[$($name),*];

        /// ctguard's own keys: no kernel has them, so a file meant for a real host must not
        /// carry them (`sysctl -p` fails on them) and the recorder never writes them.
        pub const CTGUARD_KEYS: &[&str] = &[$($cname),*];

        fn slot<'a>(s: &'a mut Sysctl, key: &str) -> Option<Slot<'a>> {
            match key {
                $($name => Some(Slot::$kind(&mut s.$($field).+)),)*
                $($cname => Some(Slot::$ckind(&mut s.$($cfield).+)),)*
                _ => None,
            }
        }

        fn read(s: &Sysctl, key: &str) -> Option<String> {
            match key {
                $($name => Some(keys!(@show $kind, s.$($field).+)),)*
                $($cname => Some(keys!(@show $ckind, s.$($cfield).+)),)*
                _ => None,
            }
        }
    };
    (@show Bool, $e:expr) => { u8::from($e).to_string() };
    (@show $k:ident, $e:expr) => { $e.to_string() };
}

keys! {
    kernel {
    "net.netfilter.nf_conntrack_acct" => acct: Bool,
    "net.netfilter.nf_conntrack_buckets" => buckets: U32,
    "net.netfilter.nf_conntrack_checksum" => checksum: Bool,
    "net.netfilter.nf_conntrack_frag6_high_thresh" => frag6_high_thresh: U32,
    "net.netfilter.nf_conntrack_frag6_low_thresh" => frag6_low_thresh: U32,
    "net.netfilter.nf_conntrack_frag6_timeout" => frag6_timeout: U32,
    "net.netfilter.nf_conntrack_generic_timeout" => timeouts.generic: U32,
    "net.netfilter.nf_conntrack_gre_timeout" => timeouts.gre: U32,
    "net.netfilter.nf_conntrack_gre_timeout_stream" => timeouts.gre_stream: U32,
    "net.netfilter.nf_conntrack_icmp_timeout" => timeouts.icmp: U32,
    "net.netfilter.nf_conntrack_icmpv6_timeout" => timeouts.icmpv6: U32,
    "net.netfilter.nf_conntrack_log_invalid" => log_invalid: U8,
    "net.netfilter.nf_conntrack_max" => max: U32,
    "net.netfilter.nf_conntrack_tcp_be_liberal" => tcp_be_liberal: Bool,
    "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst" => tcp_ignore_invalid_rst: Bool,
    "net.netfilter.nf_conntrack_tcp_loose" => tcp_loose: Bool,
    "net.netfilter.nf_conntrack_tcp_max_retrans" => tcp_max_retrans: U8,
    "net.netfilter.nf_conntrack_tcp_timeout_close" => timeouts.tcp_close: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait" => timeouts.tcp_close_wait: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_established" => timeouts.tcp_established: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_fin_wait" => timeouts.tcp_fin_wait: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_last_ack" => timeouts.tcp_last_ack: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_max_retrans" => timeouts.tcp_max_retrans: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_syn_recv" => timeouts.tcp_syn_recv: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_syn_sent" => timeouts.tcp_syn_sent: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_time_wait" => timeouts.tcp_time_wait: U32,
    "net.netfilter.nf_conntrack_tcp_timeout_unacknowledged" => timeouts.tcp_unacknowledged: U32,
    "net.netfilter.nf_conntrack_udp_timeout" => timeouts.udp: U32,
    "net.netfilter.nf_conntrack_udp_timeout_stream" => timeouts.udp_stream: U32,
    "net.ipv4.ipfrag_high_thresh" => ipfrag_high_thresh: U32,
    "net.ipv4.ipfrag_low_thresh" => ipfrag_low_thresh: U32,
    "net.ipv4.ipfrag_time" => ipfrag_time: U32,
    }
    ctguard {
    "net.netfilter.nf_conntrack_policy" => protect.policy: Policy,
    "net.netfilter.nf_conntrack_protect_adaptive_start" => protect.adaptive_start: U32,
    "net.netfilter.nf_conntrack_protect_adaptive_end" => protect.adaptive_end: U32,
    "net.netfilter.nf_conntrack_protect_source_quota" => protect.source_quota: U32,
    }
}

/// Canonical form of a key: `/` separators become `.`.
pub fn normalize_key(key: &str) -> String {
    key.trim().trim_matches('/').replace('/', ".")
}

impl Sysctl {
    /// Sets one key (dotted or slashed) from its text value, as `sysctl -w` would.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SysctlError> {
        let key = normalize_key(key);
        let value_t = value.trim();
        let bad = || SysctlError::BadValue {
            key: key.clone(),
            value: value.to_string(),
        };
        match slot(self, &key).ok_or_else(|| SysctlError::UnknownKey(key.clone()))? {
            Slot::U32(f) => *f = value_t.parse().map_err(|_| bad())?,
            Slot::U8(f) => *f = value_t.parse().map_err(|_| bad())?,
            Slot::Policy(f) => *f = Policy::parse(value_t).ok_or_else(bad)?,
            Slot::Bool(f) => {
                // The kernel's proc_dou8vec_minmax / proc_dointvec_minmax accept 0 and 1 here.
                *f = match value_t {
                    "0" => false,
                    "1" => true,
                    _ => return Err(bad()),
                }
            }
        }
        Ok(())
    }

    /// The value of one key as `sysctl -n` prints it.
    pub fn get(&self, key: &str) -> Option<String> {
        read(self, &normalize_key(key))
    }

    /// `max / 100 * 95`, in integer arithmetic as the kernel computes it.
    pub fn max95(&self) -> u32 {
        self.max / 100 * 95
    }
}

/// Seconds to a [`Duration`].
pub(crate) fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_kernel() {
        let s = Sysctl::default();
        assert_eq!(
            s.get("net.netfilter.nf_conntrack_tcp_timeout_established")
                .as_deref(),
            Some("432000")
        );
        assert_eq!(
            s.get("net/netfilter/nf_conntrack_tcp_loose").as_deref(),
            Some("1")
        );
        assert_eq!(
            s.get("net.netfilter.nf_conntrack_max").as_deref(),
            Some("262144")
        );
        assert_eq!(KEYS.len(), 32);
    }

    #[test]
    fn set_and_reject() {
        let mut s = Sysctl::default();
        s.set("net/netfilter/nf_conntrack_max", " 64 ").unwrap();
        assert_eq!(s.max, 64);
        assert_eq!(s.max95(), 0);
        assert!(matches!(
            s.set("net.netfilter.nf_conntrack_acct", "2"),
            Err(SysctlError::BadValue { .. })
        ));
        assert!(matches!(
            s.set("net.netfilter.nope", "1"),
            Err(SysctlError::UnknownKey(_))
        ));
        s.set("net.netfilter.nf_conntrack_udp_timeout", "5")
            .unwrap();
        assert_eq!(s.timeouts.udp, 5);
    }
}
