//! `-m recent` (xt_recent): lists of recently seen addresses, shared by name between rules.
//!
//! Behaviour follows the kernel's xt_recent with its default module parameters
//! (`ip_list_tot` = 100 addresses per list, `ip_pkt_list_tot` = 20): a list keeps the time
//! stamps (jiffies) of the last `2^k` packets of each address, where `2^k` is the power of two
//! at or above the larger of 20 and the biggest `--hitcount` of the rules using the list; a
//! full list forgets its least recently updated address. The list's `--mask` is the one of
//! the rule that created it (the first rule with that name). `--rttl` compares the TTL; on a
//! forwarded packet the kernel adds one to it ("the TTL as seen before forwarding"), which
//! ctguard applies at FORWARD and at POSTROUTING for packets that have an input interface.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{Module, ParseCtx, bang, no_invert, once};
use crate::hook::{Family, Hook};
use crate::packet::PacketCtx;
use crate::rules::addr::{bits, family_of, parse_addr};
use crate::rules::state::{MatchState, jiffies};
use crate::rules::words::{Words, parse_num};

const IP_LIST_TOT: usize = 100;
const IP_PKT_LIST_TOT: u32 = 20;
const MAX_NSTAMPS: u32 = 256;
const HZ: u64 = 250;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecentCmd {
    Set,
    Rcheck,
    Update,
    Remove,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recent {
    family: Family,
    pub cmd: Option<RecentCmd>,
    pub invert: bool,
    pub name: String,
    pub seconds: u32,
    pub hitcount: u32,
    pub rttl: bool,
    pub reap: bool,
    pub rdest: bool,
    pub mask: IpAddr,
    seen: Vec<&'static str>,
}

impl Recent {
    pub fn new(family: Family) -> Self {
        Recent {
            family,
            cmd: None,
            invert: false,
            name: "DEFAULT".into(),
            seconds: 0,
            hitcount: 0,
            rttl: false,
            reap: false,
            rdest: false,
            mask: crate::rules::addr::prefix_mask(
                family,
                match family {
                    Family::V4 => 32,
                    Family::V6 => 128,
                },
            ),
            seen: Vec::new(),
        }
    }

    /// The stamp-ring size this rule asks of its list (the kernel's nstamp_mask + 1).
    pub(crate) fn nstamps(&self) -> u32 {
        if self.hitcount < IP_PKT_LIST_TOT {
            IP_PKT_LIST_TOT.next_power_of_two()
        } else {
            self.hitcount.next_power_of_two()
        }
    }
}

fn cmd_name(c: RecentCmd) -> &'static str {
    match c {
        RecentCmd::Set => "--set",
        RecentCmd::Rcheck => "--rcheck",
        RecentCmd::Update => "--update",
        RecentCmd::Remove => "--remove",
    }
}

