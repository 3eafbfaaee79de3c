//! The last steps before exec, shared by a container's init and by `exec`:
//! rlimits, seccomp, capabilities, user, umask, cwd, no_new_privs, the
//! executable's lookup. Split in two so the init can report "ready" and
//! wait for `start` between preparing and exec'ing.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use oci_spec::runtime::Process;

use crate::capabilities::CapSets;
use crate::error::Context;
use crate::{rootfs, sched, sys, user, Error, Result};

/// A process ready to exec: everything that can fail with a message has
/// been done; what is left is the late seccomp load and execve.
pub struct Ready {
    path: CString,
    shown: String,
    argv: Vec<CString>,
    envp: Vec<CString>,
    late_filter: Option<husk_seccomp::Filter>,
}

/// Applies the process's limits and identity to the calling process.
/// `filter` is the process's compiled seccomp profile (built by the parent).
pub fn prepare(process: &Process, filter: Option<husk_seccomp::Filter>) -> Result<Ready> {
    user::apply_rlimits(process.rlimits().as_deref().unwrap_or(&[]))?;
    if let Some(s) = process.scheduler() {
        sched::apply_scheduler(s)?;
    }
    if let Some(p) = process.io_priority() {
        sched::apply_io_priority(p)?;
    }

    let no_new_privs = process.no_new_privileges() == Some(true);
    // Without no_new_privs the kernel only lets a process holding
    // CAP_SYS_ADMIN install a filter: load it now, before the capabilities
    // are dropped (runc's order). With no_new_privs, load it at the last
    // moment so the fewest of our own syscalls run under it.
    let early_filter = filter.is_some() && !no_new_privs;
    if early_filter {
        // The filter may deny getcwd, which proves the cwd is inside the
        // root: prove it first. The chdir after the uid switch resolves the
        // same path in the same namespace (this process is alone and no
        // mount changes in between); it checks only the user's permissions.
        enter_cwd(process.cwd())?;
    }
    let late_filter = match filter {
        Some(f) if !no_new_privs => {
            f.load()?;
            None
        }
        other => other,
    };

    let caps = CapSets::from_spec(process.capabilities().as_ref())?;
    caps.apply_bounding()?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 1).ctx("prctl", "PR_SET_KEEPCAPS")?;
    user::switch_user(process.user())?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0).ctx("prctl", "PR_SET_KEEPCAPS")?;
    user::umask(process.user());
    // After the uid switch, so the user's own permissions apply to cwd.
    if early_filter {
        nix::unistd::chdir(process.cwd()).map_err(|e| cwd_error(process.cwd(), e))?;
    } else {
        enter_cwd(process.cwd())?;
    }
    caps.apply_rest()?;
    if no_new_privs {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).ctx("prctl", "PR_SET_NO_NEW_PRIVS")?;
    }

    let args = process.args().as_deref().unwrap_or(&[]);
    let env = with_home(
        process.env().as_deref().unwrap_or(&[]),
        process.user().uid(),
    );
    let prog = args
        .first()
        .ok_or_else(|| Error::Spec("process.args: empty".into()))?;
    let path = rootfs::find_executable(prog, &env, process.cwd())?;
    Ok(Ready {
        path: CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::Spec("process.args[0]: contains a NUL byte".into()))?,
        shown: path.display().to_string(),
        argv: cstrings(args)?,
        envp: cstrings(&env)?,
        late_filter,
    })
}

impl Ready {
    /// Keeps fds 3..3+preserve_fds open across exec, gives the process
    /// default signal dispositions and an empty mask, loads a late seccomp
    /// filter, and execs. Never returns: failures exit 126/127 as docker
    /// reports a command that cannot run / is not found.
    pub fn exec(self, preserve_fds: u32) -> ! {
        for fd in 3..3 + preserve_fds {
            let _ = sys::set_cloexec(fd as RawFd, false);
        }
        // Last, so that until here a closed pipe is an error, not death by
        // SIGPIPE; before the late seccomp filter, which may deny
        // rt_sigaction.
        if let Err(e) = sys::reset_signals() {
            exec_failed(&format!("reset signal dispositions and mask: {e}"), 1);
        }
        if let Some(f) = &self.late_filter {
            if let Err(e) = f.load() {
                exec_failed(&husk_fs::error_chain(&e), 1);
            }
        }
        let e = match nix::unistd::execve(&self.path, &self.argv, &self.envp) {
            Ok(never) => match never {},
            Err(e) => e,
        };
        let code = if e == nix::errno::Errno::ENOENT {
            127
        } else {
            126
        };
        exec_failed(&format!("exec {}: {e}", self.shown), code)
    }
}

fn exec_failed(msg: &str, code: i32) -> ! {
    let line = format!("husk-runtime: {msg}\n");
    // SAFETY: writing a buffer we own to fd 2.
    unsafe { libc::write(2, line.as_ptr() as *const libc::c_void, line.len()) };
    sys::exit_now(code)
}

/// chdir into the process's cwd and prove it is inside the new root: the
/// kernel reports a cwd outside the root as unreachable, which getcwd
/// turns into an error.
fn enter_cwd(cwd: &Path) -> Result<()> {
    nix::unistd::chdir(cwd).map_err(|e| cwd_error(cwd, e))?;
    match nix::unistd::getcwd() {
        Ok(p) if p.is_absolute() => Ok(()),
        _ => Err(Error::Spec(format!(
            "process.cwd: {} resolves outside the container's root",
            cwd.display()
        ))),
    }
}

fn cwd_error(cwd: &Path, e: nix::errno::Errno) -> Error {
    Error::Spec(format!("process.cwd: {}: {e}", cwd.display()))
}

/// runc sets HOME from the container's /etc/passwd when the spec has none.
fn with_home(env: &[String], uid: u32) -> Vec<String> {
    let mut env = env.to_vec();
    if env.iter().any(|e| e.starts_with("HOME=")) {
        return env;
    }
    // The image's file: a device or fifo there must not fill the init's
    // memory or hang it before the exec (runc's parser stops on a bad file too).
    let home = std::fs::File::open("/")
        .ok()
        .and_then(|root| {
            husk_fs::read_file_in_root(
                &root.into(),
                std::path::Path::new("/etc/passwd"),
                husk_fs::MAX_READ_IN_ROOT,
            )
            .ok()
            .flatten()
        })
        .map(|data| String::from_utf8_lossy(&data).into_owned())
        .and_then(|passwd| {
            passwd.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2)?.parse::<u32>().ok()? == uid).then(|| f.get(5).map(|h| h.to_string()))?
            })
        })
        .unwrap_or_else(|| "/".to_string());
    env.push(format!("HOME={home}"));
    env
}

fn cstrings(v: &[String]) -> Result<Vec<CString>> {
    v.iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| Error::Spec(format!("process: {s:?} contains a NUL byte")))
        })
        .collect()
}
