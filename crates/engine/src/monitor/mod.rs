//! The monitor: one process per running container, re-exec'd from `husk`
//! (hidden `__monitor` subcommand) so it starts with a clean process image.
//! It becomes a session leader and a child subreaper, runs the runtime's
//! `create` and `start`, and so inherits the container's init when
//! `create` exits. It owns the container's stdout/stderr pipes and writes
//! them to the json-file log, reaps the init, records the exit, runs
//! `delete --force`, unmounts the rootfs and applies `--rm`.
//!
//! With `-t` the runtime sends the terminal's master side over a console
//! socket (runc's `--console-socket`); the monitor logs what the master
//! reads and, for `run -it`, copies the caller's terminal (handed over on
//! fd 4, already raw) into it, until the detach keys (ctrl-p ctrl-q) end
//! the relay with a `detached` report while the container runs on; the
//! foreground `husk` sends it SIGWINCH and it copies the caller's window
//! size to the container's terminal. Without `-t`, `run -i`'s stdin goes
//! straight to the init. The log rotates (see [`super::logfile`]).
//!
//! Single-threaded by rule: it forks the runtime, so it never starts a
//! thread; one `poll` loop over the pipes and a pidfd does all the waiting.
//!
//! It talks to the `husk` that started it over a pipe on fd 3, one line per
//! event: `started PID`, `failed CODE MESSAGE`, then `exited CODE`. A
//! foreground `husk run` keeps reading for the last one; a detached one
//! stops after the first, and later writes just fail with EPIPE.

use std::fs::File;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use self::detach::Matcher;
use self::logfile::JsonLog;
use self::runtime::{Runtime, StartFailure};
use crate::config::log::Limits;
pub mod detach;
pub mod health;
pub mod logfile;
pub mod postmortem;
pub mod relay;
pub mod restart;
pub mod runtime;
pub mod teardown;

use self::teardown::{Teardown, Trash};
use crate::network::{self, Connected};
use crate::oci::spec;
use crate::proc;
use crate::store::{Container, NetworkState, Paths, Status};
use crate::{Error, Result};

/// The fd `husk start` hands the monitor its report pipe on.
pub const SYNC_FD: RawFd = 3;

/// With `__monitor --stdin`: the container's stdin (`run -i`).
pub const STDIN_FD: RawFd = 4;

fn cloexec(fd: RawFd) {
    let _ = nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
}

/// Runs the monitor for container `id`; returns the process exit status.
/// `stdin`: fd 4 holds the container's stdin. `detach_keys`: docker's
/// `--detach-keys` for an attached terminal (default ctrl-p,ctrl-q).
pub fn run(paths: &Paths, id: &str, stdin: bool, detach_keys: Option<&str>) -> i32 {
    // The foreground `husk run -it` relays its SIGWINCH here (see
    // `watch`). Blocked from the start so none is lost before the loop
    // polls for it (the default action would discard it). std's spawn
    // would pass the mask on: the runtime gets an empty one (see
    // `Runtime::command`).
    let mut winch = nix::sys::signal::SigSet::empty();
    winch.add(nix::sys::signal::Signal::SIGWINCH);
    let _ = winch.thread_block();
    // SAFETY: fd 3 (and 4 with `stdin`) were placed there by `husk start`
    // for us alone; we take ownership and mark them close-on-exec so no
    // runtime or container process inherits them by accident (a foreground
    // `run` waits for the report pipe's EOF).
    let mut sync = unsafe { File::from_raw_fd(SYNC_FD) };
    cloexec(SYNC_FD);
    let stdin = stdin.then(|| {
        cloexec(STDIN_FD);
        // SAFETY: as above.
        unsafe { OwnedFd::from_raw_fd(STDIN_FD) }
    });
    let keys = match detach::parse(detach_keys.unwrap_or(detach::DEFAULT)) {
        Ok(k) => k,
        Err(e) => {
            let _ = writeln!(sync, "failed {} {}", e.exit_code(), husk_fs::Chain(&e));
            return 1;
        }
    };
    match supervise(paths, id, &mut sync, stdin, keys) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("husk monitor {id}: {}", husk_fs::Chain(&e));
            let _ = writeln!(sync, "failed {} {}", e.exit_code(), husk_fs::Chain(&e));
            1
        }
    }
}

