//! The container's cgroups as /proc/PID/cgroup names them, and the limit
//! and usage files in them, read as they are (v1 and v2).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The container's directory in one hierarchy.
#[derive(Debug, Clone, Serialize)]
pub struct CgroupDir {
    /// v1 or v2.
    pub version: String,
    /// The hierarchy's controllers (`cpu,cpuacct`, `memory`, ...).
    pub controllers: Vec<String>,
    pub dir: PathBuf,
    /// The hierarchy's mount point.
    pub mount: PathBuf,
}

/// One cgroup file's content.
#[derive(Debug, Clone, Serialize)]
pub struct CgroupFile {
    pub controller: String,
    pub file: PathBuf,
    /// As the kernel wrote it, trimmed (`max` and `-1` included).
    pub value: String,
    /// A limit (else a usage figure).
    pub limit: bool,
}

/// Limit files first, then usage, per controller; v1 names then v2's. A
/// file a kernel lacks is left out.
const FILES: &[(&str, &str, bool)] = &[
    ("memory", "memory.limit_in_bytes", true),
    ("memory", "memory.max", true),
    ("memory", "memory.memsw.limit_in_bytes", true),
    ("memory", "memory.swap.max", true),
    ("memory", "memory.usage_in_bytes", false),
    ("memory", "memory.current", false),
    ("memory", "memory.max_usage_in_bytes", false),
    ("memory", "memory.peak", false),
    ("memory", "memory.failcnt", false),
    ("pids", "pids.max", true),
    ("pids", "pids.current", false),
    ("cpu", "cpu.cfs_quota_us", true),
    ("cpu", "cpu.cfs_period_us", true),
    ("cpu", "cpu.shares", true),
    ("cpu", "cpu.max", true),
    ("cpu", "cpu.weight", true),
    ("cpuacct", "cpuacct.usage", false),
    ("cpu", "cpu.stat", false),
    ("cpuset", "cpuset.cpus", true),
];

/// The container's directory in every mounted hierarchy, from
/// /proc/PID/cgroup against this process's mountinfo.
pub fn dirs(pid: i32) -> Vec<CgroupDir> {
    let read = |p: String| std::fs::read_to_string(p).unwrap_or_default();
    let layout = husk_cgroups::Layout::parse(
        &read("/proc/self/mountinfo".into()),
        &read(format!("/proc/{pid}/cgroup")),
        Path::new("/"),
    );
    let Ok(layout) = layout else {
        return Vec::new();
    };
    layout
        .hierarchies
        .into_iter()
        .map(|h| CgroupDir {
            version: h.version.name().to_string(),
            dir: h
                .mount
                .join(h.own.strip_prefix("/").unwrap_or(h.own.as_path())),
            controllers: h.controllers,
            mount: h.mount,
        })
        .filter(|d| d.dir.is_dir())
        .collect()
}

/// Where `controller`'s files are: its v1 hierarchy, else the v2 one.
fn dir_of<'a>(dirs: &'a [CgroupDir], controller: &str) -> Option<&'a CgroupDir> {
    dirs.iter()
        .find(|d| d.version == "v1" && d.controllers.iter().any(|c| c == controller))
        .or_else(|| {
            dirs.iter().find(|d| {
                d.version == "v2"
                    && (d.controllers.iter().any(|c| c == controller)
                        || (controller == "cpuacct" && d.controllers.iter().any(|c| c == "cpu")))
            })
        })
}

pub fn files(dirs: &[CgroupDir]) -> Vec<CgroupFile> {
    let mut out: Vec<CgroupFile> = FILES
        .iter()
        .filter_map(|(controller, name, limit)| {
            let d = dir_of(dirs, controller)?;
            let file = d.dir.join(name);
            let text = std::fs::read_to_string(&file).ok()?;
            let value = if *name == "cpu.stat" {
                // Only the usage line: the rest is throttling detail.
                text.lines()
                    .find(|l| l.starts_with("usage_usec"))?
                    .to_string()
            } else {
                text.trim().to_string()
            };
            Some(CgroupFile {
                controller: controller.to_string(),
                file,
                value,
                limit: *limit,
            })
        })
        .collect();
    out.sort_by_key(|f| !f.limit);
    out
}

/// Every process in the container's cgroup (and cgroups it made below),
/// host pids, sorted.
pub fn procs(dirs: &[CgroupDir]) -> Vec<i32> {
    let Some(d) = dir_of(dirs, "pids")
        .or_else(|| dir_of(dirs, "memory"))
        .or_else(|| dirs.first())
    else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    collect(&d.dir, &mut pids, 0);
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn collect(dir: &Path, pids: &mut Vec<i32>, depth: u32) {
    if let Ok(s) = std::fs::read_to_string(dir.join("cgroup.procs")) {
        pids.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if depth > 8 {
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                collect(&e.path(), pids, depth + 1);
            }
        }
    }
}
