//! Findings as text (the way rustc and clippy print diagnostics) and as JSON.

use super::{Finding, Severity};

/// One block per finding, then a summary line:
/// ```text
/// FILE:LINE: error[CT001]: MESSAGE
///     = rule: raw PREROUTING rule 1
///     = note: EXPLANATION (each line)
///     = fix: FIX
///
/// lint: 1 error, 0 warnings, 0 infos
/// ```
/// A finding without a location starts with `error[CT004]: ...`.
pub fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        if let Some(l) = &f.location {
            out.push_str(&format!("{l}: "));
        }
        out.push_str(&format!("{}[{}]: {}\n", f.severity, f.code, f.message));
        if let Some(r) = &f.rule {
            out.push_str(&format!("    = rule: {r}\n"));
        }
        let mut first = true;
        for line in f.explanation.lines() {
            if first {
                out.push_str(&format!("    = note: {line}\n"));
                first = false;
            } else {
                out.push_str(&format!("            {line}\n"));
            }
        }
        let mut first = true;
        for line in f.fix.lines() {
            if first {
                out.push_str(&format!("    = fix: {line}\n"));
                first = false;
            } else {
                out.push_str(&format!("           {line}\n"));
            }
        }
        out.push('\n');
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    out.push_str(&format!(
        "lint: {}, {}, {}\n",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info")
    ));
    out
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON array, one object per finding:
/// `{"code","severity","file","line","rule","message","explanation","fix"}`; `file`, `line`
/// and `rule` are null when absent.
pub fn render_json(findings: &[Finding]) -> String {
    let mut out = String::from("[");
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n  {\"code\": ");
        json_string(&mut out, f.code);
        out.push_str(", \"severity\": ");
        json_string(&mut out, f.severity.name());
        out.push_str(", \"file\": ");
        match &f.location {
            Some(l) => {
                json_string(&mut out, &l.file);
                out.push_str(&format!(", \"line\": {}", l.line));
            }
            None => out.push_str("null, \"line\": null"),
        }
        out.push_str(", \"rule\": ");
        match &f.rule {
            Some(r) => json_string(&mut out, r),
            None => out.push_str("null"),
        }
        for (k, v) in [
            ("message", &f.message),
            ("explanation", &f.explanation),
            ("fix", &f.fix),
        ] {
            out.push_str(&format!(", \"{k}\": "));
            json_string(&mut out, v);
        }
        out.push('}');
    }
    if !findings.is_empty() {
        out.push('\n');
    }
    out.push_str("]\n");
    out
}
