//! Which of the two formats a file is, and which family an iptables-save file is for.
//!
//! - An iptables-save file's first line that is not blank or a comment starts with `*`
//!   (a table block). Anything else is read as a command script.
//! - An iptables-save file does not name its family. ctguard reads it as IPv6 when its
//!   header says `ip6tables-save`, or when a rule uses an IPv6 address (`-s`/`-d`/
//!   `--to-destination`... with a `:` that is not a port separator), `-p icmpv6`/`ipv6-icmp`,
//!   `--icmpv6-type`, `-m hl` or an `icmp6-` reject type; otherwise as IPv4. Pass the family
//!   explicitly ([`load_save`](crate::rules::load_save)) when that guess is not enough.

use crate::hook::Family;
use crate::rules::lexer::split_restore;

/// The two input formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// iptables-save / ip6tables-save output, read as iptables-restore does.
    Save,
    /// A shell script of iptables / ip6tables commands.
    Script,
}

pub fn detect_format(text: &str) -> Format {
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        return if l.starts_with('*') {
            Format::Save
        } else {
            Format::Script
        };
    }
    Format::Script
}

fn looks_v6(word: &str) -> bool {
    let w = word.trim_start_matches('[');
    w.matches(':').count() >= 2
        && w.chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '/' | '-' | '[' | ']' | ','))
}

/// The family of an iptables-save file (see the module docs).
pub fn detect_family(text: &str) -> Family {
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('#') {
            if l.contains("ip6tables-save") {
                return Family::V6;
            }
            if l.contains("iptables-save") {
                return Family::V4;
            }
            continue;
        }
        let Ok(words) = split_restore(l) else {
            continue;
        };
        for (i, w) in words.iter().enumerate() {
            let prev = if i > 0 { words[i - 1].as_str() } else { "" };
            let addr_opt = matches!(
                prev,
                "-s" | "-d"
                    | "--source"
                    | "--destination"
                    | "--src"
                    | "--dst"
                    | "--to-destination"
                    | "--to-source"
                    | "--src-range"
                    | "--dst-range"
                    | "--ctorigsrc"
                    | "--ctorigdst"
                    | "--ctreplsrc"
                    | "--ctrepldst"
            );
            if addr_opt && looks_v6(w) {
                return Family::V6;
            }
            if matches!(
                w.as_str(),
                "icmpv6" | "ipv6-icmp" | "--icmpv6-type" | "icmp6" | "hl"
            ) || w.starts_with("icmp6-")
            {
                return Family::V6;
            }
        }
    }
    Family::V4
}
