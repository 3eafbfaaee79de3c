//! Go's value printing pieces: `%v` of floats, JSON strings as
//! encoding/json writes them, and `strings.Title`.

/// `fmt`'s `%v` of a float64: shortest representation, exponent form
/// below 1e-4 and from 1e21 on.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e21).contains(&a) {
        let s = format!("{f:e}");
        // Rust writes `1e21` / `1.5e-5`; Go writes `1e+21` / `1.5e-05`.
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    format!("{f}")
}

/// encoding/json's string encoding; `html` escapes `<`, `>` and `&` as
/// `json.Marshal` does (docker's `json` function turns that off).
pub fn json_string(s: &str, html: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `strings.Title`: upper-cases each letter that follows a separator.
pub fn title(s: &str) -> String {
    let sep = |r: char| {
        if r.is_ascii() {
            return !(r.is_ascii_alphanumeric() || r == '_');
        }
        if r.is_alphabetic() || r.is_numeric() {
            return false;
        }
        r.is_whitespace()
    };
    let mut prev = ' ';
    let mut out = String::new();
    for r in s.chars() {
        if sep(prev) {
            out.extend(r.to_uppercase());
        } else {
            out.push(r);
        }
        prev = r;
    }
    out
}

/// `strings.Split`, whose empty separator splits into characters.
pub fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(String::from).collect()
}

/// Pads `text` to `width` (in characters) as fmt does.
pub fn pad(text: &str, width: Option<usize>, left: bool, zero: bool) -> String {
    let Some(w) = width else {
        return text.to_string();
    };
    let n = text.chars().count();
    if n >= w {
        return text.to_string();
    }
    let fill = w - n;
    if left {
        format!("{text}{}", " ".repeat(fill))
    } else if zero {
        match text.strip_prefix('-') {
            Some(rest) => format!("-{}{rest}", "0".repeat(fill)),
            None => format!("{}{text}", "0".repeat(fill)),
        }
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}
