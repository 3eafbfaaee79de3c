//! Splitting a `command:` or `entrypoint:` string into words as a POSIX
//! shell would (quotes and backslashes), without expanding anything: that is
//! what compose does (go-shellwords) when the value is a string.

/// The words of `text`, or a message naming the unterminated quote.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A quoted empty string ('' or "") is still a word.
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    // A backslash-newline is a line continuation.
                    Some('\n') => {}
                    Some(next) => word.push(next),
                    None => word.push('\\'),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => {
                            return Err("unterminated single quote: close it with '".to_string())
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => {
                                return Err(
                                    "unterminated double quote: close it with \"".to_string()
                                )
                            }
                        },
                        Some(ch) => word.push(ch),
                        None => {
                            return Err("unterminated double quote: close it with \"".to_string())
                        }
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_words(s).unwrap()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split("echo hello  world"), ["echo", "hello", "world"]);
        assert_eq!(
            split("sh -c 'echo $HOME; ls'"),
            ["sh", "-c", "echo $HOME; ls"]
        );
        assert_eq!(split(r#"echo "a \"b\" c" d"#), ["echo", r#"a "b" c"#, "d"]);
        assert_eq!(split(r"echo a\ b"), ["echo", "a b"]);
        assert_eq!(split("x '' \"\""), ["x", "", ""]);
        assert_eq!(split("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(split(r#"echo "\n""#), ["echo", r"\n"]);
        assert!(split("   ").is_empty());
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert!(split_words("echo 'a").unwrap_err().contains("single quote"));
        assert!(split_words("echo \"a")
            .unwrap_err()
            .contains("double quote"));
    }
}
