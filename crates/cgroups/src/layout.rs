//! Where the cgroup hierarchies are: parsed from /proc/self/mountinfo and /proc/self/cgroup,
//! never assumed. A `Layout` can be built from strings and a base dir so tests run on fake trees.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsio;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// One mounted hierarchy as this process sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    pub version: Version,
    /// v1: the controllers bound to this hierarchy (co-mounts like cpu,cpuacct have several;
    /// named hierarchies appear as "name=systemd"). v2: the contents of cgroup.controllers
    /// at the mount, i.e. only the controllers no v1 hierarchy has claimed.
    pub controllers: Vec<String>,
    /// The mount point, with the layout's base dir prepended.
    pub mount: PathBuf,
    /// This process's own cgroup in the hierarchy, relative to the mount ("/" at the root).
    pub own: PathBuf,
}

#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub hierarchies: Vec<Hierarchy>,
    /// True when systemd is PID 1 (/run/systemd/system exists).
    pub systemd_booted: bool,
}

/// Options in a v1 super block that are not controllers.
const NON_CONTROLLER_OPTS: &[&str] = &[
    "rw",
    "ro",
    "noprefix",
    "clone_children",
    "xattr",
    "cpuset_v2_mode",
    "favordynmods",
];

impl Layout {
    /// The layout of the running host.
    pub fn host() -> Result<Layout> {
        let read = |p: &str| std::fs::read_to_string(p).map_err(|e| Error::io("read", p, e));
        let mut layout = Layout::parse(
            &read("/proc/self/mountinfo")?,
            &read("/proc/self/cgroup")?,
            Path::new("/"),
        )?;
        layout.systemd_booted = Path::new("/run/systemd/system").is_dir();
        Ok(layout)
    }

    /// Builds a layout from mountinfo and /proc/self/cgroup text; every mount point is taken
    /// relative to `base` ("/" for the host, a tempdir for fake trees). v2 controllers are read
    /// from `<mount>/cgroup.controllers` under `base`.
    pub fn parse(mountinfo: &str, proc_cgroup: &str, base: &Path) -> Result<Layout> {
        let own = parse_proc_cgroup(proc_cgroup);
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for line in mountinfo.lines() {
            let Some(m) = parse_mountinfo_line(line) else {
                continue;
            };
            let mount = base.join(m.mount_point.trim_start_matches('/'));
            let hierarchy = match m.fstype.as_str() {
                "cgroup2" => {
                    if hierarchies.iter().any(|h| h.version == Version::V2) {
                        continue;
                    }
                    let controllers = fsio::read_opt(&mount, "cgroup.controllers")?
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    let proc_path = own
                        .iter()
                        .find(|(c, _)| c.is_empty())
                        .map(|(_, p)| p.as_str());
                    Hierarchy {
                        version: Version::V2,
                        controllers,
                        own: own_in_mount(proc_path, &m.root),
                        mount,
                    }
                }
                "cgroup" => {
                    let opts: Vec<&str> = m.super_opts.split(',').collect();
                    // The /proc/self/cgroup line whose controllers all appear in the mount
                    // options names this hierarchy authoritatively.
                    let line = own
                        .iter()
                        .find(|(c, _)| !c.is_empty() && c.split(',').all(|c| opts.contains(&c)));
                    let controllers: Vec<String> = match line {
                        Some((c, _)) => c.split(',').map(str::to_string).collect(),
                        None => opts
                            .iter()
                            .filter(|o| {
                                !NON_CONTROLLER_OPTS.contains(o) && !o.starts_with("release_agent=")
                            })
                            .map(|o| o.to_string())
                            .collect(),
                    };
                    if controllers.is_empty()
                        || hierarchies.iter().any(|h| h.controllers == controllers)
                    {
                        continue;
                    }
                    Hierarchy {
                        version: Version::V1,
                        controllers,
                        own: own_in_mount(line.map(|(_, p)| p.as_str()), &m.root),
                        mount,
                    }
                }
                _ => continue,
            };
            hierarchies.push(hierarchy);
        }
        if hierarchies.is_empty() {
            return Err(Error::NoHierarchy {
                path: PathBuf::from("/proc/self/mountinfo"),
            });
        }
        Ok(Layout {
            hierarchies,
            systemd_booted: false,
        })
    }

