//! docker's flags and an image's config, parsed and checked once, before
//! anything is created: [`CreateOptions`] is what `husk create`/`run` was
//! given; the submodules parse one family of flags each. Nothing here writes:
//! the only reads are the files a flag names (`--env-file`, `seccomp=FILE`,
//! a bind's source for `--mount`).

pub mod caps;
pub mod flags;
pub mod log;
pub mod mounts;
pub mod resources;
pub mod seccomp_profile;

use std::path::PathBuf;

use crate::{Error, Result};

/// docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (a leading `/` is accepted and dropped).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Everything `husk create`/`run` takes besides the engine paths.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub image: String,
    pub cmd: Vec<String>,
    pub name: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub labels: Vec<String>,
    /// docker's `-m` text: `400m`, `1g`, `1048576`.
    pub memory: Option<String>,
    pub pids_limit: Option<i64>,
    /// `--cpus 1.5`.
    pub cpus: Option<f64>,
    pub cpu_shares: Option<i64>,
    /// `bridge`, `none`, `host` or `container:NAME`; None = the config's default.
    pub network: Option<String>,
    /// `-p [IP:][HOSTPORT:]CPORT[/PROTO]`.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    pub ip: Option<String>,
    pub mac_address: Option<String>,
    /// `--add-host name:ip`.
    pub add_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub auto_remove: bool,
    pub runtime: Option<PathBuf>,
    /// `-i`: the container reads the caller's stdin.
    pub interactive: bool,
    /// `-t`: the container's stdio is a terminal.
    pub tty: bool,
    /// `--security-opt`: only `seccomp=unconfined` is understood yet.
    pub security_opt: Vec<String>,
    /// `-v HOST:CONTAINER[:ro|rw]` (host paths only; named volumes later).
    pub volumes: Vec<String>,
    pub read_only: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--env-file`: read before `-e`, which overrides them.
    pub env_files: Vec<PathBuf>,
    /// `--mount type=...,source=...,target=...`.
    pub mounts: Vec<String>,
    /// `--tmpfs PATH[:OPTS]`.
    pub tmpfs: Vec<String>,
    /// `--memory-swap` text (`-1` = unlimited).
    pub memory_swap: Option<String>,
    pub memory_reservation: Option<String>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// `--ulimit nofile=1024:2048`.
    pub ulimits: Vec<String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub privileged: bool,
    /// `--init`.
    pub init: bool,
    /// `--log-driver` (json-file only) and `--log-opt KEY=VALUE`.
    pub log_driver: Option<String>,
    pub log_opts: Vec<String>,
}

/// `NET_ADMIN`, `cap_net_admin`, `CAP_NET_ADMIN` → `NET_ADMIN`.
pub(crate) fn cap_name(c: &str) -> Result<String> {
    let up = c.to_ascii_uppercase();
    let up = up.strip_prefix("CAP_").unwrap_or(&up).to_string();
    if up == "ALL" || caps::ALL_CAPS.contains(&format!("CAP_{up}").as_str()) {
        Ok(up)
    } else {
        Err(Error::InvalidFlag {
            flag: "--cap-add/--cap-drop",
            value: c.to_string(),
            reason: "unknown capability".into(),
        })
    }
}

/// docker's RAMInBytes: binary units b, k, m, g, t, p with an optional `b`.
pub fn parse_memory(s: &str) -> Result<i64> {
    parse_size("--memory", s, "memory limit")
}

/// A size flag with docker's 6MB floor (the kernel's too), `what` naming
/// it in the refusal.
pub(crate) fn parse_size(flag: &'static str, s: &str, what: &str) -> Result<i64> {
    let bad = |reason: String| Error::InvalidFlag {
        flag,
        value: s.to_string(),
        reason,
    };
    let bytes = husk_spec::units::ram_in_bytes(s)
        .ok_or_else(|| bad("not a size: use a number with b, k, m, g, t or p".into()))?;
    if bytes < 6 * 1024 * 1024 {
        return Err(bad(format!("minimum {what} allowed is 6MB")));
    }
    Ok(bytes)
}
