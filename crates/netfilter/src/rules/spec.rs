//! One iptables command line: the command (`-A`, `-I`, `-D`, ...), the table, and the rule
//! options (`-p -s -d -i -o -f -m ... -j/-g ... -c`), parsed into rules.
//!
//! Both inputs use it: an iptables-restore line is an iptables command without the program
//! name (and without `-t`), a script line is one with it. Options may come in any order, as
//! getopt allows; `!` goes before the option it inverts. An option that no loaded match or
//! target knows loads the protocol's match when `-p` names tcp, udp, icmp or icmpv6 (so
//! `-p tcp --dport 80` is `-p tcp -m tcp --dport 80`), else it is refused as iptables does
//! (`unknown option "--dport"`). Long options must be spelled out in full (getopt's
//! abbreviations such as `--dest` and the `--opt=value` form are not accepted).

use crate::hook::{Family, TableName};
use crate::rules::addr::{Net, parse_net_list};
use crate::rules::error::Location;
use crate::rules::matches::{Match, ParseCtx};
use crate::rules::model::{Counters, IfaceMatch, IpMatch, Rule};
use crate::rules::names::parse_protocol;
use crate::rules::targets::{Target, TargetBuilder};
use crate::rules::words::{Words, parse_c_uint};

/// What a command does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    Append(String),
    /// 1-based position.
    Insert(String, usize),
    /// By number (1-based) or, with None, by the rule given.
    Delete(String, Option<usize>),
    Replace(String, usize),
    NewChain(String),
    DeleteChain(Option<String>),
    Flush(Option<String>),
    Zero(Option<String>, Option<usize>),
    Policy(String, String),
    Rename(String, String),
    /// `-L`, `-S`, `-C`: no effect on the rule set.
    NoEffect(&'static str),
}

impl Cmd {
    fn takes_rule(&self) -> bool {
        matches!(
            self,
            Cmd::Append(_)
                | Cmd::Insert(..)
                | Cmd::Delete(_, None)
                | Cmd::Replace(..)
                | Cmd::NoEffect("-C")
        )
    }
}

/// A parsed command line.
#[derive(Clone, Debug)]
pub struct ParsedCommand {
    pub cmd: Cmd,
    pub table: Option<TableName>,
    /// `-4`/`-6`: the line applies to that family only.
    pub only_family: Option<Family>,
    /// The rules the command adds, deletes or replaces (several when `-s`/`-d` list several
    /// addresses: one per source × destination, sources outermost, as iptables expands them).
    pub rules: Vec<Rule>,
    pub warnings: Vec<String>,
}

fn positive(s: &str, what: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("Invalid rule number `{s}' for {what}")),
    }
}

fn iface(name: &str, invert: bool) -> Result<IfaceMatch, String> {
    if name.len() > 15 {
        return Err(format!(
            "interface name `{name}' must be shorter than IFNAMSIZ (15)"
        ));
    }
    Ok(IfaceMatch {
        name: name.to_string(),
        invert,
    })
}

