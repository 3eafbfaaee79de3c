//! `compose run SERVICE [CMD...]`: a one-off container of the service
//! (the engine's compose::create_oneoff), its dependencies brought up
//! first unless `--no-deps`, run in the foreground like `husk run`
//! (stdin attached, a terminal when ours is one, `-T`: none), its exit
//! code ours; `-d` prints its name and leaves it running.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;

use anyhow::{bail, Result};
use clap::Args;
use husk_compose::Project;
use husk_engine::compose::{self, RunOptions, UpOptions};
use husk_engine::lifecycle::{self, logs, logs::AttachOptions, logs::Outcome};
use husk_engine::store::Paths;

use super::env::env_values;
use super::{exe, images_for, Lines};
use crate::containers::RawTerminal;

#[derive(Args)]
pub struct ComposeRunArgs {
    /// Run container in background and print container name
    #[arg(short, long)]
    pub detach: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Run as specified username or uid
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Publish a container's port(s) to the host
    #[arg(short, long = "publish")]
    pub publish: Vec<String>,
    /// Disable pseudo-TTY allocation (default: a TTY when stdin is one)
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open (always, as docker compose does; accepted)
    #[arg(short, long, hide = true)]
    pub interactive: bool,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(long)]
    pub service_ports: bool,
    /// Build image before starting container
    #[arg(long)]
    pub build: bool,
    /// SERVICE [COMMAND] [ARGS...]
    #[arg(
        value_name = "SERVICE [COMMAND] [ARGS...]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub service_and_cmd: Vec<String>,
}

pub(super) fn run(p: &Paths, project: &Project, a: &ComposeRunArgs) -> Result<i32> {
    let Some((service, cmd)) = a.service_and_cmd.split_first() else {
        bail!("give a service to run");
    };
    let Some(svc) = project.services.get(service) else {
        bail!(
            "no such service: {service} (the file has {})",
            project
                .services
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let exe = exe()?;
    if !a.no_deps {
        // Only the dependencies there are: an optional one that is not
        // in the file is started without, as `up` does.
        let deps: Vec<String> = svc
            .depends_on
            .keys()
            .filter(|d| project.services.contains_key(*d))
            .cloned()
            .collect();
        if !deps.is_empty() {
            let images = images_for(p, project, &deps, false)?;
            let o = UpOptions {
                services: deps,
                ..Default::default()
            };
            compose::up(p, &exe, project, &images, &o, &mut Lines)?;
        }
    }
    let images = images_for(p, project, std::slice::from_ref(service), a.build)?;
    let Some(image) = images.get(service) else {
        bail!("service {service}: no image to run");
    };
    let entrypoint = match &a.entrypoint {
        Some(e) => Some(
            husk_compose::split_words(e)
                .map_err(|why| anyhow::anyhow!("--entrypoint {e:?}: {why}"))?,
        ),
        None => None,
    };
    let tty = !a.no_tty && !a.detach && std::io::stdin().is_terminal();
    let o = RunOptions {
        name: a.name.clone(),
        command: (!cmd.is_empty()).then(|| cmd.to_vec()),
        entrypoint,
        env: env_values(&a.env),
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        publish: a.publish.clone(),
        service_ports: a.service_ports,
        no_deps: a.no_deps,
        auto_remove: a.rm,
        tty,
        interactive: !a.detach,
        detach: a.detach,
    };
    let c = compose::create_oneoff(p, project, service, image, &o, &mut Lines)?;
    if a.detach {
        if let Err(e) = lifecycle::start(p, &c.id, &exe, None) {
            if a.rm {
                let _ = lifecycle::remove(p, &c.id, true);
            }
            return Err(e.into());
        }
        println!("{}", c.name);
        return Ok(0);
    }
    let stdin = std::io::stdin();
    let mut started = match lifecycle::start_attached(p, &c.id, &exe, Some(stdin.as_fd()), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("husk: {}", husk_fs::Chain(&e));
            // --rm: a one-off that never ran is not left behind either.
            if a.rm {
                let _ = lifecycle::remove(p, &c.id, true);
            }
            return Ok(e.exit_code());
        }
    };
    let raw = if tty {
        Some(RawTerminal::enter()?)
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let id = c.id.clone();
    let mut forward = |sig: i32| {
        if let Err(e) = lifecycle::kill(p, &id, &sig.to_string()) {
            eprintln!("husk: forward signal {sig}: {}", husk_fs::Chain(&e));
        }
    };
    let ao = AttachOptions {
        sig_proxy: true,
        resize: tty.then_some(started.monitor.id() as i32),
    };
    let outcome = logs::attach(
        &p.log(&c.id),
        &mut started,
        &ao,
        &mut forward,
        &mut out,
        &mut err,
    );
    drop(raw);
    let _ = out.flush();
    match outcome {
        Outcome::Exited(code) => Ok(code),
        Outcome::Detached => Ok(0),
        Outcome::Lost => {
            let _ = started.monitor.wait();
            bail!(
                "the monitor of container {} died before reporting its exit: see `husk ps -a`",
                c.name
            )
        }
    }
}
