//! The lifecycle verbs: create, start (through the monitor), stop, kill,
//! rm, wait, and the reconciliation every command runs first.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use husk_image::Store;

use super::runtime::Runtime;
use super::{monitor, names, proc, Container, ContainerConfig, HostConfig, Paths, State, Status};
use crate::{Error, Result};

/// Everything `husk create`/`run` takes besides the engine paths.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    pub cmd: Vec<String>,
    pub name: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub labels: Vec<String>,
    /// docker's `-m` text: `400m`, `1g`, `1048576`.
    pub memory: Option<String>,
    pub pids_limit: Option<i64>,
    /// `--cpus 1.5`.
    pub cpus: Option<f64>,
    pub cpu_shares: Option<i64>,
    /// `none` or `host`.
    pub network: Option<String>,
    pub auto_remove: bool,
    pub runtime: Option<PathBuf>,
    /// `--security-opt`: only `seccomp=unconfined` is understood yet.
    pub security_opt: Vec<String>,
    /// `-v HOST:CONTAINER[:ro|rw]` (host paths only; named volumes later).
    pub volumes: Vec<String>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

/// Checks one `-v` bind and creates a missing host directory, as docker does.
fn check_bind(v: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--volume",
        value: v.to_string(),
        reason: reason.to_string(),
    };
    let parts: Vec<&str> = v.split(':').collect();
    let (host, ctr, mode) = match parts.as_slice() {
        [h, c] => (*h, *c, "rw"),
        [h, c, m] => (*h, *c, *m),
        _ => return Err(bad("use HOST-PATH:CONTAINER-PATH[:ro|rw]")),
    };
    if !host.starts_with('/') {
        return Err(bad("named volumes are not supported yet: give an absolute host path"));
    }
    if !ctr.starts_with('/') || ctr == "/" {
        return Err(bad("the container path must be absolute and not /"));
    }
    if mode != "ro" && mode != "rw" {
        return Err(bad("the mode must be ro or rw"));
    }
    if !Path::new(host).exists() {
        std::fs::create_dir_all(host).map_err(|e| Error::io("create", host, e))?;
    }
    Ok(())
}

/// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`.
fn cap_name(c: &str) -> Result<String> {
    let up = c.to_ascii_uppercase();
    let up = up.strip_prefix("CAP_").unwrap_or(&up).to_string();
    if up == "ALL" || super::spec::ALL_CAPS.contains(&format!("CAP_{up}").as_str()) {
        Ok(up)
    } else {
        Err(Error::InvalidFlag {
            flag: "--cap-add/--cap-drop",
            value: c.to_string(),
            reason: "unknown capability".into(),
        })
    }
}

/// docker's RAMInBytes: binary units b, k, m, g, t, p with an optional `b`.
pub fn parse_memory(s: &str) -> Result<i64> {
    let bad = |reason: &str| Error::InvalidFlag {
        flag: "--memory",
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad("not a size"))?;
    let mult: f64 = match unit.trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(bad("unknown unit: use b, k, m, g, t or p")),
    };
    if unit.len() > 2 {
        return Err(bad("unknown unit: use b, k, m, g, t or p"));
    }
    let bytes = (n * mult) as i64;
    // The kernel's floor; docker refuses less than 6MB too.
    if bytes < 6 * 1024 * 1024 {
        return Err(bad("minimum memory limit allowed is 6MB"));
    }
    Ok(bytes)
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map(|(k, _)| k).unwrap_or(e)
}

