//! `husk info`, `husk version` and `husk system df`: docker's documents
//! and tables about the engine and its host, read from the store, /proc
//! and the kernel.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::format::{human_size, human_size_precision, tabwrite};
use crate::store::{Container, Paths, Status};
use crate::Result;

/// husk's version (the engine's and the CLI's: one workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The engine's host facts docker's `info` shows.
fn uname() -> (String, String) {
    match nix::sys::utsname::uname() {
        Ok(u) => (
            u.release().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
        ),
        Err(_) => (String::new(), String::new()),
    }
}

/// PRETTY_NAME and VERSION_ID of /etc/os-release.
fn os_release() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    (get("PRETTY_NAME"), get("VERSION_ID"))
}

/// The CPUs this process may run on (Go's runtime.NumCPU).
fn ncpu() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&i| set.is_set(i).unwrap_or(false))
                .count()
        })
        .unwrap_or(1)
}

/// docker's name for the filesystem under the root (`Backing Filesystem`).
fn backing_fs(root: &Path) -> String {
    let Ok(st) = nix::sys::statfs::statfs(root) else {
        return "unknown".into();
    };
    // The magic numbers of statfs(2), named as docker's fsutils does.
    match st.filesystem_type().0 as u64 {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0xF2F5_2010 => "f2fs",
        0x6969 => "nfs",
        _ => "unknown",
    }
    .into()
}

/// "1" or "2": a host with any v1 hierarchy counts as v1, as docker says.
fn cgroup_version() -> &'static str {
    match husk_cgroups::Layout::host() {
        Ok(l) if l.is_pure_v2() => "2",
        _ => "1",
    }
}

/// The first line of `BINARY --version`, its version word: what a runc
/// or our runtime says about itself.
fn binary_version(binary: &Path) -> String {
    std::process::Command::new(binary)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let first = text.lines().next()?.to_string();
            let word = first
                .split_whitespace()
                .skip_while(|w| *w != "version")
                .nth(1)
                .map(String::from);
            Some(word.unwrap_or(first))
        })
        .unwrap_or_default()
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Containers by state: (all, running, paused, stopped), as docker counts them.
fn counts(containers: &[Container]) -> (usize, usize, usize, usize) {
    let running = containers
        .iter()
        .filter(|c| c.state.status == Status::Running)
        .count();
    let paused = containers
        .iter()
        .filter(|c| c.state.status == Status::Paused)
        .count();
    let n = containers.len();
    (n, running, paused, n - running - paused)
}

/// docker's `system info` document (`info --format '{{json .}}'`), with
/// the fields that mean something for husk.
pub fn info(paths: &Paths) -> Result<Value> {
    let containers = crate::lifecycle::list(paths)?;
    let (n, running, paused, stopped) = counts(&containers);
    let images: HashSet<String> = husk_image::Store::open_read(&paths.root)
        .and_then(|s| s.images())
        .map(|v| v.into_iter().map(|i| i.id.to_string()).collect())
        .unwrap_or_default();
    let runtime = crate::monitor::runtime::default_binary()?;
    let runtime_name = file_name(&runtime);
    let (kernel, arch) = uname();
    let (os, os_version) = os_release();
    let name = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let swap = Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
        || cgroup_version() == "2";
    Ok(json!({
        "ID": "",
        "Containers": n,
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": stopped,
        "Images": images.len(),
        "Driver": "overlay2",
        "DriverStatus": [
            ["Backing Filesystem", backing_fs(&paths.root)],
        ],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "none", "container"],
            "Authorization": null,
            "Log": ["json-file"],
        },
        "MemoryLimit": true,
        "SwapLimit": swap,
        "CpuCfsPeriod": true,
        "CpuCfsQuota": true,
        "CPUShares": true,
        "CPUSet": true,
        "PidsLimit": true,
        "IPv4Forwarding": std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .map(|s| s.trim() == "1")
            .unwrap_or(false),
        "Debug": false,
        "OomKillDisable": cgroup_version() == "1",
        "SystemTime": crate::proc::now_rfc3339(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version(),
        "KernelVersion": kernel,
        "OperatingSystem": os,
        "OSVersion": os_version,
        "OSType": "linux",
        "Architecture": arch,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "NCPU": ncpu(),
        "MemTotal": super::stats::host_memory().unwrap_or(0),
        "DockerRootDir": paths.root,
        "Name": name,
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": VERSION,
        "Runtimes": {runtime_name.clone(): {"path": runtime}},
        "DefaultRuntime": runtime_name,
        "Swarm": {"LocalNodeState": "inactive"},
        "LiveRestoreEnabled": false,
        "InitBinary": crate::oci::init::binary().map(|p| file_name(&p)).unwrap_or_default(),
        "SecurityOptions": ["name=seccomp,profile=builtin"],
        "Warnings": [],
    }))
}

