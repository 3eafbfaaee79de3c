use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{ArgAction, Parser, Subcommand};
use husk_process::{CreateOptions, Runtime};

use crate::log::Logger;

#[derive(Parser, Debug)]
#[command(
    name = "husk-runtime",
    about = "A runc-compatible OCI container runtime",
    version = concat!(env!("CARGO_PKG_VERSION"), "\nspec: 1.2.0"),
    disable_version_flag = true
)]
pub struct Cli {
    /// Directory for container state
    #[arg(long, global = true, default_value = "/run/husk-runtime", env = "HUSK_RUNTIME_ROOT")]
    pub root: PathBuf,
    /// Log file (errors also go to stderr)
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long = "log-format", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Log debug messages too
    #[arg(long, global = true)]
    pub debug: bool,
    /// Manage cgroups through systemd (slice:prefix:name paths)
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: true, false or auto
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true",
          value_parser = ["true", "false", "auto"])]
    pub rootless: Option<String>,
    /// Print the version
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a container (its process waits for `start`)
    Create {
        id: String,
        #[command(flatten)]
        opts: CreateArgs,
    },
    /// Start a created container
    Start { id: String },
    /// Create and start a container, and wait for it unless detached
    Run {
        id: String,
        #[command(flatten)]
        opts: CreateArgs,
        /// Return once the container has started
        #[arg(short = 'd', long)]
        detach: bool,
    },
    /// Print a container's state as JSON
    State { id: String },
    /// Send a signal to a container's init (default SIGTERM)
    Kill {
        id: String,
        #[arg(default_value = "SIGTERM")]
        signal: String,
        /// Signal every process of the container
        #[arg(short, long)]
        all: bool,
    },
    /// Delete a container and everything it holds
    Delete {
        id: String,
        /// Kill it first if it is running; succeed if it is gone
        #[arg(short, long)]
        force: bool,
    },
    /// List containers
    List {
        /// Print ids only
        #[arg(short, long)]
        quiet: bool,
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Write a default config.json
    Spec {
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
    },
    /// Freeze every process of a container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// List a container's processes
    Ps {
        id: String,
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Bundle directory (config.json and rootfs)
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Write the init's host pid here
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    /// Unix socket that receives the pty master of a terminal container
    #[arg(long = "console-socket")]
    console_socket: Option<PathBuf>,
    /// Use MS_MOVE and chroot instead of pivot_root
    #[arg(long = "no-pivot")]
    no_pivot: bool,
    /// Do not create a session keyring for the container
    #[arg(long = "no-new-keyring")]
    no_new_keyring: bool,
    /// Pass N extra fds (3..3+N) to the container
    #[arg(long = "preserve-fds", default_value_t = 0)]
    preserve_fds: u32,
}

impl CreateArgs {
    fn options(&self) -> CreateOptions {
        CreateOptions {
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.as_ref().map(|p| absolute(p)),
            console_socket: self.console_socket.clone(),
            no_pivot: self.no_pivot,
            no_new_keyring: self.no_new_keyring,
            preserve_fds: self.preserve_fds,
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

impl Command {
    /// Verbs that end with a process inside a container's namespaces.
    pub fn enters_container(&self) -> bool {
        matches!(self, Command::Create { .. } | Command::Run { .. })
    }
}

pub fn dispatch(cli: &Cli, log: &Logger) -> Result<u8> {
    if cli.systemd_cgroup && !Path::new("/run/systemd/system").exists() {
        bail!("--systemd-cgroup: systemd is not running on this host (drop the flag to use cgroupfs)");
    }
    let rt = || Runtime::new(&cli.root, cli.systemd_cgroup);
    let mut out = std::io::stdout().lock();
    match &cli.command {
        Command::Create { id, opts } => {
            log.debug(&format!("create {id} bundle {}", opts.bundle.display()));
            rt()?.create(id, &opts.options())?;
        }
        Command::Start { id } => rt()?.start(id)?,
        Command::Run { id, opts, detach } => {
            let code = rt()?.run(id, &opts.options(), *detach)?;
            return Ok(code.clamp(0, 255) as u8);
        }
        Command::State { id } => {
            let s = rt()?.state(id)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&s)?)?;
        }
        Command::Kill { id, signal, all } => {
            let sig = husk_process::signal::parse(signal)?;
            rt()?.kill(id, sig, *all)?;
        }
        Command::Delete { id, force } => rt()?.delete(id, *force)?,
        Command::List { quiet, format } => list(&rt()?, *quiet, format, &mut out)?,
        Command::Spec { bundle } => {
            let path = bundle.join("config.json");
            if path.exists() {
                bail!("{}: file exists (remove it first)", path.display());
            }
            let spec = if cli.rootless.as_deref() == Some("true") {
                husk_spec::rootless_spec(nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw())
            } else {
                husk_spec::default_spec()
            };
            std::fs::write(&path, serde_json::to_vec_pretty(&spec)?)
                .with_context(|| format!("write {}", path.display()))?;
        }
        Command::Pause { id } => rt()?.pause(id)?,
        Command::Resume { id } => rt()?.resume(id)?,
        Command::Ps { id, format } => {
            let pids = rt()?.pids(id)?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string(&pids)?)?;
            } else {
                writeln!(out, "PID")?;
                for p in pids {
                    writeln!(out, "{p}")?;
                }
            }
        }
    }
    Ok(0)
}

fn list(rt: &Runtime, quiet: bool, format: &str, out: &mut impl Write) -> Result<()> {
    let all = rt.list()?;
    if quiet {
        for (s, _) in &all {
            writeln!(out, "{}", s.id)?;
        }
        return Ok(());
    }
    if format == "json" {
        let v: Vec<_> = all.iter().map(|(s, st)| s.oci_json(*st)).collect();
        writeln!(out, "{}", serde_json::to_string(&v)?)?;
        return Ok(());
    }
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    for (s, st) in &all {
        let pid = if *st == husk_state::Status::Stopped { 0 } else { s.pid };
        rows.push(vec![
            s.id.clone(),
            pid.to_string(),
            st.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            if s.owner.is_empty() { "root".into() } else { s.owner.clone() },
        ]);
    }
    write!(out, "{}", crate::table::render(&rows, 12, 3))?;
    Ok(())
}
