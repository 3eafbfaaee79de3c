use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use husk_cgroups::Manager;
use husk_namespaces::Plan;
use husk_state::{start_time, ContainerState, Status, EXEC_SOCK};
use oci_spec::runtime::LinuxNamespaceType;

use crate::channel::{self, Msg};
use crate::error::Context;
use crate::init::{self, InitConfig};
use crate::{console, hooks, validate, Error, Result, Runtime};

#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
}

impl Runtime {
    /// `create`: everything up to the user's exec, then return with the
    /// init waiting on exec.sock. Returns the init's host pid.
    pub fn create(&self, id: &str, opts: &CreateOptions) -> Result<i32> {
        husk_state::validate_id(id)?;
        check_preserved_fds(opts.preserve_fds)?;
        let (bundle, spec) = husk_spec::load_bundle(&opts.bundle)?;
        let linux = spec.linux().as_ref();
        let plan = Plan::from_spec(linux.and_then(|l| l.namespaces().as_deref()).unwrap_or(&[]))?;
        validate::validate(&spec, &plan, opts.console_socket.is_some())?;
        if self.rootless && !plan.has(LinuxNamespaceType::User) {
            return Err(Error::Spec(
                "rootless: linux.namespaces needs a user namespace (husk-runtime spec --rootless writes one)".into(),
            ));
        }
        let seccomp = validate::seccomp_filter(&spec, self.store.root())?;
        // Before anything exists: a source that cannot be idmapped is an
        // error of the spec.
        let idmapped = crate::idmap::Idmapped::prepare(&spec, &bundle)?;
        let cgroups_path = linux
            .and_then(|l| l.cgroups_path().as_ref())
            .map(|p| p.to_string_lossy().into_owned());
        let cgroup = Manager::new(cgroups_path.as_deref(), id, self.systemd_cgroup)?;
        let mut resources = linux
            .and_then(|l| l.resources().clone())
            .unwrap_or_default();
        add_default_device_rules(
            &mut resources,
            linux.and_then(|l| l.devices().as_deref()).unwrap_or(&[]),
        );
        cgroup.validate(&resources)?;
        let rootfs = spec
            .root()
            .as_ref()
            .map(|r| r.path().clone())
            .unwrap_or_default();

        let dir = self.store.create_dir(id)?;
        let lock = self.store.lock(id);
        let host_mounts = crate::host_root::shares_host_mounts(&plan);
        // Released exactly once, before the cgroups go (a host mount of a
        // cgroup dir keeps it busy); a second detach would take the
        // caller's own mount of the rootfs.
        let bound = std::cell::Cell::new(false);
        let release = || {
            if bound.replace(false) {
                crate::host_root::release(&rootfs);
            }
        };
        let result = (|| {
            let _lock = lock?;
            if host_mounts {
                crate::host_root::bind(&rootfs)?;
                bound.set(true);
            }
            let listener = {
                let dirfd = husk_fs::open_dir_path(&dir)?;
                UnixListener::bind(husk_fs::short_path_in(&dirfd, EXEC_SOCK))
                    .ctx("listen on", dir.join(EXEC_SOCK))?
            };
            let console = opts
                .console_socket
                .as_deref()
                .map(console::connect)
                .transpose()?;
            let (parent, child) = channel::pair()?;
            for (typ, path) in &plan.join {
                // A pid namespace applies to children: join it before clone.
                if *typ == LinuxNamespaceType::Pid {
                    husk_namespaces::join(*typ, path)?;
                }
            }
            // Encoded before anything exists: a state recorded without its
            // cgroup would make delete leak it.
            let cgroup_record =
                serde_json::to_value(&cgroup).map_err(Error::record("encode", "cgroup", id))?;
            let spec_record =
                serde_json::to_value(&spec).map_err(Error::record("encode", "spec", id))?;
            // Directories and limits first: neither needs the pid, and a
            // process that joins a configured cgroup is limited from the start.
            // A systemd scope cannot exist without a process: it is made
            // with the init in it, before the init is let go (setup below).
            let systemd = cgroup.systemd_unit().is_some();
            let mut use_cgroup = true;
            if !systemd {
                if let Err(e) = cgroup.create().and_then(|()| cgroup.set(&resources)) {
                    let _ = cgroup.destroy();
                    // runc's rootless rule: a cgroup the user may not write
                    // is done without, unless the spec asks for limits.
                    if !(self.rootless && permission_denied(&e) && !asks_for_limits(&spec)) {
                        return Err(rootless_cgroup_error(self.rootless, e));
                    }
                    use_cgroup = false;
                }
            }
            let cgroup_record = if use_cgroup {
                cgroup_record
            } else {
                serde_json::Value::Null
            };
            let flags = plan.new.bits() as u64 & !(libc::CLONE_NEWCGROUP as u64);
            let pid = match crate::userns::clone_init(flags, &plan) {
                Ok(pid) => pid,
                Err(e) => {
                    let _ = cgroup.destroy();
                    return Err(e);
                }
            };
            if pid == 0 {
                drop(parent);
                init::main(InitConfig {
                    id,
                    spec: &spec,
                    rootfs: &rootfs,
                    bundle: &bundle,
                    plan: &plan,
                    no_pivot: opts.no_pivot,
                    no_new_keyring: opts.no_new_keyring,
                    preserve_fds: opts.preserve_fds,
                    console: console.as_ref().map(|c| c.as_raw_fd()),
                    listener: &listener,
                    channel: &child,
                    seccomp: seccomp.clone(),
                    idmapped: &idmapped,
                });
            }
            drop(child);
            drop(listener);
            drop(console);
            drop(idmapped);
            let state = ContainerState {
                id: id.to_string(),
                pid,
                pid_start: start_time(pid).unwrap_or(0),
                bundle: bundle.clone(),
                rootfs: rootfs.clone(),
                created: husk_fs::now_rfc3339(),
                owner: owner_name(),
                annotations: spec.annotations().clone().unwrap_or_default(),
                cgroup: cgroup_record,
                spec: spec_record,
                systemd_cgroup: self.systemd_cgroup,
            };
            let setup = (|| {
                if plan.creates(LinuxNamespaceType::User) {
                    if let Some(l) = linux {
                        crate::userns::write_maps(pid, l)?;
                    }
                }
                if systemd {
                    cgroup.start_unit(pid, &resources)?;
                } else if use_cgroup {
                    cgroup.apply(pid)?;
                }
                if let Some(adj) = spec.process().as_ref().and_then(|p| p.oom_score_adj()) {
                    write_oom_score_adj(pid, adj)?;
                }
                if let Err(e) = parent.send(&Msg::Go) {
                    // The init died first: its last message says why.
                    return match parent.recv() {
                        Ok(Some(Msg::Failed(m))) => Err(Error::Init(m)),
                        _ => Err(e),
                    };
                }
                loop {
                    match parent.recv()? {
                        Some(Msg::Ready) => return Ok(()),
                        Some(Msg::Failed(m)) => return Err(Error::Init(m)),
                        Some(Msg::Hooks) => {
                            // Both run in the runtime's namespaces, after the
                            // container's namespaces and mounts exist.
                            let json = hooks::state_json(&state, Status::Created);
                            let h = spec.hooks().clone().unwrap_or_default();
                            let ran = hooks::run(
                                "prestart",
                                h.prestart().as_deref().unwrap_or(&[]),
                                &json,
                            )
                            .and_then(|()| {
                                hooks::run(
                                    "createRuntime",
                                    h.create_runtime().as_deref().unwrap_or(&[]),
                                    &json,
                                )
                            });
                            match ran {
                                Ok(()) => parent.send(&Msg::State(json))?,
                                Err(e) => {
                                    let _ = parent.send(&Msg::Failed(husk_fs::error_chain(&e)));
                                    return Err(e);
                                }
                            }
                        }
                        _ => {
                            return Err(Error::Init(format!(
                                "container init exited during setup ({})",
                                reap(pid)
                            )))
                        }
                    }
                }
            })();
            let finished = setup.and_then(|()| {
                self.store.save(&state)?;
                if let Some(p) = &opts.pid_file {
                    husk_fs::write_atomic(p, pid.to_string().as_bytes(), 0o644)?;
                }
                Ok(())
            });
            if let Err(e) = finished {
                // Nothing half-made survives a failed create.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
                reap(pid);
                release();
                let _ = cgroup.destroy();
                return Err(e);
            }
            Ok(pid)
        })();
        if result.is_err() {
            release();
            let _ = self.store.remove(id);
        }
        result
    }
}

