//! `husk exec`: a process in a running container, through the runtime's
//! `exec` (foreground, stdio inherited; with `-t` a terminal relayed by
//! [`super::relay`]).

use std::os::fd::AsFd;
use std::path::Path;

use crate::lifecycle;
use crate::monitor::relay;
use crate::monitor::runtime::Runtime;
use crate::store::{names, Paths};
use crate::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub detach: bool,
    /// `-i`: the process reads the caller's stdin (otherwise /dev/null).
    pub interactive: bool,
    /// `-t`: the process gets a terminal (the runtime's `--tty`).
    pub tty: bool,
}

/// Runs `cmd` in the container; returns its exit code.
pub fn exec(paths: &Paths, name: &str, cmd: &[String], o: &ExecOptions) -> Result<i32> {
    exec_as(paths, name, cmd, o, false)
}

/// [`exec`] with `--privileged`: the process gets every capability the
/// host grants, whatever the container's own set.
pub fn exec_privileged(paths: &Paths, name: &str, cmd: &[String], o: &ExecOptions) -> Result<i32> {
    exec_as(paths, name, cmd, o, true)
}

fn exec_as(
    paths: &Paths,
    name: &str,
    cmd: &[String],
    o: &ExecOptions,
    privileged: bool,
) -> Result<i32> {
    let c = lifecycle::reconcile(paths, &paths.resolve(name)?)?;
    if !c.is_running() {
        return Err(Error::Conflict {
            id: c.id,
            reason: "is not running".into(),
        });
    }
    let rt = Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: None,
    };
    // A detached process's terminal would have no one at the master: like
    // `exec -d -t` in docker, it gets none.
    let tty = o.tty && !o.detach;
    // Short (a unix socket path has 108 bytes) and private to this exec.
    let exec_id = names::new_id();
    let nonce = &exec_id[..16];
    let socket = paths.runroot.join(format!("exec-{nonce}.sock"));
    let pid_file = paths.runroot.join(format!("exec-{nonce}.pid"));
    let process_file = paths.runroot.join(format!("exec-{nonce}.json"));
    let mut process = process_json(paths, &c, cmd, o, tty)?;
    if privileged {
        let caps = host_capabilities();
        for set in ["bounding", "effective", "permitted"] {
            process["capabilities"][set] = serde_json::json!(caps);
        }
    }
    check_command(c.state.pid, &process)?;
    let shown = cmd.join(" ");
    let id_attr = [("execID", exec_id.as_str())];
    crate::events::container(paths, &c, &format!("exec_create: {shown}"), &id_attr);
    husk_fs::write_json_atomic(&process_file, &process)?;
    // The process file goes once the runtime has read it, whatever happened.
    let _unlink = Unlink(&process_file);
    let mut args: Vec<String> = vec![
        "exec".into(),
        "--process".into(),
        process_file.to_string_lossy().into_owned(),
    ];
    if o.detach {
        args.push("--detach".into());
    }
    if tty {
        // Detached, as containerd's shim does it: runc refuses a console
        // socket for a foreground exec (it relays the terminal itself),
        // and detached every runtime behaves alike. The process is then
        // reparented to us (a subreaper) for its exit status.
        args.push("--detach".into());
        args.push("--console-socket".into());
        args.push(socket.to_string_lossy().into_owned());
        args.push("--pid-file".into());
        args.push(pid_file.to_string_lossy().into_owned());
    }
    args.push(c.id.clone());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = rt.command(&argv);
    if !o.interactive || tty {
        command.stdin(std::process::Stdio::null());
    }
    crate::events::container(paths, &c, &format!("exec_start: {shown}"), &id_attr);
    let code = if tty {
        exec_tty(&c.id, &rt, command, &socket, &pid_file, o)?
    } else {
        let status = command.status().map_err(|source| Error::Spawn {
            what: rt.binary.display().to_string(),
            source,
        })?;
        match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            _ => 125,
        }
    };
    // A detached exec's end is not seen here: only its start is recorded.
    if !o.detach {
        let code = code.to_string();
        let attrs = [id_attr[0], ("exitCode", code.as_str())];
        crate::events::container(paths, &c, "exec_die", &attrs);
    }
    Ok(code)
}

