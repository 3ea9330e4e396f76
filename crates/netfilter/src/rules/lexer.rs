//! Splitting a line into words.
//!
//! Two dialects, because the two inputs are read by different programs:
//!
//! - [`split_restore`]: what `iptables-restore` does with a rule line. Only double quotes
//!   group words; inside them a backslash takes the next character literally (`\"`, `\\`,
//!   `\'`). A closing quote ends the word, so `"x"y` is two words, `x` and `y`, and `a"b c"` is
//!   the one word `ab c`. Single quotes and backslashes outside double quotes are ordinary
//!   characters (iptables-restore v1.8.9 refuses `--comment 'a b'` with "Bad argument").
//! - [`split_shell`]: a POSIX shell's quoting for command scripts: single quotes (literal),
//!   double quotes (backslash escapes `\` `"` `$` and a backquote), backslash outside quotes,
//!   `#` starting a comment at the start of a word, the operators `;` `&&` `||` `|` `&` and
//!   redirections. Expansions (`$VAR`, `$(..)`, globs) are not performed: [`split_shell`]
//!   marks the words a shell would expand so the caller can refuse them.

/// Splits an `iptables-restore` line.
pub fn split_restore(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '\\' => match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err("unterminated quoted string".into()),
                },
                '"' => {
                    quoted = false;
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                in_word = true;
            }
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("unterminated quoted string".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// One token of a shell line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A word; `expands` is true when it holds an unquoted or double-quoted `$` or backquote,
    /// or an unquoted glob character (`*`, `?`, `[`), which a shell would expand.
    Word { text: String, expands: bool },
    /// `;`, `&&`, `||`, `|`, `&`.
    Op(&'static str),
    /// A redirection; `takes_word`: the next word is its file (`> /dev/null`), not an
    /// argument (`2>&1` takes none).
    Redirect { takes_word: bool },
}

/// The outcome of splitting a shell line.
#[derive(Debug, PartialEq, Eq)]
pub struct ShellWords {
    pub tokens: Vec<Tok>,
    /// The line ends in an unquoted backslash: it continues on the next line.
    pub continues: bool,
}

impl ShellWords {
    /// The words alone (for tests and simple lines).
    pub fn words(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Tok::Word { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Splits a shell command line (see the module docs).
pub fn split_shell(line: &str) -> Result<ShellWords, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut expands = false;
    let mut chars = line.chars().peekable();
    fn flush(tokens: &mut Vec<Tok>, cur: &mut String, in_word: &mut bool, expands: &mut bool) {
        if *in_word {
            tokens.push(Tok::Word {
                text: std::mem::take(cur),
                expands: std::mem::take(expands),
            });
            *in_word = false;
        }
    }
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('\\' | '"' | '$' | '`')) => cur.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch @ ('$' | '`')) => {
                            expands = true;
                            cur.push(ch);
                        }
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(ch) => {
                    cur.push(ch);
                    in_word = true;
                }
                None => {
                    flush(&mut tokens, &mut cur, &mut in_word, &mut expands);
                    return Ok(ShellWords {
                        tokens,
                        continues: true,
                    });
                }
            },
            '#' if !in_word => break,
            ' ' | '\t' | '\r' | '\n' => flush(&mut tokens, &mut cur, &mut in_word, &mut expands),
            ';' => {
                flush(&mut tokens, &mut cur, &mut in_word, &mut expands);
                tokens.push(Tok::Op(";"));
            }
            '&' | '|' => {
                flush(&mut tokens, &mut cur, &mut in_word, &mut expands);
                if chars.peek() == Some(&c) {
                    chars.next();
                    tokens.push(Tok::Op(if c == '&' { "&&" } else { "||" }));
                } else if c == '&' && chars.peek() == Some(&'>') {
                    chars.next();
                    if chars.peek() == Some(&'>') {
                        chars.next();
                    }
                    tokens.push(Tok::Redirect { takes_word: true });
                } else {
                    tokens.push(Tok::Op(if c == '&' { "&" } else { "|" }));
                }
            }
            '>' | '<' => {
                // A file descriptor number right before it (`2>`) belongs to the redirection.
                if in_word && !expands && !cur.is_empty() && cur.bytes().all(|b| b.is_ascii_digit())
                {
                    cur.clear();
                    in_word = false;
                }
                flush(&mut tokens, &mut cur, &mut in_word, &mut expands);
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    chars.next();
                    while chars
                        .peek()
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        chars.next();
                    }
                    tokens.push(Tok::Redirect { takes_word: false });
                } else {
                    tokens.push(Tok::Redirect { takes_word: true });
                }
            }
            '$' | '`' | '*' | '?' | '[' | '(' | ')' => {
                expands = true;
                cur.push(c);
                in_word = true;
            }
            _ => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    flush(&mut tokens, &mut cur, &mut in_word, &mut expands);
    Ok(ShellWords {
        tokens,
        continues: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Vec<String> {
        split_restore(s).unwrap()
    }

    #[test]
    fn restore_double_quotes_group_and_escape() {
        assert_eq!(
            r(r#"-m comment --comment "hello world""#),
            ["-m", "comment", "--comment", "hello world"]
        );
        assert_eq!(
            r(r#"--comment "with \"escaped\" quote""#),
            ["--comment", r#"with "escaped" quote"#]
        );
        assert_eq!(
            r(r#"--comment "back\\slash""#),
            ["--comment", r"back\slash"]
        );
        assert_eq!(r(r#"--comment """#), ["--comment", ""]);
    }

    #[test]
    fn restore_closing_quote_ends_the_word() {
        // iptables-restore v1.8.9: `--comment a"b c"d` fails with "Bad argument `d'".
        assert_eq!(r(r#"a"b c"d"#), ["ab c", "d"]);
        assert_eq!(r(r#""x"y"#), ["x", "y"]);
    }

    #[test]
    fn restore_single_quotes_are_ordinary() {
        // iptables-restore v1.8.9 stores `'single'` with its quotes (saved as "\'single\'").
        assert_eq!(r("--comment 'a b'"), ["--comment", "'a", "b'"]);
        assert_eq!(r(r"a\ b"), [r"a\", "b"]);
    }

    #[test]
    fn restore_unterminated_quote_is_an_error() {
        assert!(split_restore(r#"--comment "abc"#).is_err());
    }

    #[test]
    fn shell_quotes_escapes_and_comments() {
        let w = split_shell(r#"iptables -A INPUT -m comment --comment 'a b' -j ACCEPT # trailing"#)
            .unwrap();
        assert_eq!(
            w.words(),
            [
                "iptables",
                "-A",
                "INPUT",
                "-m",
                "comment",
                "--comment",
                "a b",
                "-j",
                "ACCEPT"
            ]
        );
        assert!(
            w.tokens
                .iter()
                .all(|t| matches!(t, Tok::Word { expands: false, .. }))
        );
        assert!(!w.continues);
        let w = split_shell(r#"x "a \"b\" c" d\ e"#).unwrap();
        assert_eq!(w.words(), ["x", r#"a "b" c"#, "d e"]);
        let w = split_shell(r"iptables -A INPUT \").unwrap();
        assert!(w.continues);
        assert_eq!(w.words(), ["iptables", "-A", "INPUT"]);
        let w = split_shell("$IPT -A INPUT").unwrap();
        assert!(matches!(&w.tokens[0], Tok::Word { expands: true, .. }));
        assert!(split_shell("'abc").is_err());
    }

    #[test]
    fn shell_operators_and_redirections() {
        let w = split_shell("iptables -N X 2>/dev/null || true; iptables -F X >/dev/null 2>&1")
            .unwrap();
        assert_eq!(
            w.tokens,
            [
                Tok::Word {
                    text: "iptables".into(),
                    expands: false
                },
                Tok::Word {
                    text: "-N".into(),
                    expands: false
                },
                Tok::Word {
                    text: "X".into(),
                    expands: false
                },
                Tok::Redirect { takes_word: true },
                Tok::Word {
                    text: "/dev/null".into(),
                    expands: false
                },
                Tok::Op("||"),
                Tok::Word {
                    text: "true".into(),
                    expands: false
                },
                Tok::Op(";"),
                Tok::Word {
                    text: "iptables".into(),
                    expands: false
                },
                Tok::Word {
                    text: "-F".into(),
                    expands: false
                },
                Tok::Word {
                    text: "X".into(),
                    expands: false
                },
                Tok::Redirect { takes_word: true },
                Tok::Word {
                    text: "/dev/null".into(),
                    expands: false
                },
                Tok::Redirect { takes_word: false },
            ]
        );
    }
}
