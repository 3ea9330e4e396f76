//! `-m hashlimit` (xt_hashlimit, revision 3): a token bucket per key (masked addresses and
//! ports chosen by `--hashlimit-mode`), in tables named by `--hashlimit-name`.
//!
//! As in the kernel, rules that give the same name (in one family) share one table, and the
//! table keeps the configuration of the rule that created it (rate, burst, mode, masks,
//! expiry): a later rule with the same name contributes only its `upto`/`above` sense.
//! [`MatchState::register`](crate::rules::MatchState::register) creates the tables in rule
//! order, as loading the rules into the kernel does.
//!
//! Credits: revision 3 keeps 64-bit credits with `CREDITS_PER_JIFFY` = 2^39 (the largest power
//! of two with `c * HZ * 86400 < 2^64`) and rates in units of 1/1000000 s
//! (`XT_HASHLIMIT_SCALE_v2`), so a packet costs `avg * (HZ * 2^39 / 10^6)` credits.
//!
//! Differences from the kernel, by design: an entry is forgotten as soon as it has been idle
//! for `--hashlimit-htable-expire` ms (the kernel's collector removes it at its next run, up to
//! `--hashlimit-htable-gcinterval` ms later; until then the old entry keeps its credits).
//! Byte rates (`--hashlimit-upto 1kb/s`) and `--hashlimit-rate-match` are refused.

use std::collections::HashMap;
use std::net::IpAddr;

use super::limit::{HZ, parse_rate, save_rate};
use super::{Module, ParseCtx, no_invert, once};
use crate::hook::Family;
use crate::packet::PacketCtx;
use crate::rules::addr::{bits, prefix_mask};
use crate::rules::state::{MatchState, jiffies};
use crate::rules::words::{Words, parse_num};

pub const XT_HASHLIMIT_SCALE_V2: u64 = 1_000_000;
pub const CREDITS_PER_JIFFY_V3: u64 = 1 << 39;
const MODE_SIP: u8 = 1;
const MODE_DIP: u8 = 2;
const MODE_SPT: u8 = 4;
const MODE_DPT: u8 = 8;
/// In the order iptables-save prints them.
const MODES: &[(&str, u8)] = &[
    ("srcip", MODE_SIP),
    ("srcport", MODE_SPT),
    ("dstip", MODE_DIP),
    ("dstport", MODE_DPT),
];
const DEFAULT_BURST: u64 = 5;
const DEFAULT_EXPIRE_MS: u32 = 10_000;
const DEFAULT_GC_MS: u32 = 1_000;
/// htable_create on a machine with more than 1 GiB of memory: 8192 buckets, 8 entries each.
const DEFAULT_MAX: u32 = 8 * 8192;

/// The kernel's user2credits for revision 3.
pub fn user2credits(user: u64) -> u64 {
    user.wrapping_mul(u64::from(HZ) * CREDITS_PER_JIFFY_V3 / XT_HASHLIMIT_SCALE_V2)
}

/// The table-wide configuration (from the rule that created the table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashlimitConfig {
    /// Period between packets in 1/1000000 s.
    pub avg: u64,
    pub burst: u64,
    pub mode: u8,
    pub srcmask: u8,
    pub dstmask: u8,
    pub size: u32,
    pub max: u32,
    pub gc_interval: u32,
    /// Milliseconds.
    pub expire: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hashlimit {
    family: Family,
    pub cfg: HashlimitConfig,
    pub name: Option<String>,
    /// `--hashlimit-above`: match when over the limit.
    pub above: bool,
    rate_given: Option<&'static str>,
    seen: Vec<&'static str>,
}

impl Hashlimit {
    pub fn new(family: Family) -> Self {
        let full = match family {
            Family::V4 => 32,
            Family::V6 => 128,
        };
        Hashlimit {
            family,
            cfg: HashlimitConfig {
                avg: 0,
                burst: DEFAULT_BURST,
                mode: 0,
                srcmask: full,
                dstmask: full,
                size: 0,
                max: 0,
                gc_interval: DEFAULT_GC_MS,
                expire: DEFAULT_EXPIRE_MS,
            },
            name: None,
            above: false,
            rate_given: None,
            seen: Vec::new(),
        }
    }

