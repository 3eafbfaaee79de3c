//! Instructions from logical lines (BuildKit's parser dispatch table and
//! instructions/parse.go), grouped into stages.

use std::time::Duration;

use crate::lines::{Lines, Logical};
use crate::words::{parse_maybe_json, parse_words, split_command, split_whitespace, MaybeJson};
use crate::{
    ArgDecl, Command, Copy, Dockerfile, Healthcheck, Heredoc, Instruction, KeyValue, Kind,
    ParseError, Run, RunCommand, RunNetwork, Source, Stage, Word,
};

const INSTRUCTIONS: &str =
    "FROM, ARG, RUN, COPY, ADD, ENV, LABEL, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD or MAINTAINER";

pub(crate) fn parse_file(text: &str) -> Result<Dockerfile, ParseError> {
    let mut lines = Lines::new(text);
    let mut meta_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    while let Some(logical) = lines.next_logical()? {
        let escape = lines.directives.escape;
        let (cmd, flags, args) = split_command(&logical.text, escape);
        if cmd.eq_ignore_ascii_case("from") {
            let stage = parse_from(&logical, &flags, &args, escape, stages.len())?;
            if let Some(name) = &stage.name {
                if stages.iter().any(|s| s.name.as_ref() == Some(name)) {
                    return Err(ParseError::new(
                        logical.start,
                        format!("duplicate stage name \"{name}\": each AS name must be unique"),
                    ));
                }
            }
            stages.push(stage);
            continue;
        }
        let ins = parse_instruction(&logical, &mut lines, &cmd, &flags, &args, escape)?;
        match stages.last_mut() {
            Some(stage) => stage.instructions.push(ins),
            None if matches!(ins.kind, Kind::Arg(_)) => meta_args.push(ins),
            None => {
                return Err(ParseError::new(
                    ins.line,
                    format!(
                        "{} before the first FROM: expected FROM (only ARG may come first)",
                        cmd.to_uppercase()
                    ),
                ))
            }
        }
    }
    if stages.is_empty() {
        return Err(ParseError::new(
            lines.line_number().max(1),
            "no FROM instruction: expected at least one build stage (FROM IMAGE)",
        ));
    }
    Ok(Dockerfile {
        directives: lines.directives,
        meta_args,
        stages,
    })
}

/// Parses one `ONBUILD` trigger read back from a base image's config (e.g.
/// `RUN echo hi`, `COPY . /app`), with the default escape character.
pub fn parse_trigger(text: &str) -> Result<Instruction, ParseError> {
    let mut lines = Lines::new(text);
    let Some(logical) = lines.next_logical()? else {
        return Err(ParseError::new(
            1,
            "empty ONBUILD trigger: expected an instruction",
        ));
    };
    let (cmd, flags, args) = split_command(&logical.text, '\\');
    check_trigger(&cmd, logical.start)?;
    let ins = parse_instruction(&logical, &mut lines, &cmd, &flags, &args, '\\')?;
    if let Some(extra) = lines.next_logical()? {
        return Err(ParseError::new(
            extra.start,
            "ONBUILD trigger holds more than one instruction: expected exactly one",
        ));
    }
    Ok(ins)
}

