//! Reading one YAML document into a plain tree (`serde_json::Value`), the
//! form interpolation and merging work on before anything is typed.

use serde_json::Value;

use crate::Error;

/// Parses `text`. YAML 1.2 booleans only (`yes`/`no`/`on`/`off` stay
/// strings, as in docker compose, so `restart: no` means "no"); merge keys
/// (`<<: *base`) are applied; duplicate keys and anchor bombs are errors.
pub(crate) fn parse_yaml(text: &str, file: &str) -> Result<Value, Error> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        let message = one_line(&e.to_string());
        let message = match e.location() {
            Some(at) => {
                let suffix = format!(" at line {}, column {}", at.line(), at.column());
                let bare = message.strip_suffix(&suffix).unwrap_or(&message);
                format!("line {} column {}: {bare}", at.line(), at.column())
            }
            None => message,
        };
        Error::Yaml {
            file: file.to_string(),
            message,
        }
    })
}

/// The parser's first line, without its `error: ` prefix or the advice
/// meant for Rust programmers (`; use from_str_multiple ...`, `set
/// DuplicateKeyPolicy ...`).
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = first.split("; use ").next().unwrap_or(first);
    first
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_merge_keys_and_yaml12_booleans() {
        let v = parse_yaml(
            "x: &b {image: a, restart: no}\ny:\n  <<: *b\n  tty: true\n  ports: [8080:80, 80]\n",
            "f",
        )
        .unwrap();
        assert_eq!(v["y"]["image"], "a");
        assert_eq!(v["y"]["restart"], "no");
        assert_eq!(v["y"]["tty"], true);
        assert_eq!(v["y"]["ports"][0], "8080:80");
        assert_eq!(v["y"]["ports"][1], 80);
    }

    #[test]
    fn errors_are_one_line_with_position() {
        let err = parse_yaml("services:\n  web:\n    image: [a\n", "compose.yaml")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "{err}");
        assert_eq!(
            err,
            "compose.yaml: line 3 column 12: unclosed bracket '[': fix the YAML syntax there"
        );
        assert!(err.ends_with("fix the YAML syntax there"), "{err}");
        let err = parse_yaml("a: 1\na: 2\n", "c.yml").unwrap_err().to_string();
        assert!(
            err.starts_with("c.yml: line 2 column 1: duplicate mapping key"),
            "{err}"
        );
        assert!(!err.contains("DuplicateKeyPolicy"), "{err}");
        let err = parse_yaml("a: 1\n---\nb: 2\n", "c.yml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.yml: line 3 column 1: multiple YAML documents detected: fix the YAML syntax there"
        );
    }

    #[test]
    fn empty_is_null() {
        assert_eq!(parse_yaml("", "f").unwrap(), Value::Null);
        assert_eq!(parse_yaml("# only a comment\n", "f").unwrap(), Value::Null);
    }
}
