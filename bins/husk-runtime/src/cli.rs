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
    /// Directory for container state
    #[arg(
        long,
        global = true,
        default_value = "/run/husk-runtime",
        env = "HUSK_RUNTIME_ROOT"
    )]
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
    resources: Option<PathBuf>,
    #[arg(long = "blkio-weight")]
    blkio_weight: Option<u16>,
    #[arg(long = "cpu-period")]
    cpu_period: Option<u64>,
    #[arg(long = "cpu-quota")]
    cpu_quota: Option<i64>,
    #[arg(long = "cpu-share", alias = "cpu-shares")]
    cpu_share: Option<u64>,
    #[arg(long = "cpu-rt-period")]
    cpu_rt_period: Option<u64>,
    #[arg(long = "cpu-rt-runtime")]
    cpu_rt_runtime: Option<i64>,
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with a unit: 400m, 1g; -1 for none)
    #[arg(long, allow_hyphen_values = true)]
    memory: Option<String>,
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    memory_reservation: Option<String>,
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    #[arg(long = "kernel-memory", allow_hyphen_values = true)]
    kernel_memory: Option<String>,
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// process.json with the process to run (instead of a command)
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Allocate a terminal
    #[arg(short, long)]
    tty: bool,
    #[arg(long = "console-socket")]
    console_socket: Option<PathBuf>,
    /// Return once the process has started
    #[arg(short, long)]
    detach: bool,
    #[arg(long = "pid-file")]
    pid_file: Option<PathBuf>,
    /// Set an environment variable (repeatable)
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Working directory inside the container
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// UID[:GID] to run as
    #[arg(short, long)]
    user: Option<String>,
    /// Additional group id (repeatable)
    #[arg(short = 'g', long = "additional-gids")]
    additional_gids: Vec<u32>,
    /// Add a capability (repeatable)
    #[arg(short, long = "cap")]
    cap: Vec<String>,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    preserve_fds: u32,
    /// Set no_new_privs for the process
    #[arg(long = "no-new-privs")]
    no_new_privs: bool,
    /// SELinux label for the process
    #[arg(long = "process-label")]
    process_label: Option<String>,
    /// AppArmor profile for the process
    #[arg(long)]
    apparmor: Option<String>,
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
    let rt = || Runtime::new(&cli.root, cli.systemd_cgroup);
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
        Command::List { quiet, format } => list(&rt()?, *quiet, format, &mut out)?,
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
            let process = exec_process(&rt, id, opts, command)?;
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
                let every = parse_duration(interval)?;
                rt.events(id, every, &mut out)?;
            }
        }
        Command::Update { id, res } => {
            let resources = update_resources(res)?;
            rt()?.update(id, &resources)?;
        }
        Command::Checkpoint { .. } | Command::Restore { .. } => {
            bail!("checkpoint/restore is not supported by husk-runtime (no CRIU integration)");
        }
        Command::Pause { id } => rt()?.pause(id)?,
        Command::Resume { id } => rt()?.resume(id)?,
        Command::Ps { id, format, ps_args } => {
            let pids = rt()?.pids(id)?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string(&pids)?)?;
            } else {
                ps_table(&pids, ps_args, &mut out)?;
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
        let pid = if *st == husk_state::Status::Stopped {
            0
        } else {
            s.pid
        };
        rows.push(vec![
            s.id.clone(),
            pid.to_string(),
            st.to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            if s.owner.is_empty() {
                "root".into()
            } else {
                s.owner.clone()
            },
        ]);
    }
    write!(out, "{}", crate::table::render(&rows, 12, 3))?;
    Ok(())
}

/// The process for `exec`: `--process FILE` as given, or runc's way of
/// building one from the container's own process plus the flags.
fn exec_process(
    rt: &Runtime,
    id: &str,
    a: &ExecArgs,
    command: &[String],
) -> Result<oci_spec::runtime::Process> {
    if let Some(f) = &a.process {
        if !command.is_empty() {
            bail!("exec: give either --process or a command, not both");
        }
        let data = std::fs::read(f).with_context(|| format!("read {}", f.display()))?;
        return serde_json::from_slice(&data)
            .with_context(|| format!("{}: invalid process", f.display()));
    }
    if command.is_empty() {
        bail!("exec: no command given (husk-runtime exec ID COMMAND [ARG...], or --process FILE)");
    }
    let mut p = rt.base_process(id)?;
    p.set_args(Some(command.to_vec()));
    p.set_terminal(Some(a.tty));
    p.set_console_size(None);
    let mut env = p.env().clone().unwrap_or_default();
    for e in &a.env {
        let key = e.split('=').next().unwrap_or_default();
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    p.set_env(Some(env));
    if let Some(cwd) = &a.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let uid: u32 = uid
            .parse()
            .with_context(|| format!("--user {u}: UID must be a number"))?;
        let mut user = p.user().clone();
        user.set_uid(uid);
        if let Some(g) = gid {
            user.set_gid(
                g.parse()
                    .with_context(|| format!("--user {u}: GID must be a number"))?,
            );
        }
        p.set_user(user);
    }
    if !a.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(a.additional_gids.clone()));
        p.set_user(user);
    }
    if !a.cap.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for name in &a.cap {
            let cap: oci_spec::runtime::Capability =
                serde_json::from_value(serde_json::json!(name))
                    .with_context(|| format!("--cap {name}: unknown capability"))?;
            for set in [
                caps.bounding().clone(),
                caps.effective().clone(),
                caps.permitted().clone(),
            ]
            .iter()
            .enumerate()
            {
                let mut s = set.1.clone().unwrap_or_default();
                s.insert(cap);
                match set.0 {
                    0 => caps.set_bounding(Some(s)),
                    1 => caps.set_effective(Some(s)),
                    _ => caps.set_permitted(Some(s)),
                };
            }
        }
        p.set_capabilities(Some(caps));
    }
    if a.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(l) = &a.process_label {
        p.set_selinux_label(Some(l.clone()));
    }
    if let Some(l) = &a.apparmor {
        p.set_apparmor_profile(Some(l.clone()));
    }
    Ok(p)
}

