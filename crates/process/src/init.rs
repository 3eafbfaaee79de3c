//! The container's init: the child of clone3, already inside its new
//! namespaces. It sets up the container in runc's proven order and then
//! waits for `start` before exec'ing the user's process. Every failure is
//! sent to the parent, which prints it: an error inside a namespace must
//! never be only logged.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use husk_namespaces::Plan;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::channel::{Channel, Msg};
use crate::error::Context;
use crate::{console, finalize, rootfs, sys, Error, Result};

/// What the init needs, prepared by the parent before clone3.
pub struct InitConfig<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    pub plan: &'a Plan,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub console: Option<RawFd>,
    pub listener: &'a UnixListener,
    pub channel: &'a Channel,
    /// `linux.seccomp`, compiled by the parent before the clone.
    pub seccomp: Option<husk_seccomp::Filter>,
    /// The idmapped mounts, made by the parent before the clone.
    pub idmapped: &'a crate::idmap::Idmapped,
}

/// Entry point in the child. Never returns: it execs or exits.
pub fn main(cfg: InitConfig<'_>) -> ! {
    match run(&cfg) {
        Ok(never) => match never {},
        Err(e) => {
            let _ = cfg.channel.send(&Msg::Failed(husk_fs::error_chain(&e)));
            sys::exit_now(1)
        }
    }
}

enum Never {}