/// docker's `info` text (its Client block, then Server) from [`info`].
pub fn render_info(v: &Value) -> String {
    let s = |k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut out = String::new();
    let mut line = |indent: usize, text: String| {
        out.push_str(&" ".repeat(indent));
        out.push_str(&text);
        out.push('\n');
    };
    line(0, "Client:".into());
    line(1, format!("Version:    {VERSION}"));
    line(1, "Context:    default".into());
    line(1, "Debug Mode: false".into());
    line(0, String::new());
    line(0, "Server:".into());
    line(1, format!("Containers: {}", s("Containers")));
    line(2, format!("Running: {}", s("ContainersRunning")));
    line(2, format!("Paused: {}", s("ContainersPaused")));
    line(2, format!("Stopped: {}", s("ContainersStopped")));
    line(1, format!("Images: {}", s("Images")));
    line(1, format!("Server Version: {}", s("ServerVersion")));
    line(1, format!("Storage Driver: {}", s("Driver")));
    for pair in v["DriverStatus"].as_array().into_iter().flatten() {
        line(
            2,
            format!(
                "{}: {}",
                pair[0].as_str().unwrap_or(""),
                pair[1].as_str().unwrap_or("")
            ),
        );
    }
    line(1, format!("Logging Driver: {}", s("LoggingDriver")));
    line(1, format!("Cgroup Driver: {}", s("CgroupDriver")));
    line(1, format!("Cgroup Version: {}", s("CgroupVersion")));
    line(1, "Plugins:".into());
    for kind in ["Volume", "Network", "Log"] {
        let names: Vec<&str> = v["Plugins"][kind]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        line(2, format!("{kind}: {}", names.join(" ")));
    }
    line(1, "Swarm: inactive".into());
    let runtimes: Vec<&String> = v["Runtimes"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    line(
        1,
        format!(
            "Runtimes: {}",
            runtimes
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    line(1, format!("Default Runtime: {}", s("DefaultRuntime")));
    line(1, format!("Init Binary: {}", s("InitBinary")));
    line(1, "Security Options:".into());
    line(2, "seccomp".into());
    line(3, "Profile: builtin".into());
    line(1, format!("Kernel Version: {}", s("KernelVersion")));
    line(1, format!("Operating System: {}", s("OperatingSystem")));
    line(1, format!("OSType: {}", s("OSType")));
    line(1, format!("Architecture: {}", s("Architecture")));
    line(1, format!("CPUs: {}", s("NCPU")));
    line(
        1,
        format!(
            "Total Memory: {}",
            crate::format::bytes_size(v["MemTotal"].as_u64().unwrap_or(0))
        ),
    );
    line(1, format!("Name: {}", s("Name")));
    line(1, format!("Docker Root Dir: {}", s("DockerRootDir")));
    line(1, "Debug Mode: false".into());
    line(1, "Experimental: false".into());
    line(1, "Live Restore Enabled: false".into());
    out
}

/// docker's `version` document: the client's block and the server's
/// with its components (the engine, the OCI runtime, the init).
pub fn version() -> Value {
    let (kernel, _) = uname();
    let os_arch = (std::env::consts::OS, husk_image::types::host_arch());
    let mut components = vec![json!({
        "Name": "Engine",
        "Version": VERSION,
        "Details": {
            "ApiVersion": "",
            "Arch": os_arch.1,
            "KernelVersion": kernel,
            "Os": os_arch.0,
        },
    })];
    if let Ok(rt) = crate::monitor::runtime::default_binary() {
        components.push(json!({
            "Name": file_name(&rt),
            "Version": binary_version(&rt),
            "Details": {"Path": rt},
        }));
    }
    if let Ok(init) = crate::oci::init::binary() {
        components.push(json!({
            "Name": file_name(&init),
            "Version": binary_version(&init),
            "Details": {"Path": init},
        }));
    }
    json!({
        "Client": {
            "Platform": {"Name": "husk"},
            "Version": VERSION,
            "ApiVersion": "",
            "DefaultAPIVersion": "",
            "GitCommit": "",
            "GoVersion": "",
            "Os": os_arch.0,
            "Arch": os_arch.1,
            "BuildTime": "",
            "Context": "default",
        },
        "Server": {
            "Platform": {"Name": "husk"},
            "Components": components,
            "Version": VERSION,
            "ApiVersion": "",
            "MinAPIVersion": "",
            "GitCommit": "",
            "GoVersion": "",
            "Os": os_arch.0,
            "Arch": os_arch.1,
            "KernelVersion": kernel,
            "BuildTime": "",
        },
    })
}

/// docker's `version` text from [`version`].
pub fn render_version(v: &Value) -> String {
    let c = &v["Client"];
    let s = &v["Server"];
    let str_of = |x: &Value| x.as_str().unwrap_or("").to_string();
    let mut out = String::new();
    out.push_str("Client:\n");
    out.push_str(&format!(" Version:           {}\n", str_of(&c["Version"])));
    out.push_str(&format!(
        " OS/Arch:           {}/{}\n",
        str_of(&c["Os"]),
        str_of(&c["Arch"])
    ));
    out.push_str(" Context:           default\n\n");
    out.push_str("Server: husk\n");
    for comp in s["Components"].as_array().into_iter().flatten() {
        out.push_str(&format!(" {}:\n", str_of(&comp["Name"])));
        out.push_str(&format!(
            "  Version:          {}\n",
            str_of(&comp["Version"])
        ));
        if let Some(d) = comp["Details"].as_object() {
            if comp["Name"] == "Engine" {
                out.push_str(&format!(
                    "  OS/Arch:          {}/{}\n",
                    str_of(&d["Os"]),
                    str_of(&d["Arch"])
                ));
                out.push_str(&format!(
                    "  Kernel Version:   {}\n",
                    str_of(&d["KernelVersion"])
                ));
            } else {
                out.push_str(&format!("  Path:             {}\n", str_of(&d["Path"])));
            }
        }
    }
    out
}

/// `info` and `version` documents for `--format`: Go structs whose
/// fields are their JSON keys.
pub const DOCUMENT: husk_template::Schema = husk_template::Schema {
    root: "system.Info",
    maps: &[("Runtimes", husk_template::Zero::Struct)],
    slices: &[],
    context: false,
    methods: &[],
    fields: &[],
};

/// One row of `system df`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DfRow {
    pub kind: &'static str,
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

/// What images, containers, volumes and the build cache take.
pub fn df(paths: &Paths) -> Result<Vec<DfRow>> {
    let containers = crate::lifecycle::list(paths)?;
    let store = husk_image::Store::open_read(&paths.root)?;
    let mut images: BTreeMap<String, husk_image::Image> = BTreeMap::new();
    for img in store.images()? {
        images.entry(img.id.to_string()).or_insert(img);
    }
    let used_images: HashSet<&str> = containers.iter().map(|c| c.image_id.as_str()).collect();
    // Layers are shared between images: each is counted once, and only
    // the layers no container's image stands on are reclaimable.
    let mut layer_sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut used_layers: HashSet<String> = HashSet::new();
    for (id, img) in &images {
        for chain in store.chain_ids(img)? {
            let size = store.layers.meta(&chain).map(|m| m.size).unwrap_or(0);
            layer_sizes.insert(chain.to_string(), size);
            if used_images.contains(id.as_str()) {
                used_layers.insert(chain.to_string());
            }
        }
    }
    let image_total: u64 = layer_sizes.values().sum();
    let image_used: u64 = layer_sizes
        .iter()
        .filter(|(k, _)| used_layers.contains(*k))
        .map(|(_, v)| v)
        .sum();
    let active_images = images
        .keys()
        .filter(|id| used_images.contains(id.as_str()))
        .count();

    let mut c_size = 0;
    let mut c_reclaim = 0;
    for c in &containers {
        let rw = super::ps::tree_bytes(&paths.dir(&c.id).join("upper"));
        c_size += rw;
        if !c.is_running() {
            c_reclaim += rw;
        }
    }
    let (_, running, paused, _) = counts(&containers);

    let volumes = crate::volumes::list(&paths.root)?;
    let mut v_size = 0;
    let mut v_reclaim = 0;
    let mut v_active = 0;
    for v in &volumes {
        let size = super::ps::tree_bytes(&crate::volumes::data_dir(&paths.root, &v.name));
        v_size += size;
        let used = containers.iter().any(|c| {
            c.host_config
                .mount_points
                .iter()
                .any(|m| m.kind == crate::config::mounts::MountType::Volume && m.name == v.name)
        });
        if used {
            v_active += 1;
        } else {
            v_reclaim += size;
        }
    }

    let cache_dir = paths.root.join("build").join("cache");
    let cache_entries = std::fs::read_dir(&cache_dir)
        .map(|rd| rd.flatten().count())
        .unwrap_or(0);
    let cache_size = super::ps::tree_bytes(&cache_dir);

    Ok(vec![
        DfRow {
            kind: "Images",
            total: images.len(),
            active: active_images,
            size: image_total,
            reclaimable: image_total - image_used,
        },
        DfRow {
            kind: "Containers",
            total: containers.len(),
            active: running + paused,
            size: c_size,
            reclaimable: c_reclaim,
        },
        DfRow {
            kind: "Local Volumes",
            total: volumes.len(),
            active: v_active,
            size: v_size,
            reclaimable: v_reclaim,
        },
        DfRow {
            kind: "Build Cache",
            total: cache_entries,
            active: 0,
            size: cache_size,
            reclaimable: cache_size,
        },
    ])
}

/// `system df -v`: each image, container, volume and build cache entry
/// with what it takes, in docker's four sections.
pub fn df_verbose(paths: &Paths) -> Result<String> {
    let now = chrono::Utc::now();
    let containers = crate::lifecycle::list(paths)?;
    let store = husk_image::Store::open_read(&paths.root)?;
    let images = store.images()?;
    // How many images stand on each layer: a layer of several is shared.
    let mut layers_of: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    let mut users: BTreeMap<String, usize> = BTreeMap::new();
    for img in &images {
        let id = img.id.to_string();
        if layers_of.contains_key(&id) {
            continue;
        }
        let mut layers = Vec::new();
        for chain in store.chain_ids(img)? {
            let size = store.layers.meta(&chain).map(|m| m.size).unwrap_or(0);
            *users.entry(chain.to_string()).or_default() += 1;
            layers.push((chain.to_string(), size));
        }
        layers_of.insert(id, layers);
    }
    let opts = super::images::ListOptions {
        quiet: false,
        digests: false,
        no_trunc: false,
        format: None,
        dangling_only: false,
        all: false,
    };
    let mut out = String::from("Images space usage:\n\n");
    let mut lines = vec![
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS"
            .to_string(),
    ];
    for row in super::images::rows(&store, &opts)? {
        let Some(full) = images
            .iter()
            .map(|i| i.id.to_string())
            .find(|id| id.trim_start_matches("sha256:").starts_with(&row.id))
        else {
            continue;
        };
        let layers = layers_of.get(&full).cloned().unwrap_or_default();
        let size: u64 = layers.iter().map(|l| l.1).sum();
        let shared: u64 = layers
            .iter()
            .filter(|l| users.get(&l.0).copied().unwrap_or(0) > 1)
            .map(|l| l.1)
            .sum();
        let used = containers.iter().filter(|c| c.image_id == full).count();
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{used}",
            row.repository,
            row.tag,
            row.id,
            row.created_since,
            human_size(size),
            human_size(shared),
            human_size(size - shared),
        ));
    }
    out.push_str(&tabwrite(&lines));

    out.push_str("\nContainers space usage:\n\n");
    let mut lines = vec![
        "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES".to_string(),
    ];
    for c in containers.iter().rev() {
        let row = super::ps::row(c, false, None, now);
        let s = |k: &str| row[k].as_str().unwrap_or("").to_string();
        let volumes = c
            .host_config
            .mount_points
            .iter()
            .filter(|m| m.kind == crate::config::mounts::MountType::Volume)
            .count();
        let rw = super::ps::tree_bytes(&paths.dir(&c.id).join("upper"));
        lines.push(format!(
            "{}\t{}\t{}\t{volumes}\t{}\t{}\t{}\t{}",
            s("ID"),
            s("Image"),
            s("Command"),
            human_size(rw),
            s("RunningFor"),
            s("Status"),
            s("Names"),
        ));
    }
    out.push_str(&tabwrite(&lines));

    out.push_str("\nLocal Volumes space usage:\n\n");
    let mut lines = vec!["VOLUME NAME\tLINKS\tSIZE".to_string()];
    for v in crate::volumes::list(&paths.root)? {
        let links = containers
            .iter()
            .filter(|c| {
                c.host_config
                    .mount_points
                    .iter()
                    .any(|m| m.kind == crate::config::mounts::MountType::Volume && m.name == v.name)
            })
            .count();
        let size = super::ps::tree_bytes(&crate::volumes::data_dir(&paths.root, &v.name));
        lines.push(format!("{}\t{links}\t{}", v.name, human_size(size)));
    }
    out.push_str(&tabwrite(&lines));

    let cache_dir = paths.root.join("build").join("cache");
    out.push_str(&format!(
        "\nBuild cache usage: {}\n\n",
        human_size(super::ps::tree_bytes(&cache_dir))
    ));
    let mut lines =
        vec!["CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED".to_string()];
    for entry in std::fs::read_dir(&cache_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata().ok();
        let created = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
        lines.push(format!(
            "{}\tregular\t{}\t{}\tN/A\tN/A\tfalse",
            name.chars().take(12).collect::<String>(),
            human_size(meta.map_or(0, |m| m.len())),
            crate::format::since(created.as_deref(), now),
        ));
    }
    out.push_str(&tabwrite(&lines));
    Ok(out)
}

/// docker's formatter row for one [`DfRow`] (`{{json .}}` keys).
pub fn df_value(r: &DfRow) -> Value {
    let size = human_size_precision(r.size, 4);
    let text = human_size_precision(r.reclaimable, 4);
    let reclaimable = match (r.reclaimable * 100).checked_div(r.size) {
        Some(percent) => format!("{text} ({percent}%)"),
        None => text,
    };
    json!({
        "Active": r.active.to_string(),
        "Reclaimable": reclaimable,
        "Size": size,
        "TotalCount": r.total.to_string(),
        "Type": r.kind,
    })
}

/// `system df`'s table: TYPE TOTAL ACTIVE SIZE RECLAIMABLE.
pub fn render_df(rows: &[DfRow]) -> String {
    let mut lines = vec!["TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE".to_string()];
    for r in rows {
        let v = df_value(r);
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}",
            s("Type"),
            s("TotalCount"),
            s("Active"),
            s("Size"),
            s("Reclaimable")
        ));
    }
    tabwrite(&lines)
}

