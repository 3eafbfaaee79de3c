//! Docker's word expansion (moby/buildkit frontend/dockerfile/shell/lex.go,
//! ProcessWord): quote removal, escapes, `$V`, `${V}`, `${V:-x}`, `${V:+x}`,
//! `${V:?msg}`, `${V-x}`, `${V+x}`, `${V?msg}`, `${V#pat}`, `${V##pat}`,
//! `${V%pat}`, `${V%%pat}`, `${V/pat/rep}`, `${V//pat/rep}`. No command
//! substitution, no field splitting: one word in, one string out.

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
    /// Escapes are kept in the output (inside `${V#pattern}`).
    raw_escapes: bool,
    /// Unset variables stay as written (heredoc delimiters).
    skip_unset: bool,
    /// The last lookup found nothing.
    unset: std::cell::Cell<bool>,
    /// Nesting of process_until (1: the word itself).
    depth: usize,
    /// The word split into fields as it is read.
    fields: Fields,
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
        raw_escapes: false,
        skip_unset: false,
        unset: Default::default(),
        depth: 0,
        fields: Fields::default(),
        lookup,
    };
    lx.process_until(None, false)
        .map_err(|e| ExpandError(format!("failed to process \"{word}\": {}", e.0)))
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
        raw_escapes: false,
        skip_unset: false,
        unset: Default::default(),
        depth: 0,
        fields: Fields::default(),
        lookup,
    };
    lx.process_until(None, false)
}

/// A heredoc delimiter as BuildKit reads it: quotes and escapes removed,
/// `$NAME` left as written.
pub(crate) fn heredoc_name(word: &str) -> Result<String, ExpandError> {
    let mut lx = Lexer {
        chars: word.chars().collect(),
        pos: 0,
        escape: '\\',
        raw_quotes: false,
        raw_escapes: false,
        skip_unset: true,
        unset: Default::default(),
        depth: 0,
        fields: Fields::default(),
        lookup: &|_| None,
    };
    lx.process_until(None, false)
}