fn run(cfg: &InitConfig<'_>) -> Result<Never> {
    // Device nodes get exactly the spec's modes; the process's own umask
    // is set once the user is switched.
    sys::umask(0);
    close_leaked_fds(cfg)?;
    // A pid namespace was joined before the clone; others by the helper
    // that cloned us (userns::clone_init).
    for (typ, path) in &cfg.plan.join {
        if *typ != LinuxNamespaceType::Pid && !crate::userns::joined_by_helper(cfg.plan, *typ) {
            husk_namespaces::join(*typ, path)?;
        }
    }
    let new_cgroupns = cfg.plan.creates(LinuxNamespaceType::Cgroup);
    let mut go = false;
    let mut placed = || -> Result<()> {
        if std::mem::replace(&mut go, true) {
            return Ok(());
        }
        match cfg.channel.recv()? {
            Some(Msg::Go) => {}
            _ => return Err(Error::Init("parent went away before setup".into())),
        }
        // After the parent placed us in our cgroups, so the namespace's
        // root is the container's own cgroup.
        if new_cgroupns {
            husk_namespaces::unshare(LinuxNamespaceType::Cgroup)?;
        }
        Ok(())
    };
    if cfg.plan.creates(LinuxNamespaceType::User) {
        // Until the parent wrote our maps every id is unmapped here: no
        // file could be made, no keyring owned. The parent sends Go after.
        placed()?;
        crate::userns::become_root()?;
    } else if cfg.plan.has(LinuxNamespaceType::User) {
        crate::userns::become_root()?;
    }
    if !cfg.no_new_keyring {
        if let Err(e) = sys::join_session_keyring(cfg.id) {
            // Kernels without keyrings, or a seccomp profile on the caller.
            if !matches!(
                e.raw_os_error(),
                Some(libc::ENOSYS) | Some(libc::EACCES) | Some(libc::EPERM)
            ) {
                return Err(Error::sys("join session keyring", cfg.id, e));
            }
        }
    }
    let spec = cfg.spec;
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("process: missing".into()))?;
    let linux = spec.linux().as_ref();

    let hooks = spec.hooks().clone().unwrap_or_default();
    let wants_hooks = [
        hooks.prestart(),
        hooks.create_runtime(),
        hooks.create_container(),
        hooks.start_container(),
    ]
    .iter()
    .any(|h| h.as_ref().is_some_and(|v| !v.is_empty()));
    let mut hook_state = String::new();
    let mut pre_pivot = || -> Result<()> {
        if !wants_hooks {
            return Ok(());
        }
        cfg.channel.send(&Msg::Hooks)?;
        match cfg.channel.recv()? {
            Some(Msg::State(json)) => hook_state = json,
            Some(Msg::Failed(m)) => return Err(Error::Hook(m)),
            _ => return Err(Error::Init("parent went away while running hooks".into())),
        }
        crate::hooks::run(
            "createContainer",
            hooks.create_container().as_deref().unwrap_or(&[]),
            &hook_state,
        )
    };
    rootfs::prepare(
        spec,
        cfg.rootfs,
        &rootfs::Sources {
            bundle: cfg.bundle,
            idmapped: cfg.idmapped,
        },
        rootfs::RootEntry::of(cfg.plan, cfg.no_pivot),
        new_cgroupns,
        &mut placed,
        &mut pre_pivot,
    )?;

    if process.terminal() == Some(true) {
        let fd = cfg
            .console
            .ok_or_else(|| Error::Spec("process.terminal: no --console-socket".into()))?;
        let size = process
            .console_size()
            .as_ref()
            .map(|b| (b.height() as u16, b.width() as u16));
        let slave = console::setup(fd, size)?;
        rootfs::mount_console(&slave)?;
        sys::close(fd);
    }

    // runc brings up the loopback of a network namespace it creates (a
    // container with no network still talks to itself on 127.0.0.1).
    if cfg.plan.creates(LinuxNamespaceType::Network) {
        sys::loopback_up().map_err(|e| Error::sys("bring up", "lo", e))?;
    }
    if let Some(h) = spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).ctx("sethostname", h)?;
    }
    if let Some(d) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        sys::set_domainname(d).ctx("setdomainname", d)?;
    }
    if let Some(sysctl) = linux.and_then(|l| l.sysctl().as_ref()) {
        for (k, v) in sysctl {
            let path = PathBuf::from("/proc/sys").join(k.replace('.', "/"));
            std::fs::write(&path, v)
                .map_err(|e| Error::Spec(format!("linux.sysctl: {k}={v}: {e}")))?;
        }
    }
    for p in linux
        .and_then(|l| l.readonly_paths().as_ref())
        .into_iter()
        .flatten()
    {
        rootfs::readonly_path(p)?;
    }
    for p in linux
        .and_then(|l| l.masked_paths().as_ref())
        .into_iter()
        .flatten()
    {
        rootfs::mask_path(p)?;
    }
    if spec.root().as_ref().and_then(|r| r.readonly()) == Some(true) {
        rootfs::remount_root_readonly()?;
    }
    rootfs::finish_propagation(spec)?;

    if let Some(p) = linux.and_then(|l| l.personality().as_ref()) {
        crate::sched::apply_personality(p)?;
    }
    let ready = finalize::prepare(process, cfg.seccomp.clone())?;

    cfg.channel.send(&Msg::Ready)?;
    // Blocks until `start` connects. The accepted socket is close-on-exec,
    // so `start` sees EOF exactly when our exec has happened.
    let conn = loop {
        match cfg.listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::sys("wait for start on", "exec.sock", e)),
        }
    };
    let _keep = conn.as_raw_fd();
    // startContainer hooks run in the container, after `start`, before
    // the user's process; a failure stops the container.
    if let Err(e) = crate::hooks::run(
        "startContainer",
        hooks.start_container().as_deref().unwrap_or(&[]),
        &hook_state,
    ) {
        let line = format!("husk-runtime: {}\n", husk_fs::Chain(&e));
        // SAFETY: writing a buffer we own to fd 2.
        unsafe { libc::write(2, line.as_ptr() as *const libc::c_void, line.len()) };
        sys::exit_now(1);
    }
    ready.exec(cfg.preserve_fds)
}

/// Closes every inherited fd but stdio, the preserved ones and those the
/// init still needs. A host directory fd left open here is how
/// CVE-2024-21626 let `cwd: /proc/self/fd/N` escape the rootfs.
fn close_leaked_fds(cfg: &InitConfig<'_>) -> Result<()> {
    let keep_to = 3 + cfg.preserve_fds as RawFd;
    let mut keep = vec![
        Some(cfg.channel.raw_fd()),
        Some(cfg.listener.as_raw_fd()),
        cfg.console,
    ];
    keep.extend(cfg.idmapped.raw_fds().into_iter().map(Some));
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .ctx("read", "/proc/self/fd")?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    for fd in fds {
        if fd >= keep_to && !keep.contains(&Some(fd)) {
            sys::close(fd);
        }
    }
    sys::cloexec_from(keep_to as u32).ctx("close_range", "inherited fds")
}
