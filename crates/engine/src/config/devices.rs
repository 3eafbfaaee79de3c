//! The device flags: `--device HOST[:CTR[:rwm]]`, `--device-cgroup-rule`,
//! and the block I/O ones that name a device (`--blkio-weight-device`,
//! `--device-read-bps` and its siblings), with docker's syntax; and the
//! device nodes they name, read from /dev.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::extra::flag_err;
use crate::{Error, Result};

/// docker's `HostConfig.Devices[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// docker's `BlkioWeightDevice[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WeightDevice {
    pub path: String,
    pub weight: u16,
}

/// docker's `BlkioDeviceReadBps[]` (and the other throttles) entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: u64,
}

/// A device node on the host: what the OCI spec's `linux.devices[]` and
/// the device cgroup need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `c` or `b`.
    pub kind: char,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Stats `path`, which must be a character or block device.
pub fn node(path: &Path) -> std::result::Result<Node, String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let md = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let kind = if md.file_type().is_char_device() {
        'c'
    } else if md.file_type().is_block_device() {
        'b'
    } else {
        return Err("not a device node".into());
    };
    Ok(Node {
        kind,
        major: nix::sys::stat::major(md.rdev()),
        minor: nix::sys::stat::minor(md.rdev()),
        mode: md.mode() & 0o7777,
        uid: md.uid(),
        gid: md.gid(),
    })
}

fn valid_perms(p: &str) -> bool {
    !p.is_empty() && p.len() <= 3 && p.chars().all(|c| "rwm".contains(c))
}

