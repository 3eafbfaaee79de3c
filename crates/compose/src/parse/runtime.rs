//! How a service's containers run: `restart`, `healthcheck`, `deploy`,
//! `ulimits`, `pull_policy`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Cx;
use crate::duration::parse_duration;
use crate::policy::{
    Deploy, HealthTest, Healthcheck, PullPolicy, ResourceLimits, Restart, RestartPolicy, Ulimit,
};
use crate::Error;

pub(super) fn parse_restart(cx: &Cx, v: &Value, path: &str) -> Result<Restart, Error> {
    const HINT: &str = "use no, always, on-failure[:N] or unless-stopped";
    let text = cx.string(v, path)?;
    match text.as_str() {
        "no" => Ok(Restart::No),
        "always" => Ok(Restart::Always),
        "unless-stopped" => Ok(Restart::UnlessStopped),
        "on-failure" => Ok(Restart::OnFailure { max_retries: None }),
        t => match t.strip_prefix("on-failure:").map(str::parse::<u32>) {
            Some(Ok(n)) => Ok(Restart::OnFailure {
                max_retries: Some(n),
            }),
            _ => Err(cx.invalid(path, Some(v), format!("unknown restart policy: {HINT}"))),
        },
    }
}

pub(super) fn parse_healthcheck(cx: &mut Cx, v: &Value, path: &str) -> Result<Healthcheck, Error> {
    let mut h = Healthcheck::default();
    let mut disable = false;
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        let p = p.as_str();
        match key.as_str() {
            "test" => h.test = health_test(cx, v, p)?,
            "interval" => h.interval = Some(cx.duration(v, p)?),
            "timeout" => h.timeout = Some(cx.duration(v, p)?),
            "start_period" => h.start_period = Some(cx.duration(v, p)?),
            "start_interval" => h.start_interval = Some(cx.duration(v, p)?),
            "retries" => h.retries = Some(cx.uint(v, p)?),
            "disable" => disable = cx.boolean(v, p)?,
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(p),
        }
    }
    if disable {
        if h.test.as_ref().is_some_and(|t| *t != HealthTest::None) {
            return Err(cx.invalid(
                &format!("{path}.disable"),
                None,
                "disable: true and a test exclude each other: keep only one",
            ));
        }
        h.test = Some(HealthTest::None);
    }
    Ok(h)
}

/// `None` for an empty list (keep the image's test).
fn health_test(cx: &Cx, v: &Value, path: &str) -> Result<Option<HealthTest>, Error> {
    const HINT: &str = "write [\"CMD\", \"prog\", \"arg\"], [\"CMD-SHELL\", \"command\"], [\"NONE\"] or a shell command string";
    let words = match v {
        Value::Array(_) => cx.strings(v, path)?,
        v => return Ok(Some(HealthTest::CmdShell(cx.string(v, path)?))),
    };
    let Some((kind, rest)) = words.split_first() else {
        return Ok(None);
    };
    match kind.as_str() {
        "NONE" => Ok(Some(HealthTest::None)),
        "CMD" if !rest.is_empty() => Ok(Some(HealthTest::Cmd(rest.to_vec()))),
        "CMD-SHELL" if !rest.is_empty() => Ok(Some(HealthTest::CmdShell(rest.join(" ")))),
        "CMD" | "CMD-SHELL" => {
            Err(cx.invalid(path, None, format!("{kind} without a command: {HINT}")))
        }
        _ => Err(cx.invalid(
            &format!("{path}[0]"),
            Some(&Value::from(kind.as_str())),
            format!("a test list starts with CMD, CMD-SHELL or NONE: {HINT}"),
        )),
    }
}

const DEPLOY_UNSUPPORTED: &[&str] = &[
    "endpoint_mode",
    "mode",
    "placement",
    "rollback_config",
    "update_config",
];