fn become_session_and_subreaper(id: &str) -> Result<()> {
    // A session of its own: the terminal's Ctrl-C or hangup reaches the
    // foreground `husk run`, never the monitor.
    nix::unistd::setsid().map_err(|errno| Error::Sys {
        op: "setsid",
        id: id.into(),
        errno,
    })?;
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc != 0 {
        return Err(Error::Sys {
            op: "prctl(PR_SET_CHILD_SUBREAPER)",
            id: id.into(),
            errno: nix::errno::Errno::last(),
        });
    }
    Ok(())
}

fn supervise(
    paths: &Paths,
    id: &str,
    sync: &mut File,
    stdin: Option<OwnedFd>,
    detach_keys: Vec<u8>,
) -> Result<()> {
    become_session_and_subreaper(id)?;
    // One monitor per container: a second `start` racing this one, or an
    // `rm` of a container being started, finds the lock held.
    let _owner = proc::try_lock(&paths.monitor_lock(id))?.ok_or_else(|| Error::Conflict {
        id: id.to_string(),
        reason: "is already being started or run by another monitor".into(),
    })?;
    // Recorded before anything is connected: the network gc counts a
    // container whose monitor lives as live, and must see this one so.
    let me = std::process::id() as i32;
    let me_start = proc::start_time(me).unwrap_or(0);
    let c = paths
        .update(id, |r| {
            r.state.monitor_pid = me;
            r.state.monitor_start = me_start;
            restart::started_by_hand(r);
            Ok(())
        })?
        .ok_or_else(|| Error::NoSuchContainer {
            name: id.to_string(),
        })?;
    let bundle = paths.bundle(id);
    std::fs::create_dir_all(&bundle).map_err(|e| Error::io("create", &bundle, e))?;
    let rt = Runtime {
        binary: c.host_config.runtime.clone().into(),
        root: paths.runtime_root(),
        log: Some(bundle.join("runtime.log")),
    };
    let first = prepare_and_create(paths, &c, &rt, stdin);
    supervise_runs(
        paths,
        c,
        &rt,
        sync,
        detach_keys,
        first,
        restart::Policy::default(),
    )
}

