//! Physical lines to instructions as BuildKit's parser.Parse does it:
//! directives at the top, comments, continuation lines (comment and empty
//! lines inside a continuation are skipped), heredoc bodies.

use crate::{Directives, ParseError};

/// One instruction's text, continuation lines joined.
pub(crate) struct Logical {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lines<'a> {
    lines: Vec<&'a str>,
    /// Index of the next physical line to read (== lines read so far).
    next: usize,
    pub directives: Directives,
    directives_done: bool,
    seen: Vec<String>,
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// `# name=value` (BuildKit's reDirective).
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?;
    let value = rest.trim_matches([' ', '\t']);
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.to_string()))
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Go's bufio.ScanLines: split on \n, drop a trailing \r.
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        if text.ends_with('\n') || text.is_empty() {
            lines.pop();
        }
        Lines {
            lines,
            next: 0,
            directives: Directives::default(),
            directives_done: false,
            seen: Vec::new(),
        }
    }

    /// The number of the last line read (1-based).
    pub fn line_number(&self) -> usize {
        self.next
    }

    fn read(&mut self) -> Option<&'a str> {
        let line = *self.lines.get(self.next)?;
        self.next += 1;
        Some(line)
    }

    fn possible_directive(&mut self, line: &str) -> Result<(), ParseError> {
        if self.directives_done {
            return Ok(());
        }
        let Some((name, value)) = directive(line) else {
            self.directives_done = true;
            return Ok(());
        };
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.directives_done = true;
            return Ok(());
        }
        if self.seen.contains(&name) {
            return Err(ParseError::new(
                self.next,
                format!("only one {name} parser directive can be used"),
            ));
        }
        self.seen.push(name.clone());
        match name.as_str() {
            "escape" => {
                self.directives.escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(ParseError::new(
                            self.next,
                            format!("invalid escape token '{value}' does not match ` or \\"),
                        ))
                    }
                }
            }
            "syntax" => self.directives.syntax = Some(value),
            _ => self.directives.check = Some(value),
        }
        Ok(())
    }

    /// Strips a trailing escape (plus spaces/tabs): (line, ends here).
    fn trim_continuation<'l>(&self, line: &'l str) -> (&'l str, bool) {
        let t = line.trim_end_matches([' ', '\t']);
        match t.strip_suffix(self.directives.escape) {
            Some(head) => (head, false),
            None => (line, true),
        }
    }

    /// The next instruction's text, or None at the end of the file.
    pub fn next_logical(&mut self) -> Result<Option<Logical>, ParseError> {
        loop {
            let Some(raw) = self.read() else {
                return Ok(None);
            };
            let stripped = raw.trim_start();
            self.possible_directive(stripped)?;
            if is_comment(stripped) {
                continue;
            }
            let start = self.next;
            let (first, mut ended) = self.trim_continuation(stripped);
            if ended && first.is_empty() {
                continue;
            }
            if ended && first.trim().is_empty() {
                continue;
            }
            let mut text = first.to_string();
            while !ended {
                let Some(raw) = self.read() else { break };
                self.possible_directive(raw)?;
                if is_comment(raw) || raw.trim().is_empty() {
                    continue;
                }
                let (part, e) = self.trim_continuation(raw);
                text.push_str(part);
                ended = e;
            }
            if text.trim().is_empty() {
                continue;
            }
            return Ok(Some(Logical {
                text,
                start,
                end: self.next,
            }));
        }
    }

    /// Reads a heredoc body up to its terminator line (after leading tabs
    /// when `chomp`). The body keeps each line's `\n`; `chomp` removes
    /// leading tabs from each body line.
    pub fn heredoc(&mut self, start: usize, name: &str, chomp: bool) -> Result<String, ParseError> {
        let mut body = String::new();
        while let Some(raw) = self.read() {
            let candidate = if chomp {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if candidate == name {
                return Ok(body);
            }
            body.push_str(if chomp { candidate } else { raw });
            body.push('\n');
        }
        Err(ParseError::new(
            start,
            format!("unterminated heredoc: no line \"{name}\" ends <<{name}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(String, usize, usize)> {
        let mut l = Lines::new(text);
        let mut out = Vec::new();
        while let Some(x) = l.next_logical().unwrap() {
            out.push((x.text, x.start, x.end));
        }
        out
    }

    #[test]
    fn continuations_skip_comments_and_blank_lines() {
        let got = all("FROM a\nRUN echo \\\n# comment\n\n  hi \\\n  there\n\n# c\nCMD x\n");
        assert_eq!(
            got,
            vec![
                ("FROM a".to_string(), 1, 1),
                ("RUN echo   hi   there".to_string(), 2, 6),
                ("CMD x".to_string(), 9, 9)
            ]
        );
    }

    #[test]
    fn escape_directive_changes_continuation() {
        let mut l = Lines::new("# escape=`\nFROM a\nRUN dir c:\\ `\n  /s\n");
        let a = l.next_logical().unwrap().unwrap();
        assert_eq!(a.text, "FROM a");
        let b = l.next_logical().unwrap().unwrap();
        assert_eq!(b.text, "RUN dir c:\\ \n  /s".replace('\n', ""));
        assert_eq!(l.directives.escape, '`');
    }

    #[test]
    fn directives_only_at_the_top() {
        let mut l = Lines::new("FROM a\n# escape=`\nRUN x \\\n y\n");
        l.next_logical().unwrap();
        let b = l.next_logical().unwrap().unwrap();
        assert_eq!(b.text, "RUN x  y");
        assert_eq!(l.directives.escape, '\\');
    }

    #[test]
    fn unknown_directive_ends_directives() {
        let mut l = Lines::new("# foo=bar\n# escape=`\nFROM a\n");
        l.next_logical().unwrap();
        assert_eq!(l.directives.escape, '\\');
    }

    #[test]
    fn duplicate_and_bad_directives() {
        let mut l = Lines::new("# escape=`\n# escape=\\\nFROM a\n");
        let e = l.next_logical().err().unwrap();
        assert_eq!(
            e.to_string(),
            "Dockerfile:2: only one escape parser directive can be used"
        );
        let mut l = Lines::new("# escape=x\nFROM a\n");
        let e = l.next_logical().err().unwrap();
        assert_eq!(
            e.to_string(),
            "Dockerfile:1: invalid escape token 'x' does not match ` or \\"
        );
    }

    #[test]
    fn syntax_directive_kept_and_bom_crlf_handled() {
        let mut l = Lines::new("\u{feff}#syntax = docker/dockerfile:1\r\nFROM a\r\n");
        let a = l.next_logical().unwrap().unwrap();
        assert_eq!(a.text, "FROM a");
        assert_eq!(l.directives.syntax.as_deref(), Some("docker/dockerfile:1"));
    }
}
