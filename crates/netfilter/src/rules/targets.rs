//! Targets (`-j`, `-g`): what a rule does when it matches, parsed.
//!
//! The pipeline executes them; this module holds their options, their iptables-save form,
//! where the kernel allows them (table and hooks), and small pure helpers for the mark
//! arithmetic (`MARK`, `CONNMARK`).

use std::net::IpAddr;

use crate::hook::{Family, Hook, TableName};
use crate::rules::addr::parse_addr;
use crate::rules::matches::ParseCtx;
use crate::rules::names::{IPPROTO_DCCP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE};
use crate::rules::words::{Words, parse_c_uint, parse_mark_mask, save_string};

/// A user chain named by a jump or goto, with its position in the table once linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRef {
    pub name: String,
    /// Index into [`Table::chains`](crate::rules::Table::chains), valid after loading.
    pub index: usize,
}

pub use crate::reject::RejectWith;

/// LOG's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub prefix: String,
    /// syslog level 0-7 (default 4, warning).
    pub level: u8,
    pub tcp_sequence: bool,
    pub tcp_options: bool,
    pub ip_options: bool,
    pub uid: bool,
    pub macdecode: bool,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            prefix: String::new(),
            level: 4,
            tcp_sequence: false,
            tcp_options: false,
            ip_options: false,
            uid: false,
            macdecode: false,
        }
    }
}

/// The longest prefix the kernel keeps (30 bytes with the NUL).
pub const LOG_PREFIX_MAX: usize = 29;
const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
];

/// CT's options (only the ones ctguard models).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CtTarget {
    pub notrack: bool,
    pub zone: Option<u16>,
    pub zone_orig: Option<u16>,
    pub zone_reply: Option<u16>,
}

/// MARK: `mark = (mark & !mask) ^ value` (every MARK option reduces to this).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MarkTarget {
    pub value: u32,
    pub mask: u32,
}

impl MarkTarget {
    pub fn apply(self, mark: u32) -> u32 {
        (mark & !self.mask) ^ self.value
    }
}

/// CONNMARK's three modes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConnmarkTarget {
    /// `ctmark = (ctmark & !mask) ^ value`.
    Set { value: u32, mask: u32 },
    /// `ctmark = (ctmark & !ctmask) ^ (mark & nfmask)`.
    Save { nfmask: u32, ctmask: u32 },
    /// `mark = (mark & !nfmask) ^ (ctmark & ctmask)`.
    Restore { nfmask: u32, ctmask: u32 },
}

impl ConnmarkTarget {
    /// (packet mark, connection mark) after the target.
    pub fn apply(self, mark: u32, ctmark: u32) -> (u32, u32) {
        match self {
            ConnmarkTarget::Set { value, mask } => (mark, (ctmark & !mask) ^ value),
            ConnmarkTarget::Save { nfmask, ctmask } => (mark, (ctmark & !ctmask) ^ (mark & nfmask)),
            ConnmarkTarget::Restore { nfmask, ctmask } => {
                ((mark & !nfmask) ^ (ctmark & ctmask), ctmark)
            }
        }
    }
}

/// A NAT range: addresses `min..=max` (None: keep), ports `min..=max` (None: keep).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatRange {
    pub addrs: Option<(IpAddr, IpAddr)>,
    pub ports: Option<(u16, u16)>,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

/// A parsed target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// No `-j`: the rule only counts.
    None,
    Accept,
    Drop,
    Return,
    Jump(ChainRef),
    Goto(ChainRef),
    Reject(RejectWith),
    Log(Log),
    Notrack,
    Ct(CtTarget),
    Mark(MarkTarget),
    Connmark(ConnmarkTarget),
    Snat(NatRange),
    Dnat(NatRange),
    Masquerade(NatRange),
    Redirect(NatRange),
    /// TCPMSS: `--set-mss N` (Some) or `--clamp-mss-to-pmtu` (None).
    Tcpmss(Option<u16>),
}

