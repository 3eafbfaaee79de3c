//! A container's health as its monitor observed it (docker's
//! `State.Health`), in docker's JSON names so inspect shows it as
//! recorded, and docker's rules for folding a probe's result into it.

use serde::{Deserialize, Serialize};

/// docker keeps the last five probes.
pub const MAX_LOG_ENTRIES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// What `ps` shows in parentheses after `Up ...`.
    pub fn ps_text(self) -> &'static str {
        match self {
            HealthStatus::Starting => "health: starting",
            s => s.as_str(),
        }
    }
}

/// One probe (docker's `HealthcheckResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    /// RFC 3339 nano.
    pub start: String,
    pub end: String,
    /// -1 when the probe timed out or could not run.
    pub exit_code: i64,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: i64,
    #[serde(default)]
    pub log: Vec<HealthResult>,
}

impl Health {
    /// At every start (docker's initHealthMonitor): starting, no failing
    /// streak; the log of earlier runs stays.
    pub fn starting(previous: Option<Health>) -> Health {
        Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: previous.map(|h| h.log).unwrap_or_default(),
        }
    }

    /// Folds one probe in as docker's handleProbeResult does: 0 is
    /// healthy; any other code is a failure, which counts toward
    /// `retries` unless the container is still starting within its start
    /// period. Returns the new status when it changed.
    pub fn record(
        &mut self,
        result: HealthResult,
        retries: i64,
        in_start_period: bool,
    ) -> Option<HealthStatus> {
        let old = self.status;
        let healthy = result.exit_code == 0;
        self.log.push(result);
        if self.log.len() > MAX_LOG_ENTRIES {
            self.log.drain(..self.log.len() - MAX_LOG_ENTRIES);
        }
        if healthy {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !(self.status == HealthStatus::Starting && in_start_period) {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = HealthStatus::Unhealthy;
            }
        }
        (self.status != old).then_some(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(code: i64) -> HealthResult {
        HealthResult {
            start: "s".into(),
            end: "e".into(),
            exit_code: code,
            output: String::new(),
        }
    }

    #[test]
    fn probes_fold_as_docker_folds_them() {
        let mut h = Health::starting(None);
        assert_eq!(h.record(probe(1), 2, false), None);
        assert_eq!(h.failing_streak, 1);
        assert_eq!(h.record(probe(1), 2, false), Some(HealthStatus::Unhealthy));
        assert_eq!(h.record(probe(7), 2, false), None);
        assert_eq!(h.failing_streak, 3);
        assert_eq!(h.record(probe(0), 2, false), Some(HealthStatus::Healthy));
        assert_eq!(h.failing_streak, 0);
        for _ in 0..4 {
            h.record(probe(0), 2, false);
        }
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
        // A restart keeps the log and starts over.
        let again = Health::starting(Some(h));
        assert_eq!(again.status, HealthStatus::Starting);
        assert_eq!(again.log.len(), MAX_LOG_ENTRIES);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_while_starting() {
        let mut h = Health::starting(None);
        assert_eq!(h.record(probe(1), 1, true), None);
        assert_eq!((h.status, h.failing_streak), (HealthStatus::Starting, 0));
        h.record(probe(0), 1, true);
        // Once healthy the start period no longer shields a failure.
        assert_eq!(h.record(probe(1), 1, true), Some(HealthStatus::Unhealthy));
        assert_eq!(
            serde_json::to_value(&h).unwrap()["Log"][0]["ExitCode"],
            serde_json::json!(1)
        );
        assert_eq!(HealthStatus::Starting.ps_text(), "health: starting");
    }
}
