//! Execution, following text/template's exec.go step by step: where Go
//! records the node it is at (`s.at(node)`), so does this, and errors name
//! that node and its position.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::parse::{go_quote, Arg, Branch, Cmd, Node, Pipe, Pos};
use crate::print::{go_float, json_string};
use crate::{Error, Mode, Schema, Zero};

/// A value during execution: Go's `reflect.Value` as far as templates see it.
#[derive(Debug, Clone)]
enum Val<'a> {
    /// reflect's invalid value: a missing key, `nil`; prints `<no value>`.
    Invalid,
    /// Part of the input, with its schema path; `iface` when Go holds it
    /// in an `interface{}` (raw data fresh out of a field chain).
    Data {
        v: &'a Value,
        path: String,
        iface: bool,
    },
    /// The zero value of a typed map's element (`index` of a missing key).
    Zero(Zero),
    Str(String),
    Bool(bool),
    Int(i64),
    Uint8(u8),
    Float(f64),
    Strings(Vec<String>),
    /// A slice made by `slice` from raw data.
    Slice(Vec<Val<'a>>),
}

/// What a value is, the way reflect's Kind sees it.
#[derive(Debug)]
enum K<'v, 'a> {
    Invalid,
    /// A nil interface, pointer, map or slice.
    Nil(Nil),
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Cow<'v, str>),
    /// encoding/json's Number: a string kind named `json.Number`.
    Number(Cow<'v, str>),
    Slice(Vec<Val<'a>>, bool),
    Map(&'a Map<String, Value>),
    Struct(&'a Map<String, Value>),
    EmptyStruct,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Nil {
    Iface,
    Ptr,
    Map,
    Slice,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, Error>;

struct State<'a, 's> {
    text: &'a str,
    mode: Mode<'s>,
    vars: Vec<(String, Val<'a>)>,
    out: String,
    /// Where Go's `s.node` is: the position and `String()` of the node.
    node: (Pos, String),
    depth: usize,
}

pub fn execute(text: &str, nodes: &[Node], data: &Value, mode: Mode) -> R<String> {
    let root = Val::Data {
        v: data,
        path: String::new(),
        iface: false,
    };
    let mut s = State {
        text,
        mode,
        vars: vec![("$".into(), root.clone())],
        out: String::new(),
        node: (0, String::new()),
        depth: 0,
    };
    s.walk(&root, nodes)?;
    Ok(s.out)
}

/// The field a table column shows (`.ID`, `json .Labels`, `.Names | upper`).
pub fn header_field(p: &Pipe) -> Option<String> {
    p.cmds.first()?.args.iter().find_map(|a| match a {
        Arg::Field(_, path) if !path.is_empty() => Some(path.join(".")),
        _ => None,
    })
}

fn child(path: &str, seg: &str) -> String {
    if path.is_empty() {
        seg.to_string()
    } else {
        format!("{path}.{seg}")
    }
}

impl<'a> State<'a, '_> {
    fn at(&mut self, pos: Pos, what: impl std::fmt::Display) {
        self.node = (pos, what.to_string());
    }

    fn err(&self, msg: impl Into<String>) -> Error {
        let (pos, context) = &self.node;
        let before = &self.text[..(*pos).min(self.text.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - i - 1,
            None => *pos,
        };
        Error::Exec {
            line,
            col,
            context: context.clone(),
            msg: msg.into(),
        }
    }

    fn schema(&self) -> Option<&Schema> {
        match self.mode {
            Mode::Typed(s) => Some(s),
            Mode::Raw { .. } => None,
        }
    }

    fn is_map(&self, path: &str) -> Option<Zero> {
        self.schema()?
            .maps
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, z)| *z)
    }

    fn kind<'v>(&self, v: &'v Val<'a>) -> K<'v, 'a> {
        match v {
            Val::Invalid => K::Invalid,
            Val::Zero(z) => match z {
                Zero::Str => K::Str(Cow::Borrowed("")),
                Zero::Nil => K::Nil(Nil::Ptr),
                Zero::Struct => K::EmptyStruct,
                Zero::Slice => K::Nil(Nil::Slice),
                Zero::Map => K::Nil(Nil::Map),
            },
            Val::Str(s) => K::Str(Cow::Borrowed(s)),
            Val::Bool(b) => K::Bool(*b),
            Val::Int(i) => K::Int(*i),
            Val::Uint8(u) => K::Uint(*u as u64),
            Val::Float(f) => K::Float(*f),
            Val::Strings(v) => K::Slice(v.iter().map(|s| Val::Str(s.clone())).collect(), true),
            Val::Slice(v) => K::Slice(v.clone(), false),
            Val::Data { v, path, .. } => {
                let typed = self.schema();
                match v {
                    Value::Null => match typed {
                        None => K::Nil(Nil::Iface),
                        Some(s) if s.slices.contains(&path.as_str()) => K::Nil(Nil::Slice),
                        Some(_) if self.is_map(path).is_some() => K::Nil(Nil::Map),
                        Some(_) => K::Nil(Nil::Ptr),
                    },
                    Value::Bool(b) => K::Bool(*b),
                    Value::Number(n) => match typed {
                        None => K::Number(Cow::Owned(number_text(v))),
                        Some(_) => match (n.as_i64(), n.as_u64()) {
                            (Some(i), _) => K::Int(i),
                            (None, Some(u)) => K::Uint(u),
                            _ => K::Float(n.as_f64().unwrap_or(0.0)),
                        },
                    },
                    Value::String(s) => K::Str(Cow::Borrowed(s)),
                    Value::Array(a) => {
                        let p = child(path, "*");
                        let strings = typed.is_some() && a.iter().all(Value::is_string);
                        K::Slice(
                            a.iter()
                                .map(|x| Val::Data {
                                    v: x,
                                    path: p.clone(),
                                    iface: typed.is_none(),
                                })
                                .collect(),
                            strings,
                        )
                    }
                    Value::Object(m) => {
                        if typed.is_none() || self.is_map(path).is_some() {
                            K::Map(m)
                        } else {
                            K::Struct(m)
                        }
                    }
                }
            }
        }
    }

    /// reflect's `Type().String()` of a value.
    fn type_name(&self, v: &Val<'a>) -> String {
        if let Val::Data { iface: true, .. } = v {
            return "interface {}".into();
        }
        self.dyn_type(v)
    }

    /// The type of what a value holds (an interface's element).
    fn dyn_type(&self, v: &Val<'a>) -> String {
        match self.kind(v) {
            K::Invalid => "<nil>".into(),
            K::Nil(Nil::Iface) => "interface {}".into(),
            K::Nil(Nil::Ptr) => "*struct".into(),
            K::Nil(Nil::Map) | K::Map(_) => match self.schema() {
                None => "map[string]interface {}".into(),
                Some(_) => "map[string]string".into(),
            },
            K::Nil(Nil::Slice) => "[]string".into(),
            K::Bool(_) => "bool".into(),
            K::Int(_) => "int".into(),
            K::Uint(_) => match v {
                Val::Uint8(_) => "uint8".into(),
                _ => "uint64".into(),
            },
            K::Float(_) => "float64".into(),
            K::Str(_) => "string".into(),
            K::Number(_) => "json.Number".into(),
            K::Slice(_, true) => "[]string".into(),
            K::Slice(_, false) => "[]interface {}".into(),
            K::Struct(_) | K::EmptyStruct => match (v, self.schema()) {
                (Val::Data { path, .. }, Some(s)) if path.is_empty() => s.root.into(),
                _ => "struct {}".into(),
            },
        }
    }

    // ---- walking the tree ----------------------------------------------

    fn walk(&mut self, dot: &Val<'a>, nodes: &[Node]) -> R<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(p) => {
                    let v = self.eval_pipeline(dot, p)?;
                    if p.decl.is_empty() {
                        let text = self.print(&v, true);
                        self.out.push_str(&text);
                    }
                }
                Node::If(b) => {
                    let f = self.if_or_with(dot, b, false)?;
                    if !matches!(f, Flow::Normal) {
                        return Ok(f);
                    }
                }
                Node::With(b) => {
                    let f = self.if_or_with(dot, b, true)?;
                    if !matches!(f, Flow::Normal) {
                        return Ok(f);
                    }
                }
                Node::Range(b) => self.range(dot, b)?,
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
                Node::Template { pos, name, pipe } => {
                    let ctx = match pipe {
                        Some(p) => format!("{{{{template {} {p}}}}}", go_quote(name)),
                        None => format!("{{{{template {}}}}}", go_quote(name)),
                    };
                    self.at(*pos, ctx);
                    return Err(self.err(format!("template {} not defined", go_quote(name))));
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn if_or_with(&mut self, dot: &Val<'a>, b: &Branch, with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        let f = if self.truth(&v) {
            if with {
                self.walk(&v, &b.list)
            } else {
                self.walk(dot, &b.list)
            }
        } else {
            self.walk(dot, &b.else_list)
        };
        self.vars.truncate(mark);
        f
    }

    fn range(&mut self, dot: &Val<'a>, b: &Branch) -> R<()> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        let v = self.indirect_iface(v);
        let items: Vec<(Val<'a>, Val<'a>)> = match self.kind(&v) {
            K::Slice(items, _) => items
                .into_iter()
                .enumerate()
                .map(|(i, x)| (Val::Int(i as i64), x))
                .collect(),
            K::Map(m) => {
                let path = match &v {
                    Val::Data { path, .. } => child(path, "*"),
                    _ => String::new(),
                };
                let raw = self.schema().is_none();
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| {
                        (
                            Val::Str(k.clone()),
                            Val::Data {
                                v: &m[k],
                                path: path.clone(),
                                iface: raw,
                            },
                        )
                    })
                    .collect()
            }
            // Go 1.22 ranges over an int (the docker CLI is built with a newer Go).
            K::Int(n) => (0..n.max(0)).map(|i| (Val::Int(i), Val::Int(i))).collect(),
            K::Invalid | K::Nil(_) => Vec::new(),
            _ => {
                let shown = self.print(&v, false);
                return Err(self.err(format!("range can't iterate over {shown}")));
            }
        };
        let inner = self.vars.len();
        let empty = items.is_empty();
        for (i, x) in items {
            let elem = self.indirect_iface(x);
            match b.pipe.decl.len() {
                0 => {}
                1 => {
                    if let Some(v) = self.vars.last_mut() {
                        v.1 = elem.clone();
                    }
                }
                _ => {
                    let n = self.vars.len();
                    self.vars[n - 1].1 = elem.clone();
                    self.vars[n - 2].1 = i;
                }
            }
            let f = self.walk(&elem, &b.list)?;
            self.vars.truncate(inner);
            if let Flow::Break = f {
                break;
            }
        }
        if empty {
            self.walk(dot, &b.else_list)?;
        }
        self.vars.truncate(mark);
        Ok(())
    }

    /// After each command Go digs a value out of an `interface{}`: a raw
    /// null becomes invalid.
    fn indirect_iface(&self, v: Val<'a>) -> Val<'a> {
        match v {
            Val::Data { v: Value::Null, .. } if self.schema().is_none() => Val::Invalid,
            Val::Data { v, path, .. } => Val::Data {
                v,
                path,
                iface: false,
            },
            other => other,
        }
    }

    fn eval_pipeline(&mut self, dot: &Val<'a>, p: &Pipe) -> R<Val<'a>> {
        self.depth += 1;
        if self.depth > 1000 {
            return Err(self.err("exceeded maximum template depth (1000)"));
        }
        self.at(p.pos, p);
        let mut value: Option<Val<'a>> = None;
        for cmd in &p.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            value = Some(self.indirect_iface(v));
        }
        let value = value.unwrap_or(Val::Invalid);
        for name in &p.decl {
            if p.is_assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = value.clone();
                }
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        self.depth -= 1;
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Cmd, fin: &Option<Val<'a>>) -> R<()> {
        if cmd.args.len() > 1 || fin.is_some() {
            return Err(self.err(format!(
                "can't give argument to non-function {}",
                cmd.args[0]
            )));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val<'a>, cmd: &Cmd, fin: Option<Val<'a>>) -> R<Val<'a>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field(pos, path) => {
                self.at(*pos, first);
                return self.field_chain(dot.clone(), path, &cmd.args, fin, dot);
            }
            Arg::Chain(pos, p, path) => {
                self.at(*pos, first);
                let recv = self.eval_pipeline(dot, p)?;
                return self.field_chain(recv, path, &cmd.args, fin, dot);
            }
            Arg::Ident(pos, name) => {
                self.at(*pos, first);
                return self.call(dot, name, cmd, &cmd.args[1..], fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Var(pos, name, path) => {
                self.at(*pos, first);
                let v = self.var(name)?;
                if path.is_empty() {
                    self.not_a_function(cmd, &fin)?;
                    return Ok(v);
                }
                return self.field_chain(v, path, &cmd.args, fin, dot);
            }
            _ => {}
        }
        self.at(first.pos(), first);
        self.not_a_function(cmd, &fin)?;
        Ok(match first {
            Arg::Bool(_, b) => Val::Bool(*b),
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => return Err(self.err("nil is not a command")),
            Arg::Number(_, n) => self.ideal(n)?,
            Arg::Str(_, _, s) => Val::Str(s.clone()),
            _ => Val::Invalid,
        })
    }

    fn ideal(&self, n: &crate::parse::Number) -> R<Val<'a>> {
        if n.is_float_syntax && !n.text.starts_with('\'') {
            return Ok(Val::Float(n.float.unwrap_or(0.0)));
        }
        match n.int {
            Some(i) => Ok(Val::Int(i)),
            None => Err(self.err(format!("{} overflows int", n.text))),
        }
    }

    fn var(&self, name: &str) -> R<Val<'a>> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.err(format!("undefined variable: {name}")))
    }

    fn field_chain(
        &mut self,
        recv: Val<'a>,
        path: &[String],
        args: &[Arg],
        fin: Option<Val<'a>>,
        dot: &Val<'a>,
    ) -> R<Val<'a>> {
        let mut recv = recv;
        let n = path.len();
        for f in &path[..n.saturating_sub(1)] {
            recv = self.field(recv, f, &[], None, dot)?;
        }
        match path.last() {
            Some(last) => self.field(recv, last, args, fin, dot),
            // `.` as a command
            None => Ok(recv),
        }
    }

    fn field(
        &mut self,
        recv: Val<'a>,
        name: &str,
        args: &[Arg],
        fin: Option<Val<'a>>,
        dot: &Val<'a>,
    ) -> R<Val<'a>> {
        let missing_error = matches!(
            self.mode,
            Mode::Raw {
                missing_key_error: true
            }
        );
        if let Val::Invalid = recv {
            if missing_error {
                return Err(self.err(format!("nil data; no entry for key {}", go_quote(name))));
            }
            return Ok(Val::Invalid);
        }
        let typ = self.type_name(&recv);
        let has_args = args.len() > 1 || fin.is_some();
        let kind = self.kind(&recv);
        if let K::Nil(Nil::Iface) = kind {
            return Err(self.err(format!("nil pointer evaluating {typ}.{name}")));
        }
        // Methods of docker's formatter contexts.
        if let (Some(s), Val::Data { v, path, .. }) = (self.schema(), &recv) {
            if path.is_empty() && s.context {
                let want = usize::from(s.methods.contains(&name));
                let known = s.methods.contains(&name) || v.get(name).is_some();
                if known {
                    let got = args.len().saturating_sub(1) + usize::from(fin.is_some());
                    if got != want {
                        return Err(self.err(format!(
                            "wrong number of args for {name}: want {want} got {got}"
                        )));
                    }
                    if want == 0 {
                        return Ok(v
                            .get(name)
                            .map(|x| Val::Data {
                                v: x,
                                path: name.to_string(),
                                iface: false,
                            })
                            .unwrap_or(Val::Str(String::new())));
                    }
                    let key = match args.get(1) {
                        Some(a) => self.arg(dot, a, P::Str)?,
                        None => self.validate(fin.unwrap_or(Val::Invalid), P::Str)?,
                    };
                    let key = self.string_of(&key);
                    let found = v
                        .get(name)
                        .and_then(|m| m.get(&key))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    return Ok(Val::Str(found.to_string()));
                }
            }
        }
        let path = match &recv {
            Val::Data { path, .. } => path.clone(),
            _ => String::new(),
        };
        match kind {
            K::Struct(m) => {
                if let Some(x) = m.get(name) {
                    if has_args {
                        return Err(self.err(format!(
                            "{name} has arguments but cannot be invoked as function"
                        )));
                    }
                    return Ok(Val::Data {
                        v: x,
                        path: child(&path, name),
                        iface: false,
                    });
                }
            }
            K::Map(m) => {
                if has_args {
                    return Err(self.err(format!("{name} is not a method but has arguments")));
                }
                let raw = self.schema().is_none();
                return match m.get(name) {
                    Some(x) => Ok(Val::Data {
                        v: x,
                        path: child(&path, "*"),
                        iface: raw,
                    }),
                    None if missing_error => {
                        Err(self.err(format!("map has no entry for key {}", go_quote(name))))
                    }
                    None => Ok(Val::Invalid),
                };
            }
            K::Nil(Nil::Map) => return Ok(Val::Invalid),
            K::Nil(Nil::Ptr) => {
                return Err(self.err(format!("nil pointer evaluating {typ}.{name}")));
            }
            _ => {}
        }
        Err(self.err(format!("can't evaluate field {name} in type {typ}")))
    }