/// Target names that are not chain names (user chains may not take them).
pub const TARGET_NAMES: &[&str] = &[
    "ACCEPT",
    "DROP",
    "RETURN",
    "QUEUE",
    "REJECT",
    "LOG",
    "NOTRACK",
    "CT",
    "MARK",
    "CONNMARK",
    "SNAT",
    "DNAT",
    "MASQUERADE",
    "REDIRECT",
    "NFLOG",
    "NFQUEUE",
    "TCPMSS",
    "TPROXY",
    "TRACE",
    "AUDIT",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "SET",
    "TEE",
    "CHECKSUM",
    "SECMARK",
    "CONNSECMARK",
    "IDLETIMER",
    "LED",
    "SYNPROXY",
    "NETMAP",
];

/// A target being parsed (options still to come).
#[derive(Clone, Debug)]
pub struct TargetBuilder {
    pub target: Target,
    seen: Vec<String>,
    family: Family,
    /// MARK/CONNMARK: was a mode option given.
    mode_given: bool,
    nat_given: bool,
    mask_opts: (Option<u32>, Option<u32>),
}

fn hex(v: u32) -> String {
    format!("0x{v:x}")
}

fn port_range(s: &str) -> Result<(u16, u16), String> {
    let num = |x: &str| -> Result<u16, String> {
        x.parse::<u16>()
            .ok()
            .filter(|_| x.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("Port \"{x}\" not valid"))
    };
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (lo, hi) = (num(a)?, num(b)?);
    if lo > hi {
        return Err(format!("Invalid port range \"{s}\""));
    }
    Ok((lo, hi))
}

/// `addr[-addr][:port[-port]]`, `[addr[-addr]]:port[-port]` (IPv6) or `:port[-port]`.
fn parse_nat(family: Family, s: &str, r: &mut NatRange) -> Result<(), String> {
    let bad = || format!("Bad IP address \"{s}\"");
    let (addrs, ports) = match family {
        Family::V6 => {
            if let Some(rest) = s.strip_prefix('[') {
                let (a, p) = rest.split_once(']').ok_or_else(bad)?;
                let p = match p.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if p.is_empty() => None,
                    None => return Err(bad()),
                };
                (Some(a), p)
            } else if let Some(p) = s.strip_prefix(':') {
                (None, Some(p))
            } else {
                (Some(s), None)
            }
        }
        Family::V4 => match s.split_once(':') {
            Some((a, p)) => ((!a.is_empty()).then_some(a), Some(p)),
            None => (Some(s), None),
        },
    };
    if let Some(a) = addrs {
        let (lo, hi) = a.split_once('-').unwrap_or((a, a));
        let lo = parse_addr(family, lo).ok_or_else(bad)?;
        let hi = parse_addr(family, hi).ok_or_else(bad)?;
        r.addrs = Some((lo, hi));
    }
    if let Some(p) = ports {
        r.ports = Some(port_range(p)?);
    }
    Ok(())
}

fn save_nat(out: &mut String, family: Family, r: &NatRange) {
    let addr = r.addrs.map(|(lo, hi)| {
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    });
    let port = r.ports.map(|(lo, hi)| {
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    });
    out.push(' ');
    match (family, addr, port) {
        (Family::V6, Some(a), Some(p)) => out.push_str(&format!("[{a}]:{p}")),
        (_, Some(a), Some(p)) => out.push_str(&format!("{a}:{p}")),
        (_, Some(a), None) => out.push_str(&a),
        (_, None, Some(p)) => out.push_str(&format!(":{p}")),
        (_, None, None) => {}
    }
}

fn save_nat_flags(out: &mut String, r: &NatRange) {
    if r.random {
        out.push_str(" --random");
    }
    if r.random_fully {
        out.push_str(" --random-fully");
    }
    if r.persistent {
        out.push_str(" --persistent");
    }
}

