use husk_state::Status;

use crate::{Error, Result, Runtime};

/// Sends signal number `sig` (1–64, realtime ones included: nix's
/// `Signal` has no realtime signals) to `pid`.
fn send(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Runtime {
    /// `kill ID SIGNAL [--all]`. A created container can be killed too.
    pub fn kill(&self, id: &str, sig: i32, all: bool) -> Result<()> {
        let state = self.store.load(id)?;
        let status = self.status(&state);
        if status == Status::Stopped {
            return Err(Error::WrongState {
                id: id.into(),
                status: status.to_string(),
                hint: "container not running",
            });
        }
        if all {
            if let Some(m) = self.cgroup(&state)? {
                for pid in m.pids()? {
                    let _ = send(pid, sig);
                }
                return Ok(());
            }
        }
        send(state.pid, sig).map_err(|e| Error::sys("kill", format!("pid {}", state.pid), e))
    }
}