/// Runs the container from a `create` (`attempt`) until it ends for
/// good: each exit goes to the restart policy (monitor/restart.rs),
/// which may start it again.
fn supervise_runs(
    paths: &Paths,
    mut c: Container,
    rt: &Runtime,
    sync: &mut File,
    detach_keys: Vec<u8>,
    mut attempt: std::result::Result<Created, StartFailure>,
    mut policy: restart::Policy,
) -> Result<()> {
    let id = c.id.clone();
    let id = id.as_str();
    loop {
        match attempt {
            Ok(Created {
                pid,
                out,
                err,
                input,
                network,
            }) => {
                let started = proc::now_rfc3339();
                let mut cancelled = false;
                let recorded = paths.update(id, |r| {
                    r.network = network.clone();
                    r.state.status = Status::Running;
                    r.state.pid = pid;
                    r.state.pid_start = proc::start_time(pid).unwrap_or(0);
                    r.state.exit_code = 0;
                    r.state.error.clear();
                    r.state.oom_killed = false;
                    r.state.started_at = started.clone();
                    r.state.finished_at.clear();
                    r.state.health = health::on_start(r);
                    r.state.end = Default::default();
                    cancelled = r.state.restart_cancelled;
                    Ok(())
                });
                if let Err(e) = recorded {
                    // A container no record says runs must not run on with
                    // nobody owning it: undo it all and say why.
                    down(paths, &c, rt);
                    // `run` reports it on the sync pipe as `failed`.
                    return Err(e);
                }
                crate::events::container(paths, &c, "start", &[]);
                // Before `run -d` returns: its peers resolve it from then on.
                refresh_peers(paths, network.as_ref());
                if cancelled {
                    // A `stop` came while this restart was on its way.
                    let _ = rt.kill(id, "KILL");
                }
                let _ = writeln!(sync, "started {pid}");
                let limits = c.host_config.log_config.limits().unwrap_or(Limits {
                    max_size: None,
                    max_file: 1,
                });
                // `husk attach` hands a terminal over here (tty containers:
                // only a terminal's input can be swapped in at will).
                let listener = c
                    .config
                    .tty
                    .then(|| UnixListener::bind(paths.attach_socket(id)))
                    .and_then(|r| {
                        r.map_err(|e| eprintln!("husk monitor: attach socket: {e}"))
                            .ok()
                    })
                    .and_then(|l| l.set_nonblocking(true).ok().map(|()| l));
                let attached = Attached {
                    input,
                    detach: Matcher::new(detach_keys.clone()),
                    sync,
                    listener,
                    client: None,
                };
                let up = Instant::now();
                let checker = health::Checker::new(paths, &c);
                let code = watch(paths, id, pid, out, err, limits, attached, checker);
                let oom = oom_killed(id);
                if oom {
                    crate::events::container(paths, &c, "oom", &[]);
                }
                let memory = postmortem::memory_at_exit(paths, id);
                // docker's order: die, then the network's disconnect.
                crate::events::container(paths, &c, "die", &[("exitCode", &code.to_string())]);
                down(paths, &c, rt);
                if let Some(next) = policy.after_exit(paths, id, code, oom, up.elapsed(), sync)? {
                    c = next;
                    attempt = prepare_and_create(paths, &c, rt, None);
                    continue;
                }
                let trash = finish(paths, &c, |r| {
                    exited(r, code, oom);
                    r.state.end.memory = memory;
                })?;
                if trash.is_some() {
                    crate::events::container(paths, &c, "destroy", &[]);
                }
                let _ = writeln!(sync, "exited {code}");
                empty(trash, id);
                return Ok(());
            }
            Err(StartFailure { code, message: msg }) => {
                down(paths, &c, rt);
                // docker leaves a container whose start failed "created" (or
                // "exited" once it has run before) with the code and message.
                let trash = finish(paths, &c, |r| {
                    if r.state.started_at.is_empty() {
                        r.state.status = Status::Created;
                    } else {
                        r.state.status = Status::Exited;
                        r.state.finished_at = proc::now_rfc3339();
                    }
                    r.state.exit_code = code;
                    r.state.error = msg.clone();
                    r.state.pid = 0;
                    r.state.monitor_pid = 0;
                    r.network = None;
                })?;
                let _ = writeln!(sync, "failed {code} {msg}");
                empty(trash, id);
                return Ok(());
            }
        }
    }
}

/// Rewrites the /etc/hosts of the members of a user-defined network
/// the container just joined. A failure costs name resolution, not the
/// container: the monitor's log says it.
fn refresh_peers(paths: &Paths, network: Option<&NetworkState>) {
    let user = network
        .into_iter()
        .flat_map(|n| n.endpoints())
        .filter(|e| e.network != husk_network::network::DEFAULT_NETWORK);
    for ep in user {
        if let Err(e) = network::hosts::refresh(paths, &ep.network, None) {
            eprintln!("husk monitor: {}", husk_fs::Chain(&e));
        }
    }
}

/// The record of a container that ended for good with `code`.
fn exited(r: &mut Container, code: i32, oom: bool) {
    r.network = None;
    r.state.status = Status::Exited;
    r.state.exit_code = code;
    r.state.oom_killed = oom;
    r.state.pid = 0;
    r.state.pid_start = 0;
    r.state.monitor_pid = 0;
    r.state.monitor_start = 0;
    r.state.finished_at = proc::now_rfc3339();
}

/// Takes down what the start set up (see [`Teardown::container`]),
/// saying in the monitor's log what failed.
fn down(paths: &Paths, c: &Container, rt: &Runtime) {
    // The network as recorded now, not as it was when this monitor read
    // the record: setup, `network connect` and `disconnect` happened since,
    // and teardown releases exactly the endpoints the record names (and
    // skips the firewall for a first endpoint that published nothing).
    let mut current = c.clone();
    if let Ok(Some(r)) = paths.load(&c.id) {
        current.network = r.network;
    }
    let c = &current;
    let failed = Teardown::container(paths, c, rt, true).run();
    teardown::report(&format!("husk monitor {}: ", c.id), &failed);
}