impl TargetBuilder {
    /// `-j NAME`. `user_chain`: NAME is not a target; treat it as a jump to that chain.
    pub fn new(name: &str, goto: bool, family: Family) -> Result<TargetBuilder, String> {
        let chain = || ChainRef {
            name: name.to_string(),
            index: usize::MAX,
        };
        let target = if goto {
            Target::Goto(chain())
        } else {
            match name {
                "ACCEPT" => Target::Accept,
                "DROP" => Target::Drop,
                "RETURN" => Target::Return,
                "REJECT" => Target::Reject(RejectWith::default_for(family)),
                "LOG" => Target::Log(Log::default()),
                "NOTRACK" => Target::Notrack,
                "CT" => Target::Ct(CtTarget::default()),
                "MARK" => Target::Mark(MarkTarget { value: 0, mask: 0 }),
                "CONNMARK" => Target::Connmark(ConnmarkTarget::Set { value: 0, mask: 0 }),
                "SNAT" => Target::Snat(NatRange::default()),
                "DNAT" => Target::Dnat(NatRange::default()),
                "MASQUERADE" => Target::Masquerade(NatRange::default()),
                "REDIRECT" => Target::Redirect(NatRange::default()),
                "TCPMSS" => Target::Tcpmss(Some(0)),
                _ if TARGET_NAMES.contains(&name) => {
                    return Err(format!("target {name} is not supported by ctguard"));
                }
                _ if name.is_empty() || name.starts_with('-') => {
                    return Err(format!("invalid target name `{name}'"));
                }
                _ => Target::Jump(chain()),
            }
        };
        Ok(TargetBuilder {
            target,
            seen: Vec::new(),
            family,
            mode_given: false,
            nat_given: false,
            mask_opts: (None, None),
        })
    }

    /// The target's name as `-j` gives it.
    pub fn name(&self) -> &str {
        self.target.name()
    }

