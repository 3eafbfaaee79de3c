//! Splitting an instruction's text as BuildKit's parser does (parser.go,
//! line_parsers.go): command and flags, words with quotes kept, JSON arrays.

/// `CMD --flag=x rest` → ("CMD", ["--flag=x"], "rest"): BuildKit's
/// splitCommand + extractBuilderFlags. Flag words lose their quotes here.
pub(crate) fn split_command(line: &str, escape: char) -> (String, Vec<String>, String) {
    let line = line.trim();
    let (cmd, rest) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let (args, flags) = extract_flags(rest, escape);
    (cmd.to_string(), flags, args.trim().to_string())
}

/// Leading `--name[=value]` words; the rest of the line from the first word
/// that does not start with `--` (or after a lone `--`).
fn extract_flags(line: &str, escape: char) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let (pos, ch) = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            if ch != '-' || chars.get(i + 1).map(|c| c.1) != Some('-') {
                return (line[pos..].to_string(), words);
            }
            phase = Phase::Word;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if word == "--" {
                    return (line[pos..].to_string(), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                i += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                i += 1;
                continue;
            }
            let mut c = ch;
            if ch == escape {
                if i + 1 == chars.len() {
                    i += 1;
                    continue;
                }
                i += 1;
                c = chars[i].1;
            }
            word.push(c);
            i += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
            i += 1;
            continue;
        }
        let mut c = ch;
        if ch == escape {
            if i + 1 == chars.len() {
                phase = Phase::Word;
                i += 1;
                continue;
            }
            i += 1;
            c = chars[i].1;
        }
        word.push(c);
        i += 1;
    }
    if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    (String::new(), words)
}

/// BuildKit's parseWords: whitespace-separated words, quotes and escapes kept
/// in the word (expansion removes them later).
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if phase == Phase::Spaces {
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                i += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if i + 1 == chars.len() {
                    i += 1;
                    continue;
                }
                // An escape outside quotes keeps itself and the next char,
                // even a quote.
                word.push(ch);
                i += 1;
            }
            word.push(chars[i]);
            i += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if i + 1 == chars.len() {
                phase = Phase::Word;
                i += 1;
                continue;
            }
            word.push(ch);
            i += 1;
        }
        word.push(chars[i]);
        i += 1;
    }
    if phase != Phase::Spaces && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

/// Splits on runs of whitespace (BuildKit's parseStringsWhitespaceDelimited).
pub(crate) fn split_whitespace(rest: &str) -> Vec<String> {
    rest.split_whitespace().map(str::to_string).collect()
}

/// The outcome of reading arguments that may be a JSON array.
pub(crate) enum MaybeJson {
    Json(Vec<String>),
    Text(String),
}

/// BuildKit's parseMaybeJSON: a JSON array of strings (the whole text, as
/// Go's json.Unmarshal reads it), else the text as is. A JSON array holding
/// a non-string is an error.
pub(crate) fn parse_maybe_json(rest: &str) -> Result<MaybeJson, String> {
    let trimmed = rest.trim_start();
    if !trimmed.starts_with('[') {
        return Ok(MaybeJson::Text(rest.to_string()));
    }
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    serde_json::Value::String(s) => out.push(s),
                    _ => return Err(
                        "when using JSON array syntax, arrays must be comprised of strings only"
                            .to_string(),
                    ),
                }
            }
            Ok(MaybeJson::Json(out))
        }
        _ => Ok(MaybeJson::Text(rest.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_split_and_unquoted() {
        let (cmd, flags, args) = split_command("COPY --from=build --chown=\"a b\" src /dst", '\\');
        assert_eq!(cmd, "COPY");
        assert_eq!(flags, vec!["--from=build", "--chown=a b"]);
        assert_eq!(args, "src /dst");
    }

    #[test]
    fn a_lone_double_dash_ends_flags() {
        let (_, flags, args) = split_command("RUN --network=none -- --not-a-flag", '\\');
        assert_eq!(flags, vec!["--network=none"]);
        assert_eq!(args, "--not-a-flag");
    }

    #[test]
    fn no_args() {
        let (cmd, flags, args) = split_command("  RUN   ", '\\');
        assert_eq!((cmd.as_str(), flags.len(), args.as_str()), ("RUN", 0, ""));
    }

    // moby/buildkit parser/line_parsers_test.go TestParseWords-style cases.
    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(parse_words("foo", '\\'), vec!["foo"]);
        assert_eq!(parse_words("foo bar", '\\'), vec!["foo", "bar"]);
        assert_eq!(parse_words("foo\\ bar baz", '\\'), vec!["foo\\ bar", "baz"]);
        assert_eq!(
            parse_words("foo=bar baz='a b' c=\"x y\"", '\\'),
            vec!["foo=bar", "baz='a b'", "c=\"x y\""]
        );
        assert_eq!(parse_words("'a\\'", '\\'), vec!["'a\\'"]);
        assert_eq!(parse_words("\"a\\\"b\" c", '\\'), vec!["\"a\\\"b\"", "c"]);
        assert_eq!(parse_words("''", '\\'), vec!["''"]);
        assert_eq!(parse_words("a`\"b", '`'), vec!["a`\"b"]);
    }

    #[test]
    fn json_or_text() {
        match parse_maybe_json(r#"["a", "b c"]"#) {
            Ok(MaybeJson::Json(v)) => assert_eq!(v, vec!["a", "b c"]),
            _ => panic!("not json"),
        }
        match parse_maybe_json("[ not json") {
            Ok(MaybeJson::Text(t)) => assert_eq!(t, "[ not json"),
            _ => panic!("json"),
        }
        assert!(parse_maybe_json("[1, 2]").is_err());
        match parse_maybe_json("[\"a\"] trailing") {
            Ok(MaybeJson::Text(t)) => assert_eq!(t, "[\"a\"] trailing"),
            _ => panic!("json"),
        }
        match parse_maybe_json("echo [x]") {
            Ok(MaybeJson::Text(t)) => assert_eq!(t, "echo [x]"),
            _ => panic!("json"),
        }
    }
}
