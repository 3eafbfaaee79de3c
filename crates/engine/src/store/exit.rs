//! What the engine saw at a container's end, kept in its record for `husk
//! why`: the memory cgroup's figures read by the monitor before teardown
//! destroys the cgroup, and the kills the engine itself sent (`husk kill`,
//! `husk stop` and its SIGKILL after the timeout). Cleared at every start.

use serde::{Deserialize, Serialize};

use super::Paths;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryAtExit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<EngineKill>,
}

/// The memory cgroup as the init left it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryAtExit {
    /// Bytes; None when unlimited.
    pub limit: Option<u64>,
    /// Highest usage seen (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`).
    pub peak: Option<u64>,
    /// Times the limit was hit (v1 `memory.failcnt`, v2 `memory.events` max).
    pub failcnt: u64,
    /// Processes the kernel's OOM killer killed in the cgroup.
    pub oom_kills: u64,
}

/// A signal the engine sent, and which verb sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineKill {
    /// `husk kill`, `husk stop`.
    pub by: String,
    pub signal: i32,
    /// RFC 3339 nano, UTC.
    pub at: String,
    /// For `stop`'s SIGKILL: the seconds the stop signal was given first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_timeout: Option<u64>,
}

/// Records that `by` is about to send `signal` to container `id`, for
/// `husk why` to name the sender once the exit is recorded. Best effort:
/// a record that cannot be written must not keep the signal from going.
pub fn note_kill(paths: &Paths, id: &str, by: &str, signal: i32, after_timeout: Option<u64>) {
    let kill = EngineKill {
        by: by.to_string(),
        signal,
        at: husk_fs::now_rfc3339(),
        after_timeout,
    };
    if let Err(e) = paths.update(id, move |r| {
        r.state.end.kill = Some(kill);
        Ok(())
    }) {
        eprintln!(
            "husk: record the signal sent to {id}: {}",
            husk_fs::Chain(&e)
        );
    }
}