    /// Takes one option of the target. `Ok(false)`: not one of its options.
    pub fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let tname = self.target.name().to_string();
        let family = self.family;
        let known = match &self.target {
            Target::Reject(_) => ["--reject-with"].contains(&opt),
            Target::Log(_) => [
                "--log-prefix",
                "--log-level",
                "--log-tcp-sequence",
                "--log-tcp-options",
                "--log-ip-options",
                "--log-uid",
                "--log-macdecode",
            ]
            .contains(&opt),
            Target::Ct(_) => [
                "--notrack",
                "--zone",
                "--zone-orig",
                "--zone-reply",
                "--helper",
                "--ctevents",
                "--expevents",
                "--timeout",
            ]
            .contains(&opt),
            Target::Mark(_) => [
                "--set-mark",
                "--set-xmark",
                "--and-mark",
                "--or-mark",
                "--xor-mark",
            ]
            .contains(&opt),
            Target::Connmark(_) => [
                "--set-mark",
                "--set-xmark",
                "--and-mark",
                "--or-mark",
                "--xor-mark",
                "--save-mark",
                "--restore-mark",
                "--nfmask",
                "--ctmask",
                "--mask",
            ]
            .contains(&opt),
            Target::Snat(_) => {
                ["--to-source", "--random", "--random-fully", "--persistent"].contains(&opt)
            }
            Target::Dnat(_) => [
                "--to-destination",
                "--random",
                "--random-fully",
                "--persistent",
            ]
            .contains(&opt),
            Target::Masquerade(_) => ["--to-ports", "--random", "--random-fully"].contains(&opt),
            Target::Redirect(_) => ["--to-ports", "--random"].contains(&opt),
            Target::Tcpmss(_) => ["--set-mss", "--clamp-mss-to-pmtu"].contains(&opt),
            _ => false,
        };
        if !known {
            return Ok(false);
        }
        if invert {
            return Err(format!("{tname}: option \"{opt}\" cannot be inverted."));
        }
        if self.seen.iter().any(|s| s == opt) {
            return Err(format!("{tname}: option \"{opt}\" can only be used once."));
        }
        self.seen.push(opt.to_string());
        let mode_twice = |given: &mut bool| -> Result<(), String> {
            if *given {
                Err(format!(
                    "{tname}: only one action (--set-mark, --save-mark, ...) per target"
                ))
            } else {
                *given = true;
                Ok(())
            }
        };
        match &mut self.target {
            Target::Reject(r) => {
                let v = w.value(opt)?;
                *r = RejectWith::from_name(v, family)
                    .ok_or_else(|| format!("unknown reject type \"{v}\""))?;
            }
            Target::Log(l) => match opt {
                "--log-prefix" => {
                    let v = w.value(opt)?;
                    if v.contains('\n') {
                        return Err("LOG: newlines not allowed in --log-prefix".into());
                    }
                    l.prefix = v.to_string();
                }
                "--log-level" => {
                    let v = w.value(opt)?;
                    l.level = match v.parse::<u8>() {
                        Ok(n) if n <= 7 && v.bytes().all(|b| b.is_ascii_digit()) => n,
                        _ => LOG_LEVELS
                            .iter()
                            .position(|n| *n == v)
                            .map(|p| p as u8)
                            .ok_or_else(|| format!("log level \"{v}\" unknown"))?,
                    };
                }
                "--log-tcp-sequence" => l.tcp_sequence = true,
                "--log-tcp-options" => l.tcp_options = true,
                "--log-ip-options" => l.ip_options = true,
                "--log-uid" => l.uid = true,
                _ => l.macdecode = true,
            },
            Target::Ct(c) => {
                let zone = |w: &mut Words<'_>| -> Result<u16, String> {
                    let v = w.value(opt)?;
                    parse_c_uint(v)
                        .filter(|&n| n <= 65535)
                        .map(|n| n as u16)
                        .ok_or_else(|| format!("CT: bad zone value \"{v}\""))
                };
                match opt {
                    "--notrack" => c.notrack = true,
                    "--zone" => c.zone = Some(zone(w)?),
                    "--zone-orig" => c.zone_orig = Some(zone(w)?),
                    "--zone-reply" => c.zone_reply = Some(zone(w)?),
                    _ => {
                        return Err(format!(
                            "CT option {opt} is not supported by ctguard (only --notrack and the zones are modelled)"
                        ));
                    }
                }
            }
            Target::Mark(m) => {
                mode_twice(&mut self.mode_given)?;
                let (v, mask) = parse_mark_mask("MARK", opt, w.value(opt)?)?;
                *m = match opt {
                    "--set-mark" => MarkTarget {
                        value: v,
                        mask: mask.map_or(u32::MAX, |k| k | v),
                    },
                    "--set-xmark" => MarkTarget {
                        value: v,
                        mask: mask.unwrap_or(u32::MAX),
                    },
                    "--and-mark" => MarkTarget { value: 0, mask: !v },
                    "--or-mark" => MarkTarget { value: v, mask: v },
                    _ => MarkTarget { value: v, mask: 0 },
                };
            }
            Target::Connmark(c) => match opt {
                "--save-mark" | "--restore-mark" => {
                    mode_twice(&mut self.mode_given)?;
                    *c = if opt == "--save-mark" {
                        ConnmarkTarget::Save {
                            nfmask: u32::MAX,
                            ctmask: u32::MAX,
                        }
                    } else {
                        ConnmarkTarget::Restore {
                            nfmask: u32::MAX,
                            ctmask: u32::MAX,
                        }
                    };
                }
                "--nfmask" | "--ctmask" | "--mask" => {
                    let (v, extra) = parse_mark_mask("CONNMARK", opt, w.value(opt)?)?;
                    if extra.is_some() {
                        return Err(format!("CONNMARK: {opt} takes a single value"));
                    }
                    match opt {
                        "--nfmask" => self.mask_opts.0 = Some(v),
                        "--ctmask" => self.mask_opts.1 = Some(v),
                        _ => self.mask_opts = (Some(v), Some(v)),
                    }
                }
                _ => {
                    mode_twice(&mut self.mode_given)?;
                    let (v, mask) = parse_mark_mask("CONNMARK", opt, w.value(opt)?)?;
                    let (value, mask) = match opt {
                        "--set-mark" => (v, mask.map_or(u32::MAX, |k| k | v)),
                        "--set-xmark" => (v, mask.unwrap_or(u32::MAX)),
                        "--and-mark" => (0, !v),
                        "--or-mark" => (v, v),
                        _ => (v, 0),
                    };
                    *c = ConnmarkTarget::Set { value, mask };
                }
            },
            Target::Snat(r) | Target::Dnat(r) | Target::Masquerade(r) | Target::Redirect(r) => {
                match opt {
                    "--random" => r.random = true,
                    "--random-fully" => r.random_fully = true,
                    "--persistent" => r.persistent = true,
                    "--to-ports" => {
                        r.ports = Some(port_range(w.value(opt)?)?);
                        self.nat_given = true;
                    }
                    _ => {
                        parse_nat(family, w.value(opt)?, r)?;
                        self.nat_given = true;
                    }
                }
            }
            Target::Tcpmss(m) => {
                mode_twice(&mut self.mode_given)?;
                *m = match opt {
                    "--set-mss" => {
                        let v = w.value(opt)?;
                        Some(
                            parse_c_uint(v)
                                .filter(|&n| n <= 65535)
                                .map(|n| n as u16)
                                .ok_or_else(|| format!("Bad TCPMSS value \"{v}\""))?,
                        )
                    }
                    _ => None,
                };
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks the complete target against the rule (`ctx`: its `-p`).
    pub fn finish(mut self, ctx: &ParseCtx) -> Result<(Target, Vec<String>), String> {
        let mut warnings = Vec::new();
        let port_proto = matches!(
            ctx.exact_proto(),
            Some(IPPROTO_TCP | IPPROTO_UDP | IPPROTO_UDPLITE | IPPROTO_SCTP | IPPROTO_DCCP)
        );
        match &mut self.target {
            Target::Reject(RejectWith::TcpReset) if ctx.exact_proto() != Some(IPPROTO_TCP) => {
                return Err(
                    "REJECT --reject-with tcp-reset needs `-p tcp' (the kernel refuses it for other protocols)".into(),
                );
            }
            Target::Log(l) if l.prefix.len() > LOG_PREFIX_MAX => {
                let mut cut = LOG_PREFIX_MAX;
                while !l.prefix.is_char_boundary(cut) {
                    cut -= 1;
                }
                l.prefix.truncate(cut);
                warnings.push(format!(
                    "LOG: --log-prefix is longer than {LOG_PREFIX_MAX} characters; cut to \"{}\" as iptables does",
                    l.prefix
                ));
            }
            Target::Tcpmss(_) if !self.mode_given => {
                return Err("TCPMSS target: exactly one of --set-mss or --clamp-mss-to-pmtu must be specified".into());
            }
            Target::Tcpmss(_) if ctx.exact_proto() != Some(IPPROTO_TCP) => {
                return Err("TCPMSS: Only works on TCP SYN packets (needs `-p tcp')".into());
            }
            Target::Mark(_) if !self.mode_given => {
                return Err("MARK target: Parameter --set/and/or/xor-mark is required".into());
            }
            Target::Connmark(c) => {
                match c {
                    ConnmarkTarget::Save { nfmask, ctmask }
                    | ConnmarkTarget::Restore { nfmask, ctmask } => {
                        if let Some(n) = self.mask_opts.0 {
                            *nfmask = n;
                        }
                        if let Some(n) = self.mask_opts.1 {
                            *ctmask = n;
                        }
                    }
                    ConnmarkTarget::Set { .. } => {
                        if self.mask_opts != (None, None) {
                            return Err("CONNMARK: --nfmask, --ctmask and --mask go with --save-mark or --restore-mark".into());
                        }
                    }
                }
                if !self.mode_given {
                    return Err("CONNMARK target: No operation specified".into());
                }
            }
            Target::Snat(r) | Target::Dnat(r) => {
                if !self.nat_given {
                    let (t, o) = match &self.target {
                        Target::Snat(_) => ("SNAT", "--to-source"),
                        _ => ("DNAT", "--to-destination"),
                    };
                    return Err(format!("{t}: option \"{o}\" must be specified"));
                }
                if r.ports.is_some() && !port_proto {
                    return Err("Need TCP, UDP, SCTP or DCCP with port specification".into());
                }
            }
            Target::Masquerade(r) | Target::Redirect(r) if r.ports.is_some() && !port_proto => {
                return Err("Need TCP, UDP, SCTP or DCCP with port specification".into());
            }
            _ => {}
        }
        Ok((self.target, warnings))
    }
}

impl Target {
    /// The name after `-j` (or the chain after `-g`).
    pub fn name(&self) -> &str {
        match self {
            Target::None => "",
            Target::Accept => "ACCEPT",
            Target::Drop => "DROP",
            Target::Return => "RETURN",
            Target::Jump(c) | Target::Goto(c) => &c.name,
            Target::Reject(_) => "REJECT",
            Target::Log(_) => "LOG",
            Target::Notrack => "NOTRACK",
            Target::Ct(_) => "CT",
            Target::Mark(_) => "MARK",
            Target::Connmark(_) => "CONNMARK",
            Target::Snat(_) => "SNAT",
            Target::Dnat(_) => "DNAT",
            Target::Masquerade(_) => "MASQUERADE",
            Target::Redirect(_) => "REDIRECT",
            Target::Tcpmss(_) => "TCPMSS",
        }
    }