/// `5s`, `500ms`, `1m` or plain seconds, as runc's --interval takes them.
fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let bad = || anyhow::anyhow!("--interval {s:?}: use a duration like 5s or 500ms");
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if secs <= 0.0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// docker/runc memory sizes: bytes or a number with b, k, m, g, t (any
/// case, optional "b"/"ib"); -1 means unlimited.
pub fn parse_bytes(flag: &str, s: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("--{flag} {s:?}: use bytes or a size like 400m or 1g");
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.trim().to_ascii_lowercase();
    let lower = lower.trim_end_matches("ib").trim_end_matches('b');
    let (num, mult) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 1i64 << 10),
        Some('m') => (&lower[..lower.len() - 1], 1 << 20),
        Some('g') => (&lower[..lower.len() - 1], 1 << 30),
        Some('t') => (&lower[..lower.len() - 1], 1 << 40),
        _ => (lower, 1),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    if n < 0.0 {
        return Err(bad());
    }
    Ok((n * mult as f64) as i64)
}

fn update_resources(a: &UpdateArgs) -> Result<oci_spec::runtime::LinuxResources> {
    let mut v = match &a.resources {
        Some(p) => {
            let data = if p == Path::new("-") {
                let mut s = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut s)?;
                s
            } else {
                std::fs::read(p).with_context(|| format!("read {}", p.display()))?
            };
            serde_json::from_slice::<serde_json::Value>(&data)
                .with_context(|| format!("--resources {}: invalid JSON", p.display()))?
        }
        None => serde_json::json!({}),
    };
    let mut set = |section: &str, key: &str, val: serde_json::Value| {
        v[section][key] = val;
    };
    if let Some(x) = &a.memory {
        set("memory", "limit", parse_bytes("memory", x)?.into());
    }
    if let Some(x) = &a.memory_reservation {
        set(
            "memory",
            "reservation",
            parse_bytes("memory-reservation", x)?.into(),
        );
    }
    if let Some(x) = &a.memory_swap {
        set("memory", "swap", parse_bytes("memory-swap", x)?.into());
    }
    if let Some(x) = &a.kernel_memory {
        set("memory", "kernel", parse_bytes("kernel-memory", x)?.into());
    }
    if let Some(x) = a.cpu_share {
        set("cpu", "shares", x.into());
    }
    if let Some(x) = a.cpu_quota {
        set("cpu", "quota", x.into());
    }
    if let Some(x) = a.cpu_period {
        set("cpu", "period", x.into());
    }
    if let Some(x) = a.cpu_rt_runtime {
        set("cpu", "realtimeRuntime", x.into());
    }
    if let Some(x) = a.cpu_rt_period {
        set("cpu", "realtimePeriod", x.into());
    }
    if let Some(x) = &a.cpuset_cpus {
        set("cpu", "cpus", x.clone().into());
    }
    if let Some(x) = &a.cpuset_mems {
        set("cpu", "mems", x.clone().into());
    }
    if let Some(x) = a.pids_limit {
        set("pids", "limit", x.into());
    }
    if let Some(x) = a.blkio_weight {
        set("blockIO", "weight", x.into());
    }
    serde_json::from_value(v).context("resources: invalid LinuxResources")
}

/// runc's `ps` table: the host's ps(1) output, header plus the lines whose
/// PID column is one of the container's processes.
fn ps_table(pids: &[i32], args: &[String], out: &mut impl Write) -> Result<()> {
    let args: Vec<String> = if args.is_empty() {
        vec!["-ef".into()]
    } else {
        args.to_vec()
    };
    let o = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("run ps(1)")?;
    if !o.status.success() {
        bail!("ps {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim());
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| anyhow::anyhow!("ps {}: output has no PID column", args.join(" ")))?;
    writeln!(out, "{header}")?;
    for l in lines {
        let pid = l.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}
