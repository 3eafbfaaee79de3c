//! Healthchecks as docker configures them: the `--health-*` flags and
//! `--no-healthcheck` (checked as the docker CLI and daemon check them),
//! the image's `Healthcheck`, and docker's merge of the two. The config is
//! kept in docker's shape (`Test`, durations in nanoseconds, zero = the
//! default) so inspect shows it as stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// docker's defaults (moby daemon/health.go).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: i64 = 3;

/// docker's `HealthConfig` (`Config.Healthcheck`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", argv...]` or `["CMD-SHELL", command]`; empty =
    /// inherit the image's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    /// Nanoseconds; 0 = docker's default.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn or_default(ns: i64, default: Duration) -> Duration {
    if ns <= 0 {
        default
    } else {
        Duration::from_nanos(ns as u64)
    }
}

impl Healthcheck {
    /// The command a probe runs, or None when there is no check to run
    /// (`NONE`, no test, an unknown type, as docker's `getProbe`).
    pub fn probe(&self) -> Option<Vec<String>> {
        self.probe_in(&[])
    }

    /// The same with `CMD-SHELL` run by `shell` (the image's SHELL; empty
    /// = `/bin/sh -c`, as docker's `getShell`).
    pub fn probe_in(&self, shell: &[String]) -> Option<Vec<String>> {
        let (kind, rest) = self.test.split_first()?;
        let argv: Vec<String> = match kind.as_str() {
            "CMD" => rest.to_vec(),
            "CMD-SHELL" if shell.is_empty() => ["/bin/sh", "-c"]
                .iter()
                .map(|s| s.to_string())
                .chain(rest.iter().cloned())
                .collect(),
            "CMD-SHELL" => shell.iter().chain(rest).cloned().collect(),
            _ => return None,
        };
        (!argv.is_empty()).then_some(argv)
    }

    pub fn interval(&self) -> Duration {
        or_default(self.interval, DEFAULT_INTERVAL)
    }

    pub fn timeout(&self) -> Duration {
        or_default(self.timeout, DEFAULT_TIMEOUT)
    }

    pub fn start_period(&self) -> Duration {
        or_default(self.start_period, Duration::ZERO)
    }

    pub fn start_interval(&self) -> Duration {
        or_default(self.start_interval, DEFAULT_START_INTERVAL)
    }

    pub fn retries(&self) -> i64 {
        if self.retries <= 0 {
            DEFAULT_RETRIES
        } else {
            self.retries
        }
    }
}

/// `run`/`create`'s healthcheck flags, as typed.
#[derive(Debug, Clone, Default)]
pub struct HealthOptions {
    /// `--health-cmd`: run with `/bin/sh -c`.
    pub cmd: Option<String>,
    /// Go durations (`30s`, `1m30s`, `500ms`).
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<String>,
    /// `--no-healthcheck`.
    pub disable: bool,
}

/// The flags as docker's CLI turns them into a `HealthConfig` (None when
/// none was given), checked as its daemon checks one.
pub fn parse(o: &HealthOptions) -> Result<Option<Healthcheck>> {
    let duration = |flag: &'static str, v: &Option<String>| -> Result<i64> {
        let Some(v) = v else { return Ok(0) };
        let bad = |reason: String| Error::InvalidFlag {
            flag,
            value: v.clone(),
            reason,
        };
        if v.trim_start().starts_with('-') {
            return Err(bad(format!("{flag} cannot be negative")));
        }
        let d = husk_dockerfile::parse_duration(v)
            .map_err(|e| bad(format!("{e}: use a duration like 30s, 1m30s or 500ms")))?;
        if !d.is_zero() && d < Duration::from_millis(1) {
            return Err(bad(format!("{flag} cannot be less than 1ms")));
        }
        i64::try_from(d.as_nanos()).map_err(|_| bad("too long".into()))
    };
    let h = Healthcheck {
        test: match &o.cmd {
            Some(c) if !c.is_empty() => vec!["CMD-SHELL".into(), c.clone()],
            _ => Vec::new(),
        },
        interval: duration("--health-interval", &o.interval)?,
        timeout: duration("--health-timeout", &o.timeout)?,
        start_period: duration("--health-start-period", &o.start_period)?,
        start_interval: duration("--health-start-interval", &o.start_interval)?,
        retries: match &o.retries {
            None => 0,
            Some(v) => {
                let bad = |reason: &str| Error::InvalidFlag {
                    flag: "--health-retries",
                    value: v.clone(),
                    reason: reason.into(),
                };
                let n: i64 = v.trim().parse().map_err(|_| bad("not a whole number"))?;
                if n < 0 {
                    return Err(bad("--health-retries cannot be negative"));
                }
                n
            }
        },
    };
    let given = h != Healthcheck::default();
    if o.disable {
        if given {
            return Err(Error::InvalidFlag {
                flag: "--no-healthcheck",
                value: "true".into(),
                reason: "--no-healthcheck conflicts with --health-* options: give one or the other"
                    .into(),
            });
        }
        return Ok(Some(Healthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        }));
    }
    Ok(given.then_some(h))
}

