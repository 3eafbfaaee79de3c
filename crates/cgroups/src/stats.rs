//! Usage statistics, serialised with the field names of runc's `events --stats`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsio::{self, keyed, read_keyed, read_u64_opt};
use crate::layout::Version;
use crate::manager::{CgroupDir, Manager};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub cpu: Cpu,
    pub memory: Memory,
    pub pids: Pids,
    pub blkio: Blkio,
    pub hugetlb: BTreeMap<String, Hugetlb>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

/// Nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    pub total: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    pub periods: u64,
    pub throttled_periods: u64,
    /// Nanoseconds.
    pub throttled_time: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub limit: u64,
    pub usage: u64,
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub cache: u64,
    pub usage: MemoryEntry,
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pids {
    pub current: u64,
    /// 0 when unlimited, as runc reports it.
    pub limit: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    pub op: String,
    pub value: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blkio {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hugetlb {
    pub usage: u64,
    pub max: u64,
    pub failcnt: u64,
}

/// "max" reads as u64::MAX; runc reports an unlimited value as 0 in a few places.
fn limit_or_zero(v: u64) -> u64 {
    if v == u64::MAX {
        0
    } else {
        v
    }
}

pub(crate) fn collect(m: &Manager) -> Result<Stats> {
    let mut s = Stats::default();
    if let Some(d) = m.dir_for("cpu") {
        cpu_throttling(d, &mut s.cpu)?;
        if d.version == Version::V2 {
            cpu_usage_v2(d, &mut s.cpu)?;
        }
    }
    if let Some(d) = m.dir_for("cpuacct").filter(|d| d.version == Version::V1) {
        cpu_usage_v1(&d.path, &mut s.cpu)?;
    }
    if let Some(d) = m.dir_for("memory") {
        s.memory = match d.version {
            Version::V1 => memory_v1(&d.path)?,
            Version::V2 => memory_v2(&d.path)?,
        };
    }
    if let Some(d) = m.dir_for("pids") {
        s.pids = Pids {
            current: read_u64_opt(&d.path, "pids.current")?,
            limit: limit_or_zero(read_u64_opt(&d.path, "pids.max")?),
        };
    }
    if let Some(d) = m.dir_for("blkio").or_else(|| m.dir_for("io")) {
        s.blkio = match d.version {
            Version::V1 => blkio_v1(&d.path)?,
            Version::V2 => blkio_v2(&d.path)?,
        };
    }
    if let Some(d) = m.dir_for("hugetlb") {
        s.hugetlb = hugetlb(d)?;
    }
    Ok(s)
}

fn cpu_throttling(d: &CgroupDir, cpu: &mut Cpu) -> Result<()> {
    let st = read_keyed(&d.path, "cpu.stat")?;
    cpu.throttling.periods = keyed(&st, "nr_periods");
    cpu.throttling.throttled_periods = keyed(&st, "nr_throttled");
    cpu.throttling.throttled_time = match d.version {
        Version::V1 => keyed(&st, "throttled_time"),
        Version::V2 => keyed(&st, "throttled_usec") * 1000,
    };
    Ok(())
}

fn cpu_usage_v2(d: &CgroupDir, cpu: &mut Cpu) -> Result<()> {
    let st = read_keyed(&d.path, "cpu.stat")?;
    cpu.usage.total = keyed(&st, "usage_usec") * 1000;
    cpu.usage.user = keyed(&st, "user_usec") * 1000;
    cpu.usage.kernel = keyed(&st, "system_usec") * 1000;
    Ok(())
}

/// cpuacct.stat counts USER_HZ ticks, which Linux fixes at 100 on every architecture.
const NS_PER_TICK: u64 = 1_000_000_000 / 100;

fn cpu_usage_v1(dir: &Path, cpu: &mut Cpu) -> Result<()> {
    cpu.usage.total = read_u64_opt(dir, "cpuacct.usage")?;
    if let Some(s) = fsio::read_opt(dir, "cpuacct.usage_percpu")? {
        cpu.usage.percpu = s
            .split_whitespace()
            .map(|v| fsio::parse_u64(dir, "cpuacct.usage_percpu", v))
            .collect::<Result<_>>()?;
    }
    let st = read_keyed(dir, "cpuacct.stat")?;
    cpu.usage.user = keyed(&st, "user") * NS_PER_TICK;
    cpu.usage.kernel = keyed(&st, "system") * NS_PER_TICK;
    Ok(())
}

fn entry_v1(dir: &Path, prefix: &str) -> Result<MemoryEntry> {
    let f = |name: &str| read_u64_opt(dir, &format!("{prefix}.{name}"));
    Ok(MemoryEntry {
        usage: f("usage_in_bytes")?,
        max: f("max_usage_in_bytes")?,
        limit: f("limit_in_bytes")?,
        failcnt: f("failcnt")?,
    })
}

fn memory_v1(dir: &Path) -> Result<Memory> {
    let raw: BTreeMap<String, u64> = read_keyed(dir, "memory.stat")?.into_iter().collect();
    Ok(Memory {
        cache: raw.get("cache").copied().unwrap_or(0),
        usage: entry_v1(dir, "memory")?,
        swap: entry_v1(dir, "memory.memsw")?,
        kernel: entry_v1(dir, "memory.kmem")?,
        kernel_tcp: entry_v1(dir, "memory.kmem.tcp")?,
        raw,
    })
}

/// v2 counts swap alone; like runc, report swap as memory+swap where both are known so the
/// numbers mean the same on both versions.
fn memory_v2(dir: &Path) -> Result<Memory> {
    let raw: BTreeMap<String, u64> = read_keyed(dir, "memory.stat")?.into_iter().collect();
    let events = read_keyed(dir, "memory.events")?;
    let usage = MemoryEntry {
        usage: read_u64_opt(dir, "memory.current")?,
        max: read_u64_opt(dir, "memory.peak")?,
        limit: read_u64_opt(dir, "memory.max")?,
        failcnt: keyed(&events, "max"),
    };
    let mut swap = MemoryEntry {
        usage: read_u64_opt(dir, "memory.swap.current")?,
        max: read_u64_opt(dir, "memory.swap.peak")?,
        limit: read_u64_opt(dir, "memory.swap.max")?,
        failcnt: keyed(&read_keyed(dir, "memory.swap.events")?, "fail"),
    };
    swap.usage = swap.usage.saturating_add(usage.usage);
    swap.limit = swap.limit.saturating_add(usage.limit);
    Ok(Memory {
        cache: raw.get("file").copied().unwrap_or(0),
        usage,
        swap,
        kernel: MemoryEntry::default(),
        kernel_tcp: MemoryEntry::default(),
        raw,
    })
}

/// "8:0 Read 4096" lines; the "Total" summary line is skipped.
fn blkio_entries(dir: &Path, file: &str) -> Result<Vec<BlkioEntry>> {
    let Some(s) = fsio::read_opt(dir, file)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for line in s.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [dev, op, value] = f[..] else { continue };
        let Some((maj, min)) = dev.split_once(':') else {
            continue;
        };
        out.push(BlkioEntry {
            major: fsio::parse_u64(dir, file, maj)?,
            minor: fsio::parse_u64(dir, file, min)?,
            op: op.to_string(),
            value: fsio::parse_u64(dir, file, value)?,
        });
    }
    Ok(out)
}

/// The first of CFQ's, BFQ's or the throttle files the kernel has (runc's order).
fn blkio_v1(dir: &Path) -> Result<Blkio> {
    for prefix in ["blkio", "blkio.bfq", "blkio.throttle"] {
        let bytes = format!("{prefix}.io_service_bytes_recursive");
        if fsio::exists(dir, &bytes) {
            return Ok(Blkio {
                io_service_bytes_recursive: blkio_entries(dir, &bytes)?,
                io_serviced_recursive: blkio_entries(
                    dir,
                    &format!("{prefix}.io_serviced_recursive"),
                )?,
            });
        }
    }
    Ok(Blkio::default())
}

/// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
fn blkio_v2(dir: &Path) -> Result<Blkio> {
    let mut b = Blkio::default();
    let Some(s) = fsio::read_opt(dir, "io.stat")? else {
        return Ok(b);
    };
    for line in s.lines() {
        let mut it = line.split_whitespace();
        let Some((maj, min)) = it.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (major, minor) = (
            fsio::parse_u64(dir, "io.stat", maj)?,
            fsio::parse_u64(dir, "io.stat", min)?,
        );
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let (list, op) = match k {
                "rbytes" => (&mut b.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut b.io_service_bytes_recursive, "Write"),
                "rios" => (&mut b.io_serviced_recursive, "Read"),
                "wios" => (&mut b.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value: fsio::parse_u64(dir, "io.stat", v)?,
            });
        }
    }
    Ok(b)
}

