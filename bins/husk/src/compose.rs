//! `husk compose`: docker compose's commands over the engine, daemonless.
//! The file is read by husk-compose; the engine's compose module makes
//! the project real; this file parses the command line, gets the images
//! (pulled or built) and prints docker compose's lines.

mod attached;
mod env;
mod exec;
mod follow;
mod run;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use husk_compose::{LoadOptions, Project, PullPolicy, Service};
use husk_engine::compose::{self, DownOptions, Progress, UpOptions};
use husk_engine::lifecycle;
use husk_engine::store::{Container, Paths};

#[derive(Args)]
pub struct ComposeArgs {
    /// Compose configuration files
    #[arg(short, long = "file")]
    pub file: Vec<PathBuf>,
    /// Project name
    #[arg(short, long = "project-name")]
    pub project_name: Option<String>,
    /// Specify a profile to enable
    #[arg(long)]
    pub profile: Vec<String>,
    /// Specify an alternate environment file
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Specify an alternate working directory (default: the first file's)
    #[arg(long)]
    pub project_directory: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

#[derive(Subcommand)]
pub enum ComposeCommand {
    /// Create and start containers
    Up(UpArgs),
    /// Stop and remove containers, networks
    Down(DownArgs),
    /// List containers
    Ps(ComposePsArgs),
    /// Parse, resolve and render compose file in canonical format
    Config(ConfigArgs),
    /// View output from containers
    Logs(ComposeLogsArgs),
    /// Stop services
    Stop(ServicesTimeoutArgs),
    /// Start services
    Start(ServicesArgs),
    /// Restart service containers
    Restart(ServicesTimeoutArgs),
    /// Pull service images
    Pull(ServicesArgs),
    /// Build or rebuild services
    Build(ServicesArgs),
    /// Execute a command in a running container
    Exec(exec::ComposeExecArgs),
    /// Run a one-off command on a service
    Run(run::ComposeRunArgs),
}

#[derive(Args)]
pub struct UpArgs {
    /// Detached mode: Run containers in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Stops all containers if any container was stopped. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit
    #[arg(long, value_name = "SERVICE")]
    pub exit_code_from: Option<String>,
    /// Attach to dependent containers too (default: only the services named)
    #[arg(long)]
    pub attach_dependencies: bool,
    /// Don't prefix the output with the container's name
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Build images before starting containers
    #[arg(long)]
    pub build: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for a container to stop when it is recreated, or stopped by Ctrl-C or an abort
    #[arg(short, long)]
    pub timeout: Option<u64>,
    /// Scale SERVICE to NUM instances; overrides the `scale` setting in the Compose file if present
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    pub services: Vec<String>,
}

#[derive(Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long, value_name = "TYPE", value_parser = ["local", "all"])]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for a container to stop
    #[arg(short, long)]
    pub timeout: Option<u64>,
}

#[derive(Args)]
pub struct ComposePsArgs {
    /// Show all stopped containers
    #[arg(short, long)]
    pub all: bool,
    /// Only display IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
}

#[derive(Args)]
pub struct ConfigArgs {
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct ComposeLogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(long)]
    pub tail: Option<usize>,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    pub services: Vec<String>,
}

#[derive(Args)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(Args)]
pub struct ServicesTimeoutArgs {
    /// Seconds to wait for a container to stop
    #[arg(short, long)]
    pub timeout: Option<u64>,
    pub services: Vec<String>,
}

/// docker compose's progress lines, on stderr as docker compose prints them.
struct Lines;

impl Progress for Lines {
    fn event(&mut self, kind: &str, name: &str, what: &str) {
        eprintln!(" {kind} {name}  {what}");
    }
}

fn load(a: &ComposeArgs) -> Result<Project> {
    let cwd = std::env::current_dir().context("read the current directory")?;
    let mut o = LoadOptions::new(cwd);
    o.files = a.file.clone();
    o.project_name = a.project_name.clone();
    o.project_dir = a.project_directory.clone();
    o.env = std::env::vars().collect();
    o.env_files = a.env_file.clone();
    o.profiles = a.profile.clone();
    let project = husk_compose::load(&o)?;
    for w in &project.warnings {
        eprintln!("WARN[0000] {w}");
    }
    Ok(project)
}