impl Module for Recent {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        let name: &'static str = match opt {
            "--set" => "--set",
            "--rcheck" => "--rcheck",
            "--update" => "--update",
            "--remove" => "--remove",
            "--name" => "--name",
            "--seconds" => "--seconds",
            "--hitcount" => "--hitcount",
            "--rttl" => "--rttl",
            "--reap" => "--reap",
            "--rsource" => "--rsource",
            "--rdest" => "--rdest",
            "--mask" => "--mask",
            _ => return Ok(false),
        };
        let cmd = match name {
            "--set" => Some(RecentCmd::Set),
            "--rcheck" => Some(RecentCmd::Rcheck),
            "--update" => Some(RecentCmd::Update),
            "--remove" => Some(RecentCmd::Remove),
            _ => None,
        };
        if let Some(c) = cmd {
            if let Some(prev) = self.cmd {
                return Err(format!(
                    "recent: option \"{}\" cannot be used together with \"{}\".",
                    cmd_name(prev),
                    name
                ));
            }
            self.cmd = Some(c);
            self.invert = invert;
            return Ok(true);
        }
        no_invert("recent", opt, invert)?;
        once("recent", opt, self.seen.contains(&name))?;
        self.seen.push(name);
        match name {
            "--name" => {
                let v = w.value(opt)?;
                if v.is_empty() || v.len() >= 200 || v.contains('/') || v == "." || v == ".." {
                    return Err(format!(
                        "recent: the kernel refuses the list name \"{v}\" (it names a file in /proc/net/xt_recent)"
                    ));
                }
                self.name = v.to_string();
            }
            "--seconds" => {
                let v = w.value(opt)?;
                self.seconds = parse_num("recent", opt, v, 0, u64::from(u32::MAX))? as u32;
            }
            "--hitcount" => {
                let v = w.value(opt)?;
                self.hitcount = parse_num("recent", opt, v, 0, u64::from(u32::MAX))? as u32;
            }
            "--rttl" => self.rttl = true,
            "--reap" => self.reap = true,
            "--rsource" => self.rdest = false,
            "--rdest" => self.rdest = true,
            _ => {
                let v = w.value(opt)?;
                self.mask = parse_addr(self.family, v)
                    .ok_or_else(|| format!("recent: bad value for option \"--mask\": {v}"))?;
            }
        }
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        let Some(cmd) = self.cmd else {
            return Err(
                "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"
                    .into(),
            );
        };
        if self.reap && self.seconds == 0 {
            return Err("recent: option \"--reap\" also requires \"--seconds\".".into());
        }
        if matches!(cmd, RecentCmd::Set | RecentCmd::Remove)
            && (self.seconds != 0 || self.hitcount != 0 || self.rttl || self.reap)
        {
            return Err(format!(
                "recent: --seconds, --hitcount, --rttl and --reap only go with --rcheck or --update, not {} (the kernel refuses the rule)",
                cmd_name(cmd)
            ));
        }
        if self.hitcount >= MAX_NSTAMPS {
            return Err(format!(
                "recent: hitcount ({}) is larger than allowed maximum ({})",
                self.hitcount,
                MAX_NSTAMPS - 1
            ));
        }
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, state: &mut MatchState) -> bool {
        let Some(cmd) = self.cmd else {
            return false;
        };
        let now = jiffies(pkt.now);
        let addr = if self.rdest { pkt.dst } else { pkt.src };
        let mut ttl = pkt.ttl;
        let forwarded =
            pkt.hook == Hook::Forward || (pkt.hook == Hook::Postrouting && pkt.in_iface.is_some());
        if pkt.out_iface.is_some() && forwarded {
            ttl = ttl.wrapping_add(1);
        }
        let table = state.recent.table(&self.name, self.mask, self.nstamps());
        let masked = table.mask_addr(addr);
        let mut ret = self.invert;
        let lookup_ttl = if self.rttl { ttl } else { 0 };
        let Some(idx) = table.find(masked, lookup_ttl) else {
            if cmd == RecentCmd::Set {
                table.insert(masked, ttl, now);
                ret = !ret;
            }
            return ret;
        };
        match cmd {
            RecentCmd::Set => ret = !ret,
            RecentCmd::Remove => {
                table.entries.remove(idx);
                return !ret;
            }
            RecentCmd::Rcheck | RecentCmd::Update => {
                let time = now.wrapping_sub(u64::from(self.seconds) * HZ);
                let e = &table.entries[idx];
                let mut hits = 0;
                for &stamp in &e.stamps[..e.nstamps] {
                    if self.seconds != 0 && (time.wrapping_sub(stamp) as i64) > 0 {
                        continue;
                    }
                    hits += 1;
                    if self.hitcount == 0 || hits >= self.hitcount {
                        ret = !ret;
                        break;
                    }
                }
                if self.reap {
                    table.reap(time, idx, cmd == RecentCmd::Update && ret);
                }
            }
        }
        if cmd == RecentCmd::Set || (cmd == RecentCmd::Update && ret) {
            // The entry may have moved if reaping removed the oldest one.
            if let Some(i) = table.find(masked, lookup_ttl) {
                table.update(i, ttl, now);
            }
        }
        ret
    }

    fn save(&self, out: &mut String) {
        if let Some(c) = self.cmd {
            bang(out, self.invert);
            out.push(' ');
            out.push_str(cmd_name(c));
        }
        if self.seconds != 0 {
            out.push_str(&format!(" --seconds {}", self.seconds));
        }
        if self.reap {
            out.push_str(" --reap");
        }
        if self.hitcount != 0 {
            out.push_str(&format!(" --hitcount {}", self.hitcount));
        }
        if self.rttl {
            out.push_str(" --rttl");
        }
        out.push_str(&format!(" --name {}", self.name));
        out.push_str(&format!(" --mask {}", self.mask));
        out.push_str(if self.rdest { " --rdest" } else { " --rsource" });
    }
}

