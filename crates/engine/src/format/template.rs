//! Go's text/template, the part `--format` users write: fields (`.A.B`),
//! variables (`$`, `$x := ...`), pipelines (`.Name | upper`), `if`/`else
//! if`/`else`, `range` (with `$i, $v :=`), `with`, parentheses, string and
//! number literals, and the functions docker adds or people use: `json`,
//! `index`, `len`, `upper`, `lower`, `title`, `join`, `split`, `truncate`,
//! `printf`, `print`, `println`, `eq`/`ne`/`lt`/`le`/`gt`/`ge`, `and`/`or`/
//! `not`. A leading `table` adds a header row and aligns columns; the bare
//! words `json` and `table` work as in docker.
//!
//! Written here rather than taken from a crate: the template runs over
//! serde_json values whose field order must survive (`{{json .Config}}`
//! prints docker's order), and the one Rust port of text/template converts
//! into hash maps first.

use serde_json::{Map, Number, Value};

use crate::format::table::tabwrite;
use crate::{Error, Result};

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    /// Prints the pipeline's value (nothing for a declaration).
    Action(Pipe),
    If {
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone, Default)]
struct Pipe {
    /// `$x :=` or `$i, $v :=` (range), empty otherwise.
    decl: Vec<String>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.` then field names.
    Dot(Vec<String>),
    /// `$name` (`$` alone is the root) then field names.
    Var(String, Vec<String>),
    Lit(Value),
    Func(String),
    /// `(pipeline)` then field names.
    Sub(Pipe, Vec<String>),
}

const FUNCS: &[&str] = &[
    "json", "index", "len", "upper", "lower", "title", "join", "split", "truncate", "printf",
    "print", "println", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "slice",
];

pub struct Template {
    nodes: Vec<Node>,
    table: bool,
}

impl Template {
    pub fn parse(format: &str) -> Result<Template> {
        let bad = |reason: String| Error::Template {
            format: format.to_string(),
            reason,
        };
        let mut f = format.trim().replace("\\t", "\t").replace("\\n", "\n");
        if f == "json" {
            f = "{{json .}}".into();
        }
        let table = f.starts_with("table");
        if table {
            f = f["table".len()..].trim_start().to_string();
        }
        let items = split_actions(&f).map_err(bad)?;
        let mut pos = 0;
        let (nodes, end) = parse_block(&items, &mut pos).map_err(bad)?;
        if let Some(word) = end {
            return Err(bad(format!("unexpected {{{{{word}}}}}")));
        }
        Ok(Template { nodes, table })
    }

    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        let mut vars = vec![("$".to_string(), v.clone())];
        exec(&self.nodes, v, &mut vars, &mut out);
        out
    }

    /// One line per item; with `table`, a header from `header_of` and aligned columns.
    pub fn render_all(&self, items: &[Value], header_of: impl Fn(&str) -> String) -> String {
        let mut lines: Vec<String> = Vec::new();
        if self.table {
            let mut h = String::new();
            for n in &self.nodes {
                match n {
                    Node::Text(t) => h.push_str(t),
                    Node::Action(p) => {
                        if let Some(field) = header_field(p) {
                            h.push_str(&header_of(&field));
                        }
                    }
                    _ => {}
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

/// The field a table column shows (`.ID`, `json .Labels`, `.Names | upper`).
fn header_field(p: &Pipe) -> Option<String> {
    p.cmds.first()?.iter().find_map(|a| match a {
        Arg::Dot(path) if !path.is_empty() => Some(path.join(".")),
        _ => None,
    })
}

enum Item {
    Text(String),
    Action(String),
}

/// Text and `{{...}}` actions, with `{{-`/`-}}` trimming the whitespace
/// beside them and comments dropped.
fn split_actions(f: &str) -> std::result::Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut rest = f;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let inner_start = start + 2;
        let end = find_close(&rest[inner_start..]).ok_or("unclosed action")? + inner_start;
        let mut inner = &rest[inner_start..end];
        if let Some(i) = inner.strip_prefix("- ") {
            text = text.trim_end();
            inner = i;
        }
        trim_next = false;
        if let Some(i) = inner.strip_suffix(" -") {
            trim_next = true;
            inner = i;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            items.push(Item::Action(inner.to_string()));
        }
        rest = &rest[end + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    if !text.is_empty() {
        items.push(Item::Text(text.to_string()));
    }
    Ok(items)
}

/// The `}}` closing an action, skipping any inside string literals.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' && q == b'"' {
                    i += 1;
                } else if b[i] == q {
                    quote = None;
                }
            }
            None => {
                if b[i] == b'"' || b[i] == b'`' {
                    quote = Some(b[i]);
                } else if b[i..].starts_with(b"}}") {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

type Parsed = std::result::Result<(Vec<Node>, Option<String>), String>;

/// Nodes up to a closing `else`/`else if`/`end` (returned as the second value).
fn parse_block(items: &[Item], pos: &mut usize) -> Parsed {
    let mut nodes = Vec::new();
    while let Some(item) = items.get(*pos) {
        *pos += 1;
        let action = match item {
            Item::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                continue;
            }
            Item::Action(a) => a.as_str(),
        };
        let (word, rest) = match action.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (action, ""),
        };
        match word {
            "end" | "else" => return Ok((nodes, Some(action.to_string()))),
            "if" => {
                let mut branches = vec![(parse_pipe(rest)?, Vec::new())];
                let mut otherwise = Vec::new();
                loop {
                    let (body, end) = parse_block(items, pos)?;
                    let end = end.ok_or("{{if}} without {{end}}")?;
                    if let Some(last) = branches.last_mut() {
                        last.1 = body;
                    }
                    if end == "end" {
                        break;
                    }
                    if let Some(cond) = end.strip_prefix("else if ") {
                        branches.push((parse_pipe(cond.trim())?, Vec::new()));
                        continue;
                    }
                    let (body, end) = parse_block(items, pos)?;
                    if end.as_deref() != Some("end") {
                        return Err("{{else}} without {{end}}".into());
                    }
                    otherwise = body;
                    break;
                }
                nodes.push(Node::If {
                    branches,
                    otherwise,
                });
            }
            "range" | "with" => {
                let pipe = parse_pipe(rest)?;
                let (body, end) = parse_block(items, pos)?;
                let end = end.ok_or(format!("{{{{{word}}}}} without {{{{end}}}}"))?;
                let otherwise = if end == "else" {
                    let (b, e) = parse_block(items, pos)?;
                    if e.as_deref() != Some("end") {
                        return Err("{{else}} without {{end}}".into());
                    }
                    b
                } else if end == "end" {
                    Vec::new()
                } else {
                    return Err(format!("unexpected {{{{{end}}}}} in {{{{{word}}}}}"));
                };
                nodes.push(if word == "range" {
                    Node::Range {
                        pipe,
                        body,
                        otherwise,
                    }
                } else {
                    Node::With {
                        pipe,
                        body,
                        otherwise,
                    }
                });
            }
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!("{{{{{word}}}}} is not supported"));
            }
            _ => nodes.push(Node::Action(parse_pipe(action)?)),
        }
    }
    Ok((nodes, None))
}