/// Looks the command up as execvp will inside the container (its PATH,
/// its cwd, through `/proc/PID/root`, so volumes mounted inside count and
/// no symlink leads out), so a missing or non-executable command gets
/// docker's message and 127/126 from any runtime, instead of the
/// runtime's own failure (exit 1, its name as a prefix). Anything the
/// check cannot tell is left to the runtime.
fn check_command(pid: i32, process: &serde_json::Value) -> Result<()> {
    use nix::fcntl::OFlag;
    use std::os::fd::AsRawFd;
    let Some(prog) = process["args"][0].as_str() else {
        return Ok(());
    };
    let Ok(root) = husk_fs::open_dir_path(Path::new(&format!("/proc/{pid}/root"))) else {
        return Ok(());
    };
    let cwd = process["cwd"].as_str().unwrap_or("/");
    // Ok(true): runnable; Ok(false): there but not executable; Err: missing.
    let probe = |path: &Path| -> std::result::Result<bool, ()> {
        let fd = husk_fs::open_in_root(&root, path, OFlag::O_PATH).map_err(|_| ())?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|_| ())?;
        let regular = st.st_mode & libc::S_IFMT == libc::S_IFREG;
        Ok(regular && st.st_mode & 0o111 != 0)
    };
    let fail = |code: i32, why: String| Err(Error::Exec { msg: why, code });
    if prog.contains('/') {
        let path = Path::new(cwd).join(prog);
        return match probe(&path) {
            Ok(true) => Ok(()),
            Ok(false) => fail(126, format!("exec: {prog:?}: permission denied")),
            Err(()) => fail(
                127,
                format!("exec: {prog:?}: stat {prog}: no such file or directory"),
            ),
        };
    }
    let path = process["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str()?.strip_prefix("PATH="))
        .next_back()
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let mut seen = false;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        match probe(&Path::new(cwd).join(dir).join(prog)) {
            Ok(true) => return Ok(()),
            Ok(false) => seen = true,
            Err(()) => {}
        }
    }
    if seen {
        // execvp's EACCES when only non-executable candidates exist.
        return fail(126, format!("exec: {prog:?}: permission denied"));
    }
    fail(
        127,
        format!("exec: {prog:?}: executable file not found in $PATH"),
    )
}

/// The capabilities in this process's bounding set (all when unreadable),
/// as a privileged container's: asking for one the host withholds would
/// fail the runtime's capset.
fn host_capabilities() -> Vec<String> {
    let bounding = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    crate::config::caps::capabilities(&["ALL".to_string()], &[], bounding)
}

struct Unlink<'a>(&'a Path);

impl Drop for Unlink<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// The runtime's `exec --process` file, as containerd and dockerd hand it:
/// the container's own process (its capabilities, rlimits, seccomp-related
/// no_new_privs, env, user) from the bundle, with the command, `-e`, `-w`,
/// `-u` and the terminal of this exec.
fn process_json(
    paths: &Paths,
    c: &crate::store::Container,
    cmd: &[String],
    o: &ExecOptions,
    tty: bool,
) -> Result<serde_json::Value> {
    let config = paths.bundle(&c.id).join("config.json");
    let data = std::fs::read(&config).map_err(|e| Error::io("read", &config, e))?;
    let spec: serde_json::Value =
        serde_json::from_slice(&data).map_err(|source| Error::Decode {
            path: config.clone(),
            source,
        })?;
    let mut p = spec["process"].clone();
    p["args"] = serde_json::json!(cmd);
    p["terminal"] = serde_json::json!(tty);
    let mut env: Vec<String> = p["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for e in &o.env {
        // `-e NAME` takes the caller's value, as docker does (or is dropped).
        let e = match e.split_once('=') {
            Some(_) => e.clone(),
            None => match std::env::var(e) {
                Ok(v) => format!("{e}={v}"),
                Err(_) => continue,
            },
        };
        let key = e.split('=').next().unwrap_or_default();
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e);
    }
    p["env"] = serde_json::json!(env);
    if let Some(w) = &o.workdir {
        p["cwd"] = serde_json::json!(w);
    }
    if let Some(u) = &o.user {
        crate::config::resources::check_user_ids("--user", u)?;
        // Names are looked up in the container's own /etc/passwd and
        // /etc/group (its rootfs is mounted while it runs).
        let rootfs = paths.dir(&c.id).join("merged");
        let (uid, gid, extra) = crate::oci::spec::resolve_user_in(&c.id, u, &rootfs)?;
        p["user"] = serde_json::json!({"uid": uid, "gid": gid, "additionalGids": extra});
    }
    Ok(p)
}

/// `exec -t`: the runtime's detached exec sends the terminal's master to
/// `socket` and the process's pid to `pid_file`; the relay runs until the
/// process exits and returns its code.
fn exec_tty(
    id: &str,
    rt: &Runtime,
    mut command: std::process::Command,
    socket: &Path,
    pid_file: &Path,
    o: &ExecOptions,
) -> Result<i32> {
    let winch = relay::Winch::block();
    let listener = std::os::unix::net::UnixListener::bind(socket)
        .map_err(|e| Error::io("listen on", socket, e))?;
    // The names go once the relay is done, whatever happened.
    let _unlink = (Unlink(socket), Unlink(pid_file));
    // SAFETY: prctl with integer arguments only. The CLI forks nothing
    // else meanwhile, so it adopts only the runtime's leftovers.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(Error::Sys {
            op: "prctl(PR_SET_CHILD_SUBREAPER)",
            id: id.to_string(),
            errno: nix::errno::Errno::last(),
        });
    }
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        what: rt.binary.display().to_string(),
        source,
    })?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let caller = relay::Caller {
        input: o.interactive.then(|| stdin.as_fd()),
        output: stdout.as_fd(),
    };
    relay::run(&listener, &mut child, pid_file, &caller, &winch).map_err(|e| Error::Sys {
        op: "relay the exec terminal",
        id: id.to_string(),
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })
}
