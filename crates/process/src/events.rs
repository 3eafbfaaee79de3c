use std::io::Write;
use std::time::Duration;

use husk_state::Status;
use serde_json::json;

use crate::{Error, Result, Runtime};

impl Runtime {
    /// One `{"type":"stats","id":..,"data":{..}}` object, as runc prints it.
    pub fn stats_event(&self, id: &str) -> Result<serde_json::Value> {
        let state = self.store.load(id)?;
        let m = self.need_cgroup(&state)?;
        let mut data = serde_json::to_value(m.stats()?).unwrap_or_default();
        // Not in runc's struct, but what a user asks after an exit 137.
        if let Ok(n) = m.oom_kill_count() {
            data["memory"]["oomKillCount"] = json!(n);
        }
        Ok(json!({"type": "stats", "id": id, "data": data}))
    }

    /// `events`: a stats event every `interval`, and an `oom` event each
    /// time the kernel OOM-kills in the container, until it stops.
    pub fn events(&self, id: &str, interval: Duration, out: &mut dyn Write) -> Result<()> {
        let state = self.store.load(id)?;
        let m = self.need_cgroup(&state)?;
        let mut ooms = m.oom_kill_count().unwrap_or(0);
        loop {
            if self.status(&state) == Status::Stopped {
                return Ok(());
            }
            let now = m.oom_kill_count().unwrap_or(ooms);
            if now > ooms {
                ooms = now;
                emit(out, &json!({"type": "oom", "id": id}))?;
            }
            if let Ok(stats) = m.stats() {
                emit(out, &json!({"type": "stats", "id": id, "data": stats}))?;
            }
            std::thread::sleep(interval);
        }
    }
}

fn emit(out: &mut dyn Write, v: &serde_json::Value) -> Result<()> {
    writeln!(out, "{v}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::sys("write", "events", e))
}