#[derive(Debug, PartialEq)]
enum Tok {
    Pipe,
    Open,
    Close,
    Decl,
    Comma,
    Word(String),
    Str(String),
}

fn tokens(s: &str) -> std::result::Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
                // `(pipeline).Field`
                let start = i;
                while i < chars.len() && (chars[i] == '.' || is_word(chars[i])) {
                    i += 1;
                }
                if i > start {
                    out.push(Tok::Word(chars[start..i].iter().collect()));
                }
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Decl);
                i += 2;
            }
            '"' => {
                let mut lit = String::new();
                i += 1;
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err("unterminated string".into());
                    };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let e = chars.get(i).copied().ok_or("unterminated string")?;
                            i += 1;
                            lit.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        other => lit.push(other),
                    }
                }
                out.push(Tok::Str(lit));
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or("unterminated raw string")?;
                out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            _ if c == '.' || c == '$' || c == '-' || is_word(c) => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i] == '.' || is_word(chars[i])) {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(out)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn parse_pipe(s: &str) -> std::result::Result<Pipe, String> {
    let toks = tokens(s)?;
    let mut pos = 0;
    let pipe = pipe_tokens(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(format!("unexpected {:?} in {s:?}", toks[pos]));
    }
    Ok(pipe)
}

fn pipe_tokens(toks: &[Tok], pos: &mut usize) -> std::result::Result<Pipe, String> {
    let mut pipe = Pipe::default();
    // `$x :=` / `$i, $v :=`
    let decl_end = toks[*pos..]
        .iter()
        .position(|t| *t == Tok::Decl)
        .map(|p| p + *pos);
    if let Some(end) = decl_end {
        let names: Vec<&Tok> = toks[*pos..end].iter().collect();
        let simple = names.iter().enumerate().all(|(i, t)| match t {
            Tok::Word(w) => i % 2 == 0 && w.starts_with('$'),
            Tok::Comma => i % 2 == 1,
            _ => false,
        });
        if simple && !names.is_empty() {
            for t in names {
                if let Tok::Word(w) = t {
                    pipe.decl.push(w.clone());
                }
            }
            *pos = end + 1;
        }
    }
    let mut cmd = Vec::new();
    while let Some(t) = toks.get(*pos) {
        match t {
            Tok::Close => break,
            Tok::Pipe => {
                *pos += 1;
                if cmd.is_empty() {
                    return Err("empty command in pipeline".into());
                }
                pipe.cmds.push(std::mem::take(&mut cmd));
                continue;
            }
            Tok::Open => {
                *pos += 1;
                let sub = pipe_tokens(toks, pos)?;
                if toks.get(*pos) != Some(&Tok::Close) {
                    return Err("unclosed (".into());
                }
                *pos += 1;
                let fields = match toks.get(*pos) {
                    Some(Tok::Word(w)) if w.starts_with('.') => {
                        *pos += 1;
                        path(w)
                    }
                    _ => Vec::new(),
                };
                cmd.push(Arg::Sub(sub, fields));
                continue;
            }
            Tok::Str(s) => cmd.push(Arg::Lit(Value::String(s.clone()))),
            Tok::Word(w) => cmd.push(word_arg(w)?),
            Tok::Comma | Tok::Decl => return Err(format!("unexpected {t:?}")),
        }
        *pos += 1;
    }
    if !cmd.is_empty() {
        pipe.cmds.push(cmd);
    }
    if pipe.cmds.is_empty() {
        return Err("missing value".into());
    }
    Ok(pipe)
}

fn word_arg(w: &str) -> std::result::Result<Arg, String> {
    if w.starts_with('.') {
        return Ok(Arg::Dot(path(w)));
    }
    if let Some(v) = w.strip_prefix('$') {
        let (name, fields) = match v.split_once('.') {
            Some((n, f)) => (n, path(f)),
            None => (v, Vec::new()),
        };
        return Ok(Arg::Var(format!("${name}"), fields));
    }
    match w {
        "true" => return Ok(Arg::Lit(Value::Bool(true))),
        "false" => return Ok(Arg::Lit(Value::Bool(false))),
        "nil" => return Ok(Arg::Lit(Value::Null)),
        _ => {}
    }
    if let Ok(n) = w.parse::<i64>() {
        return Ok(Arg::Lit(Value::Number(n.into())));
    }
    if let Some(n) = w.parse::<f64>().ok().and_then(Number::from_f64) {
        return Ok(Arg::Lit(Value::Number(n)));
    }
    if FUNCS.contains(&w) {
        return Ok(Arg::Func(w.to_string()));
    }
    Err(format!("function {w:?} not defined"))
}

fn path(field: &str) -> Vec<String> {
    field
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn lookup(v: &Value, path: &[String]) -> Value {
    path.iter()
        .try_fold(v, |cur, k| cur.get(k))
        .cloned()
        .unwrap_or(Value::Null)
}

type Vars = Vec<(String, Value)>;

fn exec(nodes: &[Node], dot: &Value, vars: &mut Vars, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipe(p, dot, vars);
                if p.decl.is_empty() {
                    out.push_str(&go_print(&v));
                } else {
                    for name in &p.decl {
                        vars.push((name.clone(), v.clone()));
                    }
                }
            }
            Node::If {
                branches,
                otherwise,
            } => {
                let mark = vars.len();
                let body = branches
                    .iter()
                    .find(|(cond, _)| truthy(&eval_pipe(cond, dot, vars)))
                    .map(|(_, body)| body)
                    .unwrap_or(otherwise);
                exec(body, dot, vars, out);
                vars.truncate(mark);
            }
            Node::With {
                pipe,
                body,
                otherwise,
            } => {
                let mark = vars.len();
                let v = eval_pipe(pipe, dot, vars);
                if truthy(&v) {
                    for name in &pipe.decl {
                        vars.push((name.clone(), v.clone()));
                    }
                    exec(body, &v, vars, out);
                } else {
                    exec(otherwise, dot, vars, out);
                }
                vars.truncate(mark);
            }
            Node::Range {
                pipe,
                body,
                otherwise,
            } => {
                let mark = vars.len();
                let v = eval_pipe(pipe, dot, vars);
                // Go ranges over a map in sorted key order.
                let entries: Vec<(Value, Value)> = match v {
                    Value::Array(a) => a
                        .into_iter()
                        .enumerate()
                        .map(|(i, x)| (Value::from(i), x))
                        .collect(),
                    Value::Object(m) => {
                        let mut e: Vec<(String, Value)> = m.into_iter().collect();
                        e.sort_by(|a, b| a.0.cmp(&b.0));
                        e.into_iter().map(|(k, x)| (Value::String(k), x)).collect()
                    }
                    Value::Number(n) => (0..n.as_u64().unwrap_or(0))
                        .map(|i| (Value::from(i), Value::from(i)))
                        .collect(),
                    _ => Vec::new(),
                };
                if entries.is_empty() {
                    exec(otherwise, dot, vars, out);
                }
                for (k, x) in entries {
                    let inner = vars.len();
                    match pipe.decl.as_slice() {
                        [val] => vars.push((val.clone(), x.clone())),
                        [key, val] => {
                            vars.push((key.clone(), k));
                            vars.push((val.clone(), x.clone()));
                        }
                        _ => {}
                    }
                    exec(body, &x, vars, out);
                    vars.truncate(inner);
                }
                vars.truncate(mark);
            }
        }
    }
}