    // ---- truth, comparison ---------------------------------------------

    fn truth(&self, v: &Val<'a>) -> bool {
        match self.kind(v) {
            K::Invalid | K::Nil(_) => false,
            K::Bool(b) => b,
            K::Int(i) => i != 0,
            K::Uint(u) => u != 0,
            K::Float(f) => f != 0.0,
            K::Str(s) | K::Number(s) => !s.is_empty(),
            K::Slice(a, _) => !a.is_empty(),
            K::Map(m) => !m.is_empty(),
            K::Struct(_) | K::EmptyStruct => true,
        }
    }

    // ---- printing ------------------------------------------------------

    /// fmt's `%v`; `top` is a whole action's value (`<no value>` for invalid,
    /// a pointer shown as what it points to).
    fn print(&self, v: &Val<'a>, top: bool) -> String {
        match self.kind(v) {
            K::Invalid => {
                if top {
                    "<no value>".into()
                } else {
                    "<nil>".into()
                }
            }
            K::Nil(Nil::Map) => "map[]".into(),
            K::Nil(Nil::Slice) => "[]".into(),
            K::Nil(_) => "<nil>".into(),
            K::Bool(b) => b.to_string(),
            K::Int(i) => i.to_string(),
            K::Uint(u) => u.to_string(),
            K::Float(f) => go_float(f),
            K::Str(s) | K::Number(s) => s.to_string(),
            K::Slice(items, _) => {
                let parts: Vec<String> = items.iter().map(|x| self.print(x, false)).collect();
                format!("[{}]", parts.join(" "))
            }
            K::Map(m) => {
                let path = data_path(v);
                let raw = self.schema().is_none();
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .into_iter()
                    .map(|k| {
                        let x = Val::Data {
                            v: &m[k],
                            path: child(&path, "*"),
                            iface: raw,
                        };
                        format!("{k}:{}", self.print(&x, false))
                    })
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
            K::Struct(m) => {
                let path = data_path(v);
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, x)| {
                        let x = Val::Data {
                            v: x,
                            path: child(&path, k),
                            iface: false,
                        };
                        self.print(&x, false)
                    })
                    .collect();
                format!("{{{}}}", parts.join(" "))
            }
            K::EmptyStruct => "{}".into(),
        }
    }

    /// encoding/json of a value; `html` as `json.Marshal` escapes.
    fn json(&self, v: &Val<'a>, out: &mut String, html: bool) {
        match self.kind(v) {
            K::Invalid | K::Nil(_) => out.push_str("null"),
            K::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            K::Int(i) => out.push_str(&i.to_string()),
            K::Uint(u) => out.push_str(&u.to_string()),
            K::Float(f) => match v {
                Val::Data { v, .. } => out.push_str(&number_text(v)),
                _ => out.push_str(
                    &serde_json::Number::from_f64(f)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "null".into()),
                ),
            },
            K::Number(s) => out.push_str(&s),
            K::Str(s) => json_string(&s, html, out),
            K::Slice(items, _) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.json(x, out, html);
                }
                out.push(']');
            }
            K::Map(m) | K::Struct(m) => {
                let sorted = matches!(self.kind(v), K::Map(_));
                let path = data_path(v);
                let raw = self.schema().is_none();
                let mut keys: Vec<&String> = m.keys().collect();
                if sorted {
                    keys.sort();
                }
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, html, out);
                    out.push(':');
                    let seg = if sorted { "*" } else { k.as_str() };
                    let x = Val::Data {
                        v: &m[k],
                        path: child(&path, seg),
                        iface: raw,
                    };
                    self.json(&x, out, html);
                }
                out.push('}');
            }
            K::EmptyStruct => out.push_str("{}"),
        }
    }

    /// `json .` of a formatter context: its fields as a Go map
    /// (sorted, HTML-escaped by json.Marshal), methods with arguments left out.
    fn json_context(&self, m: &Map<String, Value>, s: &Schema, out: &mut String) {
        let mut keys: Vec<&String> = m
            .keys()
            .filter(|k| !s.methods.contains(&k.as_str()))
            .collect();
        keys.sort();
        out.push('{');
        for (i, k) in keys.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(k, true, out);
            out.push(':');
            let x = Val::Data {
                v: &m[k],
                path: k.clone(),
                iface: false,
            };
            self.json(&x, out, true);
        }
        out.push('}');
    }

    fn string_of(&self, v: &Val<'a>) -> String {
        match self.kind(v) {
            K::Str(s) | K::Number(s) => s.to_string(),
            _ => String::new(),
        }
    }

    // ---- calls ---------------------------------------------------------

    fn call(
        &mut self,
        dot: &Val<'a>,
        name: &str,
        cmd: &Cmd,
        args: &[Arg],
        fin: Option<Val<'a>>,
    ) -> R<Val<'a>> {
        use P::*;
        let (fixed, variadic): (&[P], Option<P>) = match name {
            "json" => (&[Any], None),
            "split" => (&[Str, Str], None),
            "join" => (&[Strings, Str], None),
            "title" | "lower" | "upper" => (&[Str], None),
            "pad" => (&[Str, Int, Int], None),
            "truncate" => (&[Str, Int], None),
            "and" | "or" | "index" | "slice" | "eq" | "call" => (&[Value], Some(Value)),
            "not" | "len" => (&[Value], None),
            "ne" | "lt" | "le" | "gt" | "ge" => (&[Value, Value], None),
            "print" | "println" | "html" | "js" | "urlquery" => (&[], Some(Any)),
            "printf" => (&[Str], Some(Any)),
            _ => return Err(self.err(format!("{} is not a defined function", go_quote(name)))),
        };
        let num_in = args.len() + usize::from(fin.is_some());
        if variadic.is_some() {
            if num_in < fixed.len() {
                return Err(self.err(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    fixed.len(),
                    args.len()
                )));
            }
        } else if num_in != fixed.len() {
            return Err(self.err(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                fixed.len()
            )));
        }
        let param = |i: usize| fixed.get(i).copied().or(variadic).unwrap_or(Any);
        if name == "and" || name == "or" {
            let mut v = Val::Invalid;
            for a in args {
                v = self.arg(dot, a, Value)?;
                if self.truth(&v) == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            argv.push(self.arg(dot, a, param(i))?);
        }
        if let Some(f) = fin {
            argv.push(self.validate(f, param(num_in - 1))?);
        }
        match self.builtin(name, argv) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at(cmd.pos, cmd);
                Err(self.err(format!("error calling {name}: {e}")))
            }
        }
    }

    /// text/template's evalArg: a literal must fit the parameter's type.
    fn arg(&mut self, dot: &Val<'a>, a: &Arg, p: P) -> R<Val<'a>> {
        self.at(a.pos(), a);
        match a {
            Arg::Dot(_) => return self.validate(dot.clone(), p),
            Arg::Nil(_) => {
                return match p {
                    P::Any | P::Value => Ok(Val::Invalid),
                    P::Strings => Ok(Val::Strings(Vec::new())),
                    _ => Err(self.err(format!("cannot assign nil to {}", p.name()))),
                }
            }
            Arg::Field(pos, path) => {
                let v = self.field_chain(dot.clone(), path, std::slice::from_ref(a), None, dot)?;
                self.at(*pos, a);
                return self.validate(v, p);
            }
            Arg::Var(_, name, path) => {
                let v = self.var(name)?;
                let v = if path.is_empty() {
                    v
                } else {
                    self.field_chain(v, path, &[], None, dot)?
                };
                return self.validate(v, p);
            }
            Arg::Pipe(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                return self.validate(v, p);
            }
            Arg::Ident(_, name) => {
                let cmd = Cmd {
                    pos: a.pos(),
                    args: vec![a.clone()],
                };
                let v = self.call(dot, name, &cmd, &[], None)?;
                return self.validate(v, p);
            }
            Arg::Chain(_, pipe, path) => {
                let recv = self.eval_pipeline(dot, pipe)?;
                self.at(a.pos(), a);
                let v = self.field_chain(recv, path, &[], None, dot)?;
                return self.validate(v, p);
            }
            _ => {}
        }
        match (p, a) {
            (P::Str, Arg::Str(_, _, s)) => Ok(Val::Str(s.clone())),
            (P::Str, _) => Err(self.err(format!("expected string; found {a}"))),
            (P::Int, Arg::Number(_, n)) if n.int.is_some() && !n.is_float_syntax => {
                Ok(Val::Int(n.int.unwrap_or(0)))
            }
            (P::Int, _) => Err(self.err(format!("expected integer; found {a}"))),
            (P::Strings, _) => Err(self.err(format!("can't handle {a} for arg of type []string"))),
            (_, Arg::Bool(_, b)) => Ok(Val::Bool(*b)),
            (_, Arg::Str(_, _, s)) => Ok(Val::Str(s.clone())),
            (_, Arg::Number(_, n)) => self.ideal(n),
            _ => Ok(Val::Invalid),
        }
    }

    /// text/template's validateType.
    fn validate(&self, v: Val<'a>, p: P) -> R<Val<'a>> {
        if let Val::Invalid = v {
            return match p {
                P::Any | P::Value => Ok(Val::Invalid),
                P::Strings => Ok(Val::Strings(Vec::new())),
                _ => Err(self.err(format!("invalid value; expected {}", p.name()))),
            };
        }
        let ok = match (p, self.kind(&v)) {
            (P::Any | P::Value, _) => true,
            (P::Str, K::Str(_)) => true,
            (P::Int, K::Int(_)) => !matches!(v, Val::Uint8(_)),
            (P::Strings, K::Slice(_, true) | K::Nil(Nil::Slice)) => true,
            _ => false,
        };
        if !ok {
            return Err(self.err(format!(
                "wrong type for value; expected {}; got {}",
                p.name(),
                self.dyn_type(&v)
            )));
        }
        Ok(v)
    }

    fn builtin(&self, name: &str, argv: Vec<Val<'a>>) -> Result<Val<'a>, String> {
        let s = |i: usize| self.string_of(&argv[i]);
        let int = |i: usize| match argv[i] {
            Val::Int(n) => n,
            _ => match self.kind(&argv[i]) {
                K::Int(n) => n,
                _ => 0,
            },
        };
        Ok(match name {
            "json" => {
                let mut out = String::new();
                match (&argv[0], self.schema()) {
                    (
                        Val::Data {
                            v: Value::Object(m),
                            path,
                            ..
                        },
                        Some(sc),
                    ) if path.is_empty() && sc.context => self.json_context(m, sc, &mut out),
                    (v, _) => self.json(v, &mut out, false),
                }
                Val::Str(out)
            }
            "split" => Val::Strings(crate::print::split(&s(0), &s(1))),
            "join" => {
                let items: Vec<String> = match self.kind(&argv[0]) {
                    K::Slice(items, _) => items.iter().map(|x| self.string_of(x)).collect(),
                    _ => Vec::new(),
                };
                Val::Str(items.join(&s(1)))
            }
            "title" => Val::Str(crate::print::title(&s(0))),
            "lower" => Val::Str(s(0).to_lowercase()),
            "upper" => Val::Str(s(0).to_uppercase()),
            "pad" => Val::Str(format!(
                "{}{}{}",
                " ".repeat(int(1).max(0) as usize),
                s(0),
                " ".repeat(int(2).max(0) as usize)
            )),
            "truncate" => {
                let src = s(0);
                let n = int(1).max(0) as usize;
                if src.len() > n {
                    Val::Str(String::from_utf8_lossy(&src.as_bytes()[..n]).into_owned())
                } else {
                    Val::Str(src)
                }
            }
            "not" => Val::Bool(!self.truth(&argv[0])),
            "len" => Val::Int(self.len(&argv[0])? as i64),
            "index" => self.index(argv)?,
            "slice" => self.slice(argv)?,
            "eq" => Val::Bool(self.eq(&argv[0], &argv[1..])?),
            "ne" => Val::Bool(!self.eq(&argv[0], &argv[1..2])?),
            "lt" => Val::Bool(self.less(&argv[0], &argv[1])?),
            "le" => Val::Bool(self.less(&argv[0], &argv[1])? || self.eq(&argv[0], &argv[1..2])?),
            "gt" => Val::Bool(!(self.less(&argv[0], &argv[1])? || self.eq(&argv[0], &argv[1..2])?)),
            "ge" => Val::Bool(!self.less(&argv[0], &argv[1])?),
            "print" => Val::Str(self.sprint(&argv, false)),
            "println" => Val::Str(self.sprint(&argv, true)),
            "printf" => Val::Str(self.sprintf(&s(0), &argv[1..])),
            "html" | "js" | "urlquery" => Val::Str(self.sprint(&argv, false)),
            _ => return Err(format!("{name} is not supported")),
        })
    }

    fn len(&self, v: &Val<'a>) -> Result<usize, String> {
        match self.kind(v) {
            K::Invalid => Err("reflect: call of reflect.Value.Type on zero Value".into()),
            K::Nil(Nil::Ptr | Nil::Iface) => Err("len of nil pointer".into()),
            K::Nil(_) => Ok(0),
            K::Str(s) | K::Number(s) => Ok(s.len()),
            K::Slice(a, _) => Ok(a.len()),
            K::Map(m) => Ok(m.len()),
            _ => Err(format!("len of type {}", self.dyn_type(v))),
        }
    }

    fn index_arg(&self, i: &Val<'a>, len: usize) -> Result<usize, String> {
        let x = match self.kind(i) {
            K::Int(n) => n,
            K::Uint(u) => u as i64,
            K::Invalid | K::Nil(Nil::Iface) => {
                return Err("cannot index slice/array with nil".into())
            }
            _ => {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    self.dyn_type(i)
                ))
            }
        };
        if x < 0 || x as usize > len {
            return Err(format!("index out of range: {x}"));
        }
        Ok(x as usize)
    }

    fn index(&self, argv: Vec<Val<'a>>) -> Result<Val<'a>, String> {
        let mut it = argv.into_iter();
        let mut item = self.indirect_iface(it.next().unwrap_or(Val::Invalid));
        if let Val::Invalid = item {
            return Err("index of untyped nil".into());
        }
        for i in it {
            let i = self.indirect_iface(i);
            item = match self.kind(&item) {
                K::Nil(Nil::Ptr | Nil::Iface) => return Err("index of nil pointer".into()),
                K::Slice(items, _) => {
                    let x = self.index_arg(&i, items.len())?;
                    match items.into_iter().nth(x) {
                        Some(v) => v,
                        None => return Err("reflect: slice index out of range".into()),
                    }
                }
                K::Nil(Nil::Slice) => {
                    self.index_arg(&i, 0)?;
                    return Err("reflect: slice index out of range".into());
                }
                K::Str(s) | K::Number(s) => {
                    let x = self.index_arg(&i, s.len())?;
                    match s.as_bytes().get(x) {
                        Some(b) => Val::Uint8(*b),
                        None => return Err("reflect: string index out of range".into()),
                    }
                }
                K::Map(m) => {
                    let key = match self.kind(&i) {
                        K::Str(k) => k.to_string(),
                        K::Invalid => return Err("value is nil; should be of type string".into()),
                        _ => {
                            return Err(format!(
                                "value has type {}; should be string",
                                self.dyn_type(&i)
                            ))
                        }
                    };
                    let path = data_path(&item);
                    match m.get(&key) {
                        Some(v) => Val::Data {
                            v,
                            path: child(&path, "*"),
                            iface: self.schema().is_none(),
                        },
                        None => match self.is_map(&path) {
                            Some(z) => Val::Zero(z),
                            None => Val::Invalid,
                        },
                    }
                }
                K::Nil(Nil::Map) => match self.is_map(&data_path(&item)) {
                    Some(z) => Val::Zero(z),
                    None => Val::Invalid,
                },
                _ => return Err(format!("can't index item of type {}", self.dyn_type(&item))),
            };
        }
        Ok(item)
    }

    fn slice(&self, argv: Vec<Val<'a>>) -> Result<Val<'a>, String> {
        let mut it = argv.into_iter();
        let item = self.indirect_iface(it.next().unwrap_or(Val::Invalid));
        if let Val::Invalid = item {
            return Err("slice of untyped nil".into());
        }
        let idx: Vec<Val<'a>> = it.collect();
        if idx.len() > 3 {
            return Err(format!("too many slice indexes: {}", idx.len()));
        }
        match self.kind(&item) {
            K::Str(s) | K::Number(s) => {
                if idx.len() == 3 {
                    return Err("cannot 3-index slice a string".into());
                }
                let from = idx
                    .first()
                    .map(|i| self.index_arg(i, s.len()))
                    .transpose()?
                    .unwrap_or(0);
                let to = idx
                    .get(1)
                    .map(|i| self.index_arg(i, s.len()))
                    .transpose()?
                    .unwrap_or(s.len());
                if from > to {
                    return Err(format!("invalid slice index: {from} > {to}"));
                }
                Ok(Val::Str(
                    String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned(),
                ))
            }
            K::Slice(items, strings) => {
                let n = items.len();
                let from = idx
                    .first()
                    .map(|i| self.index_arg(i, n))
                    .transpose()?
                    .unwrap_or(0);
                let to = idx
                    .get(1)
                    .map(|i| self.index_arg(i, n))
                    .transpose()?
                    .unwrap_or(n);
                if from > to {
                    return Err(format!("invalid slice index: {from} > {to}"));
                }
                let part: Vec<Val<'a>> = items[from..to].to_vec();
                if strings {
                    Ok(Val::Strings(
                        part.iter().map(|x| self.string_of(x)).collect(),
                    ))
                } else {
                    Ok(Val::Slice(part))
                }
            }
            _ => Err(format!("can't slice item of type {}", self.dyn_type(&item))),
        }
    }

    fn basic<'v>(&self, v: &'v Val<'a>) -> Option<Basic<'v>>
    where
        'a: 'v,
    {
        Some(match self.kind(v) {
            K::Bool(b) => Basic::Bool(b),
            K::Int(i) => Basic::Int(i),
            K::Uint(u) => Basic::Uint(u),
            K::Float(f) => Basic::Float(f),
            K::Str(s) | K::Number(s) => Basic::Str(s),
            _ => return None,
        })
    }

    fn is_nil(&self, v: &Val<'a>) -> bool {
        matches!(self.kind(v), K::Invalid | K::Nil(_))
    }

    fn eq(&self, a: &Val<'a>, rest: &[Val<'a>]) -> Result<bool, String> {
        if rest.is_empty() {
            return Err("missing argument for comparison".into());
        }
        let a = self.indirect_iface(a.clone());
        let ka = self.basic(&a);
        for b in rest {
            let b = self.indirect_iface(b.clone());
            let kb = self.basic(&b);
            let truth = match (&ka, &kb) {
                (Some(x), Some(y)) => match (x, y) {
                    (Basic::Bool(x), Basic::Bool(y)) => x == y,
                    (Basic::Int(x), Basic::Int(y)) => x == y,
                    (Basic::Uint(x), Basic::Uint(y)) => x == y,
                    (Basic::Int(x), Basic::Uint(y)) | (Basic::Uint(y), Basic::Int(x)) => {
                        *x >= 0 && *x as u64 == *y
                    }
                    (Basic::Float(x), Basic::Float(y)) => x == y,
                    (Basic::Str(x), Basic::Str(y)) => x == y,
                    _ => return Err("incompatible types for comparison".into()),
                },
                (None, None) => {
                    if self.is_nil(&a) || self.is_nil(&b) {
                        self.is_nil(&a) == self.is_nil(&b)
                    } else {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            self.print(&a, false),
                            self.dyn_type(&a),
                            self.dyn_type(&b),
                            self.print(&b, false)
                        ));
                    }
                }
                _ => {
                    if !matches!(a, Val::Invalid) && !matches!(b, Val::Invalid) {
                        return Err("incompatible types for comparison".into());
                    }
                    false
                }
            };
            if truth {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn less(&self, a: &Val<'a>, b: &Val<'a>) -> Result<bool, String> {
        let a = self.indirect_iface(a.clone());
        let b = self.indirect_iface(b.clone());
        let bad_type = || "invalid type for comparison".to_string();
        let x = self.basic(&a).ok_or_else(bad_type)?;
        let y = self.basic(&b).ok_or_else(bad_type)?;
        Ok(match (x, y) {
            (Basic::Int(x), Basic::Int(y)) => x < y,
            (Basic::Uint(x), Basic::Uint(y)) => x < y,
            (Basic::Int(x), Basic::Uint(y)) => x < 0 || (x as u64) < y,
            (Basic::Uint(x), Basic::Int(y)) => y >= 0 && x < y as u64,
            (Basic::Float(x), Basic::Float(y)) => x < y,
            (Basic::Str(x), Basic::Str(y)) => x < y,
            (Basic::Bool(_), Basic::Bool(_)) => return Err(bad_type()),
            _ => return Err("incompatible types for comparison".into()),
        })
    }

    /// fmt.Sprint / Sprintln: Sprint puts a space between operands when
    /// neither is a string.
    fn sprint(&self, args: &[Val<'a>], ln: bool) -> String {
        let mut out = String::new();
        let mut prev_string = true;
        for (i, a) in args.iter().enumerate() {
            let is_string = matches!(self.kind(a), K::Str(_) | K::Number(_));
            if i > 0 && (ln || (!is_string && !prev_string)) {
                out.push(' ');
            }
            out.push_str(&self.print(a, false));
            prev_string = is_string;
        }
        if ln {
            out.push('\n');
        }
        out
    }

    /// fmt.Sprintf with the verbs templates use.
    fn sprintf(&self, format: &str, args: &[Val<'a>]) -> String {
        let mut out = String::new();
        let mut next = 0;
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let (mut minus, mut plus, mut zero, mut space, mut sharp) =
                (false, false, false, false, false);
            while let Some(&f) = chars.peek() {
                match f {
                    '-' => minus = true,
                    '+' => plus = true,
                    '0' => zero = true,
                    ' ' => space = true,
                    '#' => sharp = true,
                    _ => break,
                }
                chars.next();
            }
            let mut width = None;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                width = Some(width.unwrap_or(0) * 10 + d as usize);
                chars.next();
            }
            let mut prec = None;
            if chars.peek() == Some(&'.') {
                chars.next();
                let mut p = 0;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    p = p * 10 + d as usize;
                    chars.next();
                }
                prec = Some(p);
            }
            let Some(verb) = chars.next() else {
                out.push_str("%!(NOVERB)");
                break;
            };
            if verb == '%' {
                out.push('%');
                continue;
            }
            let Some(arg) = args.get(next) else {
                out.push_str(&format!("%!{verb}(MISSING)"));
                continue;
            };
            next += 1;
            let text = self.verb(verb, arg, prec, plus, space, sharp);
            out.push_str(&crate::print::pad(
                &text,
                width,
                minus,
                zero && !minus && verb != 's' && verb != 'v' && verb != 'q',
            ));
        }
        if next < args.len() {
            let extra: Vec<String> = args[next..]
                .iter()
                .map(|a| match a {
                    Val::Invalid => "<nil>".to_string(),
                    _ => format!("{}={}", self.dyn_type(a), self.print(a, false)),
                })
                .collect();
            out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
        }
        out
    }

    fn verb(
        &self,
        verb: char,
        arg: &Val<'a>,
        prec: Option<usize>,
        plus: bool,
        space: bool,
        sharp: bool,
    ) -> String {
        let arg = self.indirect_iface(arg.clone());
        let bad = || match arg {
            Val::Invalid => format!("%!{verb}(<nil>)"),
            _ => format!(
                "%!{verb}({}={})",
                self.dyn_type(&arg),
                self.print(&arg, false)
            ),
        };
        let sign = |neg: bool, s: String| {
            if neg {
                s
            } else if plus {
                format!("+{s}")
            } else if space {
                format!(" {s}")
            } else {
                s
            }
        };
        match (verb, self.kind(&arg)) {
            ('v', K::Invalid) => "<nil>".into(),
            ('v', _) => self.print(&arg, false),
            ('s', K::Str(s) | K::Number(s)) => match prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            },
            ('s', K::Slice(..) | K::Map(_) | K::Struct(_)) => self.print(&arg, false),
            ('q', K::Str(s) | K::Number(s)) => {
                if sharp && !s.contains('`') {
                    format!("`{s}`")
                } else {
                    go_quote(&s)
                }
            }
            ('t', K::Bool(b)) => b.to_string(),
            ('d', K::Int(i)) => sign(i < 0, i.to_string()),
            ('d', K::Uint(u)) => sign(false, u.to_string()),
            ('x' | 'X', K::Int(i)) => {
                let s = format!("{:x}", i.unsigned_abs());
                let s = if verb == 'X' { s.to_uppercase() } else { s };
                if i < 0 {
                    format!("-{s}")
                } else {
                    s
                }
            }
            ('x' | 'X', K::Uint(u)) => {
                let s = format!("{u:x}");
                if verb == 'X' {
                    s.to_uppercase()
                } else {
                    s
                }
            }
            ('x' | 'X', K::Str(s) | K::Number(s)) => {
                let h: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                if verb == 'X' {
                    h.to_uppercase()
                } else {
                    h
                }
            }
            ('f' | 'F', K::Float(f)) => sign(f < 0.0, format!("{:.*}", prec.unwrap_or(6), f)),
            ('e', K::Float(f)) => {
                let s = format!("{:.*e}", prec.unwrap_or(6), f);
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let (sg, d) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                sign(f < 0.0, format!("{m}e{sg}{d:0>2}"))
            }
            ('g', K::Float(f)) => sign(f < 0.0, go_float(f)),
            ('c', K::Int(i)) => char::from_u32(i as u32)
                .map(String::from)
                .unwrap_or_default(),
            _ => bad(),
        }
    }
}

#[derive(Clone, Copy)]
enum P {
    Str,
    Int,
    Strings,
    /// `interface{}`
    Any,
    /// `reflect.Value` (Go's builtins)
    Value,
}

impl P {
    fn name(self) -> &'static str {
        match self {
            P::Str => "string",
            P::Int => "int",
            P::Strings => "[]string",
            P::Any => "interface {}",
            P::Value => "reflect.Value",
        }
    }
}

enum Basic<'v> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Cow<'v, str>),
}

fn data_path(v: &Val) -> String {
    match v {
        Val::Data { path, .. } => path.clone(),
        _ => String::new(),
    }
}

/// A JSON number's text as encoding/json's Number keeps it (serde_json
/// prints integers as written and floats in their shortest form).
fn number_text(v: &Value) -> String {
    v.to_string()
}
