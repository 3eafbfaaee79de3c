//! `.dockerignore` as docker reads it (moby/buildkit dockerignore.ReadAll)
//! and matches it (moby/patternmatcher: Go's filepath.Match syntax plus `**`,
//! later patterns win, `!` re-includes, a pattern matching a parent directory
//! matches everything under it).

/// A bad `.dockerignore` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore:{line}: {message}")]
pub struct IgnoreError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `?`: one char but `/`.
    One,
    /// `*`: any run of chars but `/`.
    Star,
    /// `**` followed by more: `(.*/)?`.
    Dirs,
    /// `**` at the end after something that is not a plain prefix: `.*`.
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchType {
    Exact,
    Prefix,
    Suffix,
    Regexp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// Cleaned, without the `!`.
    text: String,
    exclusion: bool,
    kind: MatchType,
    toks: Vec<Tok>,
}

/// The patterns of a `.dockerignore`, matched against paths relative to the
/// context root (`a/b/c`, `/` separated).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// Go's path.Clean.
fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn compile(text: &str, line: usize) -> Result<(MatchType, Vec<Tok>), IgnoreError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut kind = MatchType::Exact;
    let mut i = 0;
    let mut iteration = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is `**`: the slash is eaten.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == MatchType::Exact {
                        kind = MatchType::Prefix;
                    } else {
                        kind = MatchType::Regexp;
                    }
                    toks.push(Tok::Any);
                } else {
                    toks.push(Tok::Dirs);
                    kind = MatchType::Regexp;
                }
                if iteration == 0 {
                    kind = MatchType::Suffix;
                }
            }
            '*' => {
                toks.push(Tok::Star);
                kind = MatchType::Regexp;
            }
            '?' => {
                toks.push(Tok::One);
                kind = MatchType::Regexp;
            }
            '\\' => match chars.get(i) {
                Some(&c) => {
                    i += 1;
                    toks.push(Tok::Lit(c));
                    kind = MatchType::Regexp;
                }
                None => return Err(bad(text, line, "a trailing \\ escapes nothing")),
            },
            '[' => {
                // Go's filepath.Match class syntax, which patternmatcher
                // checks every pattern against: `[^...]`, ranges `a-z`, `\`
                // escapes; `-` and `]` must be escaped where they could be
                // read as syntax.
                let mut negated = false;
                if chars.get(i) == Some(&'^') {
                    negated = true;
                    i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    if chars.get(i) == Some(&']') && !ranges.is_empty() {
                        i += 1;
                        break;
                    }
                    let lo = class_char(&chars, &mut i)
                        .ok_or_else(|| bad(text, line, "bad character class"))?;
                    let mut hi = lo;
                    if chars.get(i) == Some(&'-') {
                        i += 1;
                        hi = class_char(&chars, &mut i)
                            .ok_or_else(|| bad(text, line, "bad character class"))?;
                    }
                    if hi < lo {
                        return Err(bad(
                            text,
                            line,
                            &format!("invalid character class range {lo}-{hi}"),
                        ));
                    }
                    ranges.push((lo, hi));
                }
                toks.push(Tok::Class { negated, ranges });
                kind = MatchType::Regexp;
            }
            c => toks.push(Tok::Lit(c)),
        }
        iteration += 1;
    }
    Ok((kind, toks))
}

fn bad(text: &str, line: usize, what: &str) -> IgnoreError {
    IgnoreError {
        line,
        message: format!("syntax error in pattern \"{text}\": {what}"),
    }
}

/// One char of a class (Go's getEsc): not `-` or `]` unescaped, and the
/// class must go on after it.
fn class_char(chars: &[char], i: &mut usize) -> Option<char> {
    let mut c = *chars.get(*i)?;
    if c == '-' || c == ']' {
        return None;
    }
    if c == '\\' {
        *i += 1;
        c = *chars.get(*i)?;
    }
    *i += 1;
    if *i >= chars.len() {
        return None;
    }
    Some(c)
}

