//! Command-line mistakes said as docker says them, on one line, exit 125:
//! clap's own errors (exit 2, several lines, `'--cpus <CPUS>'`) become
//! husk's, an unknown flag is named as one even where clap would take it
//! for the image or the container, and a docker command husk does not
//! have says what to use instead.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

/// docker's exit status for its own usage errors.
pub const USAGE_EXIT: i32 = 125;

/// Parses the command line; on a usage error prints one line and exits
/// 125 (help and version still print as clap does, exit 0).
pub fn parse() -> Cli {
    let args: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => fail(&clap_error_line(&e, &args)),
        },
    };
    if let Some(line) = misplaced_flag(&cli.command) {
        fail(&line);
    }
    cli
}

fn fail(line: &str) -> ! {
    eprintln!("husk: {line}");
    std::process::exit(USAGE_EXIT)
}

/// The verb the user typed (`run`, `volume`), for "see 'husk run --help'".
fn verb(args: &[String]) -> Option<String> {
    let cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    args.iter().skip(1).find(|a| names.contains(a)).cloned()
}

fn help_hint(args: &[String]) -> String {
    match verb(args) {
        Some(v) => format!("see 'husk {v} --help'"),
        None => "see 'husk --help'".into(),
    }
}

/// docker's words for a flag it does not know.
fn unknown_flag(flag: &str) -> String {
    match flag.strip_prefix('-') {
        Some(short) if !short.starts_with('-') && !short.is_empty() => {
            let c = short.chars().next().unwrap_or('-');
            format!("unknown shorthand flag: '{c}' in {flag}")
        }
        _ => format!("unknown flag: {}", flag.split('=').next().unwrap_or(flag)),
    }
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => Some(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `--cpus <CPUS>` → `--cpus`; `[IMAGE] ...` → `IMAGE`.
fn flag_name(arg: &str) -> String {
    let first = arg.split_whitespace().next().unwrap_or(arg);
    first
        .trim_end_matches("...")
        .trim_matches(|c| c == '<' || c == '>' || c == '[' || c == ']')
        .to_string()
}

fn clap_error_line(e: &clap::Error, args: &[String]) -> String {
    let hint = help_hint(args);
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let flag = context(e, ContextKind::InvalidArg).unwrap_or_default();
            format!("{}: {hint}", unknown_flag(&flag))
        }
        ErrorKind::InvalidSubcommand => {
            let name = context(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            match instead(&name) {
                Some(what) => format!("'{name}' is not a husk command yet: {what}"),
                None => format!("'{name}' is not a husk command: {hint}"),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = context(e, ContextKind::InvalidArg).map(|a| flag_name(&a));
            let value = context(e, ContextKind::InvalidValue).unwrap_or_default();
            let choices = context(e, ContextKind::ValidValue).filter(|v| !v.is_empty());
            if value.is_empty() && choices.is_none() && std::error::Error::source(e).is_none() {
                // pflag's words for `--time` with nothing after it.
                let arg = arg.unwrap_or_default();
                return format!("flag needs an argument: {arg}: {hint}");
            }
            let reason = std::error::Error::source(e)
                .map(ToString::to_string)
                .or_else(|| choices.map(|v| format!("use one of {v}")))
                .unwrap_or_else(|| "not accepted".into());
            match arg {
                Some(arg) => format!("invalid value {value:?} for {arg}: {reason}"),
                None => format!("invalid value {value:?}: {reason}"),
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let what = context(e, ContextKind::InvalidArg)
                .map(|a| a.split(", ").map(flag_name).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            let verb = verb(args).unwrap_or_default();
            format!("\"husk {verb}\" requires at least 1 argument ({what}): {hint}")
        }
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            let n = context(e, ContextKind::MinValues)
                .or_else(|| context(e, ContextKind::ExpectedNumValues))
                .unwrap_or_else(|| "more".into());
            let verb = verb(args).unwrap_or_default();
            format!("\"husk {verb}\" requires at least {n} arguments: {hint}")
        }
        _ => {
            // Anything else (a missing argument, a flag given twice): clap's
            // first line, without its "error: " and with flags named plainly.
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid command line")
                .trim_start_matches("error: ")
                .replace('\'', "");
            format!("{first}: {hint}")
        }
    }
}

/// run/create and exec take everything after their flags as one list (so
/// that `run busybox sh -c ...` stops parsing at the image, as docker's
/// does): a flag clap does not know lands there as the image or the
/// container. Here it is what it is: an unknown flag.
fn misplaced_flag(cmd: &Command) -> Option<String> {
    let (verb, first) = match cmd {
        Command::Run(a) => ("run", a.create.image_and_cmd.first()),
        Command::Create(a) => ("create", a.image_and_cmd.first()),
        Command::Exec(a) => ("exec", a.container_and_cmd.first()),
        _ => return None,
    };
    let first = first?;
    (first.starts_with('-') && first.len() > 1)
        .then(|| format!("{}: see 'husk {verb} --help'", unknown_flag(first)))
}

/// docker commands husk does not have (yet), and what to use meanwhile.
fn instead(name: &str) -> Option<&'static str> {
    Some(match name {
        "network" => "husk has docker's default bridge network only: choose with run --network bridge|none|host|container:NAME",
        "builder" | "buildx" => "'husk build' builds a Dockerfile (BuildKit's syntax, no builder instances)",
        "search" => "list a repository's tags with 'skopeo list-tags docker://REGISTRY/NAME'",
        "compose" | "swarm" | "service" | "stack" | "node" | "secret" | "config" | "plugin"
        | "context" | "trust" | "manifest" | "checkpoint" => "husk is a single-host engine without it",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match Cli::try_parse_from(&args) {
            Ok(cli) => misplaced_flag(&cli.command).unwrap_or_else(|| "parsed".into()),
            Err(e) => clap_error_line(&e, &args),
        }
    }

    #[test]
    fn unknown_flags_are_named_as_docker_names_them() {
        assert_eq!(
            line(&["husk", "run", "--restart-always", "busybox"]),
            "unknown flag: --restart-always: see 'husk run --help'"
        );
        assert_eq!(
            line(&["husk", "exec", "--privileged", "web", "true"]),
            "unknown flag: --privileged: see 'husk exec --help'"
        );
        assert_eq!(
            line(&["husk", "create", "-z", "busybox"]),
            "unknown shorthand flag: 'z' in -z: see 'husk create --help'"
        );
        assert_eq!(
            line(&["husk", "stop", "--bogus=1", "web"]),
            "unknown flag: --bogus: see 'husk stop --help'"
        );
        // After the image, flags belong to the container's command.
        assert_eq!(line(&["husk", "run", "busybox", "ls", "--bogus"]), "parsed");
    }

    #[test]
    fn value_errors_are_one_line() {
        assert_eq!(
            line(&["husk", "run", "--cpus", "abc", "busybox"]),
            "invalid value \"abc\" for --cpus: invalid float literal"
        );
        let l = line(&["husk", "save", "--format", "zip", "busybox"]);
        assert!(l.starts_with("invalid value \"zip\" for --format: "), "{l}");
        assert!(l.contains("docker-archive"), "{l}");
        assert_eq!(
            line(&["husk", "rm"]),
            "\"husk rm\" requires at least 1 argument (CONTAINERS): see 'husk rm --help'"
        );
        assert_eq!(
            line(&["husk", "exec", "web"]),
            "\"husk exec\" requires at least 2 arguments: see 'husk exec --help'"
        );
        assert_eq!(
            line(&["husk", "stop", "web", "--time"]),
            "flag needs an argument: --time: see 'husk stop --help'"
        );
    }

    #[test]
    fn missing_commands_say_what_to_use() {
        let l = line(&["husk", "search", "busybox"]);
        assert!(l.starts_with("'search' is not a husk command yet: "), "{l}");
        assert_eq!(
            line(&["husk", "frobnicate"]),
            "'frobnicate' is not a husk command: see 'husk --help'"
        );
    }
}