fn eval_pipe(p: &Pipe, dot: &Value, vars: &Vars) -> Value {
    let mut prev: Option<Value> = None;
    for cmd in &p.cmds {
        prev = Some(eval_cmd(cmd, dot, vars, prev));
    }
    prev.unwrap_or(Value::Null)
}

fn eval_arg(a: &Arg, dot: &Value, vars: &Vars) -> Value {
    match a {
        Arg::Dot(path) => lookup(dot, path),
        Arg::Var(name, path) => vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| lookup(v, path))
            .unwrap_or(Value::Null),
        Arg::Lit(v) => v.clone(),
        Arg::Func(f) => call(f, Vec::new()),
        Arg::Sub(p, path) => lookup(&eval_pipe(p, dot, vars), path),
    }
}

fn eval_cmd(cmd: &[Arg], dot: &Value, vars: &Vars, prev: Option<Value>) -> Value {
    match cmd.first() {
        Some(Arg::Func(f)) => {
            let mut args: Vec<Value> = cmd[1..].iter().map(|a| eval_arg(a, dot, vars)).collect();
            args.extend(prev);
            call(f, args)
        }
        Some(a) if cmd.len() == 1 => eval_arg(a, dot, vars),
        // A value followed by more operands is not a call Go accepts.
        _ => Value::Null,
    }
}