/// Expands a word and splits the result into fields as BuildKit's
/// ProcessWords does (EXPOSE): blanks from variables and unquoted text
/// separate fields, quoted text and escaped blanks do not, empty fields are
/// dropped.
pub fn expand_words(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ExpandError> {
    let mut lx = Lexer {
        chars: word.chars().collect(),
        pos: 0,
        escape,
        raw_quotes: false,
        raw_escapes: false,
        skip_unset: false,
        unset: Default::default(),
        depth: 0,
        fields: Fields::default(),
        lookup,
    };
    lx.process_until(None, false)
        .map_err(|e| ExpandError(format!("failed to process \"{word}\": {}", e.0)))?;
    Ok(lx.fields.finish())
}

/// BuildKit's wordsStruct.
#[derive(Default)]
struct Fields {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Fields {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_raw_str(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
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
        let v = (self.lookup)(name);
        self.unset.set(v.is_none());
        v
    }

    /// Reads up to `stop` (consumed) or the end.
    fn process_until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<String, ExpandError> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let r = self.process_until_inner(stop);
        self.raw_escapes = saved;
        r
    }

    fn process_until_inner(&mut self, stop: Option<char>) -> Result<String, ExpandError> {
        // Only the outermost pass splits fields (BuildKit's ProcessWords).
        self.depth += 1;
        let top = self.depth == 1;
        let r = self.process_until_body(stop, top);
        self.depth -= 1;
        r
    }

    fn process_until_body(&mut self, stop: Option<char>, top: bool) -> Result<String, ExpandError> {
        let mut out = String::new();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok(out);
            }
            match ch {
                '\'' | '"' if !self.raw_quotes => {
                    let s = if ch == '\'' {
                        self.single_quote()?
                    } else {
                        self.double_quote()?
                    };
                    if top {
                        self.fields.add_raw_str(&s);
                    }
                    out.push_str(&s);
                }
                '$' => {
                    let s = self.dollar()?;
                    if top {
                        for c in s.chars() {
                            self.fields.add_char(c);
                        }
                    }
                    out.push_str(&s);
                }
                _ => {
                    self.pos += 1;
                    if ch == self.escape {
                        if self.raw_escapes {
                            out.push(ch);
                            if top {
                                self.fields.add_raw_char(ch);
                            }
                        }
                        // An escape takes the next char literally; at the end
                        // of the word it is dropped.
                        match self.next() {
                            Some(c) => {
                                out.push(c);
                                if top {
                                    self.fields.add_raw_char(c);
                                }
                            }
                            None => break,
                        }
                    } else {
                        out.push(ch);
                        if top {
                            self.fields.add_char(ch);
                        }
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
                if self.raw_escapes {
                    out.push(ch);
                }
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
        let start = self.pos;
        let value = self.dollar_inner()?;
        if self.skip_unset && self.unset.get() {
            // The reference as written (BuildKit's SkipUnsetEnv).
            return Ok(self.chars[start..self.pos].iter().collect());
        }
        Ok(value)
    }

    fn dollar_inner(&mut self) -> Result<String, ExpandError> {
        self.unset.set(false);
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
        let Some(mut ch) = self.next() else {
            return err("syntax error: missing '}'");
        };
        let mut null_is_unset = false;
        let mut modifier = ch.to_string();
        match ch {
            '}' => Ok(self.get(&name).unwrap_or_default()),
            ':' | '+' | '-' | '?' | '#' | '%' => {
                if ch == ':' {
                    null_is_unset = true;
                    let Some(c) = self.next() else {
                        return err("syntax error: missing '}'");
                    };
                    ch = c;
                    modifier.push(c);
                }
                // Patterns keep their escapes: `\*` is a literal star.
                let word = self.modifier_word('}', matches!(ch, '#' | '%'))?;
                let value = self.get(&name);
                let unset = value.is_none() || (null_is_unset && value.as_deref() == Some(""));
                match ch {
                    '-' => Ok(if unset {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    '+' => Ok(if unset { String::new() } else { word }),
                    '?' => match value {
                        None => err(format!(
                            "{name}: {}",
                            or(word, "is not allowed to be unset")
                        )),
                        Some(v) if null_is_unset && v.is_empty() => err(format!(
                            "{name}: {}",
                            or(word, "is not allowed to be empty")
                        )),
                        Some(v) => Ok(v),
                    },
                    '#' | '%' => {
                        let value = value.unwrap_or_default();
                        let (greedy, pat) = match word.strip_prefix(ch) {
                            Some(rest) => (true, rest.to_string()),
                            None => (false, word),
                        };
                        let toks = pattern(&pat)?;
                        let chars: Vec<char> = value.chars().collect();
                        let n = chars.len();
                        // Shortest (or with ## / %% longest) prefix or suffix
                        // matching the pattern is removed, as in sh.
                        let cut = if ch == '#' {
                            let mut ends: Box<dyn Iterator<Item = usize>> = if greedy {
                                Box::new((0..=n).rev())
                            } else {
                                Box::new(0..=n)
                            };
                            ends.find(|&e| glob(&toks, &chars[..e]))
                                .map(|e| chars[e..].iter().collect())
                        } else {
                            let mut starts: Box<dyn Iterator<Item = usize>> = if greedy {
                                Box::new(0..=n)
                            } else {
                                Box::new((0..=n).rev())
                            };
                            starts
                                .find(|&b| glob(&toks, &chars[b..]))
                                .map(|b| chars[..b].iter().collect())
                        };
                        Ok(cut.unwrap_or(value))
                    }
                    _ => err(format!("unsupported modifier ({modifier}) in substitution")),
                }
            }
            '/' => {
                let all = self.peek() == Some('/');
                if all {
                    self.pos += 1;
                }
                let pat = match self.process_until(Some('/'), true) {
                    Ok(w) => w,
                    Err(_) if self.peek().is_none() => {
                        return err("syntax error: missing '/' in ${}")
                    }
                    Err(e) => return Err(e),
                };
                let replacement = self.modifier_word('}', true)?;
                let value = self.get(&name).unwrap_or_default();
                let toks = pattern(&pat)?;
                Ok(replace(&toks, &value, &replacement, all))
            }
            _ => err(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    fn modifier_word(&mut self, stop: char, raw_escapes: bool) -> Result<String, ExpandError> {
        match self.process_until(Some(stop), raw_escapes) {
            Ok(w) => Ok(w),
            Err(_) if self.peek().is_none() => err("syntax error: missing '}'"),
            Err(e) => Err(e),
        }
    }
}

#[derive(Debug, PartialEq)]
enum PatTok {
    Lit(char),
    One,
    Star,
}

/// A `${V#pattern}` pattern: `*`, `?`, `\*`, `\?`, `\\` (`\}` and `\/`
/// are the plain chars); any other escape is an error, as in BuildKit.
fn pattern(p: &str) -> Result<Vec<PatTok>, ExpandError> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push(PatTok::Star),
            '?' => out.push(PatTok::One),
            '\\' => match chars.get(i) {
                Some('}' | '/') => {}
                Some(&e @ ('*' | '?' | '\\')) => {
                    out.push(PatTok::Lit(e));
                    i += 1;
                }
                Some(&e) => {
                    return err(format!(
                        "invalid pattern ({p}) in substitution: invalid escape '\\{e}'"
                    ))
                }
                None => {
                    return err(format!(
                        "invalid pattern ({p}) in substitution: trailing escape"
                    ))
                }
            },
            c => out.push(PatTok::Lit(c)),
        }
    }
    Ok(out)
}

/// Whether the whole of `s` matches.
fn glob(toks: &[PatTok], s: &[char]) -> bool {
    match toks.split_first() {
        None => s.is_empty(),
        Some((PatTok::Lit(c), rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
        Some((PatTok::One, rest)) => !s.is_empty() && glob(rest, &s[1..]),
        Some((PatTok::Star, rest)) => (0..=s.len()).any(|k| glob(rest, &s[k..])),
    }
}

/// `${V/pat/rep}` (first match) and `${V//pat/rep}` (every match): the
/// leftmost match, longest at that position.
fn replace(toks: &[PatTok], value: &str, replacement: &str, all: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    while i <= n {
        let found = if replaced && !all {
            None
        } else {
            (i..=n).rev().find(|&e| glob(toks, &chars[i..e]))
        };
        match found {
            Some(e) => {
                out.push_str(replacement);
                replaced = true;
                if e == i {
                    if i < n {
                        out.push(chars[i]);
                    }
                    i += 1;
                } else {
                    i = e;
                }
            }
            None => {
                if i < n {
                    out.push(chars[i]);
                }
                i += 1;
            }
        }
    }
    out
}

fn or(word: String, default: &str) -> String {
    if word.is_empty() {
        default.to_string()
    } else {
        word
    }
}