/// Records the final state, or takes the container out of the store for
/// `--rm`; the foreground `run` learns the exit code over the sync pipe
/// either way. What `--rm` leaves to delete comes back, to be deleted
/// once the report is out: the container is already gone for every
/// command, and the caller need not wait for the unlinks.
fn finish(paths: &Paths, c: &Container, f: impl FnOnce(&mut Container)) -> Result<Option<Trash>> {
    if c.host_config.auto_remove {
        teardown::take_files(paths, &c.id)
    } else {
        paths
            .update(&c.id, |r| {
                f(r);
                Ok(())
            })
            .map(|_| None)
    }
}

/// Deletes what `finish` took, after the report.
fn empty(trash: Option<Trash>, id: &str) {
    if let Some(Err(e)) = trash.map(Trash::remove) {
        eprintln!("husk monitor {id}: {}", husk_fs::Chain(&e));
    }
}

struct Created {
    pid: i32,
    /// stdout pipe, or the terminal's master side with `-t`.
    out: File,
    err: Option<File>,
    /// With `-it`: the caller's terminal, copied into the master.
    input: Option<File>,
    network: Option<NetworkState>,
}

/// Mounts the rootfs, writes the bundle and runs the runtime's `create`
/// and `start`. Errors come back as the message docker would show.
fn prepare_and_create(
    paths: &Paths,
    c: &Container,
    rt: &Runtime,
    stdin: Option<OwnedFd>,
) -> std::result::Result<Created, StartFailure> {
    let dir = paths.dir(&c.id);
    let merged = dir.join("merged");
    let bundle = paths.bundle(&c.id);
    // A monitor killed mid-run can leave the overlay mounted.
    teardown::release_rootfs(&merged);
    let lowers: Vec<std::path::PathBuf> = c.lower_dirs.iter().map(Into::into).collect();
    husk_layers::mount_overlay(&lowers, &dir.join("upper"), &dir.join("work"), &merged)
        .map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    // Before the runtime: a port already taken fails the start here, and
    // the container's files name its address.
    let net = network::connect(paths, c).map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    write_etc_files(paths, c, &dir, &net).map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    crate::oci::extra::prepare_shm(paths, c)
        .map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    let mut spec = spec::build(c, &merged, &dir, &net.sandbox)
        .map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    crate::oci::extra::join_namespaces(paths, c, &mut spec)
        .map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;
    husk_fs::write_json_atomic(&bundle.join("config.json"), &spec)
        .map_err(|e| StartFailure::engine(husk_fs::Chain(&e)))?;

    let (out_r, out_w) = pipe().map_err(|e| StartFailure::engine(format_args!("pipe: {e}")))?;
    let (err_r, err_w) = pipe().map_err(|e| StartFailure::engine(format_args!("pipe: {e}")))?;
    let pid_file = bundle.join("init.pid");
    let bundle_s = bundle.to_string_lossy().into_owned();
    let pid_s = pid_file.to_string_lossy().into_owned();
    let mut args = vec!["create", "--bundle", &bundle_s, "--pid-file", &pid_s];
    // With a terminal the runtime sends the pty master over this socket
    // (runc's --console-socket); without one the stdin goes to the init.
    let console_path = bundle.join("tty.sock");
    let console_s = console_path.to_string_lossy().into_owned();
    let (console, create_stdin, input) = if c.config.tty {
        let l = UnixListener::bind(&console_path).map_err(|e| {
            StartFailure::engine(format_args!("listen on {}: {e}", console_path.display()))
        })?;
        args.extend(["--console-socket", console_s.as_str()]);
        (Some(l), None, stdin.map(File::from))
    } else {
        (None, stdin, None)
    };
    args.push(&c.id);
    // The init inherits create's stdio: hand it the pipe write ends.
    let status = rt
        .command(&args)
        .stdin(create_stdin.map(Stdio::from).unwrap_or_else(Stdio::null))
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w))
        .status()
        .map_err(|e| StartFailure::engine(format_args!("spawn {}: {e}", rt.binary.display())))?;
    let out = File::from(out_r);
    let mut err = File::from(err_r);
    if !status.success() {
        // Only the runtime wrote to the pipes: its stderr is the fallback message.
        let mut text = String::new();
        let _ = set_nonblocking(&err).map(|_| err.read_to_string(&mut text));
        let _ = set_nonblocking(&out);
        let msg = rt.last_error().unwrap_or_else(|| text.trim().to_string());
        return Err(StartFailure::runtime(if msg.is_empty() {
            format!("runtime create exited with {status}")
        } else {
            msg
        }));
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            StartFailure::engine(format_args!(
                "runtime create wrote no pid to {}",
                pid_file.display()
            ))
        })?;
    let (out, err) = match console {
        Some(l) => {
            let master = receive_master(&l).map_err(|e| {
                StartFailure::engine(format_args!("terminal from the runtime: {e}"))
            })?;
            if let Some(tty) = &input {
                copy_window_size(tty, &master);
            }
            (master, None)
        }
        None => (out, Some(err)),
    };
    rt.start(&c.id).map_err(|e| match e {
        Error::Runtime { msg, .. } => StartFailure::runtime(rt.last_error().unwrap_or(msg)),
        other => StartFailure::engine(husk_fs::Chain(&other)),
    })?;
    set_nonblocking(&out).map_err(|e| StartFailure::engine(format_args!("fcntl: {e}")))?;
    if let Some(err) = &err {
        set_nonblocking(err).map_err(|e| StartFailure::engine(format_args!("fcntl: {e}")))?;
    }
    Ok(Created {
        pid,
        out,
        err,
        input,
        network: net.state,
    })
}

