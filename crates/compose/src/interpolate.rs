//! Variable substitution as compose does it on the raw YAML values, before
//! anything is typed: `$VAR`, `${VAR}`, the `:-` `-` `:+` `+` `:?` `?`
//! modifiers (nestable in their word), and `$$` for a literal `$`.

use serde_json::Value;

use crate::Error;

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubstError {
    /// A `$` that starts no valid reference, or an unclosed `${`.
    Syntax,
    /// `${VAR:?message}` / `${VAR?message}` with VAR missing.
    Required { variable: String, message: String },
}

/// The result of substituting one string.
#[derive(Debug, Default)]
pub(crate) struct Substituted {
    pub value: String,
    /// Variables referenced plainly (`$X`, `${X}`) that were unset: compose
    /// warns about each.
    pub unset: Vec<String>,
}

/// Substitutes `input` with variables from `lookup`.
pub(crate) fn substitute(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, SubstError> {
    let mut out = Substituted::default();
    substitute_into(input, lookup, &mut out)?;
    Ok(out)
}

fn substitute_into(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Substituted,
) -> Result<(), SubstError> {
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.value.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.value.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let end = closing_brace(body_and_tail).ok_or(SubstError::Syntax)?;
            braced(&body_and_tail[..end], lookup, out)?;
            rest = &body_and_tail[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                return Err(SubstError::Syntax);
            }
            plain(&after[..len], lookup, out);
            rest = &after[len..];
        }
    }
    out.value.push_str(rest);
    Ok(())
}

