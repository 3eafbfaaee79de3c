//! Docker's word expansion (moby/buildkit frontend/dockerfile/shell/lex.go,
//! ProcessWord): quote removal, escapes, `$V`, `${V}`, `${V:-x}`, `${V:+x}`,
//! `${V:?msg}`, `${V-x}`, `${V+x}`, `${V?msg}`. No command substitution, no
//! field splitting: one word in, one string out.

/// An expansion error (docker's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExpandError(pub String);

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    /// Quotes are plain characters (heredoc bodies).
    raw_quotes: bool,
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// Expands one word as docker does for ADD, COPY, ENV, EXPOSE, FROM, LABEL,
/// STOPSIGNAL, USER, VOLUME, WORKDIR and ARG defaults. Unset variables
/// expand to "".
pub fn expand(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut lx = Lexer {
        chars: word.chars().collect(),
        pos: 0,
        escape,
        raw_quotes: false,
        lookup,
    };
    lx.process_until(None)
}

/// Expands a COPY/ADD heredoc body whose delimiter was not quoted: `$`
/// references and `\` escapes, quotes left as they are (BuildKit's ExpandRaw
/// with quote processing off).
pub fn expand_heredoc(
    content: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut lx = Lexer {
        chars: content.chars().collect(),
        pos: 0,
        escape: '\\',
        raw_quotes: true,
        lookup,
    };
    lx.process_until(None)
}

fn err<T>(msg: impl Into<String>) -> Result<T, ExpandError> {
    Err(ExpandError(msg.into()))
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// Reads up to `stop` (consumed) or the end.
    fn process_until(&mut self, stop: Option<char>) -> Result<String, ExpandError> {
        let mut out = String::new();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok(out);
            }
            match ch {
                '\'' if !self.raw_quotes => out.push_str(&self.single_quote()?),
                '"' if !self.raw_quotes => out.push_str(&self.double_quote()?),
                '$' => out.push_str(&self.dollar()?),
                _ => {
                    self.pos += 1;
                    if ch == self.escape {
                        // An escape takes the next char literally; at the end
                        // of the word it is dropped.
                        match self.next() {
                            Some(c) => out.push(c),
                            None => break,
                        }
                    } else {
                        out.push(ch);
                    }
                }
            }
        }
        match stop {
            Some(s) => err(format!(
                "unexpected end of statement while looking for matching {s}"
            )),
            None => Ok(out),
        }
    }

    fn single_quote(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.next() {
                None => {
                    return err(
                        "unexpected end of statement while looking for matching single-quote",
                    )
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(ch) = self.peek() else {
                return err("unexpected end of statement while looking for matching double-quote");
            };
            if ch == '"' {
                self.pos += 1;
                return Ok(out);
            }
            if ch == '$' {
                out.push_str(&self.dollar()?);
                continue;
            }
            self.pos += 1;
            if ch == self.escape {
                match self.peek() {
                    None => continue,
                    // Only these can be escaped inside double quotes; other
                    // escapes stay as written.
                    Some(c) if c == '"' || c == '$' || c == self.escape => {
                        self.pos += 1;
                        out.push(c);
                        continue;
                    }
                    Some(_) => {}
                }
            }
            out.push(ch);
        }
    }

    /// A name: letters, digits and `_`; or a run of digits; or one special
    /// parameter char.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(ch, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return ch.to_string();
            }
            if !(ch.is_alphanumeric() || ch == '_') {
                break;
            }
            name.push(ch);
            self.pos += 1;
        }
        name
    }

    fn dollar(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.get(&name).unwrap_or_default());
        }
        self.pos += 1;
        match self.peek() {
            None => return err("syntax error: missing '}'"),
            Some('{' | '}' | ':') => return err("syntax error: bad substitution"),
            _ => {}
        }
        let name = self.name();
        let Some(ch) = self.next() else {
            return err("syntax error: missing '}'");
        };
        match ch {
            '}' => Ok(self.get(&name).unwrap_or_default()),
            ':' => {
                let Some(modifier) = self.next() else {
                    return err("syntax error: missing '}'");
                };
                let word = self.modifier_word()?;
                let value = self.get(&name);
                let set = value.as_deref().is_some_and(|v| !v.is_empty());
                match modifier {
                    '+' => Ok(if set { word } else { String::new() }),
                    '-' => Ok(if set { value.unwrap_or_default() } else { word }),
                    '?' => match value {
                        None => err(format!(
                            "{name}: {}",
                            or(word, "is not allowed to be unset")
                        )),
                        Some(v) if v.is_empty() => err(format!(
                            "{name}: {}",
                            or(word, "is not allowed to be empty")
                        )),
                        Some(v) => Ok(v),
                    },
                    m => err(format!("unsupported modifier ({m}) in substitution")),
                }
            }
            '+' | '-' | '?' => {
                let word = self.modifier_word()?;
                let value = self.get(&name);
                match (ch, value) {
                    ('+', Some(_)) => Ok(word),
                    ('+', None) => Ok(String::new()),
                    ('-', Some(v)) => Ok(v),
                    ('-', None) => Ok(word),
                    (_, Some(v)) => Ok(v),
                    (_, None) => err(format!(
                        "{name}: {}",
                        or(word, "is not allowed to be unset")
                    )),
                }
            }
            c => err(format!("unsupported modifier ({c}) in substitution")),
        }
    }

    fn modifier_word(&mut self) -> Result<String, ExpandError> {
        match self.process_until(Some('}')) {
            Ok(w) => Ok(w),
            Err(_) if self.peek().is_none() => err("syntax error: missing '}'"),
            Err(e) => Err(e),
        }
    }
}

fn or(word: String, default: &str) -> String {
    if word.is_empty() {
        default.to_string()
    } else {
        word
    }
}
