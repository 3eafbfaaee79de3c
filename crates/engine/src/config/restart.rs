//! `--restart no|on-failure[:N]|always|unless-stopped`: docker's restart
//! policy, parsed and checked with docker's rules and words (the CLI's
//! `ParseRestartPolicy`, the daemon's `ValidateRestartPolicy`), and the
//! decision docker's restart manager makes when a container exits.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// docker's `HostConfig.RestartPolicy`, in docker's key names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "MaximumRetryCount")]
    pub maximum_retry_count: i64,
}

impl Default for RestartPolicy {
    fn default() -> RestartPolicy {
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        }
    }
}

fn bad(value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag: "--restart",
        value: value.to_string(),
        reason: reason.into(),
    }
}

impl RestartPolicy {
    /// Parses `--restart`'s value; `None` is docker's default, `no`.
    pub fn parse(value: Option<&str>) -> Result<RestartPolicy> {
        let Some(s) = value.filter(|s| !s.is_empty()) else {
            return Ok(RestartPolicy::default());
        };
        let (name, count) = match s.split_once(':') {
            Some(("", _)) => {
                return Err(bad(
                    s,
                    "invalid restart policy format: no policy provided before colon",
                ))
            }
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let maximum_retry_count = match count.filter(|c| !c.is_empty()) {
            Some(c) => c.parse::<i64>().map_err(|_| {
                bad(
                    s,
                    "invalid restart policy format: maximum retry count must be an integer",
                )
            })?,
            None => 0,
        };
        let p = RestartPolicy {
            name: name.to_string(),
            maximum_retry_count,
        };
        p.validate(s)?;
        Ok(p)
    }

    fn validate(&self, given: &str) -> Result<()> {
        match self.name.as_str() {
            "always" | "unless-stopped" | "no" if self.maximum_retry_count != 0 => {
                let mut msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'".to_string();
                if self.maximum_retry_count < 0 {
                    msg.push_str(" and cannot be negative");
                }
                Err(bad(given, msg))
            }
            "always" | "unless-stopped" | "no" => Ok(()),
            "on-failure" if self.maximum_retry_count < 0 => Err(bad(
                given,
                "invalid restart policy: maximum retry count cannot be negative",
            )),
            "on-failure" => Ok(()),
            other => Err(bad(
                given,
                format!("invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
            )),
        }
    }

    /// docker's `IsNone`.
    pub fn is_none(&self) -> bool {
        self.name.is_empty() || self.name == "no"
    }

    /// `--restart` with `--rm`: docker's CLI refuses the pair, since the
    /// container would be deleted on the very exit the policy acts on.
    pub fn check_auto_remove(&self, auto_remove: bool) -> Result<()> {
        if auto_remove && !self.is_none() {
            return Err(Error::InvalidFlag {
                flag: "--restart",
                value: self.to_string(),
                reason: "conflicting options: cannot specify both --restart and --rm".into(),
            });
        }
        Ok(())
    }

    /// docker's restart manager's answer when the container exits with
    /// `code`, after `restart_count` restarts: `cancelled` is a `stop` (or
    /// `kill`) that ended the policy until the next start,
    /// `manually_stopped` docker's `HasBeenManuallyStopped`.
    pub fn should_restart(
        &self,
        code: i32,
        restart_count: i64,
        manually_stopped: bool,
        cancelled: bool,
    ) -> bool {
        if cancelled {
            return false;
        }
        match self.name.as_str() {
            "always" => true,
            "unless-stopped" => !manually_stopped,
            "on-failure" => {
                let max = self.maximum_retry_count;
                code != 0 && (max == 0 || restart_count < max)
            }
            _ => false,
        }
    }

    /// Whether a host (re)boot brings the container back, as dockerd's
    /// start does: `always` whatever stopped it, `unless-stopped` unless a
    /// user did, `on-failure` when it failed and has retries left.
    pub fn restart_at_boot(&self, code: i32, restart_count: i64, manually_stopped: bool) -> bool {
        self.should_restart(code, restart_count, manually_stopped, false)
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name == "on-failure" && self.maximum_retry_count > 0 {
            write!(f, "on-failure:{}", self.maximum_retry_count)
        } else {
            f.write_str(&self.name)
        }
    }
}

/// docker's restart manager's delay before restart `n`: 100 ms, doubling
/// each time, at most a minute; back to 100 ms once the container ran for
/// 10 s or more.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    timeout: std::time::Duration,
}

impl Backoff {
    const FIRST: std::time::Duration = std::time::Duration::from_millis(100);
    const MAX: std::time::Duration = std::time::Duration::from_secs(60);
    const RESET_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

