//! `compose exec SERVICE CMD...`: `husk exec` in the service's container
//! number `--index` (1), with docker compose's defaults: stdin attached,
//! a terminal when ours is one (`-T`: none).

use std::io::IsTerminal;

use anyhow::{bail, Result};
use clap::Args;
use husk_compose::Project;
use husk_engine::compose;
use husk_engine::lifecycle::{self, exec::ExecOptions};
use husk_engine::store::Paths;

use super::env::env_values;
use crate::containers::RawTerminal;

#[derive(Args)]
pub struct ComposeExecArgs {
    /// Detached mode: Run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Disable pseudo-TTY allocation (default: a TTY when stdin is one)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open (always, as docker compose does; accepted)
    #[arg(short, long, hide = true)]
    pub interactive: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run the command as this user
    #[arg(short, long)]
    pub user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Give extended privileges to the process
    #[arg(long)]
    pub privileged: bool,
    /// SERVICE COMMAND [ARGS...]
    #[arg(
        value_name = "SERVICE COMMAND [ARGS...]",
        required = true,
        num_args = 2..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub service_and_cmd: Vec<String>,
}

pub(super) fn exec(p: &Paths, project: &Project, a: &ComposeExecArgs) -> Result<i32> {
    let Some((service, cmd)) = a.service_and_cmd.split_first() else {
        bail!("give a service and a command");
    };
    if !project.services.contains_key(service) {
        bail!("no such service: {service}");
    }
    let mine: Vec<_> = compose::containers(p, &project.name)?
        .into_iter()
        .filter(|c| compose::service_of(c) == service)
        .collect();
    let Some(c) = mine.iter().find(|c| compose::number_of(c) == a.index) else {
        if mine.is_empty() {
            bail!(
                "service {service} has no container: start it with `husk compose up -d {service}`"
            );
        }
        let have: Vec<String> = mine
            .iter()
            .map(|c| compose::number_of(c).to_string())
            .collect();
        bail!(
            "service {service} has no container with index {}: it has {}",
            a.index,
            have.join(", ")
        );
    };
    let c = lifecycle::reconcile(p, c)?;
    if !c.is_running() {
        bail!(
            "service {service} is not running (container {} has exited): start it with `husk compose up -d {service}`",
            c.name
        );
    }
    let tty = !a.no_tty && !a.detach && std::io::stdin().is_terminal();
    let o = ExecOptions {
        env: env_values(&a.env),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        detach: a.detach,
        interactive: !a.detach,
        tty,
    };
    let _raw = if tty {
        Some(RawTerminal::enter()?)
    } else {
        None
    };
    let run = if a.privileged {
        lifecycle::exec::exec_privileged
    } else {
        lifecycle::exec::exec
    };
    match run(p, &c.id, cmd, &o) {
        Ok(code) => Ok(code),
        // The command's own failure (not found: 127, not executable:
        // 126) is its exit status, as with `husk exec`.
        Err(e) => {
            drop(_raw);
            eprintln!("husk: {}", husk_fs::Chain(&e));
            Ok(e.exit_code())
        }
    }
}
