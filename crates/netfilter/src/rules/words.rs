//! A cursor over a command's words, with iptables' wording for missing values.

/// The words of one command, consumed left to right.
pub struct Words<'a> {
    words: &'a [String],
    pos: usize,
}

impl<'a> Words<'a> {
    pub fn new(words: &'a [String]) -> Self {
        Words { words, pos: 0 }
    }

    pub fn next_word(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.pos)?;
        self.pos += 1;
        Some(w)
    }

    pub fn peek(&self) -> Option<&'a str> {
        self.words.get(self.pos).map(String::as_str)
    }

    /// The argument of `opt`: the next word, whatever it is (as getopt takes it).
    pub fn value(&mut self, opt: &str) -> Result<&'a str, String> {
        self.next_word()
            .ok_or_else(|| format!("option \"{opt}\" requires an argument"))
    }

    /// An optional argument: the next word unless it is missing or looks like an option.
    pub fn optional(&mut self) -> Option<&'a str> {
        match self.peek() {
            Some(w) if !w.starts_with('-') && w != "!" => {
                self.pos += 1;
                Some(w)
            }
            _ => None,
        }
    }

    /// An optional number argument (`-I CHAIN [n]`, `-D CHAIN n`).
    pub fn optional_number(&mut self) -> Option<&'a str> {
        match self.peek() {
            Some(w) if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) => {
                self.pos += 1;
                Some(w)
            }
            _ => None,
        }
    }
}

/// An unsigned number in C `strtoul(.., 0)` syntax (decimal, `0x` hex, leading-`0` octal).
pub fn parse_c_uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A decimal number within `lo..=hi`, with iptables' "bad value" wording.
pub fn parse_num(module: &str, opt: &str, s: &str, lo: u64, hi: u64) -> Result<u64, String> {
    match parse_c_uint(s) {
        Some(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!(
            "{module}: bad value for option \"{opt}\", or out of range ({lo}-{hi})."
        )),
    }
}

/// `value[/mask]` of `--mark`, `--set-xmark` and friends (32 bits each).
pub fn parse_mark_mask(module: &str, opt: &str, s: &str) -> Result<(u32, Option<u32>), String> {
    let bad = || format!("{module}: bad integer value for option \"{opt}\", or out of range.");
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    };
    if let Some(m) = m
        && m.contains('/')
    {
        return Err(format!(
            "{module}: trailing garbage after value for option \"{opt}\"."
        ));
    }
    let num = |x: &str| -> Result<u32, String> {
        parse_c_uint(x)
            .filter(|&n| n <= u64::from(u32::MAX))
            .map(|n| n as u32)
            .ok_or_else(bad)
    };
    Ok((num(v)?, m.map(num).transpose()?))
}

/// iptables-save's quoting of a free-text argument (comments, log prefixes): bare when it is
/// made only of letters, digits, `_` and `-`; otherwise in double quotes with `"`, `'` and `\`
/// escaped by a backslash. Recorded with iptables-save v1.8.9: `c1` prints bare, `a.b` and
/// `hello world` quoted, `'single'` as `"\'single\'"`, the empty string as `""`.
pub fn save_string(out: &mut String, s: &str) {
    out.push(' ');
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}