    /// The user chain it jumps or goes to.
    pub fn chain(&self) -> Option<&ChainRef> {
        match self {
            Target::Jump(c) | Target::Goto(c) => Some(c),
            _ => None,
        }
    }

    /// Appends ` -j NAME --opts` (or ` -g CHAIN`) as iptables-save prints it.
    pub fn save(&self, out: &mut String, family: Family) {
        match self {
            Target::None => return,
            Target::Goto(c) => {
                out.push_str(" -g ");
                out.push_str(&c.name);
                return;
            }
            _ => {
                out.push_str(" -j ");
                out.push_str(self.name());
            }
        }
        match self {
            Target::Reject(r) => {
                out.push_str(" --reject-with ");
                out.push_str(r.name());
            }
            Target::Log(l) => {
                if !l.prefix.is_empty() {
                    out.push_str(" --log-prefix");
                    save_string(out, &l.prefix);
                }
                if l.level != 4 {
                    out.push_str(&format!(" --log-level {}", l.level));
                }
                for (on, name) in [
                    (l.tcp_sequence, " --log-tcp-sequence"),
                    (l.tcp_options, " --log-tcp-options"),
                    (l.ip_options, " --log-ip-options"),
                    (l.uid, " --log-uid"),
                    (l.macdecode, " --log-macdecode"),
                ] {
                    if on {
                        out.push_str(name);
                    }
                }
            }
            Target::Ct(c) => {
                if c.notrack {
                    out.push_str(" --notrack");
                }
                if let Some(z) = c.zone {
                    out.push_str(&format!(" --zone {z}"));
                }
                if let Some(z) = c.zone_orig {
                    out.push_str(&format!(" --zone-orig {z}"));
                }
                if let Some(z) = c.zone_reply {
                    out.push_str(&format!(" --zone-reply {z}"));
                }
            }
            Target::Mark(m) => {
                out.push_str(&format!(" --set-xmark {}/{}", hex(m.value), hex(m.mask)));
            }
            Target::Connmark(c) => match *c {
                ConnmarkTarget::Set { value, mask } => {
                    out.push_str(&format!(" --set-xmark {}/{}", hex(value), hex(mask)));
                }
                ConnmarkTarget::Save { nfmask, ctmask } => out.push_str(&format!(
                    " --save-mark --nfmask {} --ctmask {}",
                    hex(nfmask),
                    hex(ctmask)
                )),
                ConnmarkTarget::Restore { nfmask, ctmask } => out.push_str(&format!(
                    " --restore-mark --nfmask {} --ctmask {}",
                    hex(nfmask),
                    hex(ctmask)
                )),
            },
            Target::Snat(r) | Target::Dnat(r) => {
                if r.addrs.is_some() || r.ports.is_some() {
                    out.push_str(if matches!(self, Target::Snat(_)) {
                        " --to-source"
                    } else {
                        " --to-destination"
                    });
                    save_nat(out, family, r);
                }
                save_nat_flags(out, r);
            }
            Target::Masquerade(r) | Target::Redirect(r) => {
                if let Some((lo, hi)) = r.ports {
                    if lo == hi {
                        out.push_str(&format!(" --to-ports {lo}"));
                    } else {
                        out.push_str(&format!(" --to-ports {lo}-{hi}"));
                    }
                }
                save_nat_flags(out, r);
            }
            Target::Tcpmss(Some(m)) => out.push_str(&format!(" --set-mss {m}")),
            Target::Tcpmss(None) => out.push_str(" --clamp-mss-to-pmtu"),
            _ => {}
        }
    }

