//! The subset of Go templates `--format` needs here: literal text,
//! `{{.Field}}` / `{{.A.B}}`, `{{json .}}` / `{{json .Field}}`, a leading
//! `table` (header row + tabwriter), and the words `json` and `table`.

use serde_json::Value;

use crate::format::table::tabwrite;
use crate::{Error, Result};

enum Part {
    Text(String),
    Field(Vec<String>),
    Json(Vec<String>),
}

pub struct Template {
    parts: Vec<Part>,
    table: bool,
}

impl Template {
    pub fn parse(format: &str) -> Result<Template> {
        let bad = |reason: &str| Error::Template {
            format: format.to_string(),
            reason: reason.to_string(),
        };
        let mut f = format.trim().replace("\\t", "\t").replace("\\n", "\n");
        if f == "json" {
            f = "{{json .}}".into();
        }
        let table = f.starts_with("table");
        if table {
            f = f["table".len()..].trim_start().to_string();
        }
        let mut parts = Vec::new();
        let mut rest = f.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let end = rest[start..]
                .find("}}")
                .ok_or_else(|| bad("unclosed action"))?
                + start;
            let action = rest[start + 2..end].trim().trim_matches('-').trim();
            let words: Vec<&str> = action.split_whitespace().collect();
            parts.push(match words.as_slice() {
                [field] if field.starts_with('.') => Part::Field(path(field)),
                ["json", field] if field.starts_with('.') => Part::Json(path(field)),
                _ => return Err(bad(&format!("unsupported action {{{{{action}}}}}"))),
            });
            rest = &rest[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts, table })
    }

    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(path) => out.push_str(&go_print(lookup(v, path))),
                Part::Json(path) => out.push_str(
                    &lookup(v, path)
                        .map(|x| x.to_string())
                        .unwrap_or("null".into()),
                ),
            }
        }
        out
    }

    /// One line per item; with `table`, a header from `header_of` and aligned columns.
    pub fn render_all(&self, items: &[Value], header_of: impl Fn(&str) -> String) -> String {
        let mut lines: Vec<String> = Vec::new();
        if self.table {
            let mut h = String::new();
            for p in &self.parts {
                match p {
                    Part::Text(t) => h.push_str(t),
                    Part::Field(path) | Part::Json(path) => h.push_str(&header_of(&path.join("."))),
                }
            }
            lines.push(h);
        }
        lines.extend(items.iter().map(|v| self.render(v)));
        if self.table {
            tabwrite(&lines)
        } else {
            lines.iter().map(|l| format!("{l}\n")).collect()
        }
    }
}

fn path(field: &str) -> Vec<String> {
    field
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

/// How Go's text/template prints a value.
fn go_print(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<no value>".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => {
            let items: Vec<String> = a.iter().map(|x| go_print(Some(x))).collect();
            format!("[{}]", items.join(" "))
        }
        Some(Value::Object(m)) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{k}:{}", go_print(Some(x))))
                .collect();
            format!("map[{}]", items.join(" "))
        }
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_json_and_table() {
        let v = serde_json::json!({"Repository": "busybox", "Tag": "latest", "ID": "abc"});
        let t = Template::parse("{{.Repository}}:{{.Tag}}").unwrap();
        assert_eq!(t.render(&v), "busybox:latest");
        let t = Template::parse("json").unwrap();
        assert_eq!(t.render(&v), v.to_string());
        let t = Template::parse("table {{.ID}}\\t{{.Tag}}").unwrap();
        let out = t.render_all(&[v], |f| f.to_uppercase());
        assert_eq!(out, "ID        TAG\nabc       latest\n");
        assert!(Template::parse("{{range .}}").is_err());
    }
}
