//! `exec`: a new process inside a running container. The runtime joins the
//! init's namespaces (pid before forking, since it only applies to
//! children; the others in the child), the parent puts the child into the
//! container's cgroups, and the child finishes like an init does.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use husk_namespaces::Plan;
use husk_state::Status;
use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::channel::{self, Channel, Msg};
use crate::error::Context;
use crate::{console, finalize, run, sys, validate, Error, Result, Runtime};

#[derive(Debug, Default)]
pub struct ExecOptions {
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub preserve_fds: u32,
}

/// Namespaces are joined in this order; user first, since it owns the
/// others (joining it gives the privilege to join them); mount last, since
/// after it host paths are gone (every ns fd is opened before the first
/// join anyway).
const JOIN_ORDER: [LinuxNamespaceType; 7] = [
    LinuxNamespaceType::User,
    LinuxNamespaceType::Cgroup,
    LinuxNamespaceType::Ipc,
    LinuxNamespaceType::Uts,
    LinuxNamespaceType::Network,
    LinuxNamespaceType::Pid,
    LinuxNamespaceType::Mount,
];

impl Runtime {
    /// The container's own process settings, for `exec ARGS...` without
    /// `--process`: runc starts from config.json's process.
    pub fn base_process(&self, id: &str) -> Result<Process> {
        let state = self.store.load(id)?;
        let spec: Spec = serde_json::from_value(state.spec)
            .map_err(|e| Error::Spec(format!("stored spec of {id}: {e}")))?;
        spec.process()
            .clone()
            .ok_or_else(|| Error::Spec("process: missing".into()))
    }

    /// Runs `process` in container `id`. Returns the exit code, or 0 once
    /// the process is started when detached.
    pub fn exec(&self, id: &str, process: &Process, opts: &ExecOptions) -> Result<i32> {
        crate::create::check_preserved_fds(opts.preserve_fds)?;
        let state = self.store.load(id)?;
        let status = self.status(&state);
        if status != Status::Running {
            return Err(Error::WrongState {
                id: id.into(),
                status: status.to_string(),
                hint: "exec needs a running container",
            });
        }
        let mut spec: Spec = serde_json::from_value(state.spec.clone())
            .map_err(|e| Error::Spec(format!("stored spec of {id}: {e}")))?;
        spec.set_process(Some(process.clone()));
        spec.set_hooks(None);
        let linux = spec.linux().as_ref();
        let plan = Plan::from_spec(linux.and_then(|l| l.namespaces().as_deref()).unwrap_or(&[]))?;
        validate::validate(&spec, &plan, opts.console_socket.is_some())?;
        let filter = validate::seccomp_filter(&spec, self.store.root())?;

        // Open every namespace of the init now, checking afterwards that
        // the pid still is that init (not a recycled pid).
        let mut ns: Vec<(LinuxNamespaceType, File)> = Vec::new();
        for typ in JOIN_ORDER {
            if plan.has(typ) {
                let path = format!("/proc/{}/ns/{}", state.pid, husk_namespaces::proc_name(typ));
                ns.push((typ, File::open(&path).ctx("open", &path)?));
            }
        }
        // Without a mount namespace of its own the container's root is a
        // chroot: the init's root, entered by the child.
        let root = if crate::host_root::shares_host_mounts(&plan) {
            let path = format!("/proc/{}/root", state.pid);
            Some(File::open(&path).ctx("open", &path)?)
        } else {
            None
        };
        if !husk_state::pid_alive(state.pid, state.pid_start) {
            return Err(Error::WrongState {
                id: id.into(),
                status: "stopped".into(),
                hint: "its init exited",
            });
        }
        let cgroup = self.cgroup(&state)?;
        let console = opts
            .console_socket
            .as_deref()
            .map(console::connect)
            .transpose()?;
        let (parent, child) = channel::pair()?;
        // A pid namespace applies to children: joined here, before the
        // clone. Rootless, joining it needs the privilege its user
        // namespace gives, so that one is joined here first (no cgroup is
        // written from here then).
        let by_parent = |typ: LinuxNamespaceType| {
            typ == LinuxNamespaceType::Pid || (self.rootless && typ == LinuxNamespaceType::User)
        };
        for (typ, f) in &ns {
            if by_parent(*typ) {
                nix::sched::setns(f, husk_namespaces::flag(*typ)).ctx(
                    "join namespace of",
                    format!("{id} ({})", husk_namespaces::name(*typ)),
                )?;
            }
        }
        let mask = run::forwarded_set();
        let pid = sys::clone3(0, None).ctx("clone3", "exec")?;
        if pid == 0 {
            drop(parent);
            let fds: Vec<(LinuxNamespaceType, RawFd)> = ns
                .iter()
                .filter(|(t, _)| !by_parent(*t))
                .map(|(t, f)| (*t, f.as_raw_fd()))
                .collect();
            child_main(
                &child,
                process,
                filter,
                &fds,
                root.as_ref().map(|f| f.as_raw_fd()),
                console.as_ref().map(|c| c.as_raw_fd()),
                opts.preserve_fds,
            );
        }
        drop(child);
        drop(console);
        drop(ns);
        drop(root);
        let placed = match &cgroup {
            Some(m) => m.apply(pid).map_err(Error::from),
            None => Ok(()),
        };
        // As runc: the exec'd process gets the process's oomScoreAdj too
        // (docker's exec hands it the container's).
        let placed = placed.and_then(|()| match process.oom_score_adj() {
            Some(adj) => crate::create::write_oom_score_adj(pid, adj),
            None => Ok(()),
        });
        let outcome = placed.and_then(|()| {
            parent.send(&Msg::Go)?;
            // The child's end is close-on-exec: EOF means it exec'd (or died).
            match parent.recv()? {
                Some(Msg::Failed(m)) => Err(Error::Init(m)),
                _ => Ok(()),
            }
        });
        if let Err(e) = outcome {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            crate::create::reap(pid);
            return Err(e);
        }
        if let Some(p) = &opts.pid_file {
            husk_fs::write_atomic(p, pid.to_string().as_bytes(), 0o644)?;
        }
        if opts.detach {
            return Ok(0);
        }
        run::wait_forwarding(pid, &mask)
    }
}