fn check_trigger(cmd: &str, line: usize) -> Result<(), ParseError> {
    match cmd.to_ascii_uppercase().as_str() {
        "ONBUILD" => Err(ParseError::new(
            line,
            "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        )),
        c @ ("FROM" | "MAINTAINER") => Err(ParseError::new(
            line,
            format!("{c} isn't allowed as an ONBUILD trigger"),
        )),
        _ => Ok(()),
    }
}

fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

fn parse_from(
    logical: &Logical,
    flags: &[String],
    args: &str,
    escape: char,
    index: usize,
) -> Result<Stage, ParseError> {
    let line = logical.start;
    let parsed = Flags::parse(line, "FROM", flags, &[("platform", FlagType::String)])?;
    let words = split_whitespace(args);
    let name = match words.len() {
        1 => None,
        3 if words[1].eq_ignore_ascii_case("as") => {
            let name = words[2].to_lowercase();
            if !valid_stage_name(&name) {
                return Err(ParseError::new(
                    line,
                    format!(
                        "invalid name for build stage: \"{}\", name can't start with a number or contain symbols",
                        words[2]
                    ),
                ));
            }
            Some(name)
        }
        _ => {
            return Err(ParseError::new(
                line,
                "FROM requires either one or three arguments: FROM IMAGE [AS NAME]",
            ))
        }
    };
    Ok(Stage {
        index,
        name,
        base: Word::new(words[0].clone(), escape),
        platform: parsed.string("platform").map(|p| Word::new(p, escape)),
        line,
        original: logical.text.trim_end().to_string(),
        instructions: Vec::new(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum FlagType {
    Bool,
    String,
    Strings,
}

/// BuildKit's BFlags: `--name=value` for strings, `--name[=true|false]` for
/// bools, each at most once except repeatable ones.
struct Flags {
    values: Vec<(String, String)>,
}

impl Flags {
    fn parse(
        line: usize,
        cmd: &str,
        args: &[String],
        spec: &[(&str, FlagType)],
    ) -> Result<Flags, ParseError> {
        let mut values: Vec<(String, String)> = Vec::new();
        let expected = || {
            if spec.is_empty() {
                format!("{cmd} takes no flags")
            } else {
                let names: Vec<String> = spec.iter().map(|(n, _)| format!("--{n}")).collect();
                format!("{cmd} accepts {}", names.join(", "))
            }
        };
        for arg in args {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(ParseError::new(
                    line,
                    format!("arg should start with -- : {arg}"),
                ));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(&(_, ty)) = spec.iter().find(|(n, _)| *n == name) else {
                return Err(ParseError::new(
                    line,
                    format!("unknown flag: --{name} ({})", expected()),
                ));
            };
            if ty != FlagType::Strings && values.iter().any(|(n, _)| n == name) {
                return Err(ParseError::new(
                    line,
                    format!("duplicate flag specified: --{name}"),
                ));
            }
            let value = match (ty, value) {
                (FlagType::Bool, None) => "true".to_string(),
                (FlagType::Bool, Some("")) => {
                    return Err(ParseError::new(
                        line,
                        format!("missing a value on flag: --{name}"),
                    ))
                }
                (FlagType::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                    "true" => "true".to_string(),
                    "false" => "false".to_string(),
                    _ => {
                        return Err(ParseError::new(
                            line,
                            format!("expecting boolean value for flag --{name}, not: {v}"),
                        ))
                    }
                },
                (_, None) => {
                    return Err(ParseError::new(
                        line,
                        format!("missing a value on flag: --{name} (expected --{name}=VALUE)"),
                    ))
                }
                (_, Some(v)) => v.to_string(),
            };
            values.push((name.to_string(), value));
        }
        Ok(Flags { values })
    }

    /// A string flag's value; `--name=` is the same as no flag, as in docker.
    fn string(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }

    fn strings(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn bool(&self, name: &str) -> bool {
        self.string(name).as_deref() == Some("true")
    }
}

/// BuildKit's reHeredoc `^(\d*)<<(-?)\s*([^<]*)$`: (delimiter as written,
/// chomp).
fn heredoc_word(word: &str) -> Option<(&str, bool)> {
    let digits = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    Some((rest, chomp))
}

/// The heredoc a word names: its delimiter without quotes, whether the body
/// is expanded (no part of the delimiter quoted), chomp.
fn heredoc_spec(word: &str) -> Result<Option<(String, bool, bool)>, String> {
    let Some((raw, chomp)) = heredoc_word(word) else {
        return Ok(None);
    };
    if parse_words(raw, '\\').len() != 1 {
        return Ok(None);
    }
    let name = crate::expand::heredoc_name(raw).map_err(|e| format!("heredoc <<{raw}: {e}"))?;
    if name.is_empty() {
        return Ok(None);
    }
    // A quote that is not escaped quotes (part of) the delimiter: sh then
    // leaves the body alone.
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' | '"' => {
                quoted = true;
                break;
            }
            _ => {}
        }
    }
    Ok(Some((name, !quoted, chomp)))
}

/// The line's words as BuildKit's lexer splits them for heredocs: `<<` takes
/// the blanks after it (`<< EOF` is one word).
fn heredoc_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue = false;
    for w in parse_words(text, '\\') {
        if glue {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(&w);
            }
            glue = false;
            continue;
        }
        let digits = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
        glue = matches!(&w[digits..], "<<" | "<<-");
        out.push(w);
    }
    out
}

fn read_heredocs(
    lines: &mut Lines,
    logical: &Logical,
    text: &str,
) -> Result<Vec<Heredoc>, ParseError> {
    let mut docs = Vec::new();
    if !text.contains("<<") {
        return Ok(docs);
    }
    for word in heredoc_words(text) {
        let spec = heredoc_spec(&word).map_err(|e| ParseError::new(logical.start, e))?;
        if let Some((name, expand, chomp)) = spec {
            let content = lines.heredoc(logical.start, &name, chomp)?;
            docs.push(Heredoc {
                name,
                content,
                expand,
                chomp,
            });
        }
    }
    Ok(docs)
}

fn missing(line: usize, cmd: &str, what: &str) -> ParseError {
    ParseError::new(line, format!("{cmd} requires {what}"))
}

fn parse_instruction(
    logical: &Logical,
    lines: &mut Lines,
    cmd: &str,
    flags: &[String],
    args: &str,
    escape: char,
) -> Result<Instruction, ParseError> {
    let line = logical.start;
    let upper = cmd.to_ascii_uppercase();
    let word = |s: &str| Word::new(s, escape);
    let no_flags = |flags: &[String]| Flags::parse(line, &upper, flags, &[]).map(|_| ());
    let kind = match upper.as_str() {
        "ARG" => {
            no_flags(flags)?;
            let words = parse_words(args, escape);
            if words.is_empty() {
                return Err(missing(
                    line,
                    "ARG",
                    "at least one argument: ARG NAME[=DEFAULT]",
                ));
            }
            let mut decls = Vec::new();
            for w in words {
                let (name, default) = match w.split_once('=') {
                    Some((n, d)) => (n.to_string(), Some(word(d))),
                    None => (w.clone(), None),
                };
                if name.is_empty() {
                    return Err(ParseError::new(
                        line,
                        "ARG names can not be blank: expected ARG NAME[=DEFAULT]",
                    ));
                }
                decls.push(ArgDecl { name, default });
            }
            Kind::Arg(decls)
        }
        "RUN" => {
            let f = Flags::parse(
                line,
                "RUN",
                flags,
                &[
                    ("mount", FlagType::Strings),
                    ("network", FlagType::String),
                    ("security", FlagType::String),
                ],
            )?;
            let network = match f.string("network").as_deref() {
                None => None,
                Some("default") => Some(RunNetwork::Default),
                Some("none") => Some(RunNetwork::None),
                Some("host") => Some(RunNetwork::Host),
                Some(other) => {
                    return Err(ParseError::new(
                        line,
                        format!("unsupported network mode \"{other}\": expected --network=default, none or host"),
                    ))
                }
            };
            let command = command(line, "RUN", args)?;
            let heredocs = match &command {
                Command::Shell(s) => read_heredocs(lines, logical, s)?,
                Command::Exec(_) => Vec::new(),
            };
            Kind::Run(Run {
                command,
                heredocs,
                network,
                mounts: f.strings("mount"),
                security: f.string("security"),
            })
        }
        "COPY" | "ADD" => {
            let spec: &[(&str, FlagType)] = if upper == "COPY" {
                &[
                    ("from", FlagType::String),
                    ("chown", FlagType::String),
                    ("chmod", FlagType::String),
                    ("link", FlagType::Bool),
                ]
            } else {
                &[
                    ("chown", FlagType::String),
                    ("chmod", FlagType::String),
                    ("link", FlagType::Bool),
                    ("checksum", FlagType::String),
                    ("keep-git-dir", FlagType::Bool),
                ]
            };
            let f = Flags::parse(line, &upper, flags, spec)?;
            let (list, json) = match parse_maybe_json(args).map_err(|e| ParseError::new(line, e))? {
                MaybeJson::Json(v) => (v, true),
                MaybeJson::Text(t) => (split_whitespace(&t), false),
            };
            let Some((dest, srcs)) = list.split_last().filter(|(_, srcs)| !srcs.is_empty()) else {
                return Err(missing(
                    line,
                    &upper,
                    &format!("at least two arguments: {upper} SOURCE... DEST (the destination could not be determined)"),
                ));
            };
            let heredocs = if json {
                Vec::new()
            } else {
                read_heredocs(lines, logical, args)?
            };
            if !json && matches!(heredoc_spec(dest), Ok(Some(_))) {
                return Err(ParseError::new(
                    line,
                    format!("{upper} cannot have a heredoc as a destination: expected a path"),
                ));
            }
            let mut sources = Vec::new();
            for s in srcs {
                match heredoc_spec(s).ok().flatten().filter(|_| !json) {
                    Some((name, _, _)) => {
                        let doc = heredocs
                            .iter()
                            .find(|d| d.name == name)
                            .cloned()
                            .ok_or_else(|| {
                                ParseError::new(line, format!("heredoc <<{name} has no body"))
                            })?;
                        sources.push(Source::Heredoc(doc));
                    }
                    None => sources.push(Source::Path(word(s))),
                }
            }
            let c = Copy {
                sources,
                dest: word(dest),
                from: f.string("from").map(|v| word(&v)),
                chown: f.string("chown").map(|v| word(&v)),
                chmod: f.string("chmod").map(|v| word(&v)),
                link: f.bool("link"),
                checksum: f.string("checksum").map(|v| word(&v)),
                keep_git_dir: f.bool("keep-git-dir"),
                json,
            };
            if upper == "COPY" {
                Kind::Copy(c)
            } else {
                Kind::Add(c)
            }
        }
        "ENV" | "LABEL" => {
            no_flags(flags)?;
            let pairs = name_values(line, &upper, args, escape)?;
            if upper == "ENV" {
                Kind::Env(pairs)
            } else {
                Kind::Label(pairs)
            }
        }
        "WORKDIR" | "USER" | "STOPSIGNAL" | "MAINTAINER" => {
            no_flags(flags)?;
            if args.is_empty() {
                return Err(missing(line, &upper, "exactly one argument"));
            }
            match upper.as_str() {
                "WORKDIR" => Kind::Workdir(word(args)),
                "USER" => Kind::User(word(args)),
                "STOPSIGNAL" => Kind::StopSignal(word(args)),
                _ => Kind::Maintainer(args.to_string()),
            }
        }
        "CMD" | "ENTRYPOINT" => {
            no_flags(flags)?;
            let c = command(line, &upper, args)?;
            if upper == "CMD" {
                Kind::Cmd(c)
            } else {
                Kind::Entrypoint(c)
            }
        }
        "EXPOSE" => {
            no_flags(flags)?;
            let mut ports = split_whitespace(args);
            // BuildKit sorts them as written (before expansion).
            ports.sort();
            if ports.is_empty() {
                return Err(missing(
                    line,
                    "EXPOSE",
                    "at least one argument: EXPOSE PORT[/PROTO]...",
                ));
            }
            Kind::Expose(ports.iter().map(|p| word(p)).collect())
        }
        "VOLUME" => {
            no_flags(flags)?;
            let list = match parse_maybe_json(args).map_err(|e| ParseError::new(line, e))? {
                MaybeJson::Json(v) => v,
                MaybeJson::Text(t) => split_whitespace(&t),
            };
            if list.is_empty() {
                return Err(missing(
                    line,
                    "VOLUME",
                    "at least one argument: VOLUME PATH...",
                ));
            }
            if list.iter().any(|v| v.trim().is_empty()) {
                return Err(ParseError::new(
                    line,
                    "VOLUME specified can not be an empty string: expected a path",
                ));
            }
            Kind::Volume(list.iter().map(|v| word(v.trim())).collect())
        }
        "SHELL" => {
            no_flags(flags)?;
            match parse_maybe_json(args).map_err(|e| ParseError::new(line, e))? {
                MaybeJson::Json(v) if !v.is_empty() => Kind::Shell(v),
                MaybeJson::Json(_) => return Err(missing(line, "SHELL", "at least one argument")),
                MaybeJson::Text(_) => {
                    return Err(missing(
                        line,
                        "SHELL",
                        "the arguments to be in JSON form: SHELL [\"executable\", \"param\"]",
                    ))
                }
            }
        }
        "HEALTHCHECK" => Kind::Healthcheck(healthcheck(line, flags, args)?),
        "ONBUILD" => {
            no_flags(flags)?;
            if args.is_empty() {
                return Err(missing(
                    line,
                    "ONBUILD",
                    "at least one argument: ONBUILD INSTRUCTION",
                ));
            }
            let (sub_cmd, sub_flags, sub_args) = split_command(args, escape);
            check_trigger(&sub_cmd, line)?;
            let sub = Logical {
                text: args.to_string(),
                start: logical.start,
                end: logical.end,
            };
            let inner = parse_instruction(&sub, lines, &sub_cmd, &sub_flags, &sub_args, escape)?;
            // The stored trigger carries its heredoc bodies, as BuildKit's.
            let mut trigger = args.to_string();
            let docs: Vec<&Heredoc> = match &inner.kind {
                Kind::Run(r) => r.heredocs.iter().collect(),
                Kind::Copy(c) | Kind::Add(c) => c
                    .sources
                    .iter()
                    .filter_map(|s| match s {
                        Source::Heredoc(h) => Some(h),
                        Source::Path(_) => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for doc in docs {
                trigger.push('\n');
                trigger.push_str(&doc.content);
                trigger.push_str(&doc.name);
            }
            Kind::Onbuild {
                trigger,
                instruction: Box::new(inner),
            }
        }
        "FROM" => {
            return Err(ParseError::new(
                line,
                "FROM isn't allowed here: expected it at the start of a stage",
            ))
        }
        _ => {
            return Err(ParseError::new(
                line,
                format!("unknown instruction: {cmd} (expected {INSTRUCTIONS})"),
            ))
        }
    };
    Ok(Instruction {
        line,
        end_line: lines.line_number().max(logical.end),
        original: logical.text.trim_end().to_string(),
        kind,
    })
}

/// Shell or JSON form; an empty command is an error.
fn command(line: usize, cmd: &str, args: &str) -> Result<Command, ParseError> {
    match parse_maybe_json(args).map_err(|e| ParseError::new(line, e))? {
        MaybeJson::Json(v) => Ok(Command::Exec(v)),
        MaybeJson::Text(t) if t.trim().is_empty() => Err(missing(
            line,
            cmd,
            "a command: shell form or a JSON array like [\"executable\", \"arg\"]",
        )),
        MaybeJson::Text(t) => Ok(Command::Shell(t)),
    }
}

/// BuildKit's parseNameVal: `k=v k2="v 2"` or the old `k v w` (the rest of
/// the line is the value).
fn name_values(
    line: usize,
    cmd: &str,
    args: &str,
    escape: char,
) -> Result<Vec<KeyValue>, ParseError> {
    let words = parse_words(args, escape);
    let Some(first) = words.first() else {
        return Err(missing(line, cmd, "at least one argument: NAME=VALUE ..."));
    };
    if !first.contains('=') {
        let Some(i) = args.find(char::is_whitespace) else {
            return Err(ParseError::new(
                line,
                format!("{cmd} must have two arguments: {cmd} NAME=VALUE"),
            ));
        };
        let (k, v) = (&args[..i], args[i..].trim_start());
        return Ok(vec![KeyValue {
            key: Word::new(k, escape),
            value: Word::new(v, escape),
        }]);
    }
    let mut out = Vec::new();
    for w in &words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(ParseError::new(
                line,
                format!("Syntax error - can't find = in \"{w}\". Must be of the form: name=value"),
            ));
        };
        if k.is_empty() {
            return Err(ParseError::new(
                line,
                format!("{cmd} names can not be blank: expected NAME=VALUE"),
            ));
        }
        out.push(KeyValue {
            key: Word::new(k, escape),
            value: Word::new(v, escape),
        });
    }
    Ok(out)
}

fn healthcheck(line: usize, flags: &[String], args: &str) -> Result<Healthcheck, ParseError> {
    let (typ, rest) = match args.find(char::is_whitespace) {
        Some(i) => (&args[..i], args[i..].trim_start()),
        None => (args, ""),
    };
    if typ.is_empty() {
        return Err(missing(
            line,
            "HEALTHCHECK",
            "at least one argument: HEALTHCHECK [OPTIONS] CMD command, or NONE",
        ));
    }
    match typ.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !rest.is_empty() {
                return Err(ParseError::new(line, "HEALTHCHECK NONE takes no arguments"));
            }
            Flags::parse(line, "HEALTHCHECK NONE", flags, &[])?;
            Ok(Healthcheck::None)
        }
        "CMD" => {
            let f = Flags::parse(
                line,
                "HEALTHCHECK",
                flags,
                &[
                    ("interval", FlagType::String),
                    ("timeout", FlagType::String),
                    ("start-period", FlagType::String),
                    ("start-interval", FlagType::String),
                    ("retries", FlagType::String),
                ],
            )?;
            let command = match parse_maybe_json(rest).map_err(|e| ParseError::new(line, e))? {
                MaybeJson::Json(v) if v.is_empty() => None,
                MaybeJson::Json(v) => Some(Command::Exec(v)),
                MaybeJson::Text(t) if t.trim().is_empty() => None,
                MaybeJson::Text(t) => Some(Command::Shell(t)),
            };
            let Some(command) = command else {
                return Err(ParseError::new(
                    line,
                    "Missing command after HEALTHCHECK CMD",
                ));
            };
            let interval = |name: &str| -> Result<Duration, ParseError> {
                let Some(v) = f.string(name) else {
                    return Ok(Duration::ZERO);
                };
                let d = parse_duration(&v).map_err(|e| {
                    ParseError::new(
                        line,
                        format!("--{name}: {e}: expected a duration like 30s, 1m30s or 500ms"),
                    )
                })?;
                if !d.is_zero() && d < Duration::from_millis(1) {
                    return Err(ParseError::new(
                        line,
                        format!("Interval \"{name}\" cannot be less than 1ms"),
                    ));
                }
                Ok(d)
            };
            let retries = match f.string("retries") {
                None => 0,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if n < 0 => {
                        return Err(ParseError::new(
                            line,
                            format!("--retries cannot be negative ({n})"),
                        ))
                    }
                    Ok(n) => u32::try_from(n).map_err(|_| {
                        ParseError::new(line, format!("--retries {n} is too large"))
                    })?,
                    Err(_) => {
                        return Err(ParseError::new(
                            line,
                            format!("--retries=\"{v}\": expected a whole number"),
                        ))
                    }
                },
            };
            Ok(Healthcheck::Check {
                command,
                interval: interval("interval")?,
                timeout: interval("timeout")?,
                start_period: interval("start-period")?,
                start_interval: interval("start-interval")?,
                retries,
            })
        }
        other => Err(ParseError::new(
            line,
            format!("Unknown type \"{other}\" in HEALTHCHECK (try CMD)"),
        )),
    }
}

