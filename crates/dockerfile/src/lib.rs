//! Dockerfiles as docker's BuildKit frontend reads them (moby/buildkit
//! `frontend/dockerfile/parser`, `instructions` and `shell`), pure: no disk,
//! no kernel.
//!
//! - [`Dockerfile::parse`]: directives (`escape`, `syntax`), comments, line
//!   continuations, heredocs, shell and JSON forms, every instruction with its
//!   flags, grouped into [`Stage`]s. Errors are one line:
//!   `Dockerfile:LINE: what was expected`.
//! - Words are kept as written ([`Word`]) where docker expands them later at
//!   build time with the stage's ARG and ENV values; the executor calls
//!   [`Word::expand`] (or [`expand`]) with its own variable lookup.
//! - [`Dockerfile::needed_stages`]: the stages a `--target` needs.
//! - [`DockerIgnore`]: `.dockerignore` with moby/patternmatcher's rules.
//! - [`meta_args`] and [`StageScope`]: docker's ARG/ENV scoping, the lookup
//!   to expand with; [`expose_ports`], [`Command::argv`], [`Healthcheck::test`]:
//!   what instructions become in the image config.

mod config;
mod expand;
mod ignore;
mod instruction;
mod lines;
mod scope;
mod stages;
mod words;

pub use config::{default_shell, expose_ports};
pub use expand::{expand, expand_heredoc, expand_words, ExpandError};
pub use ignore::{DockerIgnore, IgnoreError};
pub use instruction::{parse_duration, parse_trigger};
pub use scope::{meta_args, unused_build_args, StageScope, PROXY_ARGS};

use std::time::Duration;

/// A Dockerfile syntax error: `Dockerfile:LINE: what was expected`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    /// The file name shown, "Dockerfile" unless [`ParseError::in_file`] changed it.
    pub file: String,
    /// 1-based line of the instruction (its first line).
    pub line: usize,
    pub message: String,
}

/// `--target` names no stage, or a stage reference is bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    #[error("target stage \"{target}\" could not be found: expected one of {names}")]
    TargetNotFound { target: String, names: String },
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl ParseError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            file: "Dockerfile".into(),
            line,
            message: message.into(),
        }
    }

    /// The same error naming another file (`-f build/Containerfile`).
    pub fn in_file(mut self, file: impl Into<String>) -> ParseError {
        self.file = file.into();
        self
    }
}

/// The directives at the top of the file (`# escape=`` ` ``, `# syntax=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// The escape character: `\` (default) or `` ` ``.
    pub escape: char,
    /// `# syntax=IMAGE`: accepted and ignored (the executor prints a note).
    pub syntax: Option<String>,
    /// `# check=...`: accepted and ignored.
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            escape: '\\',
            syntax: None,
            check: None,
        }
    }
}

/// A word as written in the Dockerfile (quotes and `$` references kept),
/// expanded at build time with the stage's ARG/ENV values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Word {
    pub raw: String,
    /// The file's escape character, which expansion honours.
    pub escape: char,
}

impl Word {
    pub fn new(raw: impl Into<String>, escape: char) -> Word {
        Word {
            raw: raw.into(),
            escape,
        }
    }

    /// Docker's ProcessWord: quote removal, escapes, `$V ${V} ${V:-x} ${V:+x}
    /// ${V:?msg} ${V-x} ${V+x} ${V?msg} ${V#p} ${V%p} ${V/p/r}`; unset
    /// variables expand to "". Pass [`StageScope::lookup`] for docker's
    /// ARG/ENV rules.
    pub fn expand(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
        expand(&self.raw, self.escape, lookup)
    }

    /// Expanded and split into fields (docker does this for EXPOSE only).
    pub fn expand_words(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, ExpandError> {
        expand_words(&self.raw, self.escape, lookup)
    }
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Directives,
    /// `ARG`s before the first `FROM` (usable only in `FROM` lines, and in a
    /// stage after an `ARG NAME` without value re-declares them).
    pub meta_args: Vec<Instruction>,
    pub stages: Vec<Stage>,
}

/// One `FROM` and the instructions up to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position; `COPY --from=N` names a stage by it.
    pub index: usize,
    /// `AS name`, lower-cased as docker does.
    pub name: Option<String>,
    /// The base as written: an image reference, `scratch`, or an earlier
    /// stage's name; expanded with the meta args (see [`Stage::base_ref`]).
    pub base: Word,
    /// `--platform=...` as written (expanded with the meta args).
    pub platform: Option<Word>,
    /// The `FROM` instruction's line and original text.
    pub line: usize,
    pub original: String,
    pub instructions: Vec<Instruction>,
}

/// What a stage's base is once expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseRef {
    Scratch,
    /// An earlier stage (its index).
    Stage(usize),
    /// An image reference (resolve locally or pull).
    Image(String),
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based first line of the instruction.
    pub line: usize,
    /// Last line (continuations and heredoc bodies included).
    pub end_line: usize,
    /// The instruction as written, continuation lines joined (BuildKit's
    /// `Node.Original`, trailing blanks dropped): for history entries and
    /// cache keys.
    pub original: String,
    pub kind: Kind,
}