/// Creates the record and its directories; nothing runs yet.
pub fn create(paths: &Paths, o: &CreateOptions) -> Result<Container> {
    let memory = o
        .memory
        .as_deref()
        .map(parse_memory)
        .transpose()?
        .unwrap_or(0);
    let network = o.network.clone().unwrap_or_else(|| "none".into());
    if network != "none" && network != "host" {
        return Err(Error::InvalidFlag {
            flag: "--network",
            value: network,
            reason: "only none and host exist yet".into(),
        });
    }
    for v in &o.volumes {
        check_bind(v)?;
    }
    let cap_add = o.cap_add.iter().map(|c| cap_name(c)).collect::<Result<Vec<_>>>()?;
    let cap_drop = o.cap_drop.iter().map(|c| cap_name(c)).collect::<Result<Vec<_>>>()?;
    let mut seccomp = true;
    for opt in &o.security_opt {
        match opt.replace(':', "=").as_str() {
            "seccomp=unconfined" => seccomp = false,
            _ => {
                return Err(Error::InvalidFlag {
                    flag: "--security-opt",
                    value: opt.clone(),
                    reason: "only seccomp=unconfined is supported yet".into(),
                })
            }
        }
    }
    if let Some(n) = &o.name {
        let n = n.strip_prefix('/').unwrap_or(n);
        if !names::valid_name(n) {
            return Err(Error::InvalidName { name: n.into() });
        }
    }
    let runtime = match &o.runtime {
        Some(p) => p.clone(),
        None => super::runtime::default_binary()?,
    };
    let runtime = std::path::absolute(&runtime).map_err(|e| Error::io("resolve", &runtime, e))?;

    // The shared image lock is held until the record exists, so `rmi`
    // (exclusive) cannot remove the image in between.
    let store = Store::open_read(&paths.root)?;
    let img = store.resolve(&o.image)?;
    let cfg = store.oci_config(&img)?;
    let lower_dirs = store
        .lowerdirs(&img)?
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let icfg = cfg.config().clone().unwrap_or_default();

    let mut env: Vec<String> = icfg.env().clone().unwrap_or_default();
    for e in &o.env {
        // `-e NAME` without a value takes the caller's, as docker does.
        let e = if e.contains('=') {
            e.clone()
        } else {
            match std::env::var(e) {
                Ok(v) => format!("{e}={v}"),
                Err(_) => continue,
            }
        };
        env.retain(|x| env_key(x) != env_key(&e));
        env.push(e);
    }
    let (entrypoint, cmd) = match &o.entrypoint {
        Some(ep) if ep.is_empty() => (Vec::new(), o.cmd.clone()),
        Some(ep) => (vec![ep.clone()], o.cmd.clone()),
        None => (
            icfg.entrypoint().clone().unwrap_or_default(),
            if o.cmd.is_empty() {
                icfg.cmd().clone().unwrap_or_default()
            } else {
                o.cmd.clone()
            },
        ),
    };
    let mut argv = entrypoint.clone();
    argv.extend(cmd.iter().cloned());
    let mut labels: BTreeMap<String, String> = icfg
        .labels()
        .clone()
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    for l in &o.labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        labels.insert(k.to_string(), v.to_string());
    }

    let _lock = paths.lock()?;
    let existing = paths.all()?;
    let mut id = names::new_id();
    while existing.iter().any(|c| c.id.starts_with(&id[..12])) {
        id = names::new_id();
    }
    if argv.is_empty() {
        return Err(Error::NoCommand { id });
    }
    let name = match &o.name {
        Some(n) => {
            let n = n.strip_prefix('/').unwrap_or(n).to_string();
            if let Some(c) = existing.iter().find(|c| c.name == n) {
                return Err(Error::NameInUse {
                    name: n,
                    id: c.id.clone(),
                });
            }
            n
        }
        None => (0..)
            .map(names::random_name)
            .find(|n| !existing.iter().any(|c| &c.name == n))
            .unwrap_or_else(|| id[..12].to_string()),
    };
    let c = Container {
        name,
        created: proc::now_rfc3339(),
        path: argv[0].clone(),
        args: argv[1..].to_vec(),
        image_id: img.id.to_string(),
        lower_dirs,
        config: ContainerConfig {
            hostname: o.hostname.clone().unwrap_or_else(|| id[..12].to_string()),
            user: o
                .user
                .clone()
                .or_else(|| icfg.user().clone())
                .unwrap_or_default(),
            env,
            cmd,
            entrypoint,
            image: o.image.clone(),
            working_dir: o
                .workdir
                .clone()
                .or_else(|| icfg.working_dir().clone())
                .unwrap_or_default(),
            labels,
            tty: false,
            open_stdin: false,
        },
        host_config: HostConfig {
            memory,
            nano_cpus: o.cpus.map(|c| (c * 1e9) as i64).unwrap_or(0),
            cpu_shares: o.cpu_shares.unwrap_or(0),
            pids_limit: o.pids_limit,
            network_mode: network,
            auto_remove: o.auto_remove,
            runtime: runtime.to_string_lossy().into_owned(),
            seccomp,
            security_opt: o.security_opt.clone(),
            binds: o.volumes.clone(),
            readonly_rootfs: o.read_only,
            cap_add,
            cap_drop,
        },
        state: State::created(),
        restart_count: 0,
        id,
    };
    let dir = paths.dir(&c.id);
    for d in ["upper", "work", "merged"] {
        std::fs::create_dir_all(dir.join(d)).map_err(|e| Error::io("create", dir.join(d), e))?;
    }
    paths.save(&c)?;
    Ok(c)
}

/// A started container: the monitor child and its report pipe.
pub struct Started {
    pub pid: i32,
    /// Size of the log before this start: where a foreground `run` reads from.
    pub log_offset: u64,
    pub monitor: Child,
    pub reports: BufReader<File>,
}