/// Accepts the runtime's connection on the console socket and takes the
/// pty master it sends (SCM_RIGHTS). `create` has returned by now, so the
/// connection is either queued or never coming: do not block.
pub(crate) fn receive_master(l: &UnixListener) -> std::io::Result<File> {
    l.set_nonblocking(true)?;
    let (conn, _) = l.accept()?;
    receive_fd(&conn)
}

/// The one descriptor a peer sends over `conn` (SCM_RIGHTS).
pub(crate) fn receive_fd(conn: &std::os::unix::net::UnixStream) -> std::io::Result<File> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    conn.set_nonblocking(false)?;
    // A peer that connects and sends nothing must not stall the monitor.
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    for cmsg in msg.cmsgs().map_err(std::io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel installed this descriptor for us just now.
                return Ok(unsafe { File::from_raw_fd(*fd) });
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "no descriptor in the console socket message",
    ))
}

/// Gives the container's terminal the caller's window size.
fn copy_window_size(from: &File, to: &File) {
    // SAFETY: winsize is a plain struct the kernel fills or reads; both
    // descriptors are open for the duration of the calls.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// /etc/hostname, /etc/hosts and /etc/resolv.conf, bind-mounted by the
/// spec. Existing files are rewritten in place: a bind mount holds the
/// inode, and a rename would leave a running container on the old one.
fn write_etc_files(paths: &Paths, c: &Container, dir: &Path, net: &Connected) -> Result<()> {
    use husk_network::dnsfiles;
    let host = &c.config.hostname;
    let hc = &c.host_config;
    write_in_place(&dir.join("hostname"), &dnsfiles::hostname_content(host))?;
    let mode = network::Mode::parse(&hc.network_mode);
    // The container's own address: its endpoint's, or for container:NAME
    // the address of the stack it shares.
    let own = match &mode {
        Some(network::Mode::Container(t)) => paths.load(t)?.and_then(|t| t.network),
        _ => net.state.clone(),
    }
    .and_then(|s| s.endpoint)
    .map(|e| IpAddr::V4(e.ip));
    let own = own.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, 1)));
    write_in_place(
        &dir.join("hosts"),
        &network::hosts::content(paths, c, net.state.as_ref(), own)?,
    )?;
    let dns = hc
        .dns
        .iter()
        .map(|d| network::parse_dns(d))
        .collect::<Result<Vec<_>>>()?;
    let resolv = match mode {
        // Without a network there is no resolver to reach, unless asked.
        Some(network::Mode::None)
            if dns.is_empty() && hc.dns_search.is_empty() && hc.extra.dns_options.is_empty() =>
        {
            String::new()
        }
        Some(network::Mode::None) => {
            dnsfiles::resolv_conf_content("", &dns, &hc.dns_search, &hc.extra.dns_options)
        }
        // The host's resolver works as is from the host's stack.
        Some(network::Mode::Host)
            if dns.is_empty() && hc.dns_search.is_empty() && hc.extra.dns_options.is_empty() =>
        {
            std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
        }
        _ => dnsfiles::resolv_conf_content(
            &dnsfiles::host_resolv_conf()?,
            &dns,
            &hc.dns_search,
            &hc.extra.dns_options,
        ),
    };
    write_in_place(&dir.join("resolv.conf"), &resolv)?;
    Ok(())
}

