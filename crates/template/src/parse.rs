//! Go's text/template lexer and parser (text/template/parse), kept close to
//! the original so positions and error messages come out as Go prints them:
//! a parse error is `template: :LINE: MESSAGE`, and each node keeps the byte
//! offset Go reports in `template: :LINE:COL: executing ...`.

use crate::Error;

/// Byte offset into the template text.
pub type Pos = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum It {
    Error,
    Bool,
    Char,
    CharConstant,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords (Go's item.String() shows them as `<word>`).
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl It {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            It::Block
                | It::Break
                | It::Continue
                | It::Dot
                | It::Define
                | It::Else
                | It::End
                | It::If
                | It::Nil
                | It::Range
                | It::Template
                | It::With
        )
    }
}

#[derive(Debug, Clone)]
struct Item {
    typ: It,
    pos: Pos,
    val: String,
    line: usize,
}

impl Item {
    /// Go's `item.String()`, used in "unexpected X in Y".
    fn describe(&self) -> String {
        match self.typ {
            It::Eof => "EOF".into(),
            It::Error => self.val.clone(),
            t if t.is_keyword() => format!("<{}>", self.val),
            _ if self.val.chars().count() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                format!("{}...", go_quote(&head))
            }
            _ => go_quote(&self.val),
        }
    }
}

fn keyword(word: &str) -> Option<It> {
    Some(match word {
        "." => It::Dot,
        "block" => It::Block,
        "break" => It::Break,
        "continue" => It::Continue,
        "define" => It::Define,
        "else" => It::Else,
        "end" => It::End,
        "if" => It::If,
        "range" => It::Range,
        "nil" => It::Nil,
        "template" => It::Template,
        "with" => It::With,
        _ => return None,
    })
}

