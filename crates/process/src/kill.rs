use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use husk_state::Status;

use crate::{Error, Result, Runtime};

impl Runtime {
    /// `kill ID SIGNAL [--all]`. A created container can be killed too.
    pub fn kill(&self, id: &str, sig: Signal, all: bool) -> Result<()> {
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
                    let _ = kill(Pid::from_raw(pid), sig);
                }
                return Ok(());
            }
        }
        kill(Pid::from_raw(state.pid), sig)
            .map_err(|e| Error::sys("kill", format!("pid {}", state.pid), e.into()))
    }
}
