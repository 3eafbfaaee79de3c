use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use husk_state::Status;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::{sys, Error, Result, Runtime};

impl Runtime {
    /// `delete [--force] ID`. A missing container with --force is success,
    /// as containerd's shim expects after the container already went away.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let _lock = match self.store.lock(id) {
            Ok(l) => l,
            Err(husk_state::Error::NotFound(_)) if force => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let state = match self.store.load(id) {
            Ok(s) => s,
            // A directory without state: a create that died half way.
            Err(husk_state::Error::NotFound(_)) => {
                self.store.remove(id)?;
                return Ok(());
            }
            Err(e) if force => {
                eprintln!("warning: {}; removing its directory", husk_fs::Chain(&e));
                self.store.remove(id)?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let status = self.status(&state);
        match status {
            Status::Stopped => {}
            Status::Created => self.kill_and_wait(&state)?,
            _ if force => self.kill_and_wait(&state)?,
            other => {
                return Err(Error::WrongState {
                    id: id.into(),
                    status: other.to_string(),
                    hint: "stop it first or use delete --force",
                })
            }
        }
        // Before the cgroups: a host mount of a cgroup dir would keep it busy.
        // A record that does not decode fails at the hooks below, after
        // the cgroups are gone.
        let shares = serde_json::from_value::<oci_spec::runtime::Spec>(state.spec.clone())
            .is_ok_and(|spec| crate::host_root::spec_shares_host_mounts(&spec));
        if shares {
            crate::host_root::release(&state.rootfs);
        }
        if let Some(m) = self.cgroup(&state)? {
            m.destroy()?;
        }
        if let Some(h) = self.spec_hooks(&state)? {
            let json = crate::hooks::state_json(&state, Status::Stopped);
            crate::hooks::run_warn("poststop", h.poststop().as_deref().unwrap_or(&[]), &json);
        }
        self.store.remove(id)?;
        Ok(())
    }

    fn kill_and_wait(&self, state: &husk_state::ContainerState) -> Result<()> {
        let cgroup = self.cgroup(state)?;
        // A frozen cgroup would hold SIGKILL pending forever.
        if let Some(m) = &cgroup {
            let _ = m.thaw();
        }
        let pidfd = sys::pidfd_open(state.pid).ok().map(|fd| {
            // SAFETY: pidfd_open returned a new fd that we own.
            unsafe { OwnedFd::from_raw_fd(fd) }
        });
        if husk_state::pid_alive(state.pid, state.pid_start) {
            let _ = kill(Pid::from_raw(state.pid), Signal::SIGKILL);
        }
        // Killing PID 1 of a pid namespace kills the rest; without one,
        // the cgroup's destroy takes care of stragglers.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while husk_state::pid_alive(state.pid, state.pid_start) {
            if std::time::Instant::now() > deadline {
                return Err(Error::Init(format!(
                    "container {} (pid {}) did not die after SIGKILL",
                    state.id, state.pid
                )));
            }
            match &pidfd {
                Some(fd) => {
                    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(fd), PollFlags::POLLIN)];
                    let _ = poll(&mut fds, PollTimeout::from(100u16));
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        Ok(())
    }
}
