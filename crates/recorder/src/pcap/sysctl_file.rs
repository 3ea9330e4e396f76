//! `--sysctl FILE`: sysctl.conf lines (`key = value`, `#` / `;` comments, blank lines), sorted
//! into the settings for the init namespace, the ones for the router, and ctguard's own, which
//! the kernel must never see.

use ctguard_scenario::GLOBAL_SYSCTLS;

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// 1-based line number, for errors.
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// The file's settings by where they go.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SysctlPlan {
    /// Init namespace only (restored afterwards).
    pub global: Vec<Setting>,
    /// The router namespace.
    pub router: Vec<Setting>,
    /// ctguard-only keys: never written.
    pub skipped: Vec<Setting>,
}

/// Init-namespace-only keys: the scenarios' globals, plus nf_log_all_netns (read-only in a
/// child namespace too).
fn is_global(key: &str) -> bool {
    GLOBAL_SYSCTLS.contains(&key) || key == "net.netfilter.nf_log_all_netns"
}

/// ctguard's own settings (table policies, protection): no kernel has them.
pub fn is_ctguard_only(key: &str) -> bool {
    // The prefixes also cover keys a newer ctguard may add.
    ctguard_conntrack::sysctl::CTGUARD_KEYS.contains(&key)
        || key.strip_prefix("net.netfilter.").is_some_and(|name| {
            name.starts_with("nf_conntrack_policy") || name.starts_with("nf_conntrack_protect_")
        })
}

/// Only dotted `net.…` keys of plain names: anything else could name a file outside the
/// namespace's sysctls (`kernel.*` is machine-wide).
fn check_key(key: &str) -> Result<(), String> {
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if key.starts_with("net.") && key.split('.').all(plain) {
        Ok(())
    } else {
        Err(format!(
            "`{key}`: keys look like net.netfilter.NAME (dotted, under net.)"
        ))
    }
}

/// Parses the file's text; errors start with the line number (`LINE: …`).
pub fn parse(text: &str) -> Result<Vec<Setting>, String> {
    let mut settings: Vec<Setting> = Vec::new();
    for (at, raw) in text.lines().enumerate() {
        let line = at + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let (key, value) = trimmed
            .split_once('=')
            .ok_or_else(|| format!("{line}: expected `key = value`"))?;
        let (key, value) = (key.trim(), value.trim());
        check_key(key).map_err(|e| format!("{line}: {e}"))?;
        if value.is_empty() {
            return Err(format!("{line}: `{key}` needs a value"));
        }
        if let Some(first) = settings.iter().find(|s| s.key == key) {
            return Err(format!(
                "{line}: `{key}` is set twice (first on line {})",
                first.line
            ));
        }
        settings.push(Setting {
            line,
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    Ok(settings)
}

/// Sorts settings by where they go.
pub fn classify(settings: Vec<Setting>) -> SysctlPlan {
    let mut plan = SysctlPlan::default();
    for setting in settings {
        let list = if is_ctguard_only(&setting.key) {
            &mut plan.skipped
        } else if is_global(&setting.key) {
            &mut plan.global
        } else {
            &mut plan.router
        };
        list.push(setting);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[Setting]) -> Vec<&str> {
        list.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn parses_sysctl_conf_lines() {
        let text = "# flood\n\n; old style\n  net.netfilter.nf_conntrack_max = 256\nnet.netfilter.nf_conntrack_tcp_timeout_syn_sent=5\n";
        let settings = parse(text).unwrap();
        assert_eq!(
            settings,
            vec![
                Setting {
                    line: 4,
                    key: "net.netfilter.nf_conntrack_max".into(),
                    value: "256".into()
                },
                Setting {
                    line: 5,
                    key: "net.netfilter.nf_conntrack_tcp_timeout_syn_sent".into(),
                    value: "5".into()
                },
            ]
        );
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        for (text, line) in [
            ("net.netfilter.x = 1\njunk\n", "2:"),
            ("kernel.panic = 1\n", "1:"),
            ("net/netfilter/nf_conntrack_max = 1\n", "1:"),
            ("net.netfilter..x = 1\n", "1:"),
            ("net.netfilter.x =\n", "1:"),
            ("net.a = 1\n\nnet.a = 2\n", "3:"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(line), "{text:?}: {e}");
        }
    }

    #[test]
    fn skips_ctguard_only_keys_and_sorts_the_rest() {
        let text = "net.netfilter.nf_conntrack_max = 256\n\
            net.netfilter.nf_conntrack_buckets = 1024\n\
            net.netfilter.nf_conntrack_policy = protect\n\
            net.netfilter.nf_conntrack_policy_foo = 1\n\
            net.netfilter.nf_conntrack_protect_ratio = 10\n\
            net.netfilter.nf_conntrack_tcp_timeout_syn_recv = 5\n\
            net.netfilter.nf_log_all_netns = 1\n\
            net.ipv4.ip_forward = 1\n";
        let plan = classify(parse(text).unwrap());
        assert_eq!(
            keys(&plan.global),
            [
                "net.netfilter.nf_conntrack_max",
                "net.netfilter.nf_conntrack_buckets",
                "net.netfilter.nf_log_all_netns"
            ]
        );
        assert_eq!(
            keys(&plan.skipped),
            [
                "net.netfilter.nf_conntrack_policy",
                "net.netfilter.nf_conntrack_policy_foo",
                "net.netfilter.nf_conntrack_protect_ratio"
            ]
        );
        assert_eq!(
            keys(&plan.router),
            [
                "net.netfilter.nf_conntrack_tcp_timeout_syn_recv",
                "net.ipv4.ip_forward"
            ]
        );
        // Only names right under net.netfilter. are ctguard's.
        assert!(!is_ctguard_only("net.ipv4.nf_conntrack_policy"));
        assert!(!is_ctguard_only("net.netfilter.nf_conntrack_protect"));
    }
}