/// Quotes a word for echoing a command in a message.
pub fn echo(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.is_empty() || w.contains(char::is_whitespace) {
                format!("\"{w}\"")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one command. `restore`: the line comes from an iptables-restore file (no `-t`).
pub fn parse_command(
    words: &[String],
    family: Family,
    restore: bool,
    location: &Location,
) -> Result<ParsedCommand, String> {
    let mut w = Words::new(words);
    let mut invert = false;
    let mut cmd: Option<(Cmd, &str)> = None;
    let mut table = None;
    let mut only_family = None;
    let mut warnings = Vec::new();
    let mut first_rule_opt: Option<String> = None;

    let mut src: Option<(Vec<Net>, bool)> = None;
    let mut dst: Option<(Vec<Net>, bool)> = None;
    let mut ip = IpMatch::default();
    let mut matches: Vec<Match> = Vec::new();
    let mut proto_match_loaded = false;
    let mut target: Option<TargetBuilder> = None;
    let mut counters: Option<Counters> = None;

    let set_cmd =
        |cmd: &mut Option<(Cmd, &str)>, c: Cmd, flag: &'static str| -> Result<(), String> {
            if let Some((_, prev)) = cmd {
                return Err(format!("Cannot use {flag} with {prev}"));
            }
            *cmd = Some((c, flag));
            Ok(())
        };

    while let Some(word) = w.next_word() {
        if word == "!" {
            if invert {
                return Err("multiple consecutive ! not allowed".into());
            }
            invert = true;
            continue;
        }
        let inv = std::mem::take(&mut invert);
        let no_inv = |flag: &str| -> Result<(), String> {
            if inv {
                Err(format!("cannot have ! before {flag}"))
            } else {
                Ok(())
            }
        };
        let rule_opt = |first: &mut Option<String>| {
            first.get_or_insert_with(|| word.to_string());
        };
        let ctx = ParseCtx {
            family,
            proto: ip.proto.map(|p| p.0),
            proto_inverted: ip.proto.is_some_and(|p| p.1),
        };
        match word {
            "-A" | "--append" => {
                no_inv(word)?;
                let c = w.value(word)?;
                set_cmd(&mut cmd, Cmd::Append(c.into()), "-A")?;
            }
            "-I" | "--insert" => {
                no_inv(word)?;
                let c = w.value(word)?;
                let n = match w.optional_number() {
                    Some(n) => positive(n, "-I")?,
                    None => 1,
                };
                set_cmd(&mut cmd, Cmd::Insert(c.into(), n), "-I")?;
            }
            "-D" | "--delete" => {
                no_inv(word)?;
                let c = w.value(word)?;
                let n = w.optional_number().map(|n| positive(n, "-D")).transpose()?;
                set_cmd(&mut cmd, Cmd::Delete(c.into(), n), "-D")?;
            }
            "-R" | "--replace" => {
                no_inv(word)?;
                let c = w.value(word)?;
                let n = w
                    .optional_number()
                    .ok_or_else(|| "-R requires a rule number".to_string())
                    .and_then(|n| positive(n, "-R"))?;
                set_cmd(&mut cmd, Cmd::Replace(c.into(), n), "-R")?;
            }
            "-N" | "--new-chain" | "--new" => {
                no_inv(word)?;
                let c = w.value(word)?;
                set_cmd(&mut cmd, Cmd::NewChain(c.into()), "-N")?;
            }
            "-X" | "--delete-chain" => {
                no_inv(word)?;
                let c = w.optional().map(String::from);
                set_cmd(&mut cmd, Cmd::DeleteChain(c), "-X")?;
            }
            "-F" | "--flush" => {
                no_inv(word)?;
                let c = w.optional().map(String::from);
                set_cmd(&mut cmd, Cmd::Flush(c), "-F")?;
            }
            "-Z" | "--zero" => {
                no_inv(word)?;
                let c = w.optional().map(String::from);
                let n = if c.is_some() {
                    w.optional_number().map(|n| positive(n, "-Z")).transpose()?
                } else {
                    None
                };
                set_cmd(&mut cmd, Cmd::Zero(c, n), "-Z")?;
            }
            "-P" | "--policy" => {
                no_inv(word)?;
                let c = w.value(word)?;
                let p = w
                    .next_word()
                    .ok_or_else(|| "-P requires a chain and a policy".to_string())?;
                set_cmd(&mut cmd, Cmd::Policy(c.into(), p.into()), "-P")?;
            }
            "-E" | "--rename-chain" => {
                no_inv(word)?;
                let a = w.value(word)?;
                let b = w
                    .next_word()
                    .ok_or_else(|| "-E requires old-chain-name and new-chain-name".to_string())?;
                set_cmd(&mut cmd, Cmd::Rename(a.into(), b.into()), "-E")?;
            }
            "-L" | "--list" | "-S" | "--list-rules" => {
                no_inv(word)?;
                w.optional();
                w.optional_number();
                let flag = if word.starts_with("-L") || word == "--list" {
                    "-L"
                } else {
                    "-S"
                };
                set_cmd(&mut cmd, Cmd::NoEffect(flag), flag)?;
            }
            "-C" | "--check" => {
                no_inv(word)?;
                w.value(word)?;
                set_cmd(&mut cmd, Cmd::NoEffect("-C"), "-C")?;
            }
            "-t" | "--table" => {
                no_inv(word)?;
                let t = w.value(word)?;
                if restore {
                    return Err(
                        "The -t option cannot be used in iptables-restore (the table comes from the `*table' line)".into(),
                    );
                }
                if table.is_some() {
                    return Err("multiple -t flags not allowed".into());
                }
                table = Some(TableName::from_name(t).ok_or_else(|| {
                    format!("can't initialize iptables table `{t}': Table does not exist")
                })?);
            }
            "-p" | "--protocol" => {
                rule_opt(&mut first_rule_opt);
                let v = w.value(word)?;
                if ip.proto.is_some() {
                    return Err("multiple -p flags not allowed".into());
                }
                ip.proto = Some((parse_protocol(v)?, inv));
            }
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                rule_opt(&mut first_rule_opt);
                let v = w.value(word)?;
                let is_src = matches!(word, "-s" | "--source" | "--src");
                let slot = if is_src { &mut src } else { &mut dst };
                if slot.is_some() {
                    return Err(format!(
                        "multiple -{} flags not allowed",
                        if is_src { 's' } else { 'd' }
                    ));
                }
                *slot = Some((parse_net_list(family, v)?, inv));
            }
            "-i" | "--in-interface" => {
                rule_opt(&mut first_rule_opt);
                let v = w.value(word)?;
                if ip.in_iface.is_some() {
                    return Err("multiple -i flags not allowed".into());
                }
                ip.in_iface = Some(iface(v, inv)?);
            }
            "-o" | "--out-interface" => {
                rule_opt(&mut first_rule_opt);
                let v = w.value(word)?;
                if ip.out_iface.is_some() {
                    return Err("multiple -o flags not allowed".into());
                }
                ip.out_iface = Some(iface(v, inv)?);
            }
            "-f" | "--fragment" => {
                rule_opt(&mut first_rule_opt);
                if family == Family::V6 {
                    return Err("`-f' is not supported in IPv6, use -m frag instead".into());
                }
                if ip.fragment.is_some() {
                    return Err("multiple -f flags not allowed".into());
                }
                ip.fragment = Some(inv);
            }
            "-m" | "--match" => {
                rule_opt(&mut first_rule_opt);
                if inv {
                    return Err("unexpected ! flag before --match".into());
                }
                let name = w.value(word)?;
                matches.push(Match::load(name, family)?);
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                rule_opt(&mut first_rule_opt);
                no_inv(word)?;
                let name = w.value(word)?;
                if target.is_some() {
                    return Err("multiple -j flags not allowed".into());
                }
                let goto = matches!(word, "-g" | "--goto");
                target = Some(TargetBuilder::new(name, goto, family)?);
            }
            "-c" | "--set-counters" => {
                no_inv(word)?;
                let p = w.next_word();
                let b = w.next_word();
                let num = |s: Option<&str>| s.and_then(parse_c_uint);
                match (num(p), num(b)) {
                    (Some(p), Some(b)) => counters = Some(Counters::new(p, b)),
                    _ => return Err("-c requires packet and byte counter".into()),
                }
            }
            "-w" | "--wait" => {
                w.optional_number();
            }
            "-W" | "--wait-interval" => {
                w.value(word)?;
            }
            "-v" | "--verbose" | "-n" | "--numeric" | "-x" | "--exact" | "--line-numbers" => {}
            "-4" | "--ipv4" => only_family = Some(Family::V4),
            "-6" | "--ipv6" => only_family = Some(Family::V6),
            _ if word.starts_with('-') && word.len() > 1 => {
                rule_opt(&mut first_rule_opt);
                if let Some(t) = &mut target
                    && t.parse_option(word, inv, &mut w, &ctx)?
                {
                    continue;
                }
                let mut taken = false;
                for m in matches.iter_mut().rev() {
                    if m.parse_option(word, inv, &mut w, &ctx)? {
                        taken = true;
                        break;
                    }
                }
                if taken {
                    continue;
                }
                if !proto_match_loaded
                    && let Some((p, _)) = ip.proto
                    && let Some(mut m) = Match::implicit_for(p, family)
                {
                    proto_match_loaded = true;
                    if m.parse_option(word, inv, &mut w, &ctx)? {
                        matches.push(m);
                        continue;
                    }
                }
                return Err(format!("unknown option \"{word}\""));
            }
            _ => return Err(format!("Bad argument `{word}'")),
        }
    }
    if invert {
        return Err("`!' at the end of the line has nothing to invert".into());
    }
    let Some((cmd, flag)) = cmd else {
        return Err("no command specified (-A, -I, -D, -N, -P ...)".into());
    };
    if !cmd.takes_rule() {
        if let Some(opt) = first_rule_opt {
            return Err(format!("Illegal option `{opt}' with this command ({flag})"));
        }
        return Ok(ParsedCommand {
            cmd,
            table,
            only_family,
            rules: Vec::new(),
            warnings,
        });
    }

    let ctx = ParseCtx {
        family,
        proto: ip.proto.map(|p| p.0),
        proto_inverted: ip.proto.is_some_and(|p| p.1),
    };
    for m in &mut matches {
        m.finish(&ctx)?;
    }
    // iptables-nft keeps one tcp (udp) match per rule: later ones fold into the first, even
    // with other matches between them (the kernel recording of rules-reject shows it).
    let mut merged: Vec<Match> = Vec::with_capacity(matches.len());
    for m in matches {
        if merged.iter_mut().any(|earlier| earlier.absorb(&m)) {
            continue;
        }
        merged.push(m);
    }
    let target = match target {
        Some(t) => {
            let (t, warn) = t.finish(&ctx)?;
            warnings.extend(warn);
            t
        }
        None => Target::None,
    };

    let srcs: Vec<Option<(Net, bool)>> = match src {
        Some((list, inv)) => list.into_iter().map(|n| Some((n, inv))).collect(),
        None => vec![None],
    };
    let dsts: Vec<Option<(Net, bool)>> = match dst {
        Some((list, inv)) => list.into_iter().map(|n| Some((n, inv))).collect(),
        None => vec![None],
    };
    let source = echo(words);
    let mut rules = Vec::new();
    for s in &srcs {
        for d in &dsts {
            let mut ipm = ip.clone();
            ipm.src = *s;
            ipm.dst = *d;
            rules.push(Rule {
                ip: ipm,
                matches: merged.clone(),
                target: target.clone(),
                counters: counters.unwrap_or_default(),
                location: location.clone(),
                source: source.clone(),
                family,
            });
        }
    }
    Ok(ParsedCommand {
        cmd,
        table,
        only_family,
        rules,
        warnings,
    })
}
