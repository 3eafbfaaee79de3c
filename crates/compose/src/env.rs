//! `.env` and `env_file` files, parsed as compose-go's dotenv does:
//! `KEY=VALUE` lines, `#` comments, an optional `export ` prefix, single
//! quotes (literal), double quotes (escapes and `${VAR}` expansion, may
//! span lines), unquoted values (expansion, trailing ` # comment` dropped),
//! and a bare `KEY` that takes its value from the environment.

use std::collections::BTreeMap;

use crate::interpolate::{substitute, SubstError};

/// One-based line and message of a malformed line.
pub(crate) type DotenvError = (usize, String);

/// Parses dotenv `text`. References in values see `lookup` first (the
/// process environment), then keys defined earlier in the file.
pub(crate) fn parse_dotenv(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, DotenvError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut map = BTreeMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let (key, rest) = split_key(line).map_err(|m| (line_no, m))?;
        let Some(rest) = rest else {
            // A bare KEY passes the variable through when it is set.
            if let Some(v) = lookup(&key) {
                map.insert(key, v);
            }
            continue;
        };
        let rest = rest.trim_start_matches([' ', '\t']);
        let value = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => {
                let mut body = rest[1..].to_string();
                let close = loop {
                    if let Some(pos) = closing_quote(&body, q) {
                        break pos;
                    }
                    let Some(next) = lines.get(i) else {
                        return Err((
                            line_no,
                            format!("unterminated quoted value: close it with {q}"),
                        ));
                    };
                    body.push('\n');
                    body.push_str(next);
                    i += 1;
                };
                let trailing = body[close + 1..].trim();
                if !trailing.is_empty() && !trailing.starts_with('#') {
                    return Err((
                        line_no,
                        format!("unexpected {trailing:?} after the closing quote: quote the whole value"),
                    ));
                }
                let inner = &body[..close];
                if q == '\'' {
                    inner.to_string()
                } else {
                    expand(&unescape(inner), lookup, &map).map_err(|m| (line_no, m))?
                }
            }
            _ => {
                let unquoted = match rest.find(" #").or_else(|| rest.find("\t#")) {
                    Some(pos) => &rest[..pos],
                    None => rest,
                };
                expand(unquoted.trim_end(), lookup, &map).map_err(|m| (line_no, m))?
            }
        };
        map.insert(key, value);
    }
    Ok(map)
}

/// The key and, after `=` (or YAML-style `:`), the rest of the line; `None`
/// when the line is a bare key.
fn split_key(line: &str) -> Result<(String, Option<&str>), String> {
    for (i, c) in line.char_indices() {
        match c {
            '=' | ':' => {
                let key = line[..i].trim();
                if key.is_empty() {
                    return Err(format!("no variable name before {c:?}: write KEY=VALUE"));
                }
                return Ok((key.to_string(), Some(&line[i + 1..])));
            }
            '_' | '.' | '-' | '[' | ']' | ' ' | '\t' => {}
            c if c.is_alphanumeric() => {}
            c => {
                return Err(format!(
                    "unexpected character {c:?} in variable name: write KEY=VALUE with a name of letters, digits, _ . -"
                ))
            }
        }
    }
    let key = line.trim();
    if key.contains([' ', '\t']) {
        return Err(format!(
            "{key:?} is not KEY=VALUE: add an = or remove the spaces"
        ));
    }
    Ok((key.to_string(), None))
}

/// Index of the quote closing a value, skipping backslash-escaped ones in
/// double quotes.
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && q == '"' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

/// Double-quote escapes; `\$` becomes `$$` so expansion keeps it literal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('$') => out.push_str("$$"),
            Some(c @ ('"' | '\\')) => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    earlier: &BTreeMap<String, String>,
) -> Result<String, String> {
    let both = |k: &str| lookup(k).or_else(|| earlier.get(k).cloned());
    match substitute(value, &both) {
        Ok(done) => Ok(done.value),
        Err(SubstError::Syntax) => Err(format!(
            "{value:?}: invalid interpolation format: write a literal $ as $$ or quote the value with '"
        )),
        Err(SubstError::Required { variable, message }) => {
            Err(format!("required variable {variable} is missing a value: {message}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "HOME" => Some("/root".into()),
            "PASSED" => Some("through".into()),
            _ => None,
        }
    }

    fn parse(text: &str) -> BTreeMap<String, String> {
        parse_dotenv(text, &env).unwrap()
    }

    #[test]
    fn plain_lines_comments_and_export() {
        let m =
            parse("# comment\n\nA=1\n  export B = two words \nC=\nD=x # trailing comment\nE=a#b\n");
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two words");
        assert_eq!(m["C"], "");
        assert_eq!(m["D"], "x");
        assert_eq!(m["E"], "a#b");
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn quotes() {
        let m = parse("S='lit $HOME \\n'\nD=\"home=$HOME\\nnext \\\"q\\\" \\$HOME\"\nM=\"line1\nline2\" # c\nQ='a # b'\n");
        assert_eq!(m["S"], "lit $HOME \\n");
        assert_eq!(m["D"], "home=/root\nnext \"q\" $HOME");
        assert_eq!(m["M"], "line1\nline2");
        assert_eq!(m["Q"], "a # b");
    }

    #[test]
    fn expansion_sees_environment_then_earlier_keys() {
        let m = parse("A=1\nB=${A}-${HOME}\nC=${NOPE:-dflt}\nHOME=mine\nD=$HOME\n");
        assert_eq!(m["B"], "1-/root");
        assert_eq!(m["C"], "dflt");
        assert_eq!(m["D"], "/root");
    }

    #[test]
    fn bare_keys_pass_the_environment_through() {
        let m = parse("PASSED\nMISSING\n");
        assert_eq!(m["PASSED"], "through");
        assert!(!m.contains_key("MISSING"));
    }

    #[test]
    fn yaml_style_and_later_wins() {
        let m = parse("A: 1\nA=2\n");
        assert_eq!(m["A"], "2");
    }

    #[test]
    fn errors_name_the_line() {
        let (line, msg) = parse_dotenv("A=1\nB=\"open\n", &env).unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("unterminated"), "{msg}");
        let (line, msg) = parse_dotenv("\n\nBAD$=1\n", &env).unwrap_err();
        assert_eq!(line, 3);
        assert!(msg.contains("unexpected character '$'"), "{msg}");
        let (_, msg) = parse_dotenv("A='x' y\n", &env).unwrap_err();
        assert!(msg.contains("after the closing quote"), "{msg}");
        let (_, msg) = parse_dotenv("A two\n", &env).unwrap_err();
        assert!(msg.contains("not KEY=VALUE"), "{msg}");
        let (_, msg) = parse_dotenv("=1\n", &env).unwrap_err();
        assert!(msg.contains("no variable name"), "{msg}");
    }
}
