//! Reading scalars, lists and mappings out of the raw tree. After
//! interpolation a number may arrive as a string ("${PORT:-80}"), so
//! numeric and boolean readers accept both, as compose does.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::Cx;
use crate::duration::parse_duration;
use crate::size::parse_bytes;
use crate::Error;

/// "a string", "a list", ... for messages.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The text of a scalar; `None` for null, lists and mappings.
pub(super) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

impl Cx<'_> {
    /// An error at `path`, showing `v` when it is a scalar.
    pub(super) fn invalid(
        &self,
        path: &str,
        v: Option<&Value>,
        message: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            file: self.file.clone(),
            path: path.to_string(),
            value: v.and_then(scalar),
            message: message.into(),
        }
    }

    /// The error for a value of the wrong kind; `want` completes "write ... here".
    pub(super) fn wrong_kind(&self, path: &str, v: &Value, want: &str) -> Error {
        self.invalid(
            path,
            Some(v),
            format!("found {}: write {want} here", kind(v)),
        )
    }

    pub(super) fn string(&self, v: &Value, path: &str) -> Result<String, Error> {
        scalar(v).ok_or_else(|| self.wrong_kind(path, v, "a string"))
    }

    pub(super) fn boolean(&self, v: &Value, path: &str) -> Result<bool, Error> {
        if let Value::Bool(b) = v {
            return Ok(*b);
        }
        // compose-go's spellings for booleans that went through interpolation.
        match scalar(v).map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("true" | "yes" | "y" | "on") => Ok(true),
            Some("false" | "no" | "n" | "off") => Ok(false),
            _ => Err(self.wrong_kind(path, v, "true or false")),
        }
    }

    pub(super) fn int(&self, v: &Value, path: &str) -> Result<i64, Error> {
        let parsed = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| self.wrong_kind(path, v, "a whole number"))
    }

    /// A non-negative integer that fits `T`.
    pub(super) fn uint<T: TryFrom<u64>>(&self, v: &Value, path: &str) -> Result<T, Error> {
        let parsed = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
            self.wrong_kind(
                path,
                v,
                &format!("a whole number from 0 to {}", max_of::<T>()),
            )
        })
    }

    pub(super) fn float(&self, v: &Value, path: &str) -> Result<f64, Error> {
        let parsed = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed
            .filter(|f: &f64| f.is_finite() && *f >= 0.0)
            .ok_or_else(|| self.wrong_kind(path, v, "a non-negative number, e.g. 0.5"))
    }

    pub(super) fn duration(&self, v: &Value, path: &str) -> Result<Duration, Error> {
        let text = self.string(v, path)?;
        parse_duration(&text).map_err(|m| self.invalid(path, Some(v), m))
    }

    pub(super) fn bytes(&self, v: &Value, path: &str) -> Result<u64, Error> {
        if let Some(n) = v.as_u64() {
            return Ok(n);
        }
        let text = self.string(v, path)?;
        parse_bytes(&text).map_err(|m| self.invalid(path, Some(v), m))
    }

    pub(super) fn mapping<'v>(
        &self,
        v: &'v Value,
        path: &str,
    ) -> Result<&'v Map<String, Value>, Error> {
        v.as_object()
            .ok_or_else(|| self.wrong_kind(path, v, "a mapping (key: value lines)"))
    }

    /// A mapping, or an empty one for null (`networks: {front: }`).
    pub(super) fn mapping_or_null<'v>(
        &self,
        v: &'v Value,
        path: &str,
    ) -> Result<Option<&'v Map<String, Value>>, Error> {
        match v {
            Value::Null => Ok(None),
            v => self.mapping(v, path).map(Some),
        }
    }

    pub(super) fn list<'v>(&self, v: &'v Value, path: &str) -> Result<&'v [Value], Error> {
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.wrong_kind(path, v, "a list (- item lines)"))
    }

    /// A list of scalars.
    pub(super) fn strings(&self, v: &Value, path: &str) -> Result<Vec<String>, Error> {
        self.list(v, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| self.string(item, &format!("{path}[{i}]")))
            .collect()
    }

    /// A single string or a list of them.
    pub(super) fn string_or_list(&self, v: &Value, path: &str) -> Result<Vec<String>, Error> {
        match v {
            Value::Array(_) => self.strings(v, path),
            v => Ok(vec![self.string(v, path)?]),
        }
    }

    /// `KEY=VALUE` / `KEY` list or `KEY: VALUE` mapping. `None` is a key
    /// without a value (`KEY` or `KEY:`): the caller decides what it means.
    pub(super) fn dict(
        &self,
        v: &Value,
        path: &str,
    ) -> Result<BTreeMap<String, Option<String>>, Error> {
        let mut out = BTreeMap::new();
        match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    let entry = self.string(item, &p)?;
                    let (key, value) = match entry.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (entry.clone(), None),
                    };
                    if key.is_empty() {
                        return Err(self.invalid(
                            &p,
                            Some(item),
                            "no name before =: write KEY=VALUE",
                        ));
                    }
                    out.insert(key, value);
                }
            }
            Value::Object(map) => {
                for (key, value) in map {
                    let value = match value {
                        Value::Null => None,
                        v => Some(scalar(v).ok_or_else(|| {
                            self.wrong_kind(&format!("{path}.{key}"), v, "a single value")
                        })?),
                    };
                    out.insert(key.clone(), value);
                }
            }
            v => return Err(self.wrong_kind(path, v, "a mapping or a list of KEY=VALUE")),
        }
        Ok(out)
    }

    /// Like [`Cx::dict`], a key without a value being an empty string
    /// (labels, sysctls, driver options).
    pub(super) fn string_dict(
        &self,
        v: &Value,
        path: &str,
    ) -> Result<BTreeMap<String, String>, Error> {
        Ok(self
            .dict(v, path)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    /// Like [`Cx::dict`], a key without a value taking it from the variables
    /// (the environment over `.env`), else staying unset.
    pub(super) fn env_dict(
        &self,
        v: &Value,
        path: &str,
    ) -> Result<BTreeMap<String, Option<String>>, Error> {
        let mut out = self.dict(v, path)?;
        for (key, value) in out.iter_mut() {
            if value.is_none() {
                *value = self.vars.get(key).cloned();
            }
        }
        Ok(out)
    }
}

fn max_of<T: TryFrom<u64>>() -> u64 {
    // The largest u64 that converts: probe the common widths, widest first.
    [
        u64::MAX,
        u64::from(u32::MAX),
        u64::from(u16::MAX),
        u64::from(u8::MAX),
    ]
    .into_iter()
    .find(|&n| T::try_from(n).is_ok())
    .unwrap_or(0)
}
