//! `-m limit` (xt_limit): a token bucket per rule, with the kernel's credit arithmetic.
//!
//! The kernel counts time in jiffies (HZ = 250 here, one jiffy = 4 ms) and credits in units of
//! `CREDITS_PER_JIFFY` = 128 per jiffy (the largest power of two with
//! `128 * HZ * 86400 < 2^32`, so that one packet per day still fits in 32 bits). A rate is held
//! as `avg`, the time between packets in units of 1/10000 s (`XT_LIMIT_SCALE`): `3/hour` is
//! `10000 * 3600 / 3`. One packet costs `user2credits(avg)`; the bucket holds at most
//! `user2credits(avg * burst)` and starts full. All of it is 32-bit arithmetic that wraps where
//! the kernel's wraps (the 32-bit product `avg * burst`, the credit sum after 37 idle hours).

use super::{Module, ParseCtx, no_invert, once};
use crate::packet::PacketCtx;
use crate::rules::state::{MatchState, jiffies};
use crate::rules::words::{Words, parse_num};

pub const HZ: u32 = 250;
pub const XT_LIMIT_SCALE: u32 = 10000;
pub const CREDITS_PER_JIFFY: u32 = 128;
const DEFAULT_AVG: u32 = XT_LIMIT_SCALE * 3600 / 3;
const DEFAULT_BURST: u32 = 5;

/// The kernel's user2credits: a period in 1/10000 s to credits.
pub fn user2credits(user: u32) -> u32 {
    if user > u32::MAX / (HZ * CREDITS_PER_JIFFY) {
        (user / XT_LIMIT_SCALE) * HZ * CREDITS_PER_JIFFY
    } else {
        (user * HZ * CREDITS_PER_JIFFY) / XT_LIMIT_SCALE
    }
}

/// `N[/second|minute|hour|day]` (any prefix of the unit, case-insensitive: `3/s`, `3/min`,
/// `3/HOUR`; iptables v1.8.9 refuses plurals such as `3/hours`) to the period between
/// packets in units of `1/scale` seconds.
pub(crate) fn parse_rate(s: &str, scale: u64) -> Result<u64, String> {
    let bad = || format!("bad rate \"{s}\"");
    let (num, unit) = match s.split_once('/') {
        Some((n, u)) => (n, Some(u)),
        None => (s, None),
    };
    let mult: u64 = match unit {
        None => 1,
        Some(u) => {
            let lu = u.to_ascii_lowercase();
            let is = |full: &str| !lu.is_empty() && full.starts_with(lu.as_str());
            if is("second") {
                1
            } else if is("minute") {
                60
            } else if is("hour") {
                3600
            } else if is("day") {
                86400
            } else {
                return Err(bad());
            }
        }
    };
    // atoi: the leading digits.
    let digits: String = num.chars().take_while(|c| c.is_ascii_digit()).collect();
    let r: u64 = digits.parse().map_err(|_| bad())?;
    if r == 0 {
        return Err(bad());
    }
    let period = scale * mult / r;
    if period == 0 {
        return Err(format!("Rate too fast \"{s}\""));
    }
    Ok(period)
}

/// ` N/unit` for a period in units of `1/scale` s, as iptables prints a rate.
pub(crate) fn save_rate(out: &mut String, period: u64, scale: u64) {
    let rates = [
        ("day", scale * 86400),
        ("hour", scale * 3600),
        ("min", scale * 60),
        ("sec", scale),
    ];
    if period == 0 {
        out.push_str(" inf");
        return;
    }
    let mut i = 1;
    while i < rates.len() {
        let m = rates[i].1;
        if period > m || m / period < m % period {
            break;
        }
        i += 1;
    }
    out.push_str(&format!(" {}/{}", rates[i - 1].1 / period, rates[i - 1].0));
}

#[derive(Clone, Debug)]
pub struct Limit {
    /// Period between packets in 1/10000 s.
    pub avg: u32,
    pub burst: u32,
    rate_given: bool,
    burst_given: bool,
    cost: u32,
    credit_cap: u32,
    bucket: Option<Bucket>,
}

#[derive(Copy, Clone, Debug)]
struct Bucket {
    credit: u32,
    prev: u64,
}

impl PartialEq for Limit {
    fn eq(&self, o: &Self) -> bool {
        self.avg == o.avg && self.burst == o.burst
    }
}

impl Default for Limit {
    fn default() -> Self {
        Limit {
            avg: DEFAULT_AVG,
            burst: DEFAULT_BURST,
            rate_given: false,
            burst_given: false,
            cost: 0,
            credit_cap: 0,
            bucket: None,
        }
    }
}

impl Limit {
    /// Credits left in the bucket (None before the first packet: full).
    pub fn credit(&self) -> Option<u32> {
        self.bucket.map(|b| b.credit)
    }

    /// Empties the state, as reloading the rule does.
    pub fn reset(&mut self) {
        self.bucket = None;
    }
}

impl Module for Limit {
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        _ctx: &ParseCtx,
    ) -> Result<bool, String> {
        match opt {
            "--limit" => {
                let v = w.value(opt)?;
                no_invert("limit", opt, invert)?;
                once("limit", opt, self.rate_given)?;
                self.avg = parse_rate(v, u64::from(XT_LIMIT_SCALE))? as u32;
                self.rate_given = true;
            }
            "--limit-burst" => {
                let v = w.value(opt)?;
                no_invert("limit", opt, invert)?;
                once("limit", opt, self.burst_given)?;
                self.burst = parse_num("limit", opt, v, 0, 10000)? as u32;
                self.burst_given = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        // The kernel's checkentry: a zero burst, or a bucket that overflows 32 bits, is refused
        // (ERANGE). iptables-nft v1.8.9 accepts --limit-burst 0 because it turns the rule into
        // an nftables limit; the xt_limit module this models does not.
        let full = user2credits(self.avg.wrapping_mul(self.burst));
        if self.burst == 0 || full < user2credits(self.avg) {
            return Err(format!(
                "limit: the kernel refuses --limit-burst {} with this rate (xt_limit: \"Overflow, try lower: {}/{}\")",
                self.burst, self.avg, self.burst
            ));
        }
        self.credit_cap = full;
        self.cost = user2credits(self.avg);
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, _state: &mut MatchState) -> bool {
        let now = jiffies(pkt.now);
        let b = self.bucket.get_or_insert(Bucket {
            credit: self.credit_cap,
            prev: now,
        });
        let increase = (now
            .wrapping_sub(b.prev)
            .wrapping_mul(u64::from(CREDITS_PER_JIFFY))) as u32;
        b.prev = now;
        let mut credit = b.credit.wrapping_add(increase);
        if credit > self.credit_cap {
            credit = self.credit_cap;
        }
        let ok = credit >= self.cost;
        if ok {
            credit -= self.cost;
        }
        b.credit = credit;
        ok
    }

    fn save(&self, out: &mut String) {
        out.push_str(" --limit");
        save_rate(out, u64::from(self.avg), u64::from(XT_LIMIT_SCALE));
        if self.burst != DEFAULT_BURST {
            out.push_str(&format!(" --limit-burst {}", self.burst));
        }
    }
}
