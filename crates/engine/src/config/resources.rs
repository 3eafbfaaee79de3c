//! Parsers for the resource and process flags docker checks up front:
//! `--ulimit`, `--cpuset-cpus/--cpuset-mems`, `--stop-signal`,
//! `--env-file`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One `--ulimit` (docker's `Ulimits[]` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    pub name: String,
    pub hard: i64,
    pub soft: i64,
}

/// docker's ulimit names (go-units ulimitNameMapping).
const ULIMITS: &[(&str, &str)] = &[
    ("core", "RLIMIT_CORE"),
    ("cpu", "RLIMIT_CPU"),
    ("data", "RLIMIT_DATA"),
    ("fsize", "RLIMIT_FSIZE"),
    ("locks", "RLIMIT_LOCKS"),
    ("memlock", "RLIMIT_MEMLOCK"),
    ("msgqueue", "RLIMIT_MSGQUEUE"),
    ("nice", "RLIMIT_NICE"),
    ("nofile", "RLIMIT_NOFILE"),
    ("nproc", "RLIMIT_NPROC"),
    ("rss", "RLIMIT_RSS"),
    ("rtprio", "RLIMIT_RTPRIO"),
    ("rttime", "RLIMIT_RTTIME"),
    ("sigpending", "RLIMIT_SIGPENDING"),
    ("stack", "RLIMIT_STACK"),
];

impl Ulimit {
    /// The OCI `process.rlimits[]` type (`RLIMIT_NOFILE`).
    pub fn oci_type(&self) -> &'static str {
        ULIMITS
            .iter()
            .find(|(n, _)| *n == self.name)
            .map(|(_, t)| *t)
            .unwrap_or("RLIMIT_NOFILE")
    }

    /// rlimit values are unsigned; docker's -1 is RLIM_INFINITY.
    pub fn oci_value(v: i64) -> u64 {
        if v < 0 {
            u64::MAX
        } else {
            v as u64
        }
    }
}

/// `nofile=1024[:2048]` (go-units ParseUlimit).
pub fn parse_ulimit(s: &str) -> Result<Ulimit> {
    let bad = |reason: String| Error::InvalidFlag {
        flag: "--ulimit",
        value: s.to_string(),
        reason,
    };
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| bad("use NAME=SOFT[:HARD], e.g. nofile=1024:2048".into()))?;
    if !ULIMITS.iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = ULIMITS.iter().map(|(n, _)| *n).collect();
        return Err(bad(format!(
            "invalid ulimit type {name:?}: use one of {}",
            names.join(", ")
        )));
    }
    let num = |v: &str| {
        v.parse::<i64>().ok().filter(|n| *n >= -1).ok_or_else(|| {
            bad(format!(
                "invalid ulimit value {v:?}: use a number (-1 for unlimited)"
            ))
        })
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (num(s)?, num(h)?),
        None => {
            let v = num(limits)?;
            (v, v)
        }
    };
    let unl = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    if unl(soft) > unl(hard) {
        return Err(bad(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )));
    }
    Ok(Ulimit {
        name: name.to_string(),
        hard,
        soft,
    })
}

/// `0-3,5` → the set of numbers, refusing garbage like the kernel would.
pub fn parse_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 65_536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// Checks `--cpuset-cpus`/`--cpuset-mems` against what is online
/// (`online` is the kernel's list, e.g. /sys/devices/system/cpu/online).
pub fn check_cpuset(flag: &'static str, value: &str, online: &str) -> Result<()> {
    let what = if flag == "--cpuset-cpus" {
        "CPUs"
    } else {
        "memory nodes"
    };
    let want = parse_list(value).ok_or_else(|| Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: format!("invalid list of {what}: use e.g. 0-2,4"),
    })?;
    let have = parse_list(online.trim()).unwrap_or_default();
    if let Some(missing) = want.iter().find(|n| !have.contains(n)) {
        return Err(Error::InvalidFlag {
            flag,
            value: value.to_string(),
            reason: format!(
                "requested {what} are not available ({missing} is not): available: {}",
                online.trim()
            ),
        });
    }
    Ok(())
}

/// The largest uid or gid (runc's limit): above it an id is negative in
/// 32 bits, and 4294967295 is (uid_t)-1, which setresuid takes as "leave
/// unchanged", so the process would stay root.
pub const MAX_ID: u64 = i32::MAX as u64;

/// The numeric parts of `-u user[:group]` must be valid ids; names are
/// looked up in the image later (and the runtime checks what they give).
pub fn check_user_ids(flag: &'static str, value: &str) -> Result<()> {
    let (user, group) = match value.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (value, None),
    };
    for (what, part) in [("uid", Some(user)), ("gid", group)] {
        let Some(part) = part.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // All digits: too many of them for a u64 is out of range as well.
        if part.parse::<u64>().map_or(true, |n| n > MAX_ID) {
            return Err(Error::InvalidFlag {
                flag,
                value: value.to_string(),
                reason: format!(
                    "{what} {part} is out of range: uids and gids must be in range 0-{MAX_ID}"
                ),
            });
        }
    }
    Ok(())
}

