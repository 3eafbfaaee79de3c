//! `husk stats`: a container's usage from its cgroup files (v1 or v2,
//! through husk-cgroups) and its network namespace, computed into
//! docker's columns as docker's CLI computes them.

use serde_json::{json, Value};

use crate::format::{bytes_size, human_size};
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// docker's `stats --format` row (a formatter context: `{{json .}}`
/// marshals its methods).
pub const STATS: husk_template::Schema = husk_template::Schema {
    root: "*formatter.statsContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &[],
    fields: &[
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    ],
};

/// docker's default `stats` format.
pub const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// The column headers docker gives each field.
pub fn header(field: &str) -> String {
    match field {
        "Container" => "CONTAINER",
        "ID" => "CONTAINER ID",
        "Name" => "NAME",
        "CPUPerc" => "CPU %",
        "MemUsage" => "MEM USAGE / LIMIT",
        "MemPerc" => "MEM %",
        "NetIO" => "NET I/O",
        "BlockIO" => "BLOCK I/O",
        "PIDs" => "PIDS",
        other => return other.to_uppercase(),
    }
    .to_string()
}

/// The container's cgroup: the path its bundle gave the runtime
/// (linux.cgroupsPath), else the one husk gives every container.
pub fn cgroup(paths: &Paths, c: &Container) -> Result<husk_cgroups::Manager> {
    let bundle = paths.bundle(&c.id).join("config.json");
    let from_bundle = std::fs::read(&bundle)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["linux"]["cgroupsPath"].as_str().map(String::from));
    let path = from_bundle.unwrap_or_else(|| format!("/husk/{}", c.id));
    Ok(husk_cgroups::Manager::new(Some(&path), &c.id, false)?)
}

/// One reading of a container's counters (all zero when it is not running).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// The cgroup's CPU time, nanoseconds.
    pub cpu: u64,
    /// The host's CPU time (/proc/stat), nanoseconds.
    pub system: u64,
    pub online_cpus: u64,
    /// Usage without the inactive page cache, as docker's CLI shows it.
    pub mem_usage: u64,
    /// The cgroup's limit, or the host's memory when that is smaller.
    pub mem_limit: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub blk_read: u64,
    pub blk_write: u64,
    pub pids: u64,
}

/// Reads the container's counters now.
pub fn sample(paths: &Paths, c: &Container) -> Result<Sample> {
    if !c.is_running() || c.state.pid <= 0 {
        return Ok(Sample::default());
    }
    let st = cgroup(paths, c)?.stats()?;
    let host = host_cpu()?;
    let mem = &st.memory;
    // docker's calculateMemUsageUnixNoCache.
    let inactive = mem
        .raw
        .get("total_inactive_file")
        .or_else(|| mem.raw.get("inactive_file"))
        .copied()
        .unwrap_or(0);
    let mem_usage = if inactive < mem.usage.usage {
        mem.usage.usage - inactive
    } else {
        mem.usage.usage
    };
    // An unlimited cgroup reads as a huge number (v1) or "max" (v2): the
    // daemon shows the host's memory then.
    let total = host_memory().unwrap_or(0);
    let mem_limit = match mem.usage.limit {
        0 => total,
        l if total > 0 && l > total => total,
        l => l,
    };
    let (mut blk_read, mut blk_write) = (0, 0);
    for e in &st.blkio.io_service_bytes_recursive {
        match e.op.as_bytes().first() {
            Some(b'r' | b'R') => blk_read += e.value,
            Some(b'w' | b'W') => blk_write += e.value,
            _ => {}
        }
    }
    // A container on the host's network has no interfaces of its own:
    // docker shows 0B / 0B for it.
    let (net_rx, net_tx) = if c.host_config.network_mode == "host" {
        (0, 0)
    } else {
        net_dev(c.state.pid)
    };
    Ok(Sample {
        cpu: st.cpu.usage.total,
        system: host.0,
        online_cpus: host.1,
        mem_usage,
        mem_limit,
        net_rx,
        net_tx,
        blk_read,
        blk_write,
        pids: st.pids.current,
    })
}

/// The host's CPU time in nanoseconds (the `cpu` line of /proc/stat, in
/// USER_HZ ticks of 10 ms) and the number of online CPUs (`cpuN` lines).
fn host_cpu() -> Result<(u64, u64)> {
    let text =
        std::fs::read_to_string("/proc/stat").map_err(|e| Error::io("read", "/proc/stat", e))?;
    Ok(parse_proc_stat(&text))
}

fn parse_proc_stat(text: &str) -> (u64, u64) {
    let mut total = 0;
    let mut cpus = 0;
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        match f.next() {
            Some("cpu") => {
                // user nice system idle iowait irq softirq steal (docker's 7+1).
                total = f.take(8).filter_map(|v| v.parse::<u64>().ok()).sum::<u64>() * 10_000_000;
            }
            Some(n) if n.starts_with("cpu") => cpus += 1,
            _ => {}
        }
    }
    (total, cpus)
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn host_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// Received and sent bytes of every interface but `lo` in the network
/// namespace of `pid`.
fn net_dev(pid: i32) -> (u64, u64) {
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .map(|t| parse_net_dev(&t))
        .unwrap_or((0, 0))
}

fn parse_net_dev(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = counters
            .split_ascii_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

/// docker's calculateCPUPercentUnix between two samples.
pub fn cpu_percent(prev: &Sample, cur: &Sample) -> f64 {
    let cpu = cur.cpu as f64 - prev.cpu as f64;
    let system = cur.system as f64 - prev.system as f64;
    if system > 0.0 && cpu > 0.0 && cur.online_cpus > 0 {
        cpu / system * cur.online_cpus as f64 * 100.0
    } else {
        0.0
    }
}

/// The row docker's formatter shows: `given` is the name as typed (the
/// `Container` column), `prev` the sample a second before.
pub fn row(c: &Container, given: &str, prev: &Sample, cur: &Sample, no_trunc: bool) -> Value {
    let mem_perc = if cur.mem_limit > 0 {
        cur.mem_usage as f64 / cur.mem_limit as f64 * 100.0
    } else {
        0.0
    };
    let id = if no_trunc { &c.id } else { c.short_id() };
    json!({
        "BlockIO": format!("{} / {}", human_size(cur.blk_read), human_size(cur.blk_write)),
        "CPUPerc": format!("{:.2}%", cpu_percent(prev, cur)),
        "Container": given,
        "ID": id,
        "MemPerc": format!("{mem_perc:.2}%"),
        "MemUsage": format!("{} / {}", bytes_size(cur.mem_usage), bytes_size(cur.mem_limit)),
        "Name": c.name,
        "NetIO": format!("{} / {}", human_size(cur.net_rx), human_size(cur.net_tx)),
        "PIDs": cur.pids.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_counters() {
        let (total, cpus) = parse_proc_stat(
            "cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 0 0 0 0 0 0\nintr 1\n",
        );
        assert_eq!(total, 115 * 10_000_000);
        assert_eq!(cpus, 2);
        let dev = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  \
eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(dev), (1500, 700));
    }

    #[test]
    fn cpu_percent_as_docker() {
        let prev = Sample {
            cpu: 1_000,
            system: 10_000,
            online_cpus: 2,
            ..Sample::default()
        };
        let cur = Sample {
            cpu: 2_000,
            system: 20_000,
            ..prev.clone()
        };
        assert!((cpu_percent(&prev, &cur) - 20.0).abs() < 1e-9);
        assert_eq!(cpu_percent(&cur, &cur), 0.0);
    }
}