    /// The table the kernel restricts the target to, if any.
    pub fn required_table(&self) -> Option<TableName> {
        match self {
            Target::Notrack | Target::Ct(_) => Some(TableName::Raw),
            Target::Snat(_) | Target::Dnat(_) | Target::Masquerade(_) | Target::Redirect(_) => {
                Some(TableName::Nat)
            }
            Target::Reject(_) => Some(TableName::Filter),
            _ => None,
        }
    }

    /// The hooks the kernel allows the target in, if restricted.
    pub fn allowed_hooks(&self) -> Option<&'static [Hook]> {
        match self {
            Target::Snat(_) => Some(&[Hook::Postrouting, Hook::Input]),
            Target::Dnat(_) | Target::Redirect(_) => Some(&[Hook::Prerouting, Hook::Output]),
            Target::Masquerade(_) => Some(&[Hook::Postrouting]),
            Target::Reject(_) => Some(&[Hook::Input, Hook::Forward, Hook::Output]),
            Target::Tcpmss(None) => Some(&[Hook::Forward, Hook::Output, Hook::Postrouting]),
            _ => None,
        }
    }

    /// True when the target's kernel module depends on `nf_conntrack`.
    pub fn needs_conntrack(&self) -> bool {
        matches!(
            self,
            Target::Notrack
                | Target::Ct(_)
                | Target::Connmark(_)
                | Target::Snat(_)
                | Target::Dnat(_)
                | Target::Masquerade(_)
                | Target::Redirect(_)
        )
    }