/// The image config's `config.Healthcheck` (the raw config: the OCI types
/// do not carry it).
pub fn from_image(
    config: &serde_json::Value,
) -> std::result::Result<Option<Healthcheck>, serde_json::Error> {
    match config.get("config").and_then(|c| c.get("Healthcheck")) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some),
    }
}

/// docker's merge (daemon/commit.go): what the flags leave unset comes
/// from the image's check.
pub fn merge(user: Option<Healthcheck>, image: Option<&Healthcheck>) -> Option<Healthcheck> {
    let Some(image) = image else { return user };
    let Some(mut u) = user else {
        return Some(image.clone());
    };
    if u.test.is_empty() {
        u.test = image.test.clone();
    }
    for (mine, theirs) in [
        (&mut u.interval, image.interval),
        (&mut u.timeout, image.timeout),
        (&mut u.start_period, image.start_period),
        (&mut u.start_interval, image.start_interval),
        (&mut u.retries, image.retries),
    ] {
        if *mine == 0 {
            *mine = theirs;
        }
    }
    Some(u)
}

/// Go's `time.Duration.String()` (`30s`, `1m30s`, `500ms`, `1h0m0s`), as
/// docker writes a timeout into a probe's output.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let frac = |v: u128, unit: u128| -> String {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = unit.to_string().len() - 1;
        let f = format!("{rest:0digits$}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 1_000_000));
    }
    let h = ns / 3_600_000_000_000;
    let m = ns / 60_000_000_000 % 60;
    let s = frac(ns % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(f: impl FnOnce(&mut HealthOptions)) -> HealthOptions {
        let mut o = HealthOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn flags_become_docker_config() {
        assert_eq!(parse(&HealthOptions::default()).unwrap(), None);
        let h = parse(&opts(|o| {
            o.cmd = Some("test -e /ok".into());
            o.interval = Some("1s".into());
            o.timeout = Some("1m30s".into());
            o.retries = Some("2".into());
        }))
        .unwrap()
        .unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "test -e /ok"]);
        assert_eq!(h.interval, 1_000_000_000);
        assert_eq!(h.timeout, 90_000_000_000);
        assert_eq!(h.retries, 2);
        assert_eq!(h.start_period, 0);
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            serde_json::json!({"Test": ["CMD-SHELL", "test -e /ok"], "Interval": 1000000000u64,
                "Timeout": 90000000000u64, "Retries": 2})
        );
        let none = parse(&opts(|o| o.disable = true)).unwrap().unwrap();
        assert_eq!(none.test, ["NONE"]);
        assert_eq!(none.probe(), None);
    }

    #[test]
    fn bad_values_are_refused_as_docker_refuses_them() {
        let err = |f: fn(&mut HealthOptions)| parse(&opts(f)).unwrap_err().to_string();
        assert!(err(|o| o.interval = Some("-1s".into())).contains("cannot be negative"));
        assert!(err(|o| o.timeout = Some("10".into())).contains("missing unit"));
        assert!(err(|o| o.interval = Some("10ns".into())).contains("less than 1ms"));
        assert!(err(|o| o.retries = Some("-1".into())).contains("cannot be negative"));
        assert!(err(|o| o.retries = Some("x".into())).contains("whole number"));
        assert!(err(|o| {
            o.disable = true;
            o.cmd = Some("true".into());
        })
        .contains("conflicts"));
        assert!(parse(&opts(|o| o.interval = Some("1ms".into()))).is_ok());
    }

    #[test]
    fn flags_merge_over_the_image_check() {
        let image = Healthcheck {
            test: vec!["CMD".into(), "/check".into()],
            interval: 5,
            retries: 7,
            ..Default::default()
        };
        assert_eq!(merge(None, Some(&image)), Some(image.clone()));
        let user = Healthcheck {
            interval: 9,
            ..Default::default()
        };
        let m = merge(Some(user), Some(&image)).unwrap();
        assert_eq!(
            (m.test.clone(), m.interval, m.retries),
            (image.test.clone(), 9, 7)
        );
        assert_eq!(m.probe().unwrap(), ["/check"]);
        let off = merge(parse(&opts(|o| o.disable = true)).unwrap(), Some(&image)).unwrap();
        assert_eq!(off.probe(), None);
        let shell = Healthcheck {
            test: vec!["CMD-SHELL".into(), "exit 1".into()],
            ..Default::default()
        };
        assert_eq!(shell.probe().unwrap(), ["/bin/sh", "-c", "exit 1"]);
        let bash = ["/bin/bash".to_string(), "-ec".to_string()];
        assert_eq!(
            shell.probe_in(&bash).unwrap(),
            ["/bin/bash", "-ec", "exit 1"]
        );
        assert_eq!(shell.interval(), DEFAULT_INTERVAL);
        assert_eq!(shell.retries(), 3);
    }

    #[test]
    fn durations_print_as_go_does() {
        let ms = Duration::from_millis;
        assert_eq!(go_duration(ms(1000)), "1s");
        assert_eq!(go_duration(ms(1500)), "1.5s");
        assert_eq!(go_duration(ms(500)), "500ms");
        assert_eq!(go_duration(ms(90_000)), "1m30s");
        assert_eq!(go_duration(ms(3_600_000)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }
}
