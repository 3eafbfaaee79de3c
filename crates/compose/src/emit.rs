//! A small YAML writer for the canonical output: block style, two-space
//! indentation with list items indented under their key (go-yaml's layout,
//! as `docker compose config` prints), and strings quoted whenever a YAML
//! reader could take them for anything else.

use serde_json::{Map, Value};

/// `value` as a YAML document, keys in the order they are in.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        v => {
            out.push_str(&inline(v));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        write_entry(out, key, value, indent);
    }
}

/// `key: value` where the key is already indented.
fn write_entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    out.push_str(&string(key));
    out.push(':');
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        v => {
            out.push(' ');
            out.push_str(&inline(v));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        pad(out, indent + 2);
                    }
                    write_entry(out, key, value, indent + 2);
                }
            }
            v => {
                out.push_str(&inline(v));
                out.push('\n');
            }
        }
    }
}

/// A scalar, an empty collection, or (for a list in a list, which the model
/// never has) JSON flow style, which YAML reads too.
fn inline(v: &Value) -> String {
    match v {
        Value::String(s) => string(s),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        Value::Object(m) if m.is_empty() => "{}".to_string(),
        v => v.to_string(),
    }
}

/// Plain when unambiguous, else JSON-quoted (a valid YAML double-quoted
/// scalar).
fn string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else {
        Value::from(s).to_string()
    }
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_./-+=:@,~% ".contains(c);
    if !s.chars().all(allowed) || s.trim() != s {
        return false;
    }
    if matches!(first, '-' | ':' | ',' | '%' | '@' | '~') || s.contains(": ") || s.ends_with(':') {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    // YAML 1.1 and 1.2 booleans and nulls, for readers of either version.
    if matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "null"
            | ".inf"
            | "+.inf"
            | ".nan"
    ) {
        return false;
    }
    // Anything number-like (ints, floats, hex, octal, YAML 1.1's 1:20
    // sexagesimal, dates) is quoted rather than told apart.
    let numeric = |c: char| c.is_ascii_hexdigit() || "xXoO._:+-".contains(c);
    let looks_numeric =
        (first.is_ascii_digit() || matches!(first, '+' | '.')) && s.chars().all(numeric);
    !looks_numeric
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout() {
        let v = json!({
            "name": "p",
            "services": {"web": {"ports": [{"target": 80, "published": "8080"}], "command": ["a", "b c"], "x": {}}},
            "empty": [],
        });
        assert_eq!(
            to_yaml(&v),
            "name: p\nservices:\n  web:\n    ports:\n      - target: 80\n        published: \"8080\"\n    command:\n      - a\n      - b c\n    x: {}\nempty: []\n"
        );
    }

    #[test]
    fn quoting() {
        for plain in [
            "busybox",
            "busybox:1.36",
            "/var/lib/x",
            "1m30s",
            "512m",
            "a b",
            "com.example.x",
            "a=b",
            "10s",
        ] {
            assert_eq!(string(plain), plain, "{plain}");
        }
        for quoted in [
            "",
            "8080",
            "8080:80",
            "1.5",
            "0x1f",
            "true",
            "No",
            "null",
            "~",
            "a: b",
            "#x",
            "-x",
            " lead",
            "it's",
            "a\nb",
            "*",
            "2024-01-01",
            "1e3",
            "${X}",
            ".inf",
        ] {
            assert!(string(quoted).starts_with('"'), "{quoted}");
        }
        assert_eq!(string("a\"b\n"), r#""a\"b\n""#);
    }
}
