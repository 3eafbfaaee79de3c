use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use husk_process::{CreateOptions, Runtime};

use crate::log::Logger;

#[derive(Parser, Debug)]
#[command(
    name = "husk-runtime",
    about = "A runc-compatible OCI container runtime",
    disable_version_flag = true,
    subcommand_required = false,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Directory for container state (default /run/husk-runtime, or
    /// $XDG_RUNTIME_DIR/husk-runtime when rootless)
    #[arg(long, global = true, env = "HUSK_RUNTIME_ROOT")]
    pub root: Option<PathBuf>,
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
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// Run a process inside a running container
    Exec {
        #[command(flatten)]
        opts: ExecArgs,
        id: String,
        /// The command and its arguments (everything after the id)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Print what this runtime supports (runtime-spec features.md)
    Features,
    /// Print stats (and OOM) events of a container as JSON lines
    Events {
        id: String,
        /// Print one stats event and exit
        #[arg(long)]
        stats: bool,
        /// Time between stats events (e.g. 5s, 500ms)
        #[arg(long, default_value = "5s")]
        interval: String,
    },
    /// Change the resource limits of a live container
    Update {
        id: String,
        #[command(flatten)]
        res: UpdateArgs,
    },
    /// Checkpoint a container (not supported)
    Checkpoint {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Restore a container (not supported)
    Restore {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Freeze every process of a container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// List a container's processes
    Ps {
        #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        id: String,
        /// Options for ps(1) in table format (default -ef)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
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

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// LinuxResources JSON file, or - for stdin
    #[arg(short = 'r', long = "resources")]
    pub(crate) resources: Option<PathBuf>,
    #[arg(long = "blkio-weight")]
    pub(crate) blkio_weight: Option<u16>,
    #[arg(long = "cpu-period")]
    pub(crate) cpu_period: Option<u64>,
    #[arg(long = "cpu-quota")]
    pub(crate) cpu_quota: Option<i64>,
    #[arg(long = "cpu-share", alias = "cpu-shares")]
    pub(crate) cpu_share: Option<u64>,
    #[arg(long = "cpu-rt-period")]
    pub(crate) cpu_rt_period: Option<u64>,
    #[arg(long = "cpu-rt-runtime")]
    pub(crate) cpu_rt_runtime: Option<i64>,
    #[arg(long = "cpuset-cpus")]
    pub(crate) cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems")]
    pub(crate) cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with a unit: 400m, 1g; -1 for none)
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) memory: Option<String>,
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub(crate) memory_reservation: Option<String>,
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub(crate) memory_swap: Option<String>,
    #[arg(long = "kernel-memory", allow_hyphen_values = true)]
    pub(crate) kernel_memory: Option<String>,
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub(crate) pids_limit: Option<i64>,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// process.json with the process to run (instead of a command)
    #[arg(short, long)]
    pub(crate) process: Option<PathBuf>,
    /// Allocate a terminal
    #[arg(short, long)]
    pub(crate) tty: bool,
    #[arg(long = "console-socket")]
    pub(crate) console_socket: Option<PathBuf>,
    /// Return once the process has started
    #[arg(short, long)]
    pub(crate) detach: bool,
    #[arg(long = "pid-file")]
    pub(crate) pid_file: Option<PathBuf>,
    /// Set an environment variable (repeatable)
    #[arg(short, long = "env")]
    pub(crate) env: Vec<String>,
    /// Working directory inside the container
    #[arg(long)]
    pub(crate) cwd: Option<PathBuf>,
    /// UID[:GID] to run as
    #[arg(short, long)]
    pub(crate) user: Option<String>,
    /// Additional group id (repeatable)
    #[arg(short = 'g', long = "additional-gids")]
    pub(crate) additional_gids: Vec<u32>,
    /// Add a capability (repeatable)
    #[arg(short, long = "cap")]
    pub(crate) cap: Vec<String>,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub(crate) preserve_fds: u32,
    /// Set no_new_privs for the process
    #[arg(long = "no-new-privs")]
    pub(crate) no_new_privs: bool,
    /// SELinux label for the process
    #[arg(long = "process-label")]
    pub(crate) process_label: Option<String>,
    /// AppArmor profile for the process
    #[arg(long)]
    pub(crate) apparmor: Option<String>,
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
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

impl Command {
    /// The `--preserve-fds` count of verbs that take it.
    pub fn preserve_fds(&self) -> u32 {
        match self {
            Command::Create { opts, .. } | Command::Run { opts, .. } => opts.preserve_fds,
            Command::Exec { opts, .. } => opts.preserve_fds,
            _ => 0,
        }
    }

    /// Verbs that end with a process inside a container's namespaces.
    pub fn enters_container(&self) -> bool {
        matches!(
            self,
            Command::Create { .. } | Command::Run { .. } | Command::Exec { .. }
        )
    }
}

/// runc's shape: "runc version X" first, then the spec and libseccomp.
pub fn version_text() -> String {
    let features = husk_process::features::features();
    let seccomp = features["annotations"]["io.github.seccomp.libseccomp.version"]
        .as_str()
        .unwrap_or("unknown")
        .to_string();
    format!(
        "husk-runtime version {}\nspec: 1.2.0\nlibseccomp: {seccomp}\n",
        env!("CARGO_PKG_VERSION")
    )
}

impl Cli {
    /// runc's rule: `--rootless true|false`, or for `auto` (the default)
    /// whether the caller is not root.
    pub fn is_rootless(&self) -> bool {
        match self.rootless.as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => !nix::unistd::geteuid().is_root(),
        }
    }

    /// `--root`, or where runc keeps state: /run for root, the user's
    /// runtime dir rootless.
    pub fn state_root(&self, rootless: bool) -> Result<PathBuf> {
        if let Some(r) = &self.root {
            return Ok(r.clone());
        }
        if !rootless {
            return Ok(PathBuf::from("/run/husk-runtime"));
        }
        match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            Some(d) => Ok(PathBuf::from(d).join("husk-runtime")),
            None => bail!(
                "rootless: no --root and XDG_RUNTIME_DIR is not set (pass --root DIR, a directory you own)"
            ),
        }
    }
}

pub fn dispatch(cli: &Cli, log: &Logger) -> Result<u8> {
    let Some(command) = &cli.command else {
        if cli.version {
            print!("{}", version_text());
            return Ok(0);
        }
        bail!("no command given (see husk-runtime --help)");
    };
    if cli.systemd_cgroup && !Path::new("/run/systemd/system").exists() {
        bail!(
            "--systemd-cgroup: systemd is not running on this host (drop the flag to use cgroupfs)"
        );
    }
    let rootless = cli.is_rootless();
    let rt = || -> Result<Runtime> {
        let root = cli.state_root(rootless)?;
        Ok(Runtime::new(&root, cli.systemd_cgroup)?.rootless(rootless))
    };
    let mut out = std::io::stdout().lock();
    match command {
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
        Command::List { quiet, format } => crate::listing::list(&rt()?, *quiet, format, &mut out)?,
        Command::Spec { bundle } => {
            let path = bundle.join("config.json");
            if path.exists() {
                bail!("{}: file exists (remove it first)", path.display());
            }
            let spec = if cli.rootless.as_deref() == Some("true") {
                husk_spec::rootless_spec(
                    nix::unistd::getuid().as_raw(),
                    nix::unistd::getgid().as_raw(),
                )
            } else {
                husk_spec::default_spec()
            };
            std::fs::write(&path, serde_json::to_vec_pretty(&spec)?)
                .with_context(|| format!("write {}", path.display()))?;
        }
        Command::Exec { opts, id, command } => {
            let rt = rt()?;
            let process = crate::exec_args::exec_process(&rt, id, opts, command)?;
            let code = rt.exec(
                id,
                &process,
                &husk_process::ExecOptions {
                    console_socket: opts.console_socket.clone(),
                    detach: opts.detach,
                    pid_file: opts.pid_file.as_ref().map(|p| absolute(p)),
                    preserve_fds: opts.preserve_fds,
                },
            )?;
            return Ok(code.clamp(0, 255) as u8);
        }
        Command::Features => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&husk_process::features::features())?
            )?;
        }
        Command::Events {
            id,
            stats,
            interval,
        } => {
            let rt = rt()?;
            if *stats {
                writeln!(out, "{}", rt.stats_event(id)?)?;
            } else {
                let every = crate::update_args::parse_duration(interval)?;
                rt.events(id, every, &mut out)?;
            }
        }
        Command::Update { id, res } => {
            let resources = crate::update_args::update_resources(res)?;
            rt()?.update(id, &resources)?;
        }
        Command::Checkpoint { .. } | Command::Restore { .. } => {
            bail!("checkpoint/restore is not supported by husk-runtime (no CRIU integration)");
        }
        Command::Pause { id } => rt()?.pause(id)?,
        Command::Resume { id } => rt()?.resume(id)?,
        Command::Ps {
            id,
            format,
            ps_args,
        } => {
            let pids = rt()?.pids(id)?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string(&pids)?)?;
            } else {
                crate::listing::ps_table(&pids, ps_args, &mut out)?;
            }
        }
    }
    Ok(0)
}