/// Go's `strconv.Quote` for the printable text templates hold.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%#U` of a rune: `U+0021 '!'`.
fn rune_u(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

struct Lexer<'a> {
    input: &'a str,
    start: Pos,
    pos: Pos,
    items: Vec<Item>,
    paren_depth: usize,
    start_line: usize,
    line: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn backup(&mut self, c: char) {
        self.pos -= c.len_utf8();
        if c == '\n' {
            self.line -= 1;
        }
    }

    fn emit(&mut self, typ: It) {
        let val = self.input[self.start..self.pos].to_string();
        self.items.push(Item {
            typ,
            pos: self.start,
            val,
            line: self.start_line,
        });
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, msg: String) {
        self.items.push(Item {
            typ: It::Error,
            pos: self.start,
            val: msg,
            line: self.start_line,
        });
    }

    fn run(mut self) -> Vec<Item> {
        // Each state returns whether lexing goes on; errors end it.
        let mut inside = false;
        loop {
            let go_on = if inside {
                self.inside_action(&mut inside)
            } else {
                self.text(&mut inside)
            };
            if !go_on {
                return self.items;
            }
        }
    }

    fn text(&mut self, inside: &mut bool) -> bool {
        match self.input[self.pos..].find(LEFT) {
            Some(x) => {
                let mut trim = 0;
                let after = &self.input[self.pos + x + LEFT.len()..];
                let trims = after.starts_with('-') && after[1..].starts_with(is_space);
                if trims {
                    trim = self.input[self.pos..self.pos + x].len()
                        - self.input[self.pos..self.pos + x]
                            .trim_end_matches(is_space)
                            .len();
                }
                self.pos += x;
                let text_end = self.pos - trim;
                if text_end > self.start {
                    self.line += self.input[self.start..text_end].matches('\n').count();
                    self.items.push(Item {
                        typ: It::Text,
                        pos: self.start,
                        val: self.input[self.start..text_end].to_string(),
                        line: self.start_line,
                    });
                }
                self.start = self.pos;
                self.start_line = self.line;
                self.left_delim(inside)
            }
            None => {
                self.pos = self.input.len();
                if self.pos > self.start {
                    self.line += self.input[self.start..self.pos].matches('\n').count();
                    self.items.push(Item {
                        typ: It::Text,
                        pos: self.start,
                        val: self.input[self.start..].to_string(),
                        line: self.start_line,
                    });
                }
                self.start = self.pos;
                self.items.push(Item {
                    typ: It::Eof,
                    pos: self.pos,
                    val: String::new(),
                    line: self.line,
                });
                false
            }
        }
    }

    fn left_delim(&mut self, inside: &mut bool) -> bool {
        self.pos += LEFT.len();
        let rest = &self.input[self.pos..];
        let trim = rest.starts_with('-') && rest[1..].starts_with(is_space);
        let after_marker = if trim { 2 } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            self.ignore();
            return self.comment();
        }
        self.emit(It::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        *inside = true;
        true
    }

    fn comment(&mut self) -> bool {
        self.pos += 2;
        let Some(x) = self.input[self.pos..].find("*/") else {
            self.error("unclosed comment".into());
            return false;
        };
        self.pos += x + 2;
        let rest = &self.input[self.pos..];
        let (trim, delim) = if rest.starts_with(is_space) && rest[1..].starts_with("-}}") {
            (true, true)
        } else {
            (false, rest.starts_with(RIGHT))
        };
        if !delim {
            self.error("comment ends before closing delimiter".into());
            return false;
        }
        self.pos += if trim { 4 } else { 2 };
        self.ignore();
        if trim {
            let rest = &self.input[self.pos..];
            let n = rest.len() - rest.trim_start_matches(is_space).len();
            self.pos += n;
            self.ignore();
        }
        true
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input[self.pos..];
        if rest.len() >= 4 && rest.starts_with(is_space) && rest[1..].starts_with("-}}") {
            return (true, true);
        }
        (rest.starts_with(RIGHT), false)
    }

    fn right_delim(&mut self, trim: bool, inside: &mut bool) -> bool {
        if trim {
            self.pos += 2; // space and '-'
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(It::RightDelim);
        if trim {
            let rest = &self.input[self.pos..];
            let n = rest.len() - rest.trim_start_matches(is_space).len();
            self.pos += n;
            self.ignore();
        }
        *inside = false;
        true
    }

    fn inside_action(&mut self, inside: &mut bool) -> bool {
        let (delim, trim) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.right_delim(trim, inside);
            }
            self.error("unclosed left paren".into());
            return false;
        }
        let Some(c) = self.next() else {
            self.error("unclosed action".into());
            return false;
        };
        match c {
            c if is_space(c) => {
                self.backup(c);
                return self.space();
            }
            '=' => self.emit(It::Assign),
            ':' => {
                if self.next() != Some('=') {
                    self.error("expected :=".into());
                    return false;
                }
                self.emit(It::Declare);
            }
            '|' => self.emit(It::Pipe),
            '"' => return self.quote(),
            '`' => return self.raw_quote(),
            '$' => return self.variable(It::Variable),
            '\'' => return self.char_const(),
            '.' => {
                if let Some(d) = self.peek() {
                    if d.is_ascii_digit() {
                        self.backup('.');
                        return self.number();
                    }
                }
                return self.variable(It::Field);
            }
            '+' | '-' | '0'..='9' => {
                self.backup(c);
                return self.number();
            }
            c if is_alnum(c) => {
                self.backup(c);
                return self.identifier();
            }
            '(' => {
                self.emit(It::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                if self.paren_depth == 0 {
                    self.error(format!("unexpected right paren {}", rune_u(c)));
                    return false;
                }
                self.paren_depth -= 1;
                self.emit(It::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(It::Char),
            c => {
                self.error(format!("unrecognized character in action: {}", rune_u(c)));
                return false;
            }
        }
        true
    }

    fn space(&mut self) -> bool {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        // ` -}}` is a trim marker, not a space item.
        let rest = &self.input[self.pos..];
        if rest.starts_with("-}}") && n > 0 {
            self.pos -= 1;
            self.line -= self.input[self.pos..self.pos + 1].matches('\n').count();
            if self.pos == self.start {
                return true;
            }
        }
        self.emit(It::Space);
        true
    }

    fn identifier(&mut self) -> bool {
        while let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
            } else {
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            self.error(format!("bad character {}", rune_u(c)));
            return false;
        }
        let word = &self.input[self.start..self.pos];
        let typ = match keyword(word) {
            Some(k) => k,
            None if word.starts_with('.') => It::Field,
            None if word == "true" || word == "false" => It::Bool,
            None => It::Identifier,
        };
        self.emit(typ);
        true
    }

    /// `.Field` or `$var` (the leading character already consumed).
    fn variable(&mut self, typ: It) -> bool {
        if self.at_terminator() {
            if typ == It::Variable {
                self.emit(It::Variable);
            } else {
                self.emit(It::Dot);
            }
            return true;
        }
        while let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
            } else {
                break;
            }
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or(' ');
            self.error(format!("bad character {}", rune_u(c)));
            return false;
        }
        self.emit(typ);
        true
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.input[self.pos..].starts_with(RIGHT),
        }
    }

    fn char_const(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => {
                    if self.next().is_some_and(|c| c != '\n') {
                        continue;
                    }
                    self.error("unterminated character constant".into());
                    return false;
                }
                None | Some('\n') => {
                    self.error("unterminated character constant".into());
                    return false;
                }
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(It::CharConstant);
        true
    }

    fn number(&mut self) -> bool {
        if !self.scan_number() {
            let bad = &self.input[self.start..self.pos];
            self.error(format!("bad number syntax: {}", go_quote(bad)));
            return false;
        }
        self.emit(It::Number);
        true
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        !self.peek().is_some_and(is_alnum)
    }

    fn quote(&mut self) -> bool {
        loop {
            match self.next() {
                Some('\\') => {
                    if self.next().is_some_and(|c| c != '\n') {
                        continue;
                    }
                    self.error("unterminated quoted string".into());
                    return false;
                }
                None | Some('\n') => {
                    self.error("unterminated quoted string".into());
                    return false;
                }
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(It::String);
        true
    }

    fn raw_quote(&mut self) -> bool {
        match self.input[self.pos..].find('`') {
            Some(x) => {
                let s = &self.input[self.pos..self.pos + x + 1];
                self.line += s.matches('\n').count();
                self.pos += x + 1;
                // The item's line is where it starts (Go sets it so too).
                let val = self.input[self.start..self.pos].to_string();
                self.items.push(Item {
                    typ: It::RawString,
                    pos: self.start,
                    val,
                    line: self.start_line,
                });
                self.start = self.pos;
                self.start_line = self.line;
                true
            }
            None => {
                self.error("unterminated raw quoted string".into());
                false
            }
        }
    }
}

// ---- The tree ------------------------------------------------------------

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    Range(Branch),
    With(Branch),
    Break,
    Continue,
    Template {
        pos: Pos,
        name: String,
        pipe: Option<Pipe>,
    },
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Vec<Node>,
}

