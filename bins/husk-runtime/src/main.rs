//! husk-runtime: a runc-compatible OCI runtime. This file is the command
//! line only; the work happens in husk-process.

mod cli;
mod exec_args;
mod listing;
mod log;
mod table;
mod update_args;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Before we open anything ourselves: a closed fd in the preserved range
    // would otherwise be filled by one of ours and handed to the container.
    if let Some(n) = cli
        .command
        .as_ref()
        .map(|c| c.preserve_fds())
        .filter(|n| *n > 0)
    {
        if let Err(e) = husk_process::check_preserved_fds(n) {
            eprintln!("husk-runtime: {}", chain(&e.into()));
            return ExitCode::from(1);
        }
    }
    let logger = log::Logger::new(cli.log.as_deref(), &cli.log_format, cli.debug);
    // Anything that will put a process into a container first moves off
    // the host binary (CVE-2019-5736), once, before any other work.
    if cli.command.as_ref().is_some_and(|c| c.enters_container()) {
        if let Err(err) = husk_process::exe::ensure_protected() {
            logger.error(&format!(
                "cannot protect the runtime binary (CVE-2019-5736): {}",
                chain(&err.into())
            ));
            return ExitCode::from(1);
        }
    }
    match cli::dispatch(&cli, &logger) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            logger.error(&chain(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, joined by ": ". Our error types
/// keep their cause out of their message, so each is said once.
fn chain(e: &anyhow::Error) -> String {
    format!("{e:#}")
}