/// docker's `system df --format` row.
pub const DF: husk_template::Schema = husk_template::Schema {
    root: "*formatter.diskUsageContext",
    maps: &[],
    slices: &[],
    context: true,
    methods: &[],
    fields: &["Active", "Reclaimable", "Size", "TotalCount", "Type"],
};

/// The column headers docker gives `system df`'s fields.
pub fn df_header(field: &str) -> String {
    match field {
        "Type" => "TYPE",
        "TotalCount" => "TOTAL",
        "Active" => "ACTIVE",
        "Size" => "SIZE",
        "Reclaimable" => "RECLAIMABLE",
        other => return other.to_uppercase(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_rows_as_docker() {
        let rows = [
            DfRow {
                kind: "Images",
                total: 2,
                active: 1,
                size: 4_260_000,
                reclaimable: 2_130_000,
            },
            DfRow {
                kind: "Build Cache",
                total: 0,
                active: 0,
                size: 0,
                reclaimable: 0,
            },
        ];
        let out = render_df(&rows);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "TYPE          TOTAL     ACTIVE    SIZE      RECLAIMABLE"
        );
        assert_eq!(
            lines[1],
            "Images        2         1         4.26MB    2.13MB (50%)"
        );
        assert_eq!(lines[2], "Build Cache   0         0         0B        0B");
    }

    #[test]
    fn version_blocks() {
        let v = version();
        assert_eq!(v["Client"]["Version"], VERSION);
        assert_eq!(v["Server"]["Components"][0]["Name"], "Engine");
        let text = render_version(&v);
        assert!(text.starts_with("Client:\n Version:"), "{text}");
        assert!(text.contains("\nServer: husk\n Engine:\n"), "{text}");
    }
}