/// Whether the tokens match all of `path`: a table over (token, position),
/// linear in each like Go's RE2, so no pattern can make it backtrack.
fn matches_toks(toks: &[Tok], path: &[char]) -> bool {
    let n = path.len();
    // next[j]: toks[i+1..] matches path[j..]; cur[j]: toks[i..] does.
    let mut next = vec![false; n + 1];
    next[n] = true;
    let mut cur = vec![false; n + 1];
    for tok in toks.iter().rev() {
        let mut slash_ahead = false;
        for j in (0..=n).rev() {
            let c = path.get(j).copied();
            cur[j] = match tok {
                Tok::Lit(l) => c == Some(*l) && next[j + 1],
                Tok::One => c.is_some_and(|c| c != '/') && next[j + 1],
                Tok::Class { negated, ranges } => {
                    // A negated class matches `/` too, as Go's regexp does.
                    c.is_some_and(|c| ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                        && next[j + 1]
                }
                Tok::Star => next[j] || (c.is_some_and(|c| c != '/') && cur[j + 1]),
                Tok::Any => next[j] || (c.is_some() && cur[j + 1]),
                Tok::Dirs => {
                    // `(.*/)?`: nothing, or anything up to and including a `/`.
                    if c == Some('/') && next[j + 1] {
                        slash_ahead = true;
                    }
                    next[j] || slash_ahead
                }
            };
        }
        std::mem::swap(&mut cur, &mut next);
    }
    next[0]
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match self.kind {
            MatchType::Exact => path == self.text,
            MatchType::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            MatchType::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || (suffix.starts_with('/') && path == &suffix[1..])
            }
            MatchType::Regexp => {
                let chars: Vec<char> = path.chars().collect();
                matches_toks(&self.toks, &chars)
            }
        }
    }

    /// Whether the pattern could match something under `dir/`: its literal
    /// head (up to the first wildcard) and `dir/` agree.
    fn may_match_under(&self, dir_slash: &str) -> bool {
        let head_len = self
            .text
            .find(['*', '?', '[', '\\'])
            .unwrap_or(self.text.len());
        let head = &self.text[..head_len];
        let full = head_len == self.text.len();
        let head_slash = if full {
            format!("{head}/")
        } else {
            head.to_string()
        };
        head_slash.starts_with(dir_slash) || dir_slash.starts_with(&head_slash)
    }
}

/// A path as the matcher sees it: cleaned, relative.
fn normalize(path: &str) -> String {
    let c = clean(path);
    c.trim_start_matches('/').to_string()
}

impl DockerIgnore {
    /// Reads a `.dockerignore`: `#` lines are comments, blank lines skipped,
    /// each pattern trimmed and cleaned (a leading `/` dropped), `!PATTERN`
    /// re-includes what earlier patterns excluded.
    pub fn parse(text: &str) -> Result<DockerIgnore, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for (n, raw) in text.split('\n').enumerate() {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.starts_with('#') {
                continue;
            }
            let mut pattern = raw.trim();
            if pattern.is_empty() {
                continue;
            }
            let invert = pattern.starts_with('!');
            if invert {
                pattern = pattern[1..].trim();
            }
            let mut p = String::new();
            if !pattern.is_empty() {
                p = clean(pattern);
                if p.len() > 1 && p.starts_with('/') {
                    p.remove(0);
                }
            }
            if invert {
                p.insert(0, '!');
            }
            lines.push((n + 1, p));
        }
        DockerIgnore::from_numbered(lines)
    }

    /// Patterns already read (docker's PatternMatcher.New).
    pub fn new<S: AsRef<str>>(
        patterns: impl IntoIterator<Item = S>,
    ) -> Result<DockerIgnore, IgnoreError> {
        DockerIgnore::from_numbered(
            patterns
                .into_iter()
                .enumerate()
                .map(|(i, p)| (i + 1, p.as_ref().to_string())),
        )
    }

    fn from_numbered(
        patterns: impl IntoIterator<Item = (usize, String)>,
    ) -> Result<DockerIgnore, IgnoreError> {
        let mut out = Vec::new();
        for (line, p) in patterns {
            let mut p = p.trim();
            if p.is_empty() {
                continue;
            }
            let exclusion = p.starts_with('!');
            if exclusion {
                if p.len() == 1 {
                    return Err(IgnoreError {
                        line,
                        message: "illegal exclusion pattern: \"!\": expected !PATTERN".into(),
                    });
                }
                p = &p[1..];
            }
            let text = clean(p);
            let (kind, toks) = compile(&text, line)?;
            out.push(Pattern {
                text,
                exclusion,
                kind,
                toks,
            });
        }
        Ok(DockerIgnore { patterns: out })
    }

    /// Whether `path` (relative to the context) is left out of the context:
    /// the last pattern that matches it or one of its parent directories
    /// decides (moby/patternmatcher's MatchesOrParentMatches).
    pub fn is_excluded(&self, path: &str) -> bool {
        let file = normalize(path);
        if file == "." || file.is_empty() {
            // The context root itself is never excluded.
            return false;
        }
        let parents: Vec<&str> = match file.rfind('/') {
            Some(i) => file[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(&file);
            if !hit {
                for i in 0..parents.len() {
                    if p.matches(&parents[..=i].join("/")) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether a walk must enter directory `dir`: it is not excluded, or an
    /// exception (`!PATTERN`) may re-include something under it. Entries
    /// inside are still checked one by one with [`DockerIgnore::is_excluded`].
    pub fn must_descend(&self, dir: &str) -> bool {
        if !self.is_excluded(dir) {
            return true;
        }
        let dir_slash = format!("{}/", normalize(dir));
        self.patterns
            .iter()
            .any(|p| p.exclusion && p.may_match_under(&dir_slash))
    }

    /// Any `!` exceptions.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("a//b/./c/"), "a/b/c");
        assert_eq!(clean("./a"), "a");
        assert_eq!(clean("/a/../.."), "/");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("a/.."), ".");
    }
}