/// The instruction and its parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
/// `FROM` is not here: it starts a [`Stage`].
pub enum Kind {
    Arg(Vec<ArgDecl>),
    Run(Run),
    Copy(Copy),
    Add(Copy),
    /// `ENV k=v ...` (or the old `ENV k v`): key and value words, expanded.
    Env(Vec<KeyValue>),
    /// `LABEL k=v ...`: expanded.
    Label(Vec<KeyValue>),
    /// Expanded.
    Workdir(Word),
    /// Expanded.
    User(Word),
    /// Not expanded (the shell, or nothing, sees it).
    Cmd(Command),
    Entrypoint(Command),
    /// Sorted as written; each word expanded into fields
    /// ([`Word::expand_words`]), then [`expose_ports`] (`80`, `80/tcp`,
    /// `8000-8010/udp`).
    Expose(Vec<Word>),
    /// Each path expanded.
    Volume(Vec<Word>),
    /// Expanded.
    StopSignal(Word),
    /// JSON form only, not expanded.
    Shell(Vec<String>),
    Healthcheck(Healthcheck),
    /// `ONBUILD INSTRUCTION`: `trigger` is the text stored in the image
    /// config's `OnBuild` list; `instruction` its parse (never FROM,
    /// MAINTAINER or ONBUILD).
    Onbuild {
        trigger: String,
        instruction: Box<Instruction>,
    },
    /// `MAINTAINER name` (deprecated): the config's `author`.
    Maintainer(String),
}

/// `NAME` or `NAME=default` of an ARG; the default is expanded with the
/// variables known at that point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<Word>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Word,
    pub value: Word,
}

/// Shell form (to run with the stage's SHELL, default `/bin/sh -c`) or exec
/// (JSON) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Shell(String),
    Exec(Vec<String>),
}

/// Heredoc body (`<<EOF` ... `EOF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter, quotes removed (`EOF` for `<<"EOF"`); COPY names the
    /// file it writes by it.
    pub name: String,
    /// The body, each line ending in `\n`; with `<<-` leading tabs removed.
    pub content: String,
    /// An unquoted delimiter: COPY expands `$V` in the body (see
    /// [`expand_heredoc`]); RUN leaves it to the shell.
    pub expand: bool,
    /// `<<-`.
    pub chomp: bool,
}

/// RUN's `--network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunNetwork {
    Default,
    None,
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The command as written (a heredoc RUN: `<<EOF` is its shell form).
    pub command: Command,
    /// Heredoc bodies in the order of their `<<` in the command.
    pub heredocs: Vec<Heredoc>,
    /// `--network=default|none|host` (`None` when not given).
    pub network: Option<RunNetwork>,
    /// `--mount=...` values as written (not supported by husk yet: the
    /// executor should refuse them with a clear message).
    pub mounts: Vec<String>,
    /// `--security=...` as written.
    pub security: Option<String>,
}

/// What RUN executes, after docker's heredoc handling (BuildKit's dispatchRun).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunCommand {
    /// Run `[SHELL..., script]`.
    Shell(String),
    /// Run this argv as is.
    Exec(Vec<String>),
    /// A single heredoc starting with `#!`: write `data` to a file named
    /// `name` (mode 0755) somewhere the container sees and run that path.
    Script { name: String, data: String },
}

/// A COPY or ADD source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path (or glob, or for ADD a URL) as written, expanded.
    Path(Word),
    /// `<<EOF`: a file named `name` with the heredoc's body.
    Heredoc(Heredoc),
}

/// COPY and ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub sources: Vec<Source>,
    /// Expanded.
    pub dest: Word,
    /// `--from=stage|index|image` (COPY only), expanded.
    pub from: Option<Word>,
    /// `--chown=user[:group]`, expanded.
    pub chown: Option<Word>,
    /// `--chmod=octal`, expanded.
    pub chmod: Option<Word>,
    /// `--link`.
    pub link: bool,
    /// `--checksum=sha256:...` (ADD only), expanded.
    pub checksum: Option<Word>,
    /// `--keep-git-dir` (ADD only).
    pub keep_git_dir: bool,
    /// JSON form was used.
    pub json: bool,
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check (`Test: ["NONE"]`).
    None,
    Check {
        /// `CMD` in either form (config `Test`: `["CMD-SHELL", s]` or
        /// `["CMD", argv...]`).
        command: Command,
        /// Zero when not given (docker stores 0: the defaults apply).
        interval: Duration,
        timeout: Duration,
        start_period: Duration,
        start_interval: Duration,
        retries: u32,
    },
}

impl Dockerfile {
    /// Parses a whole Dockerfile.
    pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
        instruction::parse_file(text)
    }

    /// The stage a `--target` names (case-insensitive), or the last one.
    pub fn target_stage(&self, target: Option<&str>) -> Result<usize, StageError> {
        stages::target_stage(self, target)
    }

    /// The stages building `target` (None: the last stage) needs, in file
    /// order: the target, every stage reached through `FROM <stage>` and
    /// `COPY --from=<stage|index>`, transitively. `lookup` gives the meta
    /// args (the ARGs before the first FROM with `--build-arg` applied), used
    /// to expand FROM lines and `--from` values.
    pub fn needed_stages(
        &self,
        target: Option<&str>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<usize>, StageError> {
        stages::needed_stages(self, target, lookup)
    }
}

impl Stage {
    /// The base once expanded with the meta args: `scratch`, an earlier
    /// stage (by name, case-insensitive), or an image reference.
    pub fn base_ref(
        &self,
        stages: &[Stage],
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<BaseRef, ParseError> {
        stages::base_ref(self, stages, lookup)
    }
}

impl Run {
    /// What to execute, following BuildKit's heredoc rules: a lone `<<EOF`
    /// with a `#!` body runs the body as a script file, a lone `<<EOF` runs
    /// the body with the shell, any other heredoc command gets its bodies
    /// appended so the shell reads them.
    pub fn run_command(&self) -> RunCommand {
        instruction::run_command(self)
    }
}
