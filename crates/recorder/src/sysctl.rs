//! Setting sysctls for a scenario and always putting them back: in the router namespace, and in
//! the init namespace for the global ones (nf_conntrack_max, nf_conntrack_buckets,
//! nf_log_all_netns), which affect the whole machine.

use std::io;

use crate::netns::Netns;

/// `net.netfilter.nf_conntrack_max` → `/proc/sys/net/netfilter/nf_conntrack_max`.
fn path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// Where a setting lives.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// The init namespace (the recorder's own, checked at start).
    Global,
    Netns(&'a Netns),
}

pub fn read(scope: Scope<'_>, key: &str) -> io::Result<String> {
    let text = match scope {
        Scope::Global => std::fs::read_to_string(path(key))
            .map_err(|e| io::Error::new(e.kind(), format!("{key}: {e}")))?,
        Scope::Netns(ns) => ns.read_to_string(&path(key))?,
    };
    Ok(text.trim().to_string())
}

pub fn write(scope: Scope<'_>, key: &str, value: &str) -> io::Result<()> {
    match scope {
        Scope::Global => std::fs::write(path(key), value)
            .map_err(|e| io::Error::new(e.kind(), format!("{key}={value}: {e}"))),
        Scope::Netns(ns) => ns.write(&path(key), value),
    }
}

/// Settings applied for a while; the old values are written back when it is dropped (also on
/// an error or a panic).
pub struct Applied<'a> {
    scope: Scope<'a>,
    saved: Vec<(String, String)>,
}

impl<'a> Applied<'a> {
    pub fn apply(scope: Scope<'a>, settings: &[(String, String)]) -> io::Result<Applied<'a>> {
        let mut applied = Applied {
            scope,
            saved: Vec::new(),
        };
        for (key, value) in settings {
            let old = read(scope, key)?;
            if old == *value {
                continue;
            }
            // Saved first, so that a partly applied setting is still restored.
            applied.saved.push((key.clone(), old));
            write(scope, key, value)?;
            let now = read(scope, key)?;
            if now != *value {
                return Err(io::Error::other(format!(
                    "{key}: wrote {value}, reads back {now}"
                )));
            }
        }
        Ok(applied)
    }
}

impl Drop for Applied<'_> {
    fn drop(&mut self) {
        for (key, old) in self.saved.iter().rev() {
            if let Err(e) = write(self.scope, key, old) {
                eprintln!("ctguard-record: FAILED to restore {key}={old}: {e}");
            }
        }
    }
}