pub fn compose(p: &Paths, a: &ComposeArgs) -> Result<i32> {
    let project = load(a)?;
    match &a.command {
        ComposeCommand::Config(c) => config(&project, c),
        ComposeCommand::Up(u) => up(p, &project, u),
        ComposeCommand::Down(d) => {
            let o = DownOptions {
                volumes: d.volumes,
                remove_orphans: d.remove_orphans,
                timeout: d.timeout.map(Duration::from_secs),
            };
            compose::down(p, &project, &o, &mut Lines)?;
            match &d.rmi {
                Some(which) => remove_images(p, &project, which == "all"),
                None => Ok(0),
            }
        }
        ComposeCommand::Ps(o) => ps(p, &project, o),
        ComposeCommand::Logs(o) => follow::logs(p, &project, o),
        ComposeCommand::Exec(o) => exec::exec(p, &project, o),
        ComposeCommand::Run(o) => run::run(p, &project, o),
        ComposeCommand::Stop(o) => each(p, &project, &o.services, |c| {
            lifecycle::stop_with(p, &c.id, o.timeout.map(Duration::from_secs))?;
            Ok("Stopped")
        }),
        ComposeCommand::Restart(o) => each(p, &project, &o.services, |c| {
            lifecycle::stop_with(p, &c.id, o.timeout.map(Duration::from_secs))?;
            lifecycle::start(p, &c.id, &exe()?, None)?;
            Ok("Restarted")
        }),
        ComposeCommand::Start(o) => each(p, &project, &o.services, |c| {
            if lifecycle::reconcile(p, c)?.is_running() {
                return Ok("Running");
            }
            lifecycle::start(p, &c.id, &exe()?, None)?;
            Ok("Started")
        }),
        ComposeCommand::Pull(o) => {
            for s in project.services_for(&o.services)? {
                if let Some(image) = &s.image {
                    crate::pull::ensure(p, image, true)?;
                }
            }
            Ok(0)
        }
        ComposeCommand::Build(o) => {
            for s in project.services_for(&o.services)? {
                if s.build.is_some() {
                    build(p, &project, s)?;
                }
            }
            Ok(0)
        }
    }
}

fn exe() -> Result<PathBuf> {
    std::env::current_exe().context("locate the husk binary (/proc/self/exe)")
}

fn config(project: &Project, c: &ConfigArgs) -> Result<i32> {
    if c.quiet {
        return Ok(0);
    }
    if c.services {
        for s in project.active_services() {
            println!("{}", s.name);
        }
        return Ok(0);
    }
    print!("{}", project.canonical_yaml());
    Ok(0)
}

