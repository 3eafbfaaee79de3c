//! The container record (`container.json`): what `create` decided and what
//! the monitor observed. Field names follow docker's inspect where they map.

use serde::{Deserialize, Serialize};

pub use crate::config::container::{ContainerConfig, HostConfig};

/// docker's machine states (`State.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// Host pid of the container's init while it runs, else 0.
    pub pid: i32,
    /// Start time of `pid` (clock ticks since boot): a recycled pid never
    /// passes for the container.
    #[serde(default)]
    pub pid_start: u64,
    /// The monitor process and its start time.
    #[serde(default)]
    pub monitor_pid: i32,
    #[serde(default)]
    pub monitor_start: u64,
    pub exit_code: i32,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub oom_killed: bool,
    /// RFC 3339 nano, UTC; empty when unset.
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: String,
    /// docker's `State.Health`: set at the first start with a healthcheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<super::health::Health>,
    /// What the monitor and the engine's verbs saw of the end (`husk why`).
    #[serde(default)]
    pub end: super::exit::End,
    /// docker's `HasBeenManuallyStopped`: a `stop` or `kill` since the
    /// last start (`unless-stopped` stays down, at boot too).
    #[serde(default)]
    pub manually_stopped: bool,
    /// The restart policy is off until the next start: a `stop`, a `kill`
    /// with the stop signal, an `rm -f` (docker's `ExitOnNext`).
    #[serde(default)]
    pub restart_cancelled: bool,
}

impl State {
    pub fn created() -> State {
        State {
            status: Status::Created,
            pid: 0,
            pid_start: 0,
            monitor_pid: 0,
            monitor_start: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: String::new(),
            finished_at: String::new(),
            health: None,
            end: Default::default(),
            manually_stopped: false,
            restart_cancelled: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    /// Without docker's leading `/`.
    pub name: String,
    pub created: String,
    /// Entrypoint + Cmd as run: `path` is argv\[0\].
    pub path: String,
    pub args: Vec<String>,
    /// `sha256:<hex>`.
    pub image_id: String,
    /// overlay lowerdirs, top layer first, fixed at create time.
    pub lower_dirs: Vec<String>,
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub state: State,
    #[serde(default)]
    pub restart_count: i64,
    /// What the container is connected to while it runs (None otherwise).
    #[serde(default)]
    pub network: Option<NetworkState>,
}

/// A running container's connection, for inspect, ps and `port`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NetworkState {
    /// The netns handle (docker's SandboxKey).
    pub sandbox_key: String,
    /// docker's EndpointID: 64 hex, new at every connect.
    #[serde(default)]
    pub endpoint_id: String,
    #[serde(default)]
    pub network_id: String,
    pub endpoint: Option<husk_network::Endpoint>,
    /// Endpoints on the further networks (`network connect`, a second
    /// `--network`), in the order they were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<ExtraEndpoint>,
}

/// A running container's endpoint on a further network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtraEndpoint {
    pub endpoint_id: String,
    pub network_id: String,
    pub endpoint: husk_network::Endpoint,
}

impl NetworkState {
    /// Every endpoint: the first network's, then the further ones.
    pub fn endpoints(&self) -> impl Iterator<Item = &husk_network::Endpoint> {
        self.endpoint
            .iter()
            .chain(self.extra.iter().map(|x| &x.endpoint))
    }

    /// The endpoint on `network`, if the container has one there.
    pub fn on(&self, network: &str) -> Option<&husk_network::Endpoint> {
        self.endpoints().find(|e| e.network == network)
    }
}

impl Container {
    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state.status, Status::Running | Status::Paused)
    }

    /// `sh -c 'exit 3'` as docker shows COMMAND (before quoting).
    pub fn command_line(&self) -> String {
        command_line(&self.path, &self.args)
    }
}

/// moby's daemon/list.go: an argument holding a space goes in single
/// quotes, as is (no escaping); the path is left alone.
fn command_line(path: &str, args: &[String]) -> String {
    std::iter::once(path.to_string())
        .chain(args.iter().map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                a.clone()
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod command_line_tests {
    #[test]
    fn arguments_with_spaces_are_single_quoted_as_docker_does() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            super::command_line("sh", &args(&["-c", "exit 3"])),
            "sh -c 'exit 3'"
        );
        assert_eq!(
            super::command_line("/bin/my prog", &args(&["it's", "a b"])),
            "/bin/my prog it's 'a b'"
        );
    }
}