    /// The delay before the next start of a container that ran for `ran`.
    pub fn next(&mut self, ran: std::time::Duration) -> std::time::Duration {
        if ran >= Self::RESET_AFTER {
            self.timeout = std::time::Duration::ZERO;
        }
        self.timeout = if self.timeout.is_zero() {
            Self::FIRST
        } else {
            (self.timeout * 2).min(Self::MAX)
        };
        self.timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn p(s: &str) -> Result<RestartPolicy> {
        RestartPolicy::parse(Some(s))
    }

    #[test]
    fn parses_docker_policies() {
        assert_eq!(RestartPolicy::parse(None).unwrap().name, "no");
        assert_eq!(p("always").unwrap().name, "always");
        assert_eq!(p("unless-stopped").unwrap().name, "unless-stopped");
        let f = p("on-failure:3").unwrap();
        assert_eq!((f.name.as_str(), f.maximum_retry_count), ("on-failure", 3));
        assert_eq!(p("on-failure").unwrap().maximum_retry_count, 0);
        assert_eq!(f.to_string(), "on-failure:3");
    }

    #[test]
    fn rejects_what_docker_rejects_with_its_words() {
        let msg = |s: &str| p(s).unwrap_err().to_string();
        assert!(msg("sometimes").contains("unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"));
        assert!(msg("always:3").contains("maximum retry count can only be used with 'on-failure'"));
        assert!(msg("always:-1").ends_with("and cannot be negative"));
        assert!(msg("on-failure:-1").contains("maximum retry count cannot be negative"));
        assert!(msg("on-failure:x").contains("maximum retry count must be an integer"));
        assert!(msg(":3").contains("no policy provided before colon"));
        let rm = p("always").unwrap().check_auto_remove(true).unwrap_err();
        assert!(rm
            .to_string()
            .contains("cannot specify both --restart and --rm"));
        assert!(p("no").unwrap().check_auto_remove(true).is_ok());
    }

    #[test]
    fn decides_as_dockers_restart_manager() {
        let always = p("always").unwrap();
        assert!(always.should_restart(0, 5, true, false));
        assert!(!always.should_restart(0, 5, true, true));
        let unless = p("unless-stopped").unwrap();
        assert!(unless.should_restart(0, 0, false, false));
        assert!(!unless.should_restart(0, 0, true, false));
        let f2 = p("on-failure:2").unwrap();
        assert!(!f2.should_restart(0, 0, false, false));
        assert!(f2.should_restart(1, 1, false, false));
        assert!(!f2.should_restart(1, 2, false, false));
        assert!(p("on-failure")
            .unwrap()
            .should_restart(1, 1000, false, false));
        assert!(!p("no").unwrap().should_restart(1, 0, false, false));
    }

    #[test]
    fn backs_off_as_docker_doubling_from_100ms_and_resets_after_10s_up() {
        let mut b = Backoff::default();
        let quick = Duration::from_millis(5);
        assert_eq!(b.next(quick), Duration::from_millis(100));
        assert_eq!(b.next(quick), Duration::from_millis(200));
        assert_eq!(b.next(quick), Duration::from_millis(400));
        for _ in 0..20 {
            b.next(quick);
        }
        assert_eq!(b.next(quick), Duration::from_secs(60));
        assert_eq!(b.next(Duration::from_secs(10)), Duration::from_millis(100));
    }
}