/// Length of the variable name at the start of `s` (`[A-Za-z_][A-Za-z0-9_]*`).
fn name_len(s: &str) -> usize {
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Index of the `}` closing a `${`, counting nested `${...}` in defaults.
fn closing_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn plain(name: &str, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Substituted) {
    match lookup(name) {
        Some(v) => out.value.push_str(&v),
        None => out.unset.push(name.to_string()),
    }
}

fn braced(
    body: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Substituted,
) -> Result<(), SubstError> {
    let len = name_len(body);
    if len == 0 {
        return Err(SubstError::Syntax);
    }
    let (name, modifier) = body.split_at(len);
    if modifier.is_empty() {
        plain(name, lookup, out);
        return Ok(());
    }
    let (op, word) = [":-", ":+", ":?", "-", "+", "?"]
        .iter()
        .find_map(|op| modifier.strip_prefix(op).map(|w| (*op, w)))
        .ok_or(SubstError::Syntax)?;
    let value = lookup(name);
    // The colon forms treat an empty value like an unset one.
    let present = match op {
        ":-" | ":+" | ":?" => value.as_deref().is_some_and(|v| !v.is_empty()),
        _ => value.is_some(),
    };
    match (op, present) {
        (":-" | "-", true) => out.value.push_str(value.as_deref().unwrap_or_default()),
        (":-" | "-", false) | (":+" | "+", true) => substitute_into(word, lookup, out)?,
        (":+" | "+", false) => {}
        (_, true) => out.value.push_str(value.as_deref().unwrap_or_default()),
        (_, false) => {
            let mut message = Substituted::default();
            substitute_into(word, lookup, &mut message)?;
            return Err(SubstError::Required {
                variable: name.to_string(),
                message: message.value,
            });
        }
    }
    Ok(())
}

/// The warning docker compose prints for an unset variable.
pub(crate) fn unset_warning(variable: &str) -> String {
    format!("The {variable:?} variable is not set. Defaulting to a blank string.")
}

/// Substitutes every string in a parsed file, in place (keys are left
/// alone, as compose does). Unset-variable warnings go to `warnings`, once
/// per variable.
pub(crate) fn interpolate_tree(
    value: &mut Value,
    path: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    match value {
        Value::String(s) => {
            let done = substitute(s, lookup).map_err(|e| match e {
                SubstError::Syntax => Error::Invalid {
                    file: file.to_string(),
                    path: path.to_string(),
                    value: Some(s.clone()),
                    message: "invalid interpolation format: write a literal $ as $$, a variable as $VAR or ${VAR}".to_string(),
                },
                SubstError::Required { variable, message } => Error::MissingVariable {
                    file: file.to_string(),
                    path: path.to_string(),
                    variable,
                    message,
                },
            })?;
            for var in done.unset {
                let warning = unset_warning(&var);
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            *s = done.value;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &format!("{path}[{i}]"), file, lookup, warnings)?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                interpolate_tree(item, &sub, file, lookup, warnings)?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(s: &str) -> Option<String> {
        match s {
            "A" => Some("a".into()),
            "EMPTY" => Some(String::new()),
            "B_2" => Some("b2".into()),
            _ => None,
        }
    }

    fn sub(s: &str) -> String {
        substitute(s, &vars).unwrap().value
    }

    #[test]
    fn plain_references() {
        assert_eq!(sub("$A"), "a");
        assert_eq!(sub("${A}"), "a");
        assert_eq!(sub("x$A.y"), "xa.y");
        assert_eq!(sub("${B_2}x"), "b2x");
        assert_eq!(sub("$B_2x"), "");
        assert_eq!(sub("no vars"), "no vars");
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar() {
        assert_eq!(sub("$$"), "$");
        assert_eq!(sub("$$A"), "$A");
        assert_eq!(sub("$${A}"), "${A}");
        assert_eq!(sub("a$$$A"), "a$a");
        assert_eq!(sub("${UNSET:-$$x}"), "$x");
    }

    #[test]
    fn defaults() {
        assert_eq!(sub("${UNSET:-def}"), "def");
        assert_eq!(sub("${EMPTY:-def}"), "def");
        assert_eq!(sub("${A:-def}"), "a");
        assert_eq!(sub("${UNSET-def}"), "def");
        assert_eq!(sub("${EMPTY-def}"), "");
        assert_eq!(sub("${UNSET:-}"), "");
        assert_eq!(sub("${UNSET:-a b:c}"), "a b:c");
    }

    #[test]
    fn alternatives() {
        assert_eq!(sub("${A:+alt}"), "alt");
        assert_eq!(sub("${EMPTY:+alt}"), "");
        assert_eq!(sub("${EMPTY+alt}"), "alt");
        assert_eq!(sub("${UNSET+alt}"), "");
        assert_eq!(sub("${UNSET:+alt}"), "");
    }

    #[test]
    fn nested_defaults() {
        assert_eq!(sub("${UNSET:-${A}}"), "a");
        assert_eq!(sub("${UNSET:-${ALSO:-deep}}"), "deep");
        assert_eq!(sub("${A:+[${B_2}]}"), "[b2]");
    }

    #[test]
    fn required() {
        assert_eq!(sub("${A:?boom}"), "a");
        assert_eq!(sub("${EMPTY?boom}"), "");
        assert_eq!(
            substitute("${UNSET:?set it please}", &vars).unwrap_err(),
            SubstError::Required {
                variable: "UNSET".into(),
                message: "set it please".into()
            }
        );
        assert_eq!(
            substitute("${EMPTY:?no ${A}}", &vars).unwrap_err(),
            SubstError::Required {
                variable: "EMPTY".into(),
                message: "no a".into()
            }
        );
        assert_eq!(
            substitute("${UNSET?}", &vars).unwrap_err(),
            SubstError::Required {
                variable: "UNSET".into(),
                message: String::new()
            }
        );
    }

    #[test]
    fn unset_plain_references_are_reported() {
        let done = substitute("$X-${Y}-${Z:-z}", &vars).unwrap();
        assert_eq!(done.value, "--z");
        assert_eq!(done.unset, ["X", "Y"]);
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "$",
            "a $ b",
            "$1",
            "${",
            "${A",
            "${}",
            "${1A}",
            "${A:x}",
            "${A B}",
            "${A:-${B}",
        ] {
            assert_eq!(
                substitute(bad, &vars).unwrap_err(),
                SubstError::Syntax,
                "{bad}"
            );
        }
    }

    #[test]
    fn tree_substitution_names_the_path() {
        let mut v: Value =
            serde_json::json!({"services": {"web": {"image": "x:${TAG}", "command": ["a", "$1"]}}});
        let mut warnings = Vec::new();
        let err = interpolate_tree(&mut v, "", "compose.yaml", &vars, &mut warnings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "compose.yaml: services.web.command[1] \"$1\": invalid interpolation format: write a literal $ as $$, a variable as $VAR or ${VAR}"
        );
        assert_eq!(warnings, [unset_warning("TAG")]);
        assert_eq!(
            warnings[0],
            "The \"TAG\" variable is not set. Defaulting to a blank string."
        );
    }
}