/// `list`'s OWNER: the name of the user who created the container (runc's
/// column), its uid when the host has no name for it.
fn owner_name() -> String {
    let uid = nix::unistd::geteuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// Whether `e` (a cgroup error) comes from the kernel refusing access.
fn permission_denied(e: &husk_cgroups::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::PermissionDenied
                || io.raw_os_error() == Some(libc::EPERM);
        }
        source = err.source();
    }
    false
}

/// Whether the spec sets a limit (anything in linux.resources but device
/// rules): rootless, it then needs a cgroup it may write.
fn asks_for_limits(spec: &oci_spec::runtime::Spec) -> bool {
    let Some(r) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else {
        return false;
    };
    let mut r = r.clone();
    r.set_devices(None);
    r != oci_spec::runtime::LinuxResources::default()
}

fn rootless_cgroup_error(rootless: bool, e: husk_cgroups::Error) -> Error {
    if rootless && permission_denied(&e) {
        return Error::Spec(format!(
            "rootless: linux.resources sets limits, and the cgroup is not writable by this user: {} (delegate a cgroup subtree to the user, or remove the limits)",
            husk_fs::Chain(&e)
        ));
    }
    e.into()
}

/// runc's rule: whatever the spec's device rules say, the devices every
/// container gets (and those listed in linux.devices) stay usable, and
/// mknod is allowed so /dev can be populated. Appended after the spec's
/// rules, so an explicit deny of one of them is overridden as in runc.
fn add_default_device_rules(
    resources: &mut oci_spec::runtime::LinuxResources,
    devices: &[oci_spec::runtime::LinuxDevice],
) {
    let mut rules: Vec<serde_json::Value> = vec![
        serde_json::json!({"allow": true, "type": "c", "access": "m"}),
        serde_json::json!({"allow": true, "type": "b", "access": "m"}),
    ];
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        rules.push(serde_json::json!({"allow": true, "type": "c", "major": major, "minor": minor, "access": "rwm"}));
    }
    rules.push(serde_json::json!({"allow": true, "type": "c", "major": 136, "access": "rwm"}));
    rules.push(
        serde_json::json!({"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}),
    );
    for d in devices {
        // A FIFO is not a device the cgroup controls (runc adds no rule for
        // it); "u" (unbuffered) is a character device to the cgroup.
        let typ = match d.typ() {
            oci_spec::runtime::LinuxDeviceType::P => continue,
            oci_spec::runtime::LinuxDeviceType::U => oci_spec::runtime::LinuxDeviceType::C,
            t => t,
        };
        rules.push(serde_json::json!({"allow": true, "type": typ, "major": d.major(), "minor": d.minor(), "access": "rwm"}));
    }
    let extra: Vec<oci_spec::runtime::LinuxDeviceCgroup> =
        serde_json::from_value(serde_json::Value::Array(rules)).unwrap_or_default();
    let mut all = resources.devices().clone().unwrap_or_default();
    all.extend(extra);
    resources.set_devices(Some(all));
}

/// `--preserve-fds N` passes the caller's fds 3..3+N. They must be open:
/// otherwise our own files (the state lock) would land on those numbers
/// and be handed to the container.
pub fn check_preserved_fds(n: u32) -> Result<()> {
    for fd in 3..3 + n as i32 {
        // SAFETY: F_GETFD on an fd number only reads its flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Error::Spec(format!(
                "--preserve-fds {n}: fd {fd} is not open (pass fds 3..{} or lower N)",
                3 + n - 1
            )));
        }
    }
    Ok(())
}

/// Lowering the score needs CAP_SYS_RESOURCE; say so rather than a bare EACCES.
pub(crate) fn write_oom_score_adj(pid: i32, adj: i32) -> Result<()> {
    let path = format!("/proc/{pid}/oom_score_adj");
    std::fs::write(&path, adj.to_string()).map_err(|e| {
        let hint = if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) {
            " (lowering it needs CAP_SYS_RESOURCE, which this host's bounding set lacks)"
        } else {
            ""
        };
        Error::Spec(format!("process.oomScoreAdj: {adj}: {e}{hint}"))
    })
}

/// Waits for a child we cloned and describes how it ended.
pub(crate) fn reap(pid: i32) -> String {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return format!("exit status {code}"),
            Ok(WaitStatus::Signaled(_, sig, _)) => return format!("killed by {sig}"),
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return format!("wait: {e}"),
        }
    }
}