/// These files are derived: every start writes them again, so a fresh
/// one needs no fsync (a crash before it reaches the disk leaves a
/// container that is not running, and its next start rewrites it), which
/// saves ~1 ms per start on this disk. One that exists may be bind-mounted
/// into a container that shares it: rewritten in place.
fn write_in_place(path: &Path, content: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let fresh = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path);
    match fresh {
        // Readable by any user in the container, whatever our umask.
        Ok(mut f) => {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))
                .and_then(|()| f.write_all(content.as_bytes()))
                .map_err(|e| Error::io("write", path, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(husk_network::dnsfiles::rewrite_in_place(path, content)?)
        }
        Err(e) => Err(Error::io("create", path, e)),
    }
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from)
}

pub(crate) fn set_nonblocking(f: &File) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(f.as_raw_fd(), FcntlArg::F_GETFL).map_err(std::io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(f.as_raw_fd(), FcntlArg::F_SETFL(flags)).map_err(std::io::Error::from)?;
    Ok(())
}

/// The caller's terminal while a `run -it` (or `husk attach`) is attached.
struct Attached<'a> {
    /// The caller's terminal (fd 4, or from `husk attach`), read for
    /// keystrokes and for its size.
    input: Option<File>,
    detach: Matcher,
    /// The report pipe: `detached` tells the foreground `run` to leave.
    sync: &'a mut File,
    /// Where `husk attach` connects and sends its terminal (SCM_RIGHTS).
    listener: Option<UnixListener>,
    /// The attached `husk attach`: told `detached` the same way.
    client: Option<std::os::unix::net::UnixStream>,
}

impl Attached<'_> {
    /// Tells whoever is attached that the detach keys were typed.
    fn report_detached(&mut self) {
        match self.client.take() {
            Some(mut c) => {
                let _ = c.write_all(b"detached\n");
            }
            None => {
                let _ = writeln!(self.sync, "detached");
            }
        }
    }

    /// Takes the terminal a `husk attach` sends, unless one is attached.
    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        let Ok((conn, _)) = l.accept() else { return };
        if self.input.is_some() {
            let _ = (&conn).write_all(b"busy\n");
            return;
        }
        match receive_fd(&conn) {
            Ok(tty) => {
                let _ = (&conn).write_all(b"attached\n");
                self.input = Some(tty);
                self.client = Some(conn);
                self.detach.reset();
            }
            Err(e) => eprintln!("husk monitor: attach: {e}"),
        }
    }
}

/// SIGWINCH as a pollable descriptor; blocked since `run` began.
fn winch_fd() -> Option<nix::sys::signalfd::SignalFd> {
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGWINCH);
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()
}