impl Started {
    /// Blocks until the monitor reports the exit code (foreground `run`).
    /// `None` when the monitor died without saying.
    pub fn exit_code(&mut self) -> Option<i32> {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reports.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {
                    if let Some(code) = line.trim().strip_prefix("exited ") {
                        return code.parse().ok();
                    }
                }
            }
        }
    }
}

/// Starts the monitor (`exe` re-exec'd with `__monitor ID`) and waits for
/// it to report the container started or failed.
pub fn start(paths: &Paths, id: &str, exe: &Path) -> Result<Started> {
    let c = reconcile(paths, &paths.resolve(id)?)?;
    if c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is already running".into(),
        });
    }
    let (r, w): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| Error::Sys {
            op: "pipe2",
            id: c.id.clone(),
            errno,
        })?;
    let log = paths.log(&c.id);
    let log_offset = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|f| f.metadata())
        .map_err(|e| Error::io("open", &log, e))?
        .len();
    let mlog = paths.dir(&c.id).join("monitor.log");
    let stderr = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&mlog)
        .map_err(|e| Error::io("open", &mlog, e))?;
    let mut cmd = Command::new(exe);
    cmd.arg("--root")
        .arg(&paths.root)
        .arg("--runroot")
        .arg(&paths.runroot)
        .arg("__monitor")
        .arg(&c.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let wfd = w.as_raw_fd();
    // SAFETY: between fork and exec we only call dup2/fcntl, which are
    // async-signal-safe; wfd stays open in the parent until spawn returns.
    unsafe {
        cmd.pre_exec(move || {
            if wfd == monitor::SYNC_FD {
                // dup2 onto itself would keep close-on-exec set.
                if libc::fcntl(wfd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(wfd, monitor::SYNC_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        what: format!("monitor {}", exe.display()),
        source,
    })?;
    drop(w);
    let mut reports = BufReader::new(File::from(r));
    let mut line = String::new();
    let _ = reports.read_line(&mut line);
    let line = line.trim_end();
    if let Some(pid) = line.strip_prefix("started ") {
        return Ok(Started {
            pid: pid.parse().unwrap_or(0),
            log_offset,
            monitor: child,
            reports,
        });
    }
    let _ = child.wait();
    let (code, msg) = match line.strip_prefix("failed ") {
        Some(rest) => {
            let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            (code.parse().unwrap_or(125), msg.to_string())
        }
        None => (
            125,
            format!(
                "the monitor exited without starting the container: see {}",
                mlog.display()
            ),
        ),
    };
    Err(Error::Start {
        id: c.id,
        msg,
        code,
    })
}

/// Unmounts a container rootfs if it is mounted; quiet when it is not.
pub fn release_rootfs(merged: &Path) {
    if is_mounted(merged) {
        if let Err(e) = husk_layers::unmount(merged) {
            eprintln!("husk: {e}");
        }
    }
}

fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.to_string_lossy();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| unescape_mount(m) == want)
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

pub(crate) fn runtime_of(paths: &Paths, c: &Container) -> Runtime {
    Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: None,
    }
}

/// Makes the record tell the truth: a "running" container whose init and
/// monitor are both gone (killed monitor, rebooted host, wiped /run) is
/// cleaned up and marked exited. A live init without its monitor stays
/// running: it is, though nobody collects its output any more.
pub fn reconcile(paths: &Paths, c: &Container) -> Result<Container> {
    if !c.is_running()
        || proc::alive(c.state.pid, c.state.pid_start)
        || proc::alive(c.state.monitor_pid, c.state.monitor_start)
    {
        return Ok(c.clone());
    }
    let _ = runtime_of(paths, c).delete_force(&c.id);
    release_rootfs(&paths.dir(&c.id).join("merged"));
    let _ = std::fs::remove_dir_all(paths.bundle(&c.id));
    let updated = paths.update(&c.id, |r| {
        // Re-checked under the lock: another command may have fixed it.
        if r.is_running() {
            r.state.status = Status::Exited;
            r.state.exit_code = 255;
            r.state.error = "container and its monitor are gone without an exit record (monitor killed or host rebooted)".into();
            r.state.pid = 0;
            r.state.monitor_pid = 0;
            r.state.finished_at = proc::now_rfc3339();
        }
        Ok(())
    })?;
    Ok(updated.unwrap_or_else(|| c.clone()))
}

/// Every container, reconciled, oldest first.
pub fn list(paths: &Paths) -> Result<Vec<Container>> {
    paths.all()?.iter().map(|c| reconcile(paths, c)).collect()
}

/// Sends `signal` through the runtime (`kill ID SIG`).
pub fn kill(paths: &Paths, name: &str, signal: &str) -> Result<Container> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running".into(),
        });
    }
    let sig = signal.trim_start_matches("SIG").to_ascii_uppercase();
    runtime_of(paths, &c).kill(&c.id, &sig)?;
    Ok(c)
}

