//! The typed container config: what the flags and the image's config
//! decided, stored in the record as docker's `Config` and `HostConfig`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the image config and the flags decided for the process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    /// The image as typed (`busybox`).
    pub image: String,
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
    pub tty: bool,
    pub open_stdin: bool,
    /// `--stop-signal` or the image's StopSignal, as given (`SIGUSR1`);
    /// empty = SIGTERM.
    #[serde(default)]
    pub stop_signal: String,
    /// `--stop-timeout` seconds: `stop` without `-t` waits this long.
    #[serde(default)]
    pub stop_timeout: Option<i64>,
    /// The image's EXPOSE list (`80/tcp`), which `-P` publishes.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// docker's `Config.Healthcheck`: the flags merged over the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::config::health::Healthcheck>,
    /// The image's SHELL (docker's `Config.Shell`): what a `CMD-SHELL`
    /// healthcheck runs under; empty = `/bin/sh -c`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shell: Vec<String>,
}

/// A further network of a container, as `network connect` asked for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    /// The network's name.
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--ip`; empty: the lowest free address.
    #[serde(default)]
    pub ip: String,
}

/// Resource limits and engine options (docker's HostConfig subset).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostConfig {
    /// Bytes; 0 = unlimited.
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    /// None = unlimited.
    pub pids_limit: Option<i64>,
    /// "bridge", "none", "host", "container:<id>" or the name of a
    /// user-defined network.
    pub network_mode: String,
    /// No `--network` was given: docker shows NetworkMode `default` then.
    #[serde(default)]
    pub network_default: bool,
    /// `-p` as given.
    #[serde(default)]
    pub port_bindings: Vec<String>,
    /// `-P`: publish every exposed port on a free host port.
    #[serde(default)]
    pub publish_all: bool,
    /// `--ip`, `--mac-address` (empty when not given).
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub mac_address: String,
    /// `--network-alias` (docker keeps them per endpoint; husk connects a
    /// container to one network).
    #[serde(default)]
    pub network_aliases: Vec<String>,
    /// Networks besides the first one (`network connect`, more
    /// `--network` flags): connected at every start, in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_networks: Vec<NetworkAttachment>,
    /// `--add-host name:ip`, `--dns`, `--dns-search`.
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    pub auto_remove: bool,
    /// Absolute path of the OCI runtime binary.
    pub runtime: String,
    /// The default seccomp profile applies (off with `seccomp=unconfined`).
    #[serde(default)]
    pub seccomp: bool,
    /// `--security-opt` as given.
    #[serde(default)]
    pub security_opt: Vec<String>,
    /// `-v HOST:CONTAINER[:ro|rw]` bind mounts, as given.
    #[serde(default)]
    pub binds: Vec<String>,
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// Capability names without `CAP_`, upper case (`ALL` allowed).
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// Bytes of memory+swap; 0 = docker's default (twice the memory), -1 = unlimited.
    #[serde(default)]
    pub memory_swap: i64,
    /// Soft limit in bytes; 0 = none.
    #[serde(default)]
    pub memory_reservation: i64,
    #[serde(default)]
    pub cpuset_cpus: String,
    #[serde(default)]
    pub cpuset_mems: String,
    #[serde(default)]
    pub ulimits: Vec<crate::config::resources::Ulimit>,
    #[serde(default)]
    pub privileged: bool,
    /// `--security-opt no-new-privileges`.
    #[serde(default)]
    pub no_new_privileges: bool,
    /// `seccomp=FILE`'s contents (docker format), read at create time.
    #[serde(default)]
    pub seccomp_profile: Option<String>,
    /// `--tmpfs PATH[:OPTS]`, as docker's `Tmpfs` map.
    #[serde(default)]
    pub tmpfs: BTreeMap<String, String>,
    /// `--mount` as given (docker's `HostConfig.Mounts`).
    #[serde(default)]
    pub mounts: Vec<crate::config::mounts::MountFlag>,
    /// Every mount from -v, --mount, --tmpfs and image VOLUMEs, resolved
    /// at create time (volumes made, sources absolute).
    #[serde(default)]
    pub mount_points: Vec<crate::config::mounts::MountPoint>,
    /// `--init`: husk-init runs as PID 1 in front of the command.
    #[serde(default)]
    pub init: bool,
    /// `--log-driver`/`--log-opt`, husk's rotation defaults filled in.
    #[serde(default)]
    pub log_config: crate::config::log::LogConfig,
    /// The rest of docker's run flags (config/extra.rs).
    #[serde(default)]
    pub extra: crate::config::extra::HostExtras,
    /// `--restart`, or `husk update --restart`.
    #[serde(default)]
    pub restart_policy: crate::config::restart::RestartPolicy,
}
