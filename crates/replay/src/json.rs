//! JSON output, written by hand: one object per packet (`--verdicts`) and the summary
//! (`--json`).

use std::fmt::Write as _;

use ctguard_conntrack::{Instant, Verdict as V};

use crate::replayer::Verdict;
use crate::summary::{Summary, service_name};

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn secs(t: Instant) -> String {
    format!("{:.6}", t.as_secs_f64())
}

/// `{"index":N,"time":T,"verdict":…,"ctstate":…,"conntrack":…,"rule":…}`.
pub fn verdict_line(v: &Verdict) -> String {
    let verdict = match v.decision.verdict {
        V::Accept => "ACCEPT",
        V::Drop => "DROP",
        V::Held => "HELD",
    };
    let opt = |s: Option<String>| s.map_or("null".to_string(), |s| string(&s));
    format!(
        "{{\"index\":{},\"time\":{},\"verdict\":\"{verdict}\",\"ctstate\":{},\"conntrack\":{},\"rule\":{}}}",
        v.index,
        secs(v.time),
        opt(v.decision.ctstate.map(|s| s.name().to_string())),
        opt(v.conntrack.clone()),
        opt(v.decision.rule.as_ref().map(|r| r.to_string())),
    )
}

/// The summary for programs.
pub fn summary(s: &Summary, extra: &[(&str, String)]) -> String {
    let mut o = String::from("{");
    let t = |x: Option<Instant>| x.map_or("null".to_string(), secs);
    let _ = write!(
        o,
        "\"packets\":{},\"accepted\":{},\"dropped\":{},\"unreadable\":{},\"first_time\":{},\"last_time\":{},\
\"nf_conntrack_max\":{},\"peak_entries\":{},\"peak_time\":{},\"first_full_time\":{},\"table_full_drops\":{},\
\"table_full_connections\":{},\"early_drops\":{},\"collector_evictions\":{},\"new_connections\":{}",
        s.packets,
        s.accepted,
        s.dropped,
        s.malformed,
        t(s.first_time),
        t(s.last_time),
        s.max,
        s.peak,
        t(s.peak_at),
        t(s.first_full),
        s.full_drops,
        s.full_dropped_conns,
        s.early_drops,
        s.gc_evictions,
        s.new_conns,
    );
    let mut svc: Vec<_> = s.new_by_service.iter().collect();
    svc.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let svc: Vec<String> = svc
        .iter()
        .take(10)
        .map(|(k, v)| format!("{{\"service\":{},\"new\":{v}}}", string(&service_name(**k))))
        .collect();
    let _ = write!(o, ",\"top_services\":[{}]", svc.join(","));
    let mut src: Vec<_> = s.new_by_source.iter().collect();
    src.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let src: Vec<String> = src
        .iter()
        .take(10)
        .map(|(k, v)| format!("{{\"source\":{},\"new\":{v}}}", string(&k.to_string())))
        .collect();
    let _ = write!(o, ",\"top_sources\":[{}]", src.join(","));
    let _ = write!(o, ",\"policy\":{}", string(s.policy.name()));
    if s.policy == ctguard_conntrack::sysctl::Policy::Protect {
        let fields: Vec<String> = s
            .protect
            .fields()
            .iter()
            .map(|(k, v)| format!("{}:{v}", string(k)))
            .collect();
        let _ = write!(o, ",\"protect\":{{{}}}", fields.join(","));
    }
    if let Some(c) = &s.clients {
        let _ = write!(
            o,
            ",\"clients\":{{\"prefixes\":{},\"started\":{},\"completed\":{}}}",
            string(&c.prefixes()),
            c.started(),
            c.completed()
        );
    }
    for (k, v) in extra {
        let _ = write!(o, ",{}:{v}", string(k));
    }
    o.push('}');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