#[derive(Debug, Clone)]
pub struct Pipe {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug, Clone)]
pub struct Cmd {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B`; an empty path is `.`.
    Field(Pos, Vec<String>),
    Dot(Pos),
    /// `$x.A.B`: the name then the fields.
    Var(Pos, String, Vec<String>),
    Ident(Pos, String),
    Bool(Pos, bool),
    Nil(Pos),
    Number(Pos, Number),
    Str(Pos, String, String),
    Pipe(Box<Pipe>),
    /// `(pipeline).A.B`.
    Chain(Pos, Box<Pipe>, Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// Written as a float (`1.5`, `1e3`), so it is a float64 where the type is free.
    pub is_float_syntax: bool,
}

impl Arg {
    pub fn pos(&self) -> Pos {
        match self {
            Arg::Field(p, _)
            | Arg::Dot(p)
            | Arg::Var(p, _, _)
            | Arg::Ident(p, _)
            | Arg::Bool(p, _)
            | Arg::Nil(p)
            | Arg::Number(p, _)
            | Arg::Str(p, _, _)
            | Arg::Chain(p, _, _) => *p,
            Arg::Pipe(p) => p.pos,
        }
    }
}

/// Go's `Node.String()`: how an error names the node it happened at.
impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Field(_, path) => {
                for p in path {
                    write!(f, ".{p}")?;
                }
                Ok(())
            }
            Arg::Dot(_) => f.write_str("."),
            Arg::Var(_, name, path) => {
                f.write_str(name)?;
                for p in path {
                    write!(f, ".{p}")?;
                }
                Ok(())
            }
            Arg::Ident(_, name) => f.write_str(name),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Number(_, n) => f.write_str(&n.text),
            Arg::Str(_, quoted, _) => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "({p})"),
            Arg::Chain(_, p, path) => {
                write!(f, "({p})")?;
                for x in path {
                    write!(f, ".{x}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            a.fmt(f)?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

pub struct Parser<'a> {
    items: Vec<Item>,
    at: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of pipelines and control blocks; bounded so a hostile
    /// `--format` cannot exhaust the stack (Go bounds it too).
    depth: usize,
    is_func: &'a dyn Fn(&str) -> bool,
}

const MAX_DEPTH: usize = 100;

type PResult<T> = Result<T, Error>;

/// A parsed `{{end}}`/`{{else}}` that closes a list.
enum Closer {
    End,
    Else,
}

pub fn parse(text: &str, is_func: &dyn Fn(&str) -> bool) -> PResult<Vec<Node>> {
    let lexer = Lexer {
        input: text,
        start: 0,
        pos: 0,
        items: Vec::new(),
        paren_depth: 0,
        start_line: 1,
        line: 1,
    };
    let items = lexer.run();
    let mut p = Parser {
        items,
        at: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        is_func,
    };
    let mut nodes = Vec::new();
    while p.peek().typ != It::Eof {
        match p.text_or_action()? {
            Ok(n) => nodes.extend(n),
            Err(Closer::End) => return Err(p.error_at_last("unexpected {{end}}")),
            Err(Closer::Else) => return Err(p.error_at_last("unexpected {{else}}")),
        }
    }
    Ok(nodes)
}

impl Parser<'_> {
    fn peek(&self) -> &Item {
        &self.items[self.at.min(self.items.len() - 1)]
    }

    fn next(&mut self) -> PResult<Item> {
        let it = self.peek().clone();
        if it.typ == It::Error {
            return Err(Error::Parse {
                line: it.line,
                msg: it.val,
            });
        }
        if self.at < self.items.len() {
            self.at += 1;
        }
        Ok(it)
    }

    fn backup(&mut self) {
        self.at -= 1;
    }

    fn next_non_space(&mut self) -> PResult<Item> {
        loop {
            let it = self.next()?;
            if it.typ != It::Space {
                return Ok(it);
            }
        }
    }

    fn peek_non_space(&mut self) -> PResult<Item> {
        let it = self.next_non_space()?;
        self.backup();
        Ok(it)
    }

    /// Go reports the line of the last token it read.
    fn error_at_last(&self, msg: &str) -> Error {
        let line = self
            .items
            .get(self.at.saturating_sub(1))
            .map(|i| i.line)
            .unwrap_or(1);
        Error::Parse {
            line,
            msg: msg.to_string(),
        }
    }

    fn error_at(&self, it: &Item, msg: String) -> Error {
        Error::Parse { line: it.line, msg }
    }

    fn unexpected(&self, it: &Item, context: &str) -> Error {
        if it.typ == It::Error {
            return self.error_at(it, it.val.clone());
        }
        self.error_at(it, format!("unexpected {} in {context}", it.describe()))
    }

    fn expect(&mut self, typ: It, context: &str) -> PResult<Item> {
        let it = self.next_non_space()?;
        if it.typ != typ {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    /// A text node or an action; `Err(closer)` for `{{end}}`/`{{else}}`.
    fn text_or_action(&mut self) -> PResult<Result<Option<Node>, Closer>> {
        let it = self.next_non_space()?;
        match it.typ {
            It::Text => Ok(Ok(Some(Node::Text(it.val)))),
            It::LeftDelim => self.action(),
            _ => Err(self.unexpected(&it, "input")),
        }
    }

    fn action(&mut self) -> PResult<Result<Option<Node>, Closer>> {
        let it = self.next_non_space()?;
        match it.typ {
            It::Block | It::Define => Err(self.error_at(
                &it,
                format!("{{{{{}}}}} is not supported in --format", it.val),
            )),
            It::Break | It::Continue => {
                let word = it.val.clone();
                if self.range_depth == 0 {
                    return Err(self.error_at(&it, format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                self.expect(It::RightDelim, &format!("{{{{{word}}}}}"))?;
                Ok(Ok(Some(if word == "break" {
                    Node::Break
                } else {
                    Node::Continue
                })))
            }
            It::Else => {
                let peek = self.peek_non_space()?;
                if peek.typ == It::If || peek.typ == It::With {
                    return Ok(Err(Closer::Else));
                }
                self.expect(It::RightDelim, "else")?;
                Ok(Err(Closer::Else))
            }
            It::End => {
                self.expect(It::RightDelim, "end")?;
                Ok(Err(Closer::End))
            }
            It::If => Ok(Ok(Some(Node::If(self.control(true, "if")?)))),
            It::Range => Ok(Ok(Some(Node::Range(self.control(false, "range")?)))),
            It::With => Ok(Ok(Some(Node::With(self.control(true, "with")?)))),
            It::Template => {
                let tok = self.next_non_space()?;
                let name = match tok.typ {
                    It::String | It::RawString => unquote(&tok.val)
                        .ok_or_else(|| self.error_at(&tok, format!("bad string {}", tok.val)))?,
                    _ => return Err(self.unexpected(&tok, "template clause")),
                };
                let pipe = if self.next_non_space()?.typ != It::RightDelim {
                    self.backup();
                    Some(self.pipeline("template clause", It::RightDelim)?)
                } else {
                    None
                };
                Ok(Ok(Some(Node::Template {
                    pos: tok.pos,
                    name,
                    pipe,
                })))
            }
            _ => {
                self.backup();
                let pipe = self.pipeline("command", It::RightDelim)?;
                Ok(Ok(Some(Node::Action(pipe))))
            }
        }
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, Closer)> {
        let mut list = Vec::new();
        while self.peek_non_space()?.typ != It::Eof {
            match self.text_or_action()? {
                Ok(n) => list.extend(n),
                Err(c) => return Ok((list, c)),
            }
        }
        Err(self.error_at_last("unexpected EOF"))
    }

    fn control(&mut self, allow_else_chain: bool, context: &str) -> PResult<Branch> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at_last("max expression depth exceeded"));
        }
        let b = self.control_inner(allow_else_chain, context);
        self.depth -= 1;
        b
    }

    fn control_inner(&mut self, allow_else_chain: bool, context: &str) -> PResult<Branch> {
        let vars = self.vars.len();
        let pipe = self.pipeline(context, It::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = Vec::new();
        if let Closer::Else = next {
            let peek = self.peek().typ;
            let chain = if allow_else_chain && (peek == It::If || peek == It::With) {
                Some(peek)
            } else {
                None
            };
            if let Some(kw) = chain {
                // `{{else if x}}`: one {{end}} closes the whole chain.
                self.next()?;
                let word = if kw == It::If { "if" } else { "with" };
                let b = self.control(true, word)?;
                else_list.push(if kw == It::If {
                    Node::If(b)
                } else {
                    Node::With(b)
                });
            } else {
                let (l, n) = self.item_list()?;
                if let Closer::Else = n {
                    return Err(self.error_at_last("expected end; found {{else}}"));
                }
                else_list = l;
            }
        }
        self.vars.truncate(vars);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn pipeline(&mut self, context: &str, end: It) -> PResult<Pipe> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at_last("max expression depth exceeded"));
        }
        let pipe = self.pipeline_inner(context, end);
        self.depth -= 1;
        pipe
    }

    fn pipeline_inner(&mut self, context: &str, end: It) -> PResult<Pipe> {
        let start = self.peek_non_space()?;
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // `$x :=`, `$x =`, `$i, $v :=`
        loop {
            let v = self.peek_non_space()?;
            if v.typ != It::Variable {
                break;
            }
            let var_at = self.at;
            self.at += 1;
            let next = self.peek_non_space()?;
            if next.typ == It::Assign || next.typ == It::Declare {
                pipe.is_assign = next.typ == It::Assign;
                self.next_non_space()?;
                pipe.decl.push(v.val.clone());
                if next.typ == It::Declare {
                    self.vars.push(v.val.clone());
                } else if !self.vars.contains(&v.val) {
                    return Err(
                        self.error_at(&v, format!("undefined variable {}", go_quote(&v.val)))
                    );
                }
                break;
            } else if next.typ == It::Char && next.val == "," {
                self.next_non_space()?;
                pipe.decl.push(v.val.clone());
                self.vars.push(v.val.clone());
                if context == "range" && pipe.decl.len() < 2 {
                    let p = self.peek_non_space()?;
                    if matches!(p.typ, It::Variable | It::RightDelim | It::RightParen) {
                        continue;
                    }
                    return Err(self.error_at(&p, "range can only initialize variables".into()));
                }
                return Err(self.error_at(&next, format!("too many declarations in {context}")));
            } else {
                // A variable used as a value.
                self.at = var_at;
                break;
            }
        }
        loop {
            let tok = self.next_non_space()?;
            if tok.typ == end {
                self.check_pipeline(&pipe, context, &tok)?;
                return Ok(pipe);
            }
            match tok.typ {
                It::Bool
                | It::CharConstant
                | It::Dot
                | It::Field
                | It::Identifier
                | It::Number
                | It::Nil
                | It::RawString
                | It::String
                | It::Variable
                | It::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str, at: &Item) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.error_at(at, format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(..) | Arg::Str(..)
            ) {
                return Err(self.error_at(
                    at,
                    format!("non executable command in pipeline stage {}", i + 1),
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek_non_space()?.pos;
        let mut cmd = Cmd {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space()?;
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let tok = self.next()?;
            match tok.typ {
                It::Space => continue,
                It::RightDelim | It::RightParen => self.backup(),
                It::Pipe => {}
                _ => return Err(self.unexpected(&tok, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.error_at_last("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != It::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().typ == It::Field {
            let f = self.next()?;
            fields.push(f.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field(_, mut path) => {
                path.extend(fields);
                Arg::Field(chain_pos, path)
            }
            Arg::Var(_, name, mut path) => {
                path.extend(fields);
                Arg::Var(chain_pos, name, path)
            }
            Arg::Pipe(p) => Arg::Chain(chain_pos, p, fields),
            Arg::Chain(_, p, mut path) => {
                path.extend(fields);
                Arg::Chain(chain_pos, p, path)
            }
            other => {
                return Err(self.error_at_last(&format!(
                    "unexpected . after term {}",
                    go_quote(&other.to_string())
                )))
            }
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space()?;
        Ok(Some(match tok.typ {
            It::Identifier => {
                if !(self.is_func)(&tok.val) {
                    return Err(
                        self.error_at(&tok, format!("function {} not defined", go_quote(&tok.val)))
                    );
                }
                Arg::Ident(tok.pos, tok.val)
            }
            It::Dot => Arg::Dot(tok.pos),
            It::Nil => Arg::Nil(tok.pos),
            It::Variable => {
                if !self.vars.contains(&tok.val) {
                    return Err(
                        self.error_at(&tok, format!("undefined variable {}", go_quote(&tok.val)))
                    );
                }
                Arg::Var(tok.pos, tok.val, Vec::new())
            }
            It::Field => Arg::Field(tok.pos, vec![tok.val[1..].to_string()]),
            It::Bool => Arg::Bool(tok.pos, tok.val == "true"),
            It::CharConstant | It::Number => {
                let n = number(&tok.val, tok.typ == It::CharConstant).ok_or_else(|| {
                    self.error_at(
                        &tok,
                        format!("illegal number syntax: {}", go_quote(&tok.val)),
                    )
                })?;
                Arg::Number(tok.pos, n)
            }
            It::LeftParen => Arg::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", It::RightParen)?,
            )),
            It::String | It::RawString => {
                let s = unquote(&tok.val)
                    .ok_or_else(|| self.error_at(&tok, format!("invalid syntax: {}", tok.val)))?;
                Arg::Str(tok.pos, tok.val, s)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Go's number literals: ints (decimal, 0x, 0o, 0b, `_`), floats and
/// character constants.
fn number(text: &str, is_char: bool) -> Option<Number> {
    if is_char {
        let inner = unquote_char(text)?;
        return Some(Number {
            text: text.to_string(),
            int: Some(inner as i64),
            float: Some(inner as u32 as f64),
            is_float_syntax: false,
        });
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.chars().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    }
    .map(|i| if neg { -i } else { i });
    let is_float_syntax = !lower.starts_with("0x") && lower.contains(['.', 'e']);
    let float = if lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b") {
        int.map(|i| i as f64)
    } else {
        lower.parse::<f64>().ok().map(|f| if neg { -f } else { f })
    };
    if int.is_none() && float.is_none() {
        return None;
    }
    // A float that is integral is also an int (Go's IsInt), as 1e3 is.
    let int = int.or_else(|| {
        float
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
            .map(|f| f as i64)
    });
    Some(Number {
        text: text.to_string(),
        int,
        float,
        is_float_syntax,
    })
}

fn unquote_char(text: &str) -> Option<char> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let s = unescape(inner, '\'')?;
    let mut cs = s.chars();
    let c = cs.next()?;
    cs.next().is_none().then_some(c)
}

/// Go's `strconv.Unquote` for "..." and `...`.
pub fn unquote(text: &str) -> Option<String> {
    if let Some(raw) = text.strip_prefix('`') {
        return Some(raw.strip_suffix('`')?.replace('\r', ""));
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    unescape(inner, '"')
}

fn unescape(s: &str, quote: char) -> Option<String> {
    let mut out = String::new();
    let mut cs = s.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = cs.next()?;
        let hex = |cs: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Option<u32> {
            let h: String = (0..n).filter_map(|_| cs.next()).collect();
            if h.len() != n {
                return None;
            }
            u32::from_str_radix(&h, 16).ok()
        };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            'x' => out.push(char::from_u32(hex(&mut cs, 2)?)?),
            'u' => out.push(char::from_u32(hex(&mut cs, 4)?)?),
            'U' => out.push(char::from_u32(hex(&mut cs, 8)?)?),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + cs.next()?.to_digit(8)?;
                }
                out.push(char::from_u32(v)?);
            }
            c if c == quote => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}
