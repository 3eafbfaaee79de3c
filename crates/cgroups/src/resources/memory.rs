use oci_spec::runtime::{LinuxMemory, LinuxResources};

use super::{check_limit, v2_limit};
use crate::error::{Error, Result};
use crate::fsio;
use crate::layout::Version;
use crate::manager::{CgroupDir, Manager};

const FIELD: &str = "memory";

/// Docker has sent swappiness -1 ("unset") cast to u64, as runc still accepts.
fn swappiness(mem: &LinuxMemory) -> Option<u64> {
    mem.swappiness().filter(|s| *s != u64::MAX)
}

fn positive(v: Option<i64>) -> Option<i64> {
    v.filter(|v| *v != 0)
}

pub(crate) fn validate(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(mem) = r.memory() else { return Ok(()) };
    check_limit("memory.limit", mem.limit())?;
    check_limit("memory.reservation", mem.reservation())?;
    check_limit("memory.swap", mem.swap())?;
    check_limit("memory.kernel", mem.kernel())?;
    check_limit("memory.kernelTCP", mem.kernel_tcp())?;
    if let Some(s) = swappiness(mem) {
        if s > 100 {
            return Err(Error::invalid(
                "memory.swappiness",
                format!("{s} is above 100"),
            ));
        }
    }
    if let (Some(limit), Some(swap)) = (positive(mem.limit()), positive(mem.swap())) {
        if limit > 0 && swap > 0 && swap < limit {
            return Err(Error::invalid(
                "memory.swap",
                format!("memory+swap limit {swap} is below the memory limit {limit}"),
            ));
        }
    }
    let d = m.require("memory", FIELD)?;
    if d.version == Version::V2 {
        swap_v2(mem)?;
    }
    Ok(())
}

pub(crate) fn set(m: &Manager, r: &LinuxResources) -> Result<()> {
    let Some(mem) = r.memory() else { return Ok(()) };
    let d = m.require("memory", FIELD)?;
    if mem.check_before_update() == Some(true) {
        check_usage(d, mem)?;
    }
    match d.version {
        Version::V1 => set_v1(d, mem),
        Version::V2 => set_v2(d, mem),
    }
}

/// Refuses a new limit below current usage instead of letting the kernel reclaim or OOM.
fn check_usage(d: &CgroupDir, mem: &LinuxMemory) -> Result<()> {
    let Some(limit) = positive(mem.limit()).filter(|l| *l > 0) else {
        return Ok(());
    };
    let file = match d.version {
        Version::V1 => "memory.usage_in_bytes",
        Version::V2 => "memory.current",
    };
    let usage = fsio::read_u64(&d.path, file)?;
    if (limit as u64) < usage {
        return Err(Error::invalid(
            "memory.limit",
            format!(
                "{limit} is below the current usage {usage} ({file}) and checkBeforeUpdate is set"
            ),
        ));
    }
    Ok(())
}

fn set_v1(d: &CgroupDir, mem: &LinuxMemory) -> Result<()> {
    let dir = &d.path;
    let limit = positive(mem.limit());
    let mut swap = positive(mem.swap());
    // Unlimiting memory alone would fail (EINVAL) under a finite memsw limit; like runc,
    // take it to mean unlimited memory+swap too where swap accounting exists.
    if limit == Some(-1) && swap.is_none() && fsio::exists(dir, "memory.memsw.limit_in_bytes") {
        swap = Some(-1);
    }
    match (limit, swap) {
        (Some(limit), Some(swap)) => {
            // memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes, so the
            // order depends on whether the pair grows or shrinks (runc's setMemoryAndSwap).
            let cur = fsio::read_u64(dir, "memory.limit_in_bytes")?;
            if swap == -1 || cur < swap as u64 {
                fsio::write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
                fsio::write(dir, "memory.limit_in_bytes", &limit.to_string())?;
            } else {
                fsio::write(dir, "memory.limit_in_bytes", &limit.to_string())?;
                fsio::write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
            }
        }
        (Some(limit), None) => fsio::write(dir, "memory.limit_in_bytes", &limit.to_string())?,
        (None, Some(swap)) => fsio::write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?,
        (None, None) => {}
    }
    if let Some(v) = positive(mem.reservation()) {
        fsio::write(dir, "memory.soft_limit_in_bytes", &v.to_string())?;
    }
    if let Some(v) = swappiness(mem) {
        fsio::write(dir, "memory.swappiness", &v.to_string())?;
    }
    if mem.disable_oom_killer() == Some(true) {
        fsio::write(dir, "memory.oom_control", "1")?;
    }
    kernel_v1(dir, "memory.kmem.limit_in_bytes", positive(mem.kernel()))?;
    kernel_v1(
        dir,
        "memory.kmem.tcp.limit_in_bytes",
        positive(mem.kernel_tcp()),
    )
}

/// Kernel memory limits are deprecated: newer kernels drop the files or refuse the write.
/// Like runc we carry on with a warning rather than fail a container over them.
fn kernel_v1(dir: &std::path::Path, file: &str, v: Option<i64>) -> Result<()> {
    let Some(v) = v else { return Ok(()) };
    match fsio::write(dir, file, &v.to_string()) {
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::EINVAL)
            ) =>
        {
            let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
            eprintln!(
                "husk-cgroups: warning: kernel memory limit ignored: {e}{}",
                cause.unwrap_or_default()
            );
            Ok(())
        }
        r => r,
    }
}

/// v2 limits swap alone, while OCI's swap is memory+swap: memory.swap.max = swap - limit,
/// with runc's (ConvertMemorySwapToCgroupV2Value) rules. None leaves the file alone.
pub(crate) fn swap_v2(mem: &LinuxMemory) -> Result<Option<String>> {
    let Some(swap) = positive(mem.swap()) else {
        return Ok(None);
    };
    if swap == -1 {
        return Ok(Some("max".into()));
    }
    let limit = positive(mem.limit()).unwrap_or(0);
    if limit <= 0 {
        return Err(Error::invalid(
            "memory.swap",
            "a swap limit needs a memory limit on cgroup v2",
        ));
    }
    if swap < limit {
        return Err(Error::invalid(
            "memory.swap",
            format!("memory+swap limit {swap} is below the memory limit {limit}"),
        ));
    }
    Ok(Some((swap - limit).to_string()))
}

fn set_v2(d: &CgroupDir, mem: &LinuxMemory) -> Result<()> {
    let dir = &d.path;
    if let Some(swap) = swap_v2(mem)? {
        // Without swap accounting the file is absent; only "max" (no limit) can be honoured.
        if swap != "max" || fsio::exists(dir, "memory.swap.max") {
            fsio::write(dir, "memory.swap.max", &swap)?;
        }
    }
    if let Some(v) = positive(mem.limit()) {
        fsio::write(dir, "memory.max", &v2_limit(v))?;
    }
    if let Some(v) = positive(mem.reservation()) {
        fsio::write(dir, "memory.low", &v2_limit(v))?;
    }
    if positive(mem.kernel()).is_some() || positive(mem.kernel_tcp()).is_some() {
        eprintln!("husk-cgroups: warning: kernel memory limits do not exist on cgroup v2, ignored");
    }
    // swappiness and disableOOMKiller have no v2 files; runc and crun ignore them too.
    Ok(())
}
