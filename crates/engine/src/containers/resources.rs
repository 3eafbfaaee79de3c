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

/// Online CPUs and memory nodes; a machine without NUMA files has node 0.
pub fn online(kind: &str) -> String {
    let p = match kind {
        "cpus" => "/sys/devices/system/cpu/online",
        _ => "/sys/devices/system/node/online",
    };
    std::fs::read_to_string(p).unwrap_or_else(|_| "0".into())
}

/// `SIGUSR1`, `usr1`, `10`, `RTMIN+3` → the signal number (docker's
/// ParseSignal, Linux numbering).
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let n = base + sign * off;
        (34..=64).contains(&n).then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(34, rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(64, rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    // nix knows the standard names (SIGHUP..SIGSYS) for this platform.
    format!("SIG{name}")
        .parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
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
    fn cpusets_and_signals() {
        assert_eq!(parse_list("0-2,5,1").unwrap(), [0, 1, 2, 5]);
        assert!(parse_list("2-1").is_none());
        assert!(parse_list("a").is_none());
        assert!(parse_list("").is_none());
        assert!(check_cpuset("--cpuset-cpus", "0-1", "0-1\n").is_ok());
        let e = check_cpuset("--cpuset-cpus", "0-3", "0-1\n").unwrap_err();
        assert!(e.to_string().contains("available: 0-1"), "{e}");
        assert!(check_cpuset("--cpuset-mems", "1", "0").is_err());
        assert_eq!(signal_number("SIGUSR1"), Some(10));
        assert_eq!(signal_number("usr1"), Some(10));
        assert_eq!(signal_number("TERM"), Some(15));
        assert_eq!(signal_number("9"), Some(9));
        assert_eq!(signal_number("RTMIN+3"), Some(37));
        assert_eq!(signal_number("SIGRTMAX"), Some(64));
        for bad in ["0", "65", "SIGFOO", "RTMIN+40", ""] {
            assert_eq!(signal_number(bad), None, "{bad}");
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