pub(super) fn parse_deploy(cx: &mut Cx, v: &Value, path: &str) -> Result<Deploy, Error> {
    let mut d = Deploy::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        let p = p.as_str();
        match key.as_str() {
            "replicas" => d.replicas = Some(cx.uint(v, p)?),
            "resources" => {
                for (rkey, rv) in cx.mapping(v, p)? {
                    let rp = format!("{p}.{rkey}");
                    match rkey.as_str() {
                        "limits" => d.resources.limits = Some(limits(cx, rv, &rp)?),
                        "reservations" => d.resources.reservations = Some(limits(cx, rv, &rp)?),
                        k if k.starts_with("x-") => {}
                        _ => cx.unknown_key(&rp),
                    }
                }
            }
            "restart_policy" => d.restart_policy = Some(restart_policy(cx, v, p)?),
            "labels" => d.labels = cx.string_dict(v, p)?,
            k if k.starts_with("x-") => {}
            k if DEPLOY_UNSUPPORTED.contains(&k) => cx.unsupported_key(p),
            _ => cx.unknown_key(p),
        }
    }
    Ok(d)
}

fn limits(cx: &mut Cx, v: &Value, path: &str) -> Result<ResourceLimits, Error> {
    let mut l = ResourceLimits::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "cpus" => l.cpus = Some(cx.float(v, &p)?),
            "memory" => l.memory = Some(cx.bytes(v, &p)?),
            "pids" => l.pids = Some(cx.int(v, &p)?),
            "devices" | "generic_resources" => cx.unsupported_key(&p),
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(l)
}

fn restart_policy(cx: &mut Cx, v: &Value, path: &str) -> Result<RestartPolicy, Error> {
    let mut r = RestartPolicy::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "condition" => {
                let c = cx.string(v, &p)?;
                if !matches!(c.as_str(), "none" | "on-failure" | "any") {
                    return Err(cx.invalid(
                        &p,
                        Some(v),
                        "unknown condition: use none, on-failure or any",
                    ));
                }
                r.condition = Some(c);
            }
            "delay" => r.delay = Some(cx.duration(v, &p)?),
            "max_attempts" => r.max_attempts = Some(cx.uint(v, &p)?),
            "window" => r.window = Some(cx.duration(v, &p)?),
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(r)
}

pub(super) fn parse_ulimits(
    cx: &mut Cx,
    v: &Value,
    path: &str,
) -> Result<BTreeMap<String, Ulimit>, Error> {
    let mut out = BTreeMap::new();
    for (name, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{name}");
        let limit = match v {
            Value::Object(map) => {
                let (mut soft, mut hard) = (None, None);
                for (key, v) in map {
                    let kp = format!("{p}.{key}");
                    match key.as_str() {
                        "soft" => soft = Some(cx.int(v, &kp)?),
                        "hard" => hard = Some(cx.int(v, &kp)?),
                        _ => cx.unknown_key(&kp),
                    }
                }
                match (soft, hard) {
                    (Some(soft), Some(hard)) if soft <= hard => Ulimit { soft, hard },
                    (Some(_), Some(_)) => {
                        return Err(cx.invalid(
                            &p,
                            None,
                            "soft is above hard: lower soft or raise hard",
                        ))
                    }
                    _ => {
                        return Err(cx.invalid(
                            &p,
                            None,
                            "needs both soft: and hard:, or a single number",
                        ))
                    }
                }
            }
            v => {
                let n = cx.int(v, &p)?;
                Ulimit { soft: n, hard: n }
            }
        };
        out.insert(name.clone(), limit);
    }
    Ok(out)
}

pub(super) fn parse_pull_policy(cx: &Cx, v: &Value, path: &str) -> Result<PullPolicy, Error> {
    const HINT: &str = "use always, never, missing, build, daily, weekly or every_<duration>";
    let text = cx.string(v, path)?;
    Ok(match text.as_str() {
        "always" => PullPolicy::Always,
        "never" => PullPolicy::Never,
        "missing" | "if_not_present" => PullPolicy::Missing,
        "build" => PullPolicy::Build,
        "daily" => PullPolicy::Daily,
        "weekly" => PullPolicy::Weekly,
        t => match t.strip_prefix("every_").map(parse_duration) {
            Some(Ok(d)) => PullPolicy::Every(d),
            Some(Err(m)) => return Err(cx.invalid(path, Some(v), m)),
            None => return Err(cx.invalid(path, Some(v), format!("unknown pull policy: {HINT}"))),
        },
    })
}