    /// A short human name: "NAT target SNAT", "NOTRACK target", "jump to chain LOGDROP".
    pub fn feature(&self) -> String {
        match self {
            Target::None => "no target".into(),
            Target::Jump(c) => format!("jump to chain {}", c.name),
            Target::Goto(c) => format!("goto chain {}", c.name),
            Target::Snat(_) | Target::Dnat(_) | Target::Masquerade(_) | Target::Redirect(_) => {
                format!("NAT target {}", self.name())
            }
            _ => format!("{} target", self.name()),
        }
    }

    /// The kernel module that provides the target.
    pub fn kernel_module(&self, family: Family) -> &'static str {
        match self {
            Target::None
            | Target::Accept
            | Target::Drop
            | Target::Return
            | Target::Jump(_)
            | Target::Goto(_) => match family {
                Family::V4 => "ip_tables",
                Family::V6 => "ip6_tables",
            },
            Target::Reject(_) => match family {
                Family::V4 => "ipt_REJECT",
                Family::V6 => "ip6t_REJECT",
            },
            Target::Log(_) => "xt_LOG",
            // The name the seed's lsmod shows; current kernels provide NOTRACK from xt_CT.
            Target::Notrack => "xt_NOTRACK",
            Target::Ct(_) => "xt_CT",
            Target::Mark(_) => "xt_mark",
            Target::Connmark(_) => "xt_connmark",
            Target::Snat(_) | Target::Dnat(_) => "xt_nat",
            Target::Masquerade(_) => "xt_MASQUERADE",
            Target::Redirect(_) => "xt_REDIRECT",
            Target::Tcpmss(_) => "xt_TCPMSS",
        }
    }
}