/// One address of a list.
#[derive(Clone, Debug)]
pub struct RecentEntry {
    pub addr: IpAddr,
    pub ttl: u8,
    /// A ring of time stamps (jiffies); `nstamps` of them are in use.
    pub stamps: Vec<u64>,
    pub nstamps: usize,
    index: usize,
}

/// One named list (`/proc/net/xt_recent/NAME`).
#[derive(Clone, Debug)]
pub struct RecentTable {
    mask_v4: IpAddr,
    mask_v6: IpAddr,
    nstamps_max: usize,
    /// Least recently updated first.
    pub entries: Vec<RecentEntry>,
}

impl RecentTable {
    fn new(mask: IpAddr, nstamps: u32) -> Self {
        let (mask_v4, mask_v6) = match family_of(mask) {
            Family::V4 => (mask, crate::rules::addr::prefix_mask(Family::V6, 128)),
            Family::V6 => (crate::rules::addr::prefix_mask(Family::V4, 32), mask),
        };
        RecentTable {
            mask_v4,
            mask_v6,
            nstamps_max: nstamps as usize,
            entries: Vec::new(),
        }
    }

    fn mask_addr(&self, a: IpAddr) -> IpAddr {
        match a {
            IpAddr::V4(v) => {
                let m = bits(self.mask_v4) as u32;
                IpAddr::V4((u32::from(v) & m).into())
            }
            IpAddr::V6(v) => IpAddr::V6((u128::from(v) & bits(self.mask_v6)).into()),
        }
    }

    fn find(&self, addr: IpAddr, ttl: u8) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.addr == addr && (ttl == e.ttl || ttl == 0 || e.ttl == 0))
    }

    fn insert(&mut self, addr: IpAddr, ttl: u8, now: u64) {
        if self.entries.len() >= IP_LIST_TOT {
            self.entries.remove(0);
        }
        let mut stamps = vec![0; self.nstamps_max];
        stamps[0] = now;
        self.entries.push(RecentEntry {
            addr,
            ttl,
            stamps,
            nstamps: 1,
            index: 1,
        });
    }

    fn update(&mut self, i: usize, ttl: u8, now: u64) {
        let mut e = self.entries.remove(i);
        e.index &= self.nstamps_max - 1;
        e.stamps[e.index] = now;
        e.index += 1;
        if e.index > e.nstamps {
            e.nstamps = e.index;
        }
        e.ttl = ttl;
        self.entries.push(e);
    }

    /// Drops the least recently updated address if its newest stamp is older than `time`,
    /// unless it is the entry about to be updated.
    fn reap(&mut self, time: u64, working: usize, updating: bool) {
        if (working == 0 && updating) || self.entries.is_empty() {
            return;
        }
        let e = &self.entries[0];
        let newest = e.stamps[e.index - 1];
        if (time.wrapping_sub(newest) as i64) > 0 {
            self.entries.remove(0);
        }
    }
}

/// Every recent list, by name (one namespace for IPv4 and IPv6, as in the kernel).
#[derive(Clone, Debug, Default)]
pub struct RecentTables {
    tables: HashMap<String, RecentTable>,
}

impl RecentTables {
    pub(crate) fn table(&mut self, name: &str, mask: IpAddr, nstamps: u32) -> &mut RecentTable {
        if !self.tables.contains_key(name) {
            self.tables
                .insert(name.to_string(), RecentTable::new(mask, nstamps));
        }
        let t = self.tables.get_mut(name).expect("inserted above");
        if nstamps as usize > t.nstamps_max {
            // A rule asking for more stamps flushes the list (the kernel's recent_mt_check).
            t.nstamps_max = nstamps as usize;
            t.entries.clear();
        }
        t
    }

    /// A list by name.
    pub fn get(&self, name: &str) -> Option<&RecentTable> {
        self.tables.get(name)
    }

    /// The addresses a list holds, least recently updated first.
    pub fn addresses(&self, name: &str) -> Vec<IpAddr> {
        self.get(name)
            .map(|t| t.entries.iter().map(|e| e.addr).collect())
            .unwrap_or_default()
    }
}