/// Waits for the monitor to record the end (status no longer running).
fn wait_recorded(paths: &Paths, id: &str, timeout: Duration) -> Result<Option<Container>> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let Some(c) = paths.load(id)? else {
            return Ok(None);
        };
        let c = reconcile(paths, &c)?;
        if !c.is_running() || std::time::Instant::now() >= deadline {
            return Ok(Some(c));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM, then SIGKILL after `timeout`; returns once the exit is recorded.
pub fn stop(paths: &Paths, name: &str, timeout: Duration) -> Result<()> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Ok(());
    }
    let rt = runtime_of(paths, &c);
    let (pid, start) = (c.state.pid, c.state.pid_start);
    if rt.kill(&c.id, "TERM").is_ok() && proc::wait_gone(pid, start, timeout) {
        wait_recorded(paths, &c.id, Duration::from_secs(10))?;
        return Ok(());
    }
    let _ = rt.kill(&c.id, "KILL");
    proc::wait_gone(pid, start, Duration::from_secs(10));
    wait_recorded(paths, &c.id, Duration::from_secs(10))?;
    Ok(())
}

/// `husk wait`: blocks until the container is not running; its exit code.
pub fn wait(paths: &Paths, name: &str) -> Result<i32> {
    let c = paths.resolve(name)?;
    loop {
        let Some(now) = paths.load(&c.id)? else {
            // Removed (--rm) before we saw the exit: docker reports 0 too
            // when it loses the race, but say what we know.
            return Ok(c.state.exit_code);
        };
        let now = reconcile(paths, &now)?;
        if !now.is_running() && now.state.status != Status::Created {
            return Ok(now.state.exit_code);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `husk rm [-f]`. Removal happens holding the container's monitor lock,
/// so no monitor can be starting or finishing it meanwhile.
pub fn remove(paths: &Paths, name: &str, force: bool) -> Result<()> {
    let id = paths.resolve(name)?.id;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let _owner = loop {
        let Some(c) = paths.load(&id)? else {
            return Ok(());
        };
        let c = reconcile(paths, &c)?;
        if c.is_running() {
            if !force {
                return Err(Error::Conflict {
                    id: c.id,
                    reason: "cannot remove a running container: stop it first or use rm -f".into(),
                });
            }
            let _ = runtime_of(paths, &c).kill(&c.id, "KILL");
            proc::wait_gone(c.state.pid, c.state.pid_start, Duration::from_secs(10));
            wait_recorded(paths, &c.id, Duration::from_secs(10))?;
        }
        // Free once the monitor has exited (after starting, failing or
        // recording the exit).
        match proc::try_lock(&paths.monitor_lock(&id)) {
            Ok(Some(lock)) => break lock,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => {
                return Err(Error::Conflict {
                    id,
                    reason: "its monitor does not let go: try again".into(),
                })
            }
            // Removed meanwhile (`--rm`): nothing left to do.
            Err(_) if paths.load(&id)?.is_none() => return Ok(()),
            Err(e) => return Err(e),
        }
    };
    let Some(c) = paths.load(&id)? else {
        return Ok(());
    };
    if c.is_running() {
        // Started again between our check and the lock: refuse rather than race.
        return Err(Error::Conflict {
            id,
            reason: "was started again while being removed".into(),
        });
    }
    // Whatever a dead monitor left: runtime state, mount, bundle.
    let _ = runtime_of(paths, &c).delete_force(&c.id);
    release_rootfs(&paths.dir(&c.id).join("merged"));
    remove_files(paths, &c.id)
}

/// Removes the record (first, under the lock, so nobody sees a half
/// removed container) and then its files.
pub fn remove_files(paths: &Paths, id: &str) -> Result<()> {
    let dir = paths.dir(id);
    let trash = paths.containers().join(format!(".rm-{id}"));
    {
        let _lock = paths.lock()?;
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("rename", &dir, e)),
        }
    }
    let _ = std::fs::remove_dir_all(paths.bundle(id));
    std::fs::remove_dir_all(&trash).map_err(|e| Error::io("remove", &trash, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_are_binary_like_docker() {
        assert_eq!(parse_memory("400m").unwrap(), 419_430_400);
        assert_eq!(parse_memory("400MB").unwrap(), 419_430_400);
        assert_eq!(parse_memory("1g").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1.5g").unwrap(), 1_610_612_736);
        assert_eq!(parse_memory("8388608").unwrap(), 8_388_608);
        assert!(parse_memory("4m").is_err());
        assert!(parse_memory("12x").is_err());
        assert!(parse_memory("m").is_err());
    }
}