/// The image a service runs: docker compose's `<project>-<service>` for
/// a service built without an `image:`.
/// `down --rmi`: the services' images once their containers are gone;
/// `local` only those compose named itself (services that build with
/// no `image:`), `all` every one. Each image goes once; one that another
/// container still uses is reported and kept, as docker compose does.
fn remove_images(p: &Paths, project: &Project, all: bool) -> Result<i32> {
    let names: std::collections::BTreeSet<String> = project
        .services
        .values()
        .filter(|s| all || s.image.is_none())
        .map(|s| image_of(project, s))
        .collect();
    let store = husk_engine::images::open_write(&p.root)?;
    let mut failed = false;
    for name in names {
        match husk_engine::images::rmi(&store, &name, false) {
            Ok(_) => Lines.event("Image", &name, "Removed"),
            Err(husk_engine::Error::Image(husk_image::Error::NotFound { .. })) => {}
            Err(e) => {
                eprintln!("husk: image {name}: {}", husk_fs::Chain(&e));
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

fn image_of(project: &Project, s: &Service) -> String {
    s.image
        .clone()
        .unwrap_or_else(|| format!("{}-{}", project.name, s.name))
}

fn build(p: &Paths, project: &Project, s: &Service) -> Result<String> {
    use husk_engine::build::{BuildOptions, ContextSource, DockerfileSource};
    let Some(b) = &s.build else {
        bail!("service {} has no build section", s.name);
    };
    let tag = image_of(project, s);
    let context = project.project_dir.join(&b.context);
    let dockerfile = match (&b.dockerfile_inline, &b.dockerfile) {
        (Some(text), _) => Some(DockerfileSource::Text(text.clone())),
        (None, Some(f)) => Some(DockerfileSource::Path(context.join(f))),
        (None, None) => None,
    };
    let o = BuildOptions {
        context: ContextSource::Dir(context),
        dockerfile,
        tags: std::iter::once(tag.clone())
            .chain(b.tags.iter().cloned())
            .collect(),
        build_args: b
            .args
            .iter()
            .map(|(k, v)| v.as_ref().map_or_else(|| k.clone(), |v| format!("{k}={v}")))
            .collect(),
        target: b.target.clone(),
        no_cache: b.no_cache,
        pull: b.pull,
        network: b.network.clone(),
        labels: b.labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        platform: None,
        quiet: true,
        iidfile: None,
    };
    eprintln!(" Image {tag}  Building");
    husk_engine::build::build(p, &exe()?, o, &mut std::io::sink())
        .with_context(|| format!("build service {}", s.name))?;
    eprintln!(" Image {tag}  Built");
    Ok(tag)
}

/// The image each of `services` (and what they depend on) runs: built
/// or pulled when missing, as its pull_policy says (`build`: rebuild).
fn images_for(
    p: &Paths,
    project: &Project,
    services: &[String],
    rebuild: bool,
) -> Result<BTreeMap<String, String>> {
    let mut images = BTreeMap::new();
    for s in project.services_for(services)? {
        let image = image_of(project, s);
        let present = husk_image::Store::open_read(&p.root)
            .and_then(|st| st.resolve(&image))
            .is_ok();
        let policy = s.pull_policy;
        let build_now =
            s.build.is_some() && (rebuild || !present || policy == Some(PullPolicy::Build));
        if build_now {
            build(p, project, s)?;
        } else if policy == Some(PullPolicy::Always) || !present {
            if policy == Some(PullPolicy::Never) {
                bail!(
                    "service {}: image {image} is not here and pull_policy is never",
                    s.name
                );
            }
            crate::pull::ensure(p, &image, policy == Some(PullPolicy::Always))?;
        }
        images.insert(s.name.clone(), image);
    }
    Ok(images)
}

/// The project with `--scale SERVICE=NUM` applied, as docker compose
/// applies it: in place of the service's `scale` / `deploy.replicas`.
fn with_scale(project: &Project, scale: &[String]) -> Result<Project> {
    let mut p = project.clone();
    for s in scale {
        let parsed = s
            .split_once('=')
            .and_then(|(name, n)| Some((name, n.parse::<u32>().ok()?)));
        let Some((name, n)) = parsed else {
            bail!("--scale {s}: use SERVICE=NUM, e.g. --scale web=3");
        };
        let Some(svc) = p.services.get_mut(name) else {
            bail!("--scale {s}: no such service in the project");
        };
        svc.scale = Some(n);
    }
    Ok(p)
}

fn up(p: &Paths, project: &Project, u: &UpArgs) -> Result<i32> {
    let abort = u.abort_on_container_exit || u.exit_code_from.is_some();
    if u.detach && abort {
        bail!("--abort-on-container-exit and --exit-code-from cannot be used with -d (--detach): drop one");
    }
    if let Some(s) = &u.exit_code_from {
        if !project.services.contains_key(s) {
            bail!("--exit-code-from {s}: no such service in the project");
        }
    }
    let scaled = with_scale(project, &u.scale)?;
    let project = &scaled;
    let images = images_for(p, project, &u.services, u.build)?;
    let o = UpOptions {
        services: u.services.clone(),
        force_recreate: u.force_recreate,
        no_recreate: u.no_recreate,
        remove_orphans: u.remove_orphans,
        timeout: u.timeout.map(Duration::from_secs),
    };
    let since = chrono::Utc::now();
    let ids = compose::up(p, &exe()?, project, &images, &o, &mut Lines)?;
    if u.detach {
        return Ok(0);
    }
    let a = attached::Attach {
        abort,
        exit_code_from: u.exit_code_from.clone(),
        prefix: !u.no_log_prefix,
        timeout: o.timeout,
    };
    let only = if u.attach_dependencies {
        &[][..]
    } else {
        &u.services[..]
    };
    attached::attached(p, project, &ids, only, since, &a)
}

/// The project's containers of `services` (all when empty).
fn selected(p: &Paths, project: &Project, services: &[String]) -> Result<Vec<Container>> {
    for s in services {
        if !project.services.contains_key(s) {
            bail!("no such service: {s}");
        }
    }
    Ok(compose::containers(p, &project.name)?
        .into_iter()
        .filter(|c| services.is_empty() || services.iter().any(|s| s == compose::service_of(c)))
        .collect())
}

fn each(
    p: &Paths,
    project: &Project,
    services: &[String],
    f: impl Fn(&Container) -> Result<&'static str>,
) -> Result<i32> {
    let mut failed = 0;
    for c in selected(p, project, services)? {
        match f(&c) {
            Ok(what) => eprintln!(" Container {}  {what}", c.name),
            Err(e) => {
                eprintln!("husk: container {}: {e:#}", c.name);
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// docker compose ps: NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS.
fn ps(p: &Paths, project: &Project, o: &ComposePsArgs) -> Result<i32> {
    let mut rows = Vec::new();
    for c in compose::containers(p, &project.name)? {
        let c = lifecycle::reconcile(p, &c)?;
        if o.all || c.is_running() {
            rows.push(c);
        }
    }
    if o.services {
        let mut names: Vec<&str> = rows.iter().map(compose::service_of).collect();
        names.dedup();
        for n in names {
            println!("{n}");
        }
        return Ok(0);
    }
    if o.quiet {
        for c in &rows {
            println!("{}", c.id);
        }
        return Ok(0);
    }
    let now = chrono::Utc::now();
    let mut lines = vec!["NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS".to_string()];
    for c in &rows {
        let command = std::iter::once(c.path.as_str())
            .chain(c.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let created = husk_engine::format::since(Some(&c.created), now);
        lines.push(format!(
            "{}\t{}\t\"{}\"\t{}\t{}\t{}\t{}",
            c.name,
            c.config.image,
            husk_engine::format::ellipsis(&command, 20),
            compose::service_of(c),
            created,
            husk_engine::views::ps::status_text(c, now),
            husk_engine::views::ps::ports_text(c),
        ));
    }
    print!("{}", husk_engine::format::table::tabwrite(&lines));
    Ok(0)
}