fn child_main(
    chan: &Channel,
    process: &Process,
    filter: Option<husk_seccomp::Filter>,
    ns: &[(LinuxNamespaceType, RawFd)],
    root: Option<RawFd>,
    console: Option<RawFd>,
    preserve_fds: u32,
) -> ! {
    let result = (|| -> Result<finalize::Ready> {
        match chan.recv()? {
            Some(Msg::Go) => {}
            _ => return Err(Error::Init("parent went away before exec".into())),
        }
        // Before joining the mount namespace, while /proc is still ours.
        let mut keep: Vec<RawFd> = ns.iter().map(|(_, fd)| *fd).collect();
        keep.push(chan.raw_fd());
        keep.extend(root);
        keep.extend(console);
        close_others(&keep, preserve_fds)?;
        for (typ, fd) in ns {
            if *typ == LinuxNamespaceType::Pid {
                continue;
            }
            // SAFETY: fd is an open namespace fd inherited from the parent.
            let f = unsafe { std::os::fd::BorrowedFd::borrow_raw(*fd) };
            nix::sched::setns(f, husk_namespaces::flag(*typ))
                .ctx("join namespace", husk_namespaces::name(*typ))?;
        }
        for (_, fd) in ns {
            sys::close(*fd);
        }
        if let Some(fd) = root {
            nix::unistd::fchdir(fd).ctx("enter", "the container's root")?;
            nix::unistd::chroot(".").ctx("chroot", "the container's root")?;
            sys::close(fd);
        }
        if process.terminal() == Some(true) {
            let fd = console
                .ok_or_else(|| Error::Spec("process.terminal: no --console-socket".into()))?;
            let size = process
                .console_size()
                .as_ref()
                .map(|b| (b.height() as u16, b.width() as u16));
            console::setup(fd, size)?;
            sys::close(fd);
        }
        finalize::prepare(process, filter)
    })();
    match result {
        Ok(ready) => ready.exec(preserve_fds),
        Err(e) => {
            let _ = chan.send(&Msg::Failed(husk_fs::error_chain(&e)));
            sys::exit_now(1)
        }
    }
}

/// Same rule as the init: no fd of the runtime survives into the container.
fn close_others(keep: &[RawFd], preserve_fds: u32) -> Result<()> {
    let keep_to = 3 + preserve_fds as RawFd;
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .ctx("read", "/proc/self/fd")?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    for fd in fds {
        if fd >= keep_to && !keep.contains(&fd) {
            sys::close(fd);
        }
    }
    sys::cloexec_from(keep_to as u32).ctx("close_range", "inherited fds")
}
