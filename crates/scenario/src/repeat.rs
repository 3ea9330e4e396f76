//! `{…}` substitution in `repeat N` lines: `{EXPR}` is replaced by the value of an integer
//! expression over `i` (0, 1, … N-1) in decimal, `{EXPR:x}` in lowercase hex.
//!
//! EXPR: integers (decimal or 0x hex), `i`, `+ - * / %`, parentheses; the usual precedence,
//! left to right. Every step is checked: overflow and division by zero are errors.

/// Replaces every `{EXPR}` in `text` with its value for this `i`.
pub fn substitute(text: &str, i: i64) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("`}` without a matching `{`".into());
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "`{` without a matching `}`".to_string())?;
        let inner = &after[..close];
        if inner.contains('{') {
            return Err("nested `{` inside `{…}`".into());
        }
        let (expr, hex) = match inner.strip_suffix(":x") {
            Some(e) => (e, true),
            None => (inner, false),
        };
        let value = eval(expr, i).map_err(|e| format!("in `{{{inner}}}`: {e}"))?;
        if hex {
            if value < 0 {
                return Err(format!("`{{{inner}}}` is negative ({value}): no hex form"));
            }
            out.push_str(&format!("{value:x}"));
        } else {
            out.push_str(&value.to_string());
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Evaluates an expression over `i`.
pub fn eval(expr: &str, i: i64) -> Result<i64, String> {
    let tokens = tokenize(expr)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        i,
        depth: 0,
    };
    let value = parser.sum()?;
    if parser.pos != tokens.len() {
        return Err(format!("unexpected `{}`", tokens[parser.pos]));
    }
    Ok(value)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Num(i64),
    I,
    Op(char),
}

impl core::fmt::Display for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Token::Num(n) => write!(f, "{n}"),
            Token::I => write!(f, "i"),
            Token::Op(c) => write!(f, "{c}"),
        }
    }
}

fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let bytes = expr.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let c = bytes[pos];
        match c {
            b' ' | b'\t' => pos += 1,
            b'+' | b'-' | b'*' | b'/' | b'%' | b'(' | b')' => {
                tokens.push(Token::Op(c as char));
                pos += 1;
            }
            b'i' => {
                tokens.push(Token::I);
                pos += 1;
            }
            b'0'..=b'9' => {
                let start = pos;
                while pos < bytes.len() && bytes[pos].is_ascii_alphanumeric() {
                    pos += 1;
                }
                let word = &expr[start..pos];
                let parsed = match word.strip_prefix("0x") {
                    Some(h) => i64::from_str_radix(h, 16),
                    None => word.parse(),
                };
                tokens.push(Token::Num(
                    parsed.map_err(|_| format!("bad number `{word}`"))?,
                ));
            }
            _ => {
                let ch = expr[pos..].chars().next().unwrap_or('?');
                return Err(format!(
                    "unexpected `{ch}` (allowed: i, numbers, + - * / % ( ))"
                ));
            }
        }
    }
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    i: i64,
    depth: usize,
}

/// Deeper nesting of parentheses or signs is refused, so that recursion stays bounded.
const MAX_DEPTH: usize = 32;

const OVERFLOW: &str = "arithmetic overflow";

impl Parser<'_> {
    fn peek_op(&self) -> Option<char> {
        match self.tokens.get(self.pos) {
            Some(Token::Op(c)) => Some(*c),
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut value = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek_op() {
            self.pos += 1;
            let rhs = self.product()?;
            value = if op == '+' {
                value.checked_add(rhs)
            } else {
                value.checked_sub(rhs)
            }
            .ok_or(OVERFLOW)?;
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut value = self.atom()?;
        while let Some(op @ ('*' | '/' | '%')) = self.peek_op() {
            self.pos += 1;
            let rhs = self.atom()?;
            if op != '*' && rhs == 0 {
                return Err("division by zero".into());
            }
            value = match op {
                '*' => value.checked_mul(rhs),
                '/' => value.checked_div(rhs),
                _ => value.checked_rem(rhs),
            }
            .ok_or(OVERFLOW)?;
        }
        Ok(value)
    }

    fn atom(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let value = self.atom_inner();
        self.depth -= 1;
        value
    }

    fn atom_inner(&mut self) -> Result<i64, String> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "expression ends too early".to_string())?;
        self.pos += 1;
        match token {
            Token::Num(n) => Ok(n),
            Token::I => Ok(self.i),
            Token::Op('-') => self.atom()?.checked_neg().ok_or_else(|| OVERFLOW.into()),
            Token::Op('(') => {
                let value = self.sum()?;
                if self.peek_op() != Some(')') {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(value)
            }
            Token::Op(c) => Err(format!("unexpected `{c}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_expressions() {
        assert_eq!(
            substitute("10.98.{i/256}.{i%256}:{1024+i}", 300).unwrap(),
            "10.98.1.44:1324"
        );
        assert_eq!(substitute("fd00:98::{i:x}", 255).unwrap(), "fd00:98::ff");
        assert_eq!(substitute("{(i+1)*2 - -3}", 4).unwrap(), "13");
        assert_eq!(substitute("no braces", 1).unwrap(), "no braces");
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing_the_stack() {
        let deep = format!("{{{}i{}}}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(substitute(&deep, 1).is_err());
        assert!(substitute(&format!("{{{}i}}", "-".repeat(10_000)), 1).is_err());
    }

    #[test]
    fn rejects_bad_expressions() {
        for bad in [
            "{",
            "}",
            "{}",
            "{i/0}",
            "{i%0}",
            "{j}",
            "{(i}",
            "{i)}",
            "{1 2}",
            "{9223372036854775807+i}",
            "{-i:x}",
            "{{i}}",
            "{0xzz}",
            "{é}",
        ] {
            assert!(substitute(bad, 1).is_err(), "{bad} should fail");
        }
    }
}