/// Go's time.ParseDuration: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns us
/// µs ms s m h; negative durations are refused here.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let orig = s;
    let bad = || format!("time: invalid duration \"{orig}\"");
    let mut s = s;
    if let Some(r) = s.strip_prefix('+') {
        s = r;
    }
    if s.starts_with('-') {
        return Err(format!("time: negative duration \"{orig}\""));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let num_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let num = &s[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        let value: f64 = num.parse().map_err(|_| bad())?;
        s = &s[num_len..];
        let unit_len = s
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(s.len());
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration \"{orig}\"")),
            u => return Err(format!("time: unknown unit \"{u}\" in duration \"{orig}\"")),
        };
        total += value * nanos;
    }
    if total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

pub(crate) fn run_command(run: &Run) -> RunCommand {
    let script = match &run.command {
        Command::Exec(argv) => return RunCommand::Exec(argv.clone()),
        Command::Shell(s) => s,
    };
    let Some(first) = run.heredocs.first() else {
        return RunCommand::Shell(script.clone());
    };
    let lone = matches!(heredoc_spec(script.trim()), Ok(Some(_)));
    if lone {
        if first.content.starts_with("#!") {
            return RunCommand::Script {
                name: first.name.clone(),
                data: first.content.clone(),
            };
        }
        return RunCommand::Shell(first.content.clone());
    }
    let mut full = script.clone();
    for doc in &run.heredocs {
        full.push('\n');
        full.push_str(&doc.content);
        full.push_str(&doc.name);
    }
    RunCommand::Shell(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str], spec: &[(&str, FlagType)]) -> Result<Flags, ParseError> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Flags::parse(1, "X", &args, spec)
    }

    /// moby/buildkit instructions/bflag_test.go TestBuilderFlags.
    #[test]
    fn builder_flags() {
        let spec = [("str1", FlagType::String), ("bool1", FlagType::Bool)];
        assert!(flags(&[], &[]).is_ok());
        let f = flags(&[], &spec).unwrap();
        assert_eq!((f.string("str1"), f.bool("bool1")), (None, false));
        assert!(flags(&["--str1"], &spec).is_err());
        assert_eq!(flags(&["--str1="], &spec).unwrap().string("str1"), None);
        assert_eq!(
            flags(&["--str1=BYE"], &spec)
                .unwrap()
                .string("str1")
                .as_deref(),
            Some("BYE")
        );
        assert!(flags(&["--bool1"], &spec).unwrap().bool("bool1"));
        assert!(flags(&["--bool1=true"], &spec).unwrap().bool("bool1"));
        assert!(flags(&["--bool1=TRUE"], &spec).unwrap().bool("bool1"));
        assert!(!flags(&["--bool1=false"], &spec).unwrap().bool("bool1"));
        assert!(flags(&["--bool1=false1"], &spec).is_err());
        assert!(flags(&["--bool2"], &spec).is_err());
        let f = flags(&["--bool1", "--str1=BYE"], &spec).unwrap();
        assert_eq!(
            (f.string("str1").as_deref(), f.bool("bool1")),
            (Some("BYE"), true)
        );
        assert!(flags(&["-bool1"], &spec).is_err());
        let e = flags(&["--str1=a", "--str1=b"], &spec)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Dockerfile:1: duplicate flag specified: --str1")
        );
        let f = flags(&["--m=a", "--m=b"], &[("m", FlagType::Strings)]).unwrap();
        assert_eq!(f.strings("m"), vec!["a", "b"]);
    }

    #[test]
    fn go_durations() {
        assert_eq!(
            parse_duration("1h2m3.5s"),
            Ok(Duration::from_millis(3_723_500))
        );
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("1.5us"), Ok(Duration::from_nanos(1500)));
        assert_eq!(parse_duration("2µs"), Ok(Duration::from_nanos(2000)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1..2s").is_err());
    }
}