/// Copies output to the log until the init exits and its pipes close;
/// returns docker's exit code (128 + signal for a signalled init).
///
/// With an attached terminal it also copies keystrokes into the
/// container's terminal, watching for the detach keys, and on SIGWINCH
/// (sent by the foreground `run`, which gets the terminal's signal)
/// gives the container's terminal the caller's new size: the monitor
/// holds the caller's terminal, so it reads the size itself and no size
/// has to travel over a channel.
#[allow(clippy::too_many_arguments)]
fn watch(
    paths: &Paths,
    id: &str,
    pid: i32,
    out: File,
    err: Option<File>,
    limits: Limits,
    mut att: Attached<'_>,
    mut health: Option<health::Checker>,
) -> i32 {
    let mut log = JsonLog::open(&paths.log(id), limits);
    // Keystrokes go to the terminal's master, which `out` reads.
    let terminal = att.input.is_some() || att.listener.is_some();
    let master_of = |out: &File| terminal.then(|| out.try_clone().ok()).flatten();
    let mut master = master_of(&out);
    let winch = terminal.then(winch_fd).flatten();
    let mut streams: [Option<File>; 2] = [Some(out), err];
    let pidfd = proc::pidfd_open(pid).ok();
    let mut code: Option<i32> = None;
    let mut exited_at: Option<Instant> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut which: Vec<usize> = Vec::new();
        let poll_in = |fd: RawFd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        for (i, s) in streams.iter().enumerate() {
            if let Some(f) = s {
                fds.push(poll_in(f.as_fd().as_raw_fd()));
                which.push(i);
            }
        }
        let input_at = fds.len();
        if let (Some(i), None) = (&att.input, code) {
            fds.push(poll_in(i.as_raw_fd()));
        }
        let winch_at = fds.len();
        if let (Some(w), Some(_), None) = (&winch, &att.input, code) {
            fds.push(poll_in(w.as_raw_fd()));
        }
        let listener_at = fds.len();
        if let (Some(l), None, None) = (&att.listener, &att.input, code) {
            fds.push(poll_in(l.as_raw_fd()));
        }
        if code.is_none() {
            if let Some(p) = &pidfd {
                fds.push(poll_in(p.as_raw_fd()));
            }
        }
        if code.is_some() && which.is_empty() {
            break;
        }
        // After the init is gone the pipes close as soon as the kernel has
        // killed the rest of its pid namespace; a process that escaped
        // with a copy must not hold the exit record hostage.
        if exited_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break;
        }
        // SAFETY: fds is a valid array of pollfd of the given length.
        let wait = match (&health, code) {
            (Some(h), None) => h.wait(250),
            _ => 250,
        };
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait) };
        if n < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            eprintln!("husk monitor: poll: {}", nix::errno::Errno::last());
            std::thread::sleep(Duration::from_millis(100));
        }
        // `input` (and `winch`) were polled at their slots exactly when
        // set and the init still runs.
        let listening = att.listener.is_some() && att.input.is_none() && code.is_none();
        if listening && fds.get(listener_at).is_some_and(|p| p.revents != 0) {
            att.accept();
            if att.input.is_some() {
                if master.is_none() {
                    master = streams[0].as_ref().and_then(master_of);
                }
                // Drop SIGWINCHs queued while no one was attached.
                if let Some(w) = &winch {
                    while let Ok(Some(_)) = w.read_signal() {}
                }
                if let (Some(tty), Some(m)) = (&att.input, &master) {
                    copy_window_size(tty, m);
                }
            }
            continue;
        }
        let attached = att.input.is_some() && code.is_none();
        if attached && winch.is_some() && fds.get(winch_at).is_some_and(|p| p.revents != 0) {
            if let Some(w) = &winch {
                while let Ok(Some(_)) = w.read_signal() {}
            }
            if let (Some(tty), Some(m)) = (&att.input, &master) {
                copy_window_size(tty, m);
            }
        }
        let typed = attached && fds.get(input_at).is_some_and(|p| p.revents != 0);
        if typed {
            match forward_input(
                att.input.as_mut(),
                master.as_mut(),
                &mut att.detach,
                &mut buf,
            ) {
                Input::More => {}
                Input::Closed => {
                    att.input = None;
                    att.client = None;
                }
                Input::Detach => {
                    // The container keeps running, logged as before; the
                    // caller's terminal is theirs again.
                    att.input = None;
                    att.report_detached();
                }
            }
        }
        for (k, i) in which.iter().enumerate() {
            if fds[k].revents == 0 {
                continue;
            }
            let Some(f) = streams[*i].as_mut() else {
                continue;
            };
            match f.read(&mut buf) {
                Ok(0) => {
                    log.flush(*i);
                    streams[*i] = None;
                }
                Ok(n) => log.push(*i, &buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // A pty master reads EIO once every slave fd is closed: EOF.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => {
                    log.flush(*i);
                    streams[*i] = None;
                }
                Err(e) => {
                    eprintln!("husk monitor: read output: {e}");
                    log.flush(*i);
                    streams[*i] = None;
                }
            }
        }
        if code.is_none() {
            // A healthcheck probe's exit comes back through here.
            code = reap(pid, &mut |p, c| {
                if let Some(h) = health.as_mut() {
                    h.reaped(paths, p, c);
                }
            });
            if code.is_some() {
                exited_at = Some(Instant::now());
            }
        } else {
            // Orphans adopted from `exec -d` and friends.
            let _ = reap(pid, &mut |p, _| discard(&mut health, p));
        }
        if let (Some(h), None) = (health.as_mut(), code) {
            h.tick(paths);
        }
    }
    log.flush(0);
    log.flush(1);
    log.settle();
    // The init may have died without our pidfd (pidfd_open failed): wait.
    let code = code.unwrap_or_else(|| loop {
        if let Some(c) = reap(pid, &mut |p, _| discard(&mut health, p)) {
            break c;
        }
        std::thread::sleep(Duration::from_millis(50));
    });
    if let Some(h) = health {
        h.stop();
    }
    code
}