    pub fn is_pure_v2(&self) -> bool {
        self.hierarchies.iter().all(|h| h.version == Version::V2)
    }
}

struct MountLine {
    root: String,
    mount_point: String,
    fstype: String,
    super_opts: String,
}

fn parse_mountinfo_line(line: &str) -> Option<MountLine> {
    let (pre, post) = line.split_once(" - ")?;
    let pre: Vec<&str> = pre.split(' ').collect();
    let mut post = post.split(' ');
    let fstype = post.next()?.to_string();
    let _source = post.next()?;
    let super_opts = post.next().unwrap_or("").to_string();
    Some(MountLine {
        root: unescape(pre.get(3)?),
        mount_point: unescape(pre.get(4)?),
        fstype,
        super_opts,
    })
}

/// mountinfo escapes space, tab, newline and backslash as \ooo octal.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// "id:controllers:path" lines as (controllers, path); v2's line has empty controllers.
fn parse_proc_cgroup(s: &str) -> Vec<(String, String)> {
    s.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let c = it.next()?;
            let p = it.next()?;
            Some((c.to_string(), p.to_string()))
        })
        .collect()
}

/// The process's cgroup relative to a mount whose root (mountinfo field 4) may itself be a
/// sub-cgroup, as in bind-mounted or namespaced cgroupfs.
fn own_in_mount(proc_path: Option<&str>, mount_root: &str) -> PathBuf {
    let p = proc_path.unwrap_or("/");
    let rel = if mount_root == "/" {
        p
    } else {
        p.strip_prefix(mount_root).unwrap_or("/")
    };
    let rel = rel.trim_start_matches('/');
    PathBuf::from("/").join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const HOST_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
42 31 0:39 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
";

    #[test]
    fn parses_hybrid_and_own_paths() {
        let dir = tempfile::tempdir().unwrap();
        let uni = dir.path().join("sys/fs/cgroup/unified");
        std::fs::create_dir_all(&uni).unwrap();
        std::fs::write(uni.join("cgroup.controllers"), "hugetlb\n").unwrap();
        let proc = "4:memory:/process_api/abc\n9:name=systemd:/\n1:cpu:/\n2:cpuacct:/\n0::/x\n";
        let l = Layout::parse(HOST_MOUNTINFO, proc, dir.path()).unwrap();
        let names: Vec<_> = l
            .hierarchies
            .iter()
            .map(|h| h.controllers.join(","))
            .collect();
        assert_eq!(
            names,
            ["cpu", "cpuacct", "memory", "name=systemd", "hugetlb"]
        );
        assert_eq!(l.hierarchies[2].own, Path::new("/process_api/abc"));
        assert_eq!(l.hierarchies[4].own, Path::new("/x"));
        assert_eq!(l.hierarchies[4].version, Version::V2);
        assert_eq!(l.hierarchies[0].mount, dir.path().join("sys/fs/cgroup/cpu"));
        assert!(!l.is_pure_v2());
    }

    #[test]
    fn parses_comounted_hierarchy() {
        let mi =
            "42 31 0:39 /sub /sys/fs/cgroup/cpu\\054cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let l = Layout::parse(mi, "3:cpu,cpuacct:/sub/a\n", Path::new("/")).unwrap();
        assert_eq!(l.hierarchies.len(), 1);
        assert_eq!(l.hierarchies[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(l.hierarchies[0].own, Path::new("/a"));
        assert_eq!(
            l.hierarchies[0].mount,
            Path::new("/sys/fs/cgroup/cpu,cpuacct")
        );
    }

    #[test]
    fn no_hierarchy_is_an_error() {
        assert!(Layout::parse("1 0 0:1 / / rw - ext4 /dev/sda rw\n", "", Path::new("/")).is_err());
    }
}
