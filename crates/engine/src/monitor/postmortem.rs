//! The memory cgroup's figures at the init's exit, read before teardown
//! destroys the cgroup (the kernel forgets them with it): what `husk why`
//! needs to say "OOM-killed at 8 MiB, peak 8 MiB".

use crate::store::exit::MemoryAtExit;
use crate::store::Paths;

/// A v1 limit at or above this is the kernel's "unlimited" (PAGE_COUNTER_MAX
/// in bytes, rounded to the page size).
const UNLIMITED: u64 = 1 << 62;

/// The memory figures of container `id`'s cgroup, found where the bundle's
/// `linux.cgroupsPath` put it; None when there is no memory controller or
/// the cgroup is already gone.
pub fn memory_at_exit(paths: &Paths, id: &str) -> Option<MemoryAtExit> {
    let cgroups_path = cgroups_path(paths, id);
    let m = husk_cgroups::Manager::new(Some(&cgroups_path), id, false).ok()?;
    m.path_of("memory").filter(|p| p.is_dir())?;
    let stats = m.stats().ok()?;
    let usage = &stats.memory.usage;
    Some(MemoryAtExit {
        limit: (usage.limit > 0 && usage.limit < UNLIMITED).then_some(usage.limit),
        peak: (usage.max > 0).then_some(usage.max),
        failcnt: usage.failcnt,
        oom_kills: m.oom_kill_count().unwrap_or(0),
    })
}

/// `linux.cgroupsPath` of the bundle the container was started from.
fn cgroups_path(paths: &Paths, id: &str) -> String {
    std::fs::read(paths.bundle(id).join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["linux"]["cgroupsPath"].as_str().map(String::from))
        .unwrap_or_else(|| format!("/husk/{id}"))
}