/// docker's `--cpus` rule: 0 (no limit) or from 0.01 (a 1 ms quota in
/// the 100 ms period, the kernel's least) to the number of online CPUs.
/// `online` is the kernel's list (/sys/devices/system/cpu/online).
pub fn check_cpus(value: f64, online: &str) -> Result<()> {
    let n = parse_list(online.trim()).map_or(1, |l| l.len().max(1));
    if value == 0.0 {
        return Ok(());
    }
    if !value.is_finite() || !(0.01..=n as f64).contains(&value) {
        return Err(Error::InvalidFlag {
            flag: "--cpus",
            // 1e30, not thirty-one digits.
            value: if value.abs() >= 1e9 {
                format!("{value:e}")
            } else {
                value.to_string()
            },
            reason: format!(
                "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available"
            ),
        });
    }
    Ok(())
}

/// The kernel's limit on a hostname (HOST_NAME_MAX).
const HOSTNAME_MAX: usize = 64;

/// `--hostname`: what the kernel keeps (64 bytes) and what /etc/hosts and
/// every reader of it can take: dot-separated labels of letters, digits,
/// '-' and '_', each starting and ending with a letter or digit. A newline
/// would forge /etc/hosts lines.
pub fn check_hostname(value: &str) -> Result<()> {
    check_uts_name("--hostname", value)
}

/// [`check_hostname`]'s rules for `flag` (`--domainname` too).
pub fn check_uts_name(flag: &'static str, value: &str) -> Result<()> {
    let bad = |reason: String| Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason,
    };
    if value.len() > HOSTNAME_MAX {
        return Err(bad(format!(
            "{} bytes long, at most {HOSTNAME_MAX} are allowed",
            value.len()
        )));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        return Err(bad(format!(
            "{c:?} is not allowed: use letters, digits, '-', '_' and '.'"
        )));
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if value
        .split('.')
        .any(|l| !edge(l.chars().next()) || !edge(l.chars().last()))
    {
        return Err(bad(
            "each dot-separated part must start and end with a letter or digit".into(),
        ));
    }
    Ok(())
}

/// Online CPUs and memory nodes; a machine without NUMA files has node 0.
pub fn online(kind: &str) -> String {
    let p = match kind {
        "cpus" => "/sys/devices/system/cpu/online",
        _ => "/sys/devices/system/node/online",
    };
    std::fs::read_to_string(p).unwrap_or_else(|_| "0".into())
}