    fn full_mask(&self) -> u8 {
        match self.family {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

fn parse_hl_rate(s: &str) -> Result<u64, String> {
    let num = s.split('/').next().unwrap_or("");
    let digits = num.bytes().take_while(u8::is_ascii_digit).count();
    if num[digits..].to_ascii_lowercase().ends_with('b') {
        return Err(format!(
            "hashlimit: byte rates (\"{s}\") are not supported by ctguard"
        ));
    }
    parse_rate(s, XT_HASHLIMIT_SCALE_V2)
}

impl Module for Hashlimit {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        const OPTS: &[&str] = &[
            "--hashlimit-upto",
            "--hashlimit-above",
            "--hashlimit-burst",
            "--hashlimit-mode",
            "--hashlimit-name",
            "--hashlimit-srcmask",
            "--hashlimit-dstmask",
            "--hashlimit-htable-size",
            "--hashlimit-htable-max",
            "--hashlimit-htable-gcinterval",
            "--hashlimit-htable-expire",
        ];
        let Some(&name) = OPTS.iter().find(|o| **o == opt) else {
            if opt == "--hashlimit-rate-match" || opt == "--hashlimit-rate-interval" {
                return Err(format!("hashlimit: {opt} is not supported by ctguard"));
            }
            return Ok(false);
        };
        let v = w.value(opt)?;
        if name != "--hashlimit-upto" && name != "--hashlimit-above" {
            no_invert("hashlimit", opt, invert)?;
            once("hashlimit", opt, self.seen.contains(&name))?;
            self.seen.push(name);
        }
        let u32v =
            |v: &str| parse_num("hashlimit", opt, v, 0, u64::from(u32::MAX)).map(|n| n as u32);
        match name {
            "--hashlimit-upto" | "--hashlimit-above" => {
                if let Some(prev) = self.rate_given {
                    return Err(format!(
                        "hashlimit: option \"{name}\" cannot be used together with \"{prev}\"."
                    ));
                }
                self.rate_given = Some(name);
                self.cfg.avg = parse_hl_rate(v)?;
                self.above = (name == "--hashlimit-above") != invert;
            }
            "--hashlimit-burst" => {
                self.cfg.burst = parse_num("hashlimit", opt, v, 1, 10000)?;
            }
            "--hashlimit-mode" => {
                let mut m = 0;
                for part in v.split(',') {
                    m |= MODES
                        .iter()
                        .find(|(n, _)| *n == part)
                        .map(|&(_, b)| b)
                        .ok_or_else(|| format!("hashlimit: bad mode \"{part}\""))?;
                }
                self.cfg.mode = m;
            }
            "--hashlimit-name" => {
                if v.is_empty() || v.len() > 254 || v.contains('/') || v == "." || v == ".." {
                    return Err(format!("hashlimit: invalid --hashlimit-name \"{v}\""));
                }
                self.name = Some(v.to_string());
            }
            "--hashlimit-srcmask" => {
                self.cfg.srcmask =
                    parse_num("hashlimit", opt, v, 0, u64::from(self.full_mask()))? as u8;
            }
            "--hashlimit-dstmask" => {
                self.cfg.dstmask =
                    parse_num("hashlimit", opt, v, 0, u64::from(self.full_mask()))? as u8;
            }
            "--hashlimit-htable-size" => self.cfg.size = u32v(v)?,
            "--hashlimit-htable-max" => self.cfg.max = u32v(v)?,
            "--hashlimit-htable-gcinterval" => self.cfg.gc_interval = u32v(v)?,
            _ => self.cfg.expire = u32v(v)?,
        }
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        if self.rate_given.is_none() {
            return Err("You have to specify --hashlimit".into());
        }
        if self.name.is_none() {
            return Err("hashlimit: option \"--hashlimit-name\" must be specified".into());
        }
        if self.cfg.gc_interval == 0 || self.cfg.expire == 0 {
            return Err("hashlimit: the kernel refuses a zero --hashlimit-htable-gcinterval or --hashlimit-htable-expire".into());
        }
        let c = &self.cfg;
        if user2credits(c.avg.wrapping_mul(c.burst)) < user2credits(c.avg) {
            return Err(format!(
                "hashlimit: the kernel refuses this rate and burst (xt_hashlimit: \"overflow, try lower: {}/{}\")",
                c.avg, c.burst
            ));
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, state: &mut MatchState) -> bool {
        let Some(name) = &self.name else {
            return false;
        };
        let now = jiffies(pkt.now);
        let table = state.hashlimit.table(self.family, name, &self.cfg);
        let cfg = &table.cfg;
        let mask = |ip: IpAddr, len: u8| bits(ip) & bits(prefix_mask(self.family, u32::from(len)));
        let key = Key {
            src: if cfg.mode & MODE_SIP != 0 {
                mask(pkt.src, cfg.srcmask)
            } else {
                0
            },
            dst: if cfg.mode & MODE_DIP != 0 {
                mask(pkt.dst, cfg.dstmask)
            } else {
                0
            },
            sport: if cfg.mode & MODE_SPT != 0 {
                pkt.l4.sport.unwrap_or(0)
            } else {
                0
            },
            dport: if cfg.mode & MODE_DPT != 0 {
                pkt.l4.dport.unwrap_or(0)
            } else {
                0
            },
        };
        let Some(entry) = table.entry(key, now) else {
            // Table full: the kernel drops the packet (hotdrop).
            state.hotdrop = true;
            return false;
        };
        if entry.credit >= entry.cost {
            entry.credit -= entry.cost;
            !self.above
        } else {
            self.above
        }
    }

    fn save(&self, out: &mut String) {
        out.push_str(if self.above {
            " --hashlimit-above"
        } else {
            " --hashlimit-upto"
        });
        let c = &self.cfg;
        save_rate(out, c.avg, XT_HASHLIMIT_SCALE_V2);
        out.push_str(&format!(" --hashlimit-burst {}", c.burst));
        if c.mode != 0 {
            let names: Vec<&str> = MODES
                .iter()
                .filter(|(_, b)| c.mode & b != 0)
                .map(|(n, _)| *n)
                .collect();
            out.push_str(&format!(" --hashlimit-mode {}", names.join(",")));
        }
        if let Some(n) = &self.name {
            out.push_str(&format!(" --hashlimit-name {n}"));
        }
        if c.size != 0 {
            out.push_str(&format!(" --hashlimit-htable-size {}", c.size));
        }
        if c.max != 0 {
            out.push_str(&format!(" --hashlimit-htable-max {}", c.max));
        }
        if c.gc_interval != DEFAULT_GC_MS {
            out.push_str(&format!(" --hashlimit-htable-gcinterval {}", c.gc_interval));
        }
        if c.expire != DEFAULT_EXPIRE_MS {
            out.push_str(&format!(" --hashlimit-htable-expire {}", c.expire));
        }
        if c.srcmask != self.full_mask() {
            out.push_str(&format!(" --hashlimit-srcmask {}", c.srcmask));
        }
        if c.dstmask != self.full_mask() {
            out.push_str(&format!(" --hashlimit-dstmask {}", c.dstmask));
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: u128,
    dst: u128,
    sport: u16,
    dport: u16,
}

#[derive(Clone, Debug)]
struct Entry {
    expires: u64,
    prev: u64,
    credit: u64,
    credit_cap: u64,
    cost: u64,
}

/// One named table.
#[derive(Clone, Debug)]
pub struct HTable {
    pub cfg: HashlimitConfig,
    max: u32,
    entries: HashMap<Key, Entry>,
}

impl HTable {
    fn new(cfg: &HashlimitConfig) -> Self {
        let max = if cfg.max == 0 {
            if cfg.size == 0 {
                DEFAULT_MAX
            } else {
                8 * cfg.size
            }
        } else {
            cfg.max.max(cfg.size)
        };
        HTable {
            cfg: cfg.clone(),
            max,
            entries: HashMap::new(),
        }
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&mut self, key: Key, now: u64) -> Option<&mut Entry> {
        let expire_j = u64::from(self.cfg.expire).div_ceil(4);
        let fresh = |cfg: &HashlimitConfig| {
            let cap = user2credits(cfg.avg.wrapping_mul(cfg.burst));
            Entry {
                expires: now + expire_j,
                prev: now,
                credit: cap,
                credit_cap: cap,
                cost: user2credits(cfg.avg),
            }
        };
        let expired = self
            .entries
            .get(&key)
            .is_some_and(|e| now.wrapping_sub(e.expires) as i64 >= 0);
        if expired {
            self.entries.remove(&key);
        }
        if !self.entries.contains_key(&key) {
            if self.entries.len() as u64 >= u64::from(self.max) {
                self.entries
                    .retain(|_, e| (now.wrapping_sub(e.expires) as i64) < 0);
                if self.entries.len() as u64 >= u64::from(self.max) {
                    return None;
                }
            }
            let e = fresh(&self.cfg);
            self.entries.insert(key, e);
            return self.entries.get_mut(&key);
        }
        let e = self.entries.get_mut(&key)?;
        e.expires = now + expire_j;
        let delta = now.wrapping_sub(e.prev);
        if delta != 0 {
            e.prev = now;
            e.credit = e
                .credit
                .wrapping_add(delta.wrapping_mul(CREDITS_PER_JIFFY_V3));
            if e.credit > e.credit_cap {
                e.credit = e.credit_cap;
            }
        }
        Some(e)
    }
}

/// Every hashlimit table, per family and name.
#[derive(Clone, Debug, Default)]
pub struct HashlimitTables {
    v4: HashMap<String, HTable>,
    v6: HashMap<String, HTable>,
}

impl HashlimitTables {
    /// The table `name`, created with `cfg` if it does not exist yet.
    pub(crate) fn table(
        &mut self,
        family: Family,
        name: &str,
        cfg: &HashlimitConfig,
    ) -> &mut HTable {
        let map = match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        };
        if !map.contains_key(name) {
            map.insert(name.to_string(), HTable::new(cfg));
        }
        map.get_mut(name).expect("inserted above")
    }

    /// A table by name, if some rule created it.
    pub fn get(&self, family: Family, name: &str) -> Option<&HTable> {
        match family {
            Family::V4 => self.v4.get(name),
            Family::V6 => self.v6.get(name),
        }
    }
}
