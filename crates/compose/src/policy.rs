//! How a service's containers run: restart, health, resources, limits,
//! pulling.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::duration::{format_duration, serde_opt as opt_duration};

/// `restart:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    Always,
    /// `on-failure[:N]`.
    OnFailure {
        max_retries: Option<u32>,
    },
    UnlessStopped,
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restart::No => f.write_str("no"),
            Restart::Always => f.write_str("always"),
            Restart::OnFailure { max_retries: None } => f.write_str("on-failure"),
            Restart::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
            Restart::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

impl Serialize for Restart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `healthcheck:`. Unset fields keep the image's values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Healthcheck {
    /// `None` keeps the image's test; [`HealthTest::None`] disables it
    /// (`disable: true` or `test: ["NONE"]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<HealthTest>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub interval: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub timeout: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub start_period: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub start_interval: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
}

impl Healthcheck {
    /// True when the check is turned off.
    pub fn disabled(&self) -> bool {
        self.test == Some(HealthTest::None)
    }
}

/// A health check's test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthTest {
    /// `["NONE"]`: no check.
    None,
    /// `["CMD", args...]`: exec the arguments.
    Cmd(Vec<String>),
    /// `["CMD-SHELL", cmd]` or a plain string: run through the image's shell.
    CmdShell(String),
}

impl HealthTest {
    /// The form docker's API takes (`Healthcheck.Test`).
    pub fn to_docker(&self) -> Vec<String> {
        match self {
            HealthTest::None => vec!["NONE".to_string()],
            HealthTest::Cmd(args) => std::iter::once("CMD".to_string())
                .chain(args.iter().cloned())
                .collect(),
            HealthTest::CmdShell(cmd) => vec!["CMD-SHELL".to_string(), cmd.clone()],
        }
    }
}

impl Serialize for HealthTest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_docker().serialize(s)
    }
}

/// `deploy:`, the parts a single engine honours.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `deploy.resources`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceLimits>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

/// Limits (or reservations) on a container's resources.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ResourceLimits {
    /// CPUs, fractional (`0.5` is half a CPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Memory in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Maximum number of processes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
}

/// `deploy.restart_policy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RestartPolicy {
    /// `none`, `on-failure` or `any`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub delay: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration::serialize"
    )]
    pub window: Option<Duration>,
}

/// A `ulimits:` entry; a single number sets both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

/// `pull_policy:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Never,
    /// `missing` (or its alias `if_not_present`).
    Missing,
    /// Build the image, never pull it.
    Build,
    Daily,
    Weekly,
    /// `every_<duration>`, e.g. `every_12h`.
    Every(Duration),
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullPolicy::Always => f.write_str("always"),
            PullPolicy::Never => f.write_str("never"),
            PullPolicy::Missing => f.write_str("missing"),
            PullPolicy::Build => f.write_str("build"),
            PullPolicy::Daily => f.write_str("daily"),
            PullPolicy::Weekly => f.write_str("weekly"),
            PullPolicy::Every(d) => write!(f, "every_{}", format_duration(*d)),
        }
    }
}

impl Serialize for PullPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