/// A probe that ended with its container counts for nothing (docker
/// cancels it).
fn discard(health: &mut Option<health::Checker>, pid: i32) {
    if let Some(h) = health.as_mut() {
        h.discard(pid);
    }
}

enum Input {
    More,
    /// EOF or an error: nothing more to read.
    Closed,
    /// The detach keys were typed.
    Detach,
}

/// Copies what the caller typed into the container's terminal, holding
/// back what may be the start of the detach keys.
fn forward_input(
    input: Option<&mut File>,
    master: Option<&mut File>,
    detach: &mut Matcher,
    buf: &mut [u8],
) -> Input {
    let (Some(input), Some(master)) = (input, master) else {
        return Input::Closed;
    };
    match input.read(buf) {
        Ok(0) => Input::Closed,
        Ok(n) => {
            let (data, detached) = detach.feed(&buf[..n]);
            let mut data = &data[..];
            // The master is non-blocking (it is polled for output): retry
            // briefly while the terminal's input queue is full.
            while !data.is_empty() {
                match master.write(data) {
                    Ok(w) => data = &data[w..],
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return Input::Closed,
                }
            }
            if detached {
                Input::Detach
            } else {
                Input::More
            }
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ) =>
        {
            Input::More
        }
        Err(_) => Input::Closed,
    }
}

/// Reaps every exited child; returns the init's exit code if it was
/// among them. Every other child's pid and code go to `other`.
fn reap(init: i32, other: &mut dyn FnMut(i32, i32)) -> Option<i32> {
    let mut code = None;
    loop {
        let (p, c) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, c)) => (p.as_raw(), c),
            Ok(WaitStatus::Signaled(p, s, _)) => (p.as_raw(), 128 + s as i32),
            Ok(WaitStatus::StillAlive) | Err(_) => break,
            Ok(_) => continue,
        };
        if p == init {
            code = Some(c);
        } else {
            other(p, c);
        }
    }
    code
}

/// Whether the kernel's OOM killer fired in the container's memory cgroup
/// (v1 `memory.oom_control`, v2 `memory.events`), read before `delete`
/// removes it.
fn oom_killed(id: &str) -> bool {
    [
        format!("/sys/fs/cgroup/memory/husk/{id}/memory.oom_control"),
        format!("/sys/fs/cgroup/unified/husk/{id}/memory.events"),
        format!("/sys/fs/cgroup/husk/{id}/memory.events"),
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .any(|s| {
        s.lines().any(|l| {
            l.strip_prefix("oom_kill ")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        })
    })
}