/// The device nodes under `dir` (depth-limited, symlinks not followed),
/// each with its path below `dir`, as docker's `--device DIR` takes them.
pub fn nodes_under(dir: &Path) -> Vec<(std::path::PathBuf, Node)> {
    fn walk(root: &Path, dir: &Path, depth: u32, out: &mut Vec<(std::path::PathBuf, Node)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let p = e.path();
            if ft.is_dir() && depth < 8 {
                walk(root, &p, depth + 1, out);
            } else if !ft.is_symlink() {
                if let (Ok(n), Ok(rel)) = (node(&p), p.strip_prefix(root)) {
                    out.push((rel.to_path_buf(), n));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, 0, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `--device HOST[:CTR[:PERMS]]` (docker's parseDevice: a second field
/// made of r, w, m only is the permissions). The host path must be a
/// device node now.
pub fn parse_device(s: &str) -> Result<DeviceMapping> {
    let bad = |reason: String| flag_err("--device", s, reason);
    let parts: Vec<&str> = s.split(':').collect();
    let (host, ctr, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if valid_perms(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad("use HOST-PATH[:CONTAINER-PATH[:rwm]]".into())),
    };
    if !valid_perms(perms) {
        return Err(bad(format!(
            "invalid device permissions {perms:?}: use r, w and m"
        )));
    }
    if !ctr.starts_with('/') || ctr.contains('\0') {
        return Err(bad(format!(
            "the path in the container must be absolute, not {ctr:?}"
        )));
    }
    if !host.starts_with('/') {
        return Err(bad(format!("the host path must be absolute, not {host:?}")));
    }
    // A directory (`--device /dev/snd`) brings every device node under it.
    if !Path::new(host).is_dir() {
        node(Path::new(host)).map_err(|e| bad(format!("gathering device {host}: {e}")))?;
    }
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: ctr.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// One `--device-cgroup-rule`, `TYPE MAJOR:MINOR ACCESS` (`c 1:3 mr`,
/// `a *:* rwm`), as an OCI `linux.resources.devices[]` allow rule.
pub fn parse_cgroup_rule(s: &str) -> Result<serde_json::Value> {
    let bad = || {
        flag_err(
            "--device-cgroup-rule",
            s,
            "use TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 mr' (type a, b or c; * for any number)",
        )
    };
    let f: Vec<&str> = s.split_whitespace().collect();
    let [kind, nums, access] = f.as_slice() else {
        return Err(bad());
    };
    if !matches!(*kind, "a" | "b" | "c") || !valid_perms(access) {
        return Err(bad());
    }
    let (maj, min) = nums.split_once(':').ok_or_else(bad)?;
    let num = |n: &str| -> Result<serde_json::Value> {
        if n == "*" {
            Ok(serde_json::Value::Null)
        } else {
            n.parse::<i64>()
                .map(|v| serde_json::json!(v))
                .map_err(|_| bad())
        }
    };
    Ok(serde_json::json!({
        "allow": true,
        "type": kind,
        "major": num(maj)?,
        "minor": num(min)?,
        "access": access,
    }))
}

/// `DEVICE:VALUE` with DEVICE a block device under /dev.
fn split_device<'a>(flag: &'static str, s: &'a str) -> Result<(&'a str, &'a str)> {
    let (dev, v) = s
        .rsplit_once(':')
        .ok_or_else(|| flag_err(flag, s, "use DEVICE:VALUE, e.g. /dev/sda:100"))?;
    if !dev.starts_with("/dev/") {
        return Err(flag_err(flag, s, "the device path must start with /dev/"));
    }
    match node(Path::new(dev)) {
        Ok(n) if n.kind == 'b' => Ok((dev, v)),
        Ok(_) => Err(flag_err(flag, s, format!("{dev} is not a block device"))),
        Err(e) => Err(flag_err(flag, s, format!("{dev}: {e}"))),
    }
}

/// `--blkio-weight-device /dev/sda:300`.
pub fn parse_weight_device(s: &str) -> Result<WeightDevice> {
    let flag = "--blkio-weight-device";
    let (dev, w) = split_device(flag, s)?;
    let weight = w
        .parse::<u16>()
        .ok()
        .filter(|w| (10..=1000).contains(w))
        .ok_or_else(|| flag_err(flag, s, "the weight must be from 10 to 1000"))?;
    check_weight_support(flag, s)?;
    Ok(WeightDevice {
        path: dev.to_string(),
        weight,
    })
}

/// `--device-read-bps /dev/sda:1mb` (docker's sizes) or
/// `--device-read-iops /dev/sda:1000` (`iops`).
pub fn parse_throttle(flag: &'static str, s: &str, iops: bool) -> Result<ThrottleDevice> {
    let (dev, v) = split_device(flag, s)?;
    let rate = if iops {
        v.parse::<u64>().ok()
    } else {
        husk_spec::units::ram_in_bytes(v)
            .filter(|b| *b >= 0)
            .map(|b| b as u64)
    };
    let rate = rate.filter(|r| *r > 0).ok_or_else(|| {
        flag_err(
            flag,
            s,
            if iops {
                "the rate must be a positive number of operations per second"
            } else {
                "the rate must be a positive size: a number with b, k, m, g, t or p"
            },
        )
    })?;
    Ok(ThrottleDevice {
        path: dev.to_string(),
        rate,
    })
}

/// Block I/O weights need a weight file in the blkio (v1) or io (v2)
/// controller, which only some I/O schedulers (CFQ, BFQ) give: docker
/// drops the weight with a warning on a host without it; husk refuses,
/// since a weight that does nothing should not look applied.
pub fn check_weight_support(flag: &'static str, value: &str) -> Result<()> {
    let v1 = Path::new("/sys/fs/cgroup/blkio");
    let supported = if v1.is_dir() {
        v1.join("blkio.weight").exists() || v1.join("blkio.bfq.weight").exists()
    } else {
        std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "io"))
    };
    if supported {
        Ok(())
    } else {
        Err(Error::InvalidFlag {
            flag,
            value: value.to_string(),
            reason: "this host's block I/O controller has no weight files (no CFQ or BFQ \
                     scheduler): drop the weight or use --device-read-bps/--device-write-bps"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_as_docker_parses_them() {
        let d = parse_device("/dev/null").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/null", "rwm")
        );
        let d = parse_device("/dev/null:r").unwrap();
        assert_eq!(d.cgroup_permissions, "r");
        let d = parse_device("/dev/null:/dev/mynull:rw").unwrap();
        assert_eq!(d.path_in_container, "/dev/mynull");
        for bad in [
            "/dev/null:/x:rwz",
            "/dev/null:rel",
            "/no/such/device",
            "/etc/hostname",
            "a:b:c:d",
        ] {
            let e = parse_device(bad).unwrap_err().to_string();
            assert_eq!(e.lines().count(), 1, "{bad}: {e}");
        }
    }

    #[test]
    fn cgroup_rules() {
        let r = parse_cgroup_rule("c 1:3 mr").unwrap();
        assert_eq!(r["major"], 1);
        assert_eq!(r["access"], "mr");
        let r = parse_cgroup_rule("a *:* rwm").unwrap();
        assert!(r["major"].is_null() && r["minor"].is_null());
        for bad in ["c 1:3", "x 1:3 r", "c 1-3 r", "c a:3 r", "c 1:3 rx"] {
            assert!(parse_cgroup_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn throttles_need_block_devices() {
        assert!(parse_throttle("--device-read-bps", "/dev/null:1mb", false).is_err());
        assert!(parse_throttle("--device-read-bps", "/etc:1mb", false).is_err());
        assert!(parse_throttle("--device-read-iops", "nodev", true).is_err());
    }
}
