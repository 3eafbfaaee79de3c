use std::io::Read;
use std::os::unix::net::UnixStream;

use husk_state::{Status, EXEC_SOCK};

use crate::error::Context;
use crate::{Error, Result, Runtime};

impl Runtime {
    /// `start`: releases a created init. Returns once the init has exec'd
    /// the user's process (its end of the socket closes on exec).
    pub fn start(&self, id: &str) -> Result<()> {
        let _lock = self.store.lock(id)?;
        let state = self.store.load(id)?;
        let status = self.status(&state);
        if status != Status::Created {
            return Err(Error::WrongState {
                id: id.into(),
                status: status.to_string(),
                hint: "only a created container can be started",
            });
        }
        let sock = self.store.dir(id).join(EXEC_SOCK);
        let dirfd = husk_fs::open_dir_path(&self.store.dir(id))?;
        let mut conn = UnixStream::connect(husk_fs::short_path_in(&dirfd, EXEC_SOCK))
            .map_err(|e| Error::Init(format!("container {id} is not waiting for start: {e}")))?;
        // The init removes nothing itself: drop the socket file now so any
        // later look at the state says "running".
        std::fs::remove_file(&sock).ctx("remove", &sock)?;
        let mut buf = [0u8; 1];
        loop {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::sys("wait for exec of", id, e)),
            }
        }
        if let Some(h) = self.spec_hooks(&state)? {
            let json = crate::hooks::state_json(&state, Status::Running);
            crate::hooks::run_warn("poststart", h.poststart().as_deref().unwrap_or(&[]), &json);
        }
        Ok(())
    }
}