fn as_str(v: &Value) -> String {
    go_print(v)
}

fn call(f: &str, args: Vec<Value>) -> Value {
    let s = |i: usize| args.get(i).map(as_str).unwrap_or_default();
    match f {
        "json" => Value::String(
            args.first()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "null".into()),
        ),
        "index" => {
            let mut cur = args.first().cloned().unwrap_or(Value::Null);
            for k in args.iter().skip(1) {
                cur = match (&cur, k) {
                    (Value::Array(a), Value::Number(n)) => n
                        .as_u64()
                        .and_then(|i| a.get(i as usize))
                        .cloned()
                        .unwrap_or(Value::Null),
                    (Value::Object(m), key) => m.get(&as_str(key)).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
            }
            cur
        }
        "slice" => {
            let from = args.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
            match args.first() {
                Some(Value::String(x)) => {
                    let to = args
                        .get(2)
                        .and_then(Value::as_u64)
                        .unwrap_or(x.len() as u64) as usize;
                    Value::String(x.get(from..to).unwrap_or_default().to_string())
                }
                Some(Value::Array(a)) => {
                    let to = args
                        .get(2)
                        .and_then(Value::as_u64)
                        .unwrap_or(a.len() as u64) as usize;
                    Value::Array(a.get(from..to).unwrap_or_default().to_vec())
                }
                _ => Value::Null,
            }
        }
        "len" => Value::from(match args.first() {
            Some(Value::Array(a)) => a.len(),
            Some(Value::Object(m)) => m.len(),
            Some(Value::String(x)) => x.len(),
            _ => 0,
        }),
        "upper" => Value::String(s(0).to_uppercase()),
        "lower" => Value::String(s(0).to_lowercase()),
        "title" => Value::String(
            s(0).split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .join(" "),
        ),
        "join" => match args.first() {
            Some(Value::Array(a)) => {
                Value::String(a.iter().map(as_str).collect::<Vec<_>>().join(&s(1)))
            }
            _ => Value::String(s(0)),
        },
        "split" => Value::Array(
            s(0).split(s(1).as_str())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        "truncate" => {
            let n = args.get(1).and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
            Value::String(s(0).chars().take(n).collect())
        }
        "print" => Value::String(args.iter().map(as_str).collect::<Vec<_>>().concat()),
        "println" => Value::String(args.iter().map(as_str).collect::<Vec<_>>().join(" ") + "\n"),
        "printf" => Value::String(printf(&s(0), &args[1.min(args.len())..])),
        "not" => Value::Bool(!args.first().is_some_and(truthy)),
        // Go's and/or return the deciding operand, not a bool.
        "and" => args
            .iter()
            .find(|v| !truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "or" => args
            .iter()
            .find(|v| truthy(v))
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Null),
        "eq" => {
            let first = args.first().cloned().unwrap_or(Value::Null);
            Value::Bool(args.iter().skip(1).any(|v| same(&first, v)))
        }
        "ne" => Value::Bool(!same(
            args.first().unwrap_or(&Value::Null),
            args.get(1).unwrap_or(&Value::Null),
        )),
        "lt" | "le" | "gt" | "ge" => {
            let ord = compare(
                args.first().unwrap_or(&Value::Null),
                args.get(1).unwrap_or(&Value::Null),
            );
            Value::Bool(match (f, ord) {
                (_, None) => false,
                ("lt", Some(o)) => o.is_lt(),
                ("le", Some(o)) => o.is_le(),
                ("gt", Some(o)) => o.is_gt(),
                (_, Some(o)) => o.is_ge(),
            })
        }
        _ => Value::Null,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Go's fmt verbs people put in templates: %s %v %d %q %f %%, with `-`
/// and a width (`%-12s`).
fn printf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut left = false;
        let mut width = String::new();
        let mut prec = String::new();
        while let Some(&d) = chars.peek() {
            match d {
                '-' => left = true,
                '0'..='9' => width.push(d),
                '.' => {
                    chars.next();
                    while let Some(&p) = chars.peek().filter(|p| p.is_ascii_digit()) {
                        prec.push(p);
                        chars.next();
                    }
                    continue;
                }
                _ => break,
            }
            chars.next();
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = args.next().cloned().unwrap_or(Value::Null);
        let text = match verb {
            'q' => serde_json::to_string(&as_str(&v)).unwrap_or_default(),
            'd' => v
                .as_f64()
                .map(|f| format!("{}", f as i64))
                .unwrap_or_else(|| format!("%!d({})", as_str(&v))),
            'f' => {
                let p: usize = prec.parse().unwrap_or(6);
                v.as_f64()
                    .map(|f| format!("{f:.p$}"))
                    .unwrap_or_else(|| format!("%!f({})", as_str(&v)))
            }
            _ => {
                let s = as_str(&v);
                match prec.parse::<usize>() {
                    Ok(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
        };
        let w: usize = width.parse().unwrap_or(0);
        let pad = w.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
    }
    out
}

/// Go's truth: false, 0, nil and empty strings, lists and maps are false.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// How Go's text/template prints a value.
fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_print).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => print_map(m),
        other => other.to_string(),
    }
}

/// Go prints maps with sorted keys: `map[a:1 b:2]`.
fn print_map(m: &Map<String, Value>) -> String {
    let mut items: Vec<(&String, &Value)> = m.iter().collect();
    items.sort_by(|a, b| a.0.cmp(b.0));
    let items: Vec<String> = items
        .iter()
        .map(|(k, x)| format!("{k}:{}", go_print(x)))
        .collect();
    format!("map[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &Value) -> String {
        Template::parse(t)
            .unwrap_or_else(|e| panic!("{t}: {e}"))
            .render(v)
    }

    #[test]
    fn fields_json_and_table() {
        let v = json!({"Repository": "busybox", "Tag": "latest", "ID": "abc"});
        assert_eq!(r("{{.Repository}}:{{.Tag}}", &v), "busybox:latest");
        assert_eq!(r("json", &v), v.to_string());
        let t = Template::parse("table {{.ID}}\\t{{.Tag}}").unwrap();
        let out = t.render_all(std::slice::from_ref(&v), |f| f.to_uppercase());
        assert_eq!(out, "ID        TAG\nabc       latest\n");
        assert_eq!(r("{{.Missing}}", &v), "<no value>");
    }

    fn container() -> Value {
        json!({
            "Name": "/web",
            "State": {"Pid": 4242, "Running": true, "ExitCode": 0},
            "Config": {
                "Env": ["PATH=/bin", "A=1"],
                "Labels": {"tier": "front", "app": "shop"},
                "Cmd": ["sh", "-c", "true"],
            },
            "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}],
            "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
        })
    }

    #[test]
    fn what_people_write_for_inspect() {
        let c = container();
        assert_eq!(r("{{.State.Pid}}", &c), "4242");
        assert_eq!(r("{{json .Config.Cmd}}", &c), r#"["sh","-c","true"]"#);
        assert_eq!(
            r("{{range .Config.Env}}{{.}};{{end}}", &c),
            "PATH=/bin;A=1;"
        );
        assert_eq!(r(r#"{{index .Config.Labels "tier"}}"#, &c), "front");
        assert_eq!(r("{{index .Config.Cmd 2}}", &c), "true");
        assert_eq!(
            r(
                "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}",
                &c
            ),
            "app=shop tier=front "
        );
        assert_eq!(
            r(
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                &c
            ),
            "172.17.0.2"
        );
        assert_eq!(
            r(
                "{{range $i, $m := .Mounts}}{{$i}}:{{$m.Source}}->{{.Destination}} {{end}}",
                &c
            ),
            "0:/a->/x 1:/b->/y "
        );
        assert_eq!(r("{{if .State.Running}}up{{else}}down{{end}}", &c), "up");
        assert_eq!(
            r(
                "{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{end}}",
                &c
            ),
            "zero"
        );
        assert_eq!(r("{{.Name | upper}} {{len .Config.Env}}", &c), "/WEB 2");
        assert_eq!(r(r#"{{join .Config.Cmd " "}}"#, &c), "sh -c true");
        assert_eq!(
            r(
                "{{with .State}}{{.Pid}}{{end}}{{with .Nope}}x{{else}}none{{end}}",
                &c
            ),
            "4242none"
        );
        assert_eq!(
            r(r#"{{printf "%-6s|%5d" .Name .State.Pid}}"#, &c),
            "/web  | 4242"
        );
        assert_eq!(r("{{$p := .State.Pid}}{{$p}}", &c), "4242");
        assert_eq!(r("{{(index .Mounts 1).Source}}", &c), "/b");
        assert_eq!(r("{{range .Nope}}x{{else}}empty{{end}}", &c), "empty");
        assert_eq!(r("{{.Config.Labels}}", &c), "map[app:shop tier:front]");
        assert_eq!(r("{{- .Name -}}  \n", &c), "/web");
        assert_eq!(r("a {{- /* note */ -}} b", &c), "ab");
        assert_eq!(
            r(
                "{{if and .State.Running (not .State.ExitCode)}}ok{{end}}",
                &c
            ),
            "ok"
        );
        assert_eq!(
            r("{{range $.Config.Cmd}}{{$.Name}}{{end}}", &c),
            "/web/web/web"
        );
    }

    #[test]
    fn bad_templates_are_refused_at_parse() {
        for bad in [
            "{{range .}}",
            "{{if .A}}x",
            "{{end}}",
            "{{nosuchfunc .A}}",
            "{{.A",
            r#"{{printf "x}}"#,
            "{{template \"x\"}}",
            "{{else}}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad} parsed");
        }
    }
}
