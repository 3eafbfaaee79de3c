//! `update` and `events` arguments: runc's resource flags, sizes and
//! durations.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::UpdateArgs;

/// `5s`, `500ms`, `1m` or plain seconds, as runc's --interval takes them.
pub(crate) fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let bad = || anyhow::anyhow!("--interval {s:?}: use a duration like 5s or 500ms");
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if secs <= 0.0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// docker/runc memory sizes: bytes or a number with b, k, m, g, t (any
/// case, optional "b"/"ib"); -1 means unlimited.
pub fn parse_bytes(flag: &str, s: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("--{flag} {s:?}: use bytes or a size like 400m or 1g");
    if s == "-1" {
        return Ok(-1);
    }
    husk_spec::units::ram_in_bytes(s).ok_or_else(bad)
}

pub(crate) fn update_resources(a: &UpdateArgs) -> Result<oci_spec::runtime::LinuxResources> {
    let mut v = match &a.resources {
        Some(p) => {
            let data = if p == Path::new("-") {
                let mut s = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut s)?;
                s
            } else {
                std::fs::read(p).with_context(|| format!("read {}", p.display()))?
            };
            serde_json::from_slice::<serde_json::Value>(&data)
                .with_context(|| format!("--resources {}: invalid JSON", p.display()))?
        }
        None => serde_json::json!({}),
    };
    let mut set = |section: &str, key: &str, val: serde_json::Value| {
        v[section][key] = val;
    };
    if let Some(x) = &a.memory {
        set("memory", "limit", parse_bytes("memory", x)?.into());
    }
    if let Some(x) = &a.memory_reservation {
        set(
            "memory",
            "reservation",
            parse_bytes("memory-reservation", x)?.into(),
        );
    }
    if let Some(x) = &a.memory_swap {
        set("memory", "swap", parse_bytes("memory-swap", x)?.into());
    }
    if let Some(x) = &a.kernel_memory {
        set("memory", "kernel", parse_bytes("kernel-memory", x)?.into());
    }
    if let Some(x) = a.cpu_share {
        set("cpu", "shares", x.into());
    }
    if let Some(x) = a.cpu_quota {
        set("cpu", "quota", x.into());
    }
    if let Some(x) = a.cpu_period {
        set("cpu", "period", x.into());
    }
    if let Some(x) = a.cpu_rt_runtime {
        set("cpu", "realtimeRuntime", x.into());
    }
    if let Some(x) = a.cpu_rt_period {
        set("cpu", "realtimePeriod", x.into());
    }
    if let Some(x) = &a.cpuset_cpus {
        set("cpu", "cpus", x.clone().into());
    }
    if let Some(x) = &a.cpuset_mems {
        set("cpu", "mems", x.clone().into());
    }
    if let Some(x) = a.pids_limit {
        set("pids", "limit", x.into());
    }
    if let Some(x) = a.blkio_weight {
        set("blockIO", "weight", x.into());
    }
    serde_json::from_value(v).context("resources: invalid LinuxResources")
}