/// docker's env-file format: `KEY=VALUE` lines taken as is, `#` comments
/// and blank lines skipped, a bare `KEY` takes the caller's value (and is
/// dropped when the caller has none).
pub fn read_env_file(path: &Path) -> Result<Vec<String>> {
    let data = std::fs::read(path).map_err(|e| Error::io("read env file", path, e))?;
    let bad = |reason: String| Error::InvalidFlag {
        flag: "--env-file",
        value: path.display().to_string(),
        reason,
    };
    let text = String::from_utf8(data).map_err(|e| {
        bad(format!(
            "contains invalid utf8 bytes at byte {}",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        let key = key.trim_start();
        if key.is_empty() {
            return Err(bad(format!("line {}: no variable name", i + 1)));
        }
        if key.contains(char::is_whitespace) {
            return Err(bad(format!(
                "line {}: variable '{key}' contains whitespaces",
                i + 1
            )));
        }
        match value {
            Some(v) => out.push(format!("{key}={v}")),
            None => {
                let key = key.trim_end();
                if let Ok(v) = std::env::var(key) {
                    out.push(format!("{key}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// The host's device nodes for `--privileged` (runc's HostDevices): OCI
/// `linux.devices[]` entries. Pseudo-filesystems under /dev and the nodes
/// every container gets anyway are left out.
pub fn host_devices() -> Vec<serde_json::Value> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    const SKIP_DIRS: &[&str] = &["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
    const SKIP: &[&str] = &[
        "/dev/console",
        "/dev/ptmx",
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
    ];
    fn walk(dir: &Path, depth: u32, out: &mut Vec<serde_json::Value>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if ft.is_dir() {
                if depth < 4 && !SKIP_DIRS.contains(&name.as_str()) {
                    walk(&p, depth + 1, out);
                }
                continue;
            }
            let kind = if ft.is_char_device() {
                "c"
            } else if ft.is_block_device() {
                "b"
            } else {
                continue;
            };
            let path = p.to_string_lossy().into_owned();
            if SKIP.contains(&path.as_str()) {
                continue;
            }
            let Ok(md) = e.metadata() else { continue };
            let rdev = md.rdev();
            out.push(serde_json::json!({
                "path": path,
                "type": kind,
                "major": nix::sys::stat::major(rdev),
                "minor": nix::sys::stat::minor(rdev),
                "fileMode": md.mode() & 0o7777,
                "uid": md.uid(),
                "gid": md.gid(),
            }));
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/dev"), 0, &mut out);
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_parse_like_docker() {
        let u = parse_ulimit("nofile=1024:2048").unwrap();
        assert_eq!(
            (u.soft, u.hard, u.oci_type()),
            (1024, 2048, "RLIMIT_NOFILE")
        );
        assert_eq!(parse_ulimit("nproc=100").unwrap().hard, 100);
        assert_eq!(parse_ulimit("core=-1").unwrap().soft, -1);
        assert_eq!(Ulimit::oci_value(-1), u64::MAX);
        for bad in [
            "nofile",
            "bogus=1",
            "nofile=2048:1024",
            "nofile=x",
            "nofile=1:2:3",
            "nofile=-5",
        ] {
            assert!(parse_ulimit(bad).is_err(), "{bad}");
        }
        assert!(parse_ulimit("nofile=10:-1").is_ok());
        assert!(parse_ulimit("nofile=-1:10").is_err());
    }

    #[test]
    fn cpusets() {
        assert_eq!(parse_list("0-2,5,1").unwrap(), [0, 1, 2, 5]);
        assert!(parse_list("2-1").is_none());
        assert!(parse_list("a").is_none());
        assert!(parse_list("").is_none());
        assert!(check_cpuset("--cpuset-cpus", "0-1", "0-1\n").is_ok());
        let e = check_cpuset("--cpuset-cpus", "0-3", "0-1\n").unwrap_err();
        assert!(e.to_string().contains("available: 0-1"), "{e}");
        assert!(check_cpuset("--cpuset-mems", "1", "0").is_err());
    }

    #[test]
    fn user_ids_in_runcs_range() {
        for ok in [
            "0",
            "1000",
            "2147483647",
            "1000:2147483647",
            "nobody",
            "u:g",
            "1000:wheel",
        ] {
            check_user_ids("--user", ok).unwrap();
        }
        for bad in [
            "4294967295",
            "2147483648",
            "0:4294967295",
            "99999999999999999999999",
            "nobody:2147483648",
        ] {
            let e = check_user_ids("--user", bad).unwrap_err().to_string();
            assert!(e.contains("0-2147483647"), "{bad}: {e}");
        }
    }

    #[test]
    fn cpus_within_what_is_online() {
        for ok in [0.0, 0.01, 0.5, 1.5, 2.0] {
            check_cpus(ok, "0-1\n").unwrap();
        }
        for bad in [1e30, 2.01, 0.001, -1.0, f64::NAN, f64::INFINITY] {
            let e = check_cpus(bad, "0-1\n").unwrap_err().to_string();
            assert!(
                e.contains("from 0.01 to 2.00, as there are only 2 CPUs"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn hostnames_the_kernel_and_etc_hosts_take() {
        for ok in ["web", "web-1.example.com", "my_box", "a", &"a".repeat(64)] {
            check_hostname(ok).unwrap();
        }
        for bad in [
            "evil\n1.2.3.4 bank",
            "nul\0",
            "sp ace",
            "-lead",
            "trail-",
            "a..b",
            ".",
            &"a".repeat(65),
        ] {
            let e = check_hostname(bad).unwrap_err().to_string();
            assert_eq!(e.lines().count(), 1, "{bad:?}: {e}");
        }
    }

    #[test]
    fn env_files_follow_docker() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("env");
        std::env::set_var("HUSK_ENVFILE_TEST", "from host");
        std::fs::write(
            &p,
            "\u{feff}# comment\nA=1\n  B= spaced value \n\nHUSK_ENVFILE_TEST\nHUSK_ENVFILE_UNSET_XYZ\nC=a=b\nEMPTY=\n",
        )
        .unwrap();
        assert_eq!(
            read_env_file(&p).unwrap(),
            [
                "A=1",
                "B= spaced value ",
                "HUSK_ENVFILE_TEST=from host",
                "C=a=b",
                "EMPTY="
            ]
        );
        std::fs::write(&p, "BAD KEY=1\n").unwrap();
        assert!(read_env_file(&p)
            .unwrap_err()
            .to_string()
            .contains("whitespaces"));
        std::fs::write(&p, "=1\n").unwrap();
        assert!(read_env_file(&p).is_err());
        assert!(read_env_file(&t.path().join("missing")).is_err());
    }
}