/// Page sizes come from the files present, so no sysfs lookup is needed.
fn hugetlb(d: &CgroupDir) -> Result<BTreeMap<String, Hugetlb>> {
    let suffix = match d.version {
        Version::V1 => ".limit_in_bytes",
        Version::V2 => ".max",
    };
    let mut out = BTreeMap::new();
    let rd = match std::fs::read_dir(&d.path) {
        Ok(rd) => rd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
        Err(e) => return Err(crate::Error::io("read dir", &d.path, e)),
    };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(size) = name
            .strip_prefix("hugetlb.")
            .and_then(|n| n.strip_suffix(suffix))
            .filter(|s| !s.contains('.'))
        else {
            continue;
        };
        let f = |n: &str| read_u64_opt(&d.path, &format!("hugetlb.{size}.{n}"));
        let h = match d.version {
            Version::V1 => Hugetlb {
                usage: f("usage_in_bytes")?,
                max: f("max_usage_in_bytes")?,
                failcnt: f("failcnt")?,
            },
            Version::V2 => Hugetlb {
                usage: f("current")?,
                max: 0,
                failcnt: keyed(
                    &read_keyed(&d.path, &format!("hugetlb.{size}.events"))?,
                    "max",
                ),
            },
        };
        out.insert(size.to_string(), h);
    }
    Ok(out)
}

/// v1 reports it in memory.oom_control ("oom_kill N", linux >= 4.13), v2 in memory.events.
pub(crate) fn oom_kill_count(m: &Manager) -> Result<u64> {
    let d = m.require("memory", "oom_kill_count")?;
    let file = match d.version {
        Version::V1 => "memory.oom_control",
        Version::V2 => "memory.events",
    };
    Ok(keyed(&read_keyed(&d.path, file)?, "oom_kill"))
}
