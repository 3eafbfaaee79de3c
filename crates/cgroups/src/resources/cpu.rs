use oci_spec::runtime::{LinuxCpu, LinuxResources};

use super::check_limit;
use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::{CgroupDir, Manager};

/// cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100) along the
/// quadratic through those three points: crun's convert_shares_to_weight
/// (src/libcrun/cgroup-internal.h, crun >= 1.23) and opencontainers/cgroups
/// ConvertCPUSharesToCgroupV2Value (v0.0.3, runc >= 1.3), which replaced the linear
/// `1 + ((shares - 2) * 9999) / 262142` that mapped the default 1024 to 39.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    (10f64.powf(exponent).ceil() as u64).clamp(1, 10_000)
}

fn wants_cpu(c: &LinuxCpu) -> bool {
    c.shares().is_some()
        || c.quota().is_some()
        || c.period().is_some()
        || c.burst().is_some()
        || c.realtime_runtime().is_some()
        || c.realtime_period().is_some()
        || c.idle().is_some()
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(c) = r.cpu() else { return Ok(()) };
    check_limit("cpu.quota", c.quota())?;
    check_limit("cpu.realtimeRuntime", c.realtime_runtime())?;
    if let Some(p) = c.period().filter(|p| *p != 0) {
        // The kernel's bounds for cfs_period_us (1ms..1s).
        if !(1000..=1_000_000).contains(&p) {
            return Err(Error::invalid(
                "cpu.period",
                format!("{p} is outside 1000..1000000"),
            ));
        }
    }
    if let Some(i) = c.idle() {
        if i != 0 && i != 1 {
            return Err(Error::invalid(
                "cpu.idle",
                format!("{i} is neither 0 nor 1"),
            ));
        }
    }
    if !wants_cpu(c) {
        return Ok(());
    }
    let d = m.require("cpu", "cpu")?;
    let rt =
        c.realtime_runtime().is_some_and(|v| v != 0) || c.realtime_period().is_some_and(|v| v != 0);
    if d.version == Version::V2 && rt {
        return Err(Error::Unsupported {
            field: "cpu.realtimeRuntime/realtimePeriod".into(),
            version: "v2",
            reason: "the v2 cpu controller has no realtime bandwidth files".into(),
        });
    }
    Ok(())
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(c) = r.cpu() else { return Ok(()) };
    if !wants_cpu(c) {
        return Ok(());
    }
    let d = m.require("cpu", "cpu")?;
    match d.version {
        Version::V1 => set_v1(d, c),
        Version::V2 => set_v2(d, c),
    }
}

/// A new v1 cgroup gets no realtime budget, and the children of a cgroup
/// together cannot exceed its budget: each ancestor below the mount (the
/// engine's `/husk`, a `--cgroup-parent`) is raised to what its other
/// children hold plus what the chain below it needs, as docker's daemon
/// gives its parent cgroup `--cpu-rt-runtime`. The root's budget is the
/// host's: past it the kernel refuses (EINVAL).
fn raise_rt_ancestors(d: &CgroupDir, runtime: i64) -> Result<()> {
    let budget = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("cpu.rt_runtime_us"))
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    };
    let others = |dir: &std::path::Path, except: &std::path::Path| -> i64 {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.path() != except)
            .map(|e| budget(&e.path()))
            .sum()
    };
    let mut needs = Vec::new();
    let (mut child, mut need) = (d.path.as_path(), runtime);
    while let Some(parent) = child.parent() {
        if parent == d.mount || !parent.starts_with(&d.mount) {
            break;
        }
        need += others(parent, child);
        needs.push((parent, need));
        child = parent;
    }
    for (dir, need) in needs.into_iter().rev() {
        if budget(dir) < need {
            fsio::write(dir, "cpu.rt_runtime_us", &need.to_string())?;
        }
    }
    Ok(())
}

fn set_v1(d: &CgroupDir, c: &LinuxCpu) -> Result<()> {
    let dir = &d.path;
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        fsio::write(dir, "cpu.shares", &s.to_string())?;
    }
    let period = c.period().filter(|p| *p != 0);
    let quota = c.quota().filter(|q| *q != 0);
    if let Some(p) = period {
        // A shorter period can make the existing quota invalid (EINVAL); runc then writes
        // the quota first and retries the period.
        match fsio::write(dir, "cpu.cfs_period_us", &p.to_string()) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && quota.is_some() => {
                if let Some(q) = quota {
                    fsio::write(dir, "cpu.cfs_quota_us", &q.to_string())?;
                }
                fsio::write(dir, "cpu.cfs_period_us", &p.to_string())?;
            }
            r => r?,
        }
    }
    if let Some(q) = quota {
        fsio::write(dir, "cpu.cfs_quota_us", &q.to_string())?;
    }
    if let Some(b) = c.burst() {
        fsio::write(dir, "cpu.cfs_burst_us", &b.to_string())?;
    }
    // rt_period first: the runtime is checked against it.
    if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
        fsio::write(dir, "cpu.rt_period_us", &p.to_string())?;
    }
    if let Some(r) = c.realtime_runtime().filter(|r| *r != 0) {
        raise_rt_ancestors(d, r)?;
        fsio::write(dir, "cpu.rt_runtime_us", &r.to_string())?;
    }
    if let Some(i) = c.idle() {
        fsio::write(dir, "cpu.idle", &i.to_string())?;
    }
    Ok(())
}

/// "$QUOTA $PERIOD" for cpu.max, or None when neither is requested. Without a period the
/// kernel keeps the current one, so only the quota is written (as runc does).
pub(crate) fn cpu_max(c: &LinuxCpu) -> Option<String> {
    let quota = c.quota().filter(|q| *q != 0);
    let period = c.period().filter(|p| *p != 0);
    if quota.is_none() && period.is_none() {
        return None;
    }
    let mut s = match quota {
        Some(q) if q > 0 => q.to_string(),
        _ => "max".to_string(),
    };
    if let Some(p) = period {
        s.push(' ');
        s.push_str(&p.to_string());
    }
    Some(s)
}

fn set_v2(d: &CgroupDir, c: &LinuxCpu) -> Result<()> {
    let dir = &d.path;
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        fsio::write(dir, "cpu.weight", &shares_to_weight(s).to_string())?;
    }
    if let Some(v) = cpu_max(c) {
        fsio::write(dir, "cpu.max", &v)?;
    }
    if let Some(b) = c.burst() {
        fsio::write(dir, "cpu.max.burst", &b.to_string())?;
    }
    if let Some(i) = c.idle() {
        fsio::write(dir, "cpu.idle", &i.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_conversion_matches_crun() {
        assert_eq!(shares_to_weight(0), 0);
        assert_eq!(shares_to_weight(1), 1);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1_000_000), 10_000);
        assert_eq!(shares_to_weight(512), 59);
        assert_eq!(shares_to_weight(2048), 174);
        assert_eq!(shares_to_weight(100), 17);
        assert_eq!(shares_to_weight(262_143), 10_000);
    }
}
