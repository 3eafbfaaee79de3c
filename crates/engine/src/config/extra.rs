//! The rest of docker's `run`/`create` flags (namespace modes, devices,
//! block I/O, CPU period/quota/realtime, OOM, sysctls, /dev/shm, labels
//! from files, annotations, --volumes-from, --expose, ...): [`ExtraFlags`]
//! is the text given, [`check`] turns it into the [`HostExtras`] the record
//! keeps, with docker's rules, before anything is created. Parsers of one
//! family each live in devices.rs and modes.rs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::devices::{self, DeviceMapping, ThrottleDevice, WeightDevice};
use super::modes;
use crate::{Error, Result};

/// The flags as the command line gave them.
#[derive(Debug, Clone, Default)]
pub struct ExtraFlags {
    pub devices: Vec<String>,
    pub device_cgroup_rules: Vec<String>,
    pub group_add: Vec<String>,
    pub sysctls: Vec<String>,
    pub shm_size: Option<String>,
    pub ipc: Option<String>,
    pub pid: Option<String>,
    pub uts: Option<String>,
    pub cgroupns: Option<String>,
    pub cgroup_parent: Option<String>,
    pub cidfile: Option<PathBuf>,
    /// `-a stdin|stdout|stderr`.
    pub attach: Vec<String>,
    pub oom_kill_disable: bool,
    pub oom_score_adj: Option<i64>,
    pub memory_swappiness: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpu_rt_runtime: Option<i64>,
    pub blkio_weight: Option<i64>,
    pub blkio_weight_device: Vec<String>,
    pub device_read_bps: Vec<String>,
    pub device_write_bps: Vec<String>,
    pub device_read_iops: Vec<String>,
    pub device_write_iops: Vec<String>,
    pub label_files: Vec<PathBuf>,
    pub annotations: Vec<String>,
    pub volumes_from: Vec<String>,
    pub domainname: Option<String>,
    pub expose: Vec<String>,
    pub dns_options: Vec<String>,
}

/// What those flags decided, kept in the record (docker's HostConfig
/// keys in inspect).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostExtras {
    pub devices: Vec<DeviceMapping>,
    /// `c 1:3 mr`, checked.
    pub device_cgroup_rules: Vec<String>,
    /// Group names or gids, resolved in the rootfs at start.
    pub group_add: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    /// Bytes of /dev/shm; 0 = docker's 64 MiB.
    pub shm_size: i64,
    /// `private` (docker's default), `none`, `shareable`, `host`, `container:<id>`.
    pub ipc_mode: String,
    /// `""`, `host` or `container:<id>`.
    pub pid_mode: String,
    /// `""` or `host`.
    pub uts_mode: String,
    /// `host` or `private`.
    pub cgroupns_mode: String,
    /// `/parent` the container's cgroup goes under; empty = `/husk`.
    pub cgroup_parent: String,
    pub container_id_file: String,
    /// The streams `-a` named (`stdin`, `stdout`, `stderr`); empty = all.
    pub attach: Vec<String>,
    pub oom_kill_disable: bool,
    pub oom_score_adj: i64,
    /// None = the kernel's.
    pub memory_swappiness: Option<i64>,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpu_rt_runtime: i64,
    pub blkio_weight: u16,
    pub blkio_weight_device: Vec<WeightDevice>,
    pub blkio_device_read_bps: Vec<ThrottleDevice>,
    pub blkio_device_write_bps: Vec<ThrottleDevice>,
    pub blkio_device_read_iops: Vec<ThrottleDevice>,
    pub blkio_device_write_iops: Vec<ThrottleDevice>,
    pub annotations: BTreeMap<String, String>,
    /// `NAME[:ro|rw]` as given (the names resolved to ids).
    pub volumes_from: Vec<String>,
    pub domainname: String,
    pub dns_options: Vec<String>,
}

/// What [`check`] gives besides [`HostExtras`]: what goes into the
/// container's Config rather than its HostConfig.
pub(crate) struct CheckedExtras {
    pub(crate) host: HostExtras,
    /// From `--label-file`, before `--label` (which wins).
    pub(crate) labels: Vec<(String, String)>,
    /// `--expose`, one `PORT/PROTO` per port.
    pub(crate) exposed: Vec<String>,
}

pub(crate) fn flag_err(flag: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// A number flag within `range` (docker's messages name the range).
fn in_range(
    flag: &'static str,
    v: i64,
    range: std::ops::RangeInclusive<i64>,
    why: &str,
) -> Result<i64> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(flag_err(flag, &v.to_string(), why))
    }
}

/// The checks of every flag here; `nano_cpus_given` and `network_mode`
/// (as typed, None = default) are the conflicts docker checks; `hostname`
/// too (`--uts host` cannot set one). Reads only the files a flag names
/// (`--label-file`) and the host facts that decide what works here
/// (device nodes, the cgroup files for block I/O weights, the LSMs).
pub(crate) fn check(
    x: &ExtraFlags,
    nano_cpus_given: bool,
    network_mode: Option<&str>,
    hostname_given: bool,
) -> Result<CheckedExtras> {
    let mut h = HostExtras {
        devices: x
            .devices
            .iter()
            .map(|d| devices::parse_device(d))
            .collect::<Result<_>>()?,
        device_cgroup_rules: x
            .device_cgroup_rules
            .iter()
            .map(|r| devices::parse_cgroup_rule(r).map(|_| r.trim().to_string()))
            .collect::<Result<_>>()?,
        ..Default::default()
    };
    for g in &x.group_add {
        if g.is_empty() || g.contains([':', '\n', ' ']) {
            return Err(flag_err("--group-add", g, "use a group name or a gid"));
        }
        if g.bytes().all(|b| b.is_ascii_digit()) {
            super::resources::check_user_ids("--group-add", &format!("0:{g}"))?;
        }
        h.group_add.push(g.clone());
    }
    h.ipc_mode = modes::ipc(x.ipc.as_deref())?;
    h.pid_mode = modes::pid(x.pid.as_deref())?;
    h.uts_mode = modes::uts(x.uts.as_deref())?;
    h.cgroupns_mode = modes::cgroupns(x.cgroupns.as_deref())?;
    if let Some(p) = &x.cgroup_parent {
        h.cgroup_parent = modes::cgroup_parent(p)?;
    }
    if h.uts_mode == "host" && hostname_given {
        return Err(flag_err(
            "--hostname",
            "",
            "conflicting options: hostname and the UTS mode host (the host's name is used)",
        ));
    }
    for s in &x.sysctls {
        let (k, v) = modes::sysctl(s, network_mode, &h.ipc_mode, &h.uts_mode)?;
        h.sysctls.insert(k, v);
    }
    if let Some(s) = &x.shm_size {
        h.shm_size = husk_spec::units::ram_in_bytes(s)
            .filter(|b| *b > 0)
            .ok_or_else(|| {
                flag_err(
                    "--shm-size",
                    s,
                    "not a size: use a positive number with b, k, m, g, t or p",
                )
            })?;
    }
    if let Some(f) = &x.cidfile {
        if f.as_os_str().is_empty() {
            return Err(flag_err("--cidfile", "", "give a file path"));
        }
        if f.exists() {
            return Err(flag_err(
                "--cidfile",
                &f.display().to_string(),
                "container ID file found, make sure the other container isn't running or delete it",
            ));
        }
        h.container_id_file = f.display().to_string();
    }
    for a in &x.attach {
        let s = a.to_ascii_lowercase();
        if !matches!(s.as_str(), "stdin" | "stdout" | "stderr") {
            return Err(flag_err(
                "--attach",
                a,
                "valid streams are STDIN, STDOUT and STDERR",
            ));
        }
        if !h.attach.contains(&s) {
            h.attach.push(s);
        }
    }
    h.oom_kill_disable = x.oom_kill_disable;
    if let Some(v) = x.oom_score_adj {
        h.oom_score_adj = in_range(
            "--oom-score-adj",
            v,
            -1000..=1000,
            "the range for oom score adj is [-1000, 1000]",
        )?;
    }
    if let Some(v) = x.memory_swappiness.filter(|v| *v != -1) {
        h.memory_swappiness = Some(in_range(
            "--memory-swappiness",
            v,
            0..=100,
            "the valid memory swappiness range is 0-100 (-1 for the kernel's)",
        )?);
    }
    if let Some(v) = x.cpu_period.filter(|v| *v != 0) {
        if nano_cpus_given {
            return Err(flag_err(
                "--cpu-period",
                &v.to_string(),
                "conflicting options: --cpus and --cpu-period cannot both be set",
            ));
        }
        h.cpu_period = in_range(
            "--cpu-period",
            v,
            1000..=1_000_000,
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        )?;
    }
    if let Some(v) = x.cpu_quota.filter(|v| *v != 0) {
        if nano_cpus_given {
            return Err(flag_err(
                "--cpu-quota",
                &v.to_string(),
                "conflicting options: --cpus and --cpu-quota cannot both be set",
            ));
        }
        if v != -1 && v < 1000 {
            return Err(flag_err(
                "--cpu-quota",
                &v.to_string(),
                "CPU cfs quota can not be less than 1ms (i.e. 1000); -1 for no limit",
            ));
        }
        h.cpu_quota = v;
    }
    if let Some(v) = x.cpu_rt_runtime.filter(|v| *v != 0) {
        h.cpu_rt_runtime = modes::cpu_rt_runtime(v)?;
    }
    if let Some(w) = x.blkio_weight.filter(|w| *w != 0) {
        let w = in_range(
            "--blkio-weight",
            w,
            10..=1000,
            "the range of blkio weight is from 10 to 1000",
        )?;
        devices::check_weight_support("--blkio-weight", &w.to_string())?;
        h.blkio_weight = w as u16;
    }
    for w in &x.blkio_weight_device {
        h.blkio_weight_device.push(devices::parse_weight_device(w)?);
    }
    for (flag, list, iops, out) in [
        (
            "--device-read-bps",
            &x.device_read_bps,
            false,
            &mut h.blkio_device_read_bps,
        ),
        (
            "--device-write-bps",
            &x.device_write_bps,
            false,
            &mut h.blkio_device_write_bps,
        ),
        (
            "--device-read-iops",
            &x.device_read_iops,
            true,
            &mut h.blkio_device_read_iops,
        ),
        (
            "--device-write-iops",
            &x.device_write_iops,
            true,
            &mut h.blkio_device_write_iops,
        ),
    ] {
        for t in list {
            out.push(devices::parse_throttle(flag, t, iops)?);
        }
    }
    let mut labels = Vec::new();
    for f in &x.label_files {
        labels.extend(read_label_file(f)?);
    }
    for a in &x.annotations {
        match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                h.annotations.insert(k.to_string(), v.to_string());
            }
            _ => return Err(flag_err("--annotation", a, "use KEY=VALUE")),
        }
    }
    for v in &x.volumes_from {
        let (name, mode) = v.split_once(':').unwrap_or((v, ""));
        if name.is_empty() || !matches!(mode, "" | "ro" | "rw") {
            return Err(flag_err("--volumes-from", v, "use CONTAINER[:ro|:rw]"));
        }
        h.volumes_from.push(v.clone());
    }
    if let Some(d) = x.domainname.as_deref().filter(|d| !d.is_empty()) {
        super::resources::check_uts_name("--domainname", d)?;
        if h.uts_mode == "host" {
            return Err(flag_err(
                "--domainname",
                d,
                "conflicting options: domainname and the UTS mode host",
            ));
        }
        h.domainname = d.to_string();
    }
    let mut exposed = Vec::new();
    for e in &x.expose {
        exposed.extend(parse_expose(e)?);
    }
    for o in &x.dns_options {
        if o.is_empty() || o.contains(char::is_whitespace) {
            return Err(flag_err(
                "--dns-option",
                o,
                "one resolv.conf option without spaces, e.g. ndots:2",
            ));
        }
        h.dns_options.push(o.clone());
    }
    Ok(CheckedExtras {
        host: h,
        labels,
        exposed,
    })
}

/// `--expose 80`, `80/udp`, `8000-8002/tcp` → `80/tcp`, ... (docker's
/// nat.ParsePortRange: each port of a range exposed).
pub fn parse_expose(s: &str) -> Result<Vec<String>> {
    let bad = |reason: &str| flag_err("--expose", s, reason);
    let (ports, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad("the protocol must be tcp, udp or sctp"));
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("use PORT[/PROTO] or START-END[/PROTO], ports 1-65535"))
    };
    let (a, b) = match ports.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => {
            let p = port(ports)?;
            (p, p)
        }
    };
    if a > b {
        return Err(bad("the range's end is below its start"));
    }
    Ok((a..=b).map(|p| format!("{p}/{proto}")).collect())
}

/// docker's label file: `KEY=VALUE` lines (a bare `KEY` is an empty
/// label), `#` comments and blank lines skipped.
pub fn read_label_file(path: &Path) -> Result<Vec<(String, String)>> {
    let data = std::fs::read(path).map_err(|e| Error::io("read label file", path, e))?;
    let text = String::from_utf8(data).map_err(|e| {
        flag_err(
            "--label-file",
            &path.display().to_string(),
            format!(
                "contains invalid utf8 bytes at byte {}",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(flag_err(
                "--label-file",
                &path.display().to_string(),
                format!("line {}: {line:?} is not KEY=VALUE", i + 1),
            ));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// `--security-opt apparmor=...`/`label=...`: docker's `unconfined` and
/// `disable` turn the LSM off, which on a host without it is what already
/// holds; anything else asks for an LSM this host does not run, or that
/// husk does not apply: refused, never dropped in silence.
pub(crate) fn check_lsm_opt(opt: &str, key: &str, value: &str) -> Result<()> {
    match (key, value) {
        ("apparmor", "unconfined") | ("label", "disable") => Ok(()),
        ("apparmor", _) => {
            let enabled = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
                .is_ok_and(|s| s.trim() == "Y");
            Err(flag_err(
                "--security-opt",
                opt,
                if enabled {
                    "husk does not load AppArmor profiles: use apparmor=unconfined or drop the option"
                } else {
                    "AppArmor is not enabled on this host: use apparmor=unconfined or drop the option"
                },
            ))
        }
        _ => {
            let enabled = Path::new("/sys/fs/selinux/enforce").exists();
            Err(flag_err(
                "--security-opt",
                opt,
                if enabled {
                    "husk does not apply SELinux labels: use label=disable or drop the option"
                } else {
                    "SELinux is not enabled on this host: use label=disable or drop the option"
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(x: ExtraFlags) -> CheckedExtras {
        check(&x, false, None, false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(x: ExtraFlags) -> String {
        let e = check(&x, false, None, false).err().expect("refused");
        let s = e.to_string();
        assert_eq!(s.lines().count(), 1, "{s}");
        s
    }

    #[test]
    fn values_follow_docker() {
        let c = ok(ExtraFlags {
            oom_score_adj: Some(-500),
            memory_swappiness: Some(-1),
            cpu_period: Some(50_000),
            cpu_quota: Some(25_000),
            shm_size: Some("128m".into()),
            attach: vec!["STDOUT".into(), "stdout".into()],
            expose: vec!["7000-7001/udp".into(), "80".into()],
            annotations: vec!["a.b=c=d".into()],
            ..Default::default()
        });
        assert_eq!(c.host.oom_score_adj, -500);
        assert_eq!(c.host.memory_swappiness, None);
        assert_eq!((c.host.cpu_period, c.host.cpu_quota), (50_000, 25_000));
        assert_eq!(c.host.shm_size, 128 << 20);
        assert_eq!(c.host.attach, ["stdout"]);
        assert_eq!(c.exposed, ["7000/udp", "7001/udp", "80/tcp"]);
        assert_eq!(c.host.annotations["a.b"], "c=d");
        assert_eq!(c.host.ipc_mode, "private");
        assert_eq!(c.host.cgroupns_mode, "host");
        for (x, want) in [
            (
                ExtraFlags {
                    oom_score_adj: Some(1001),
                    ..Default::default()
                },
                "[-1000, 1000]",
            ),
            (
                ExtraFlags {
                    memory_swappiness: Some(101),
                    ..Default::default()
                },
                "0-100",
            ),
            (
                ExtraFlags {
                    cpu_period: Some(999),
                    ..Default::default()
                },
                "less than 1ms",
            ),
            (
                ExtraFlags {
                    cpu_quota: Some(10),
                    ..Default::default()
                },
                "less than 1ms",
            ),
            (
                ExtraFlags {
                    attach: vec!["stdall".into()],
                    ..Default::default()
                },
                "STDIN, STDOUT and STDERR",
            ),
            (
                ExtraFlags {
                    expose: vec!["99999".into()],
                    ..Default::default()
                },
                "1-65535",
            ),
            (
                ExtraFlags {
                    shm_size: Some("0".into()),
                    ..Default::default()
                },
                "positive",
            ),
            (
                ExtraFlags {
                    annotations: vec!["=x".into()],
                    ..Default::default()
                },
                "KEY=VALUE",
            ),
            (
                ExtraFlags {
                    volumes_from: vec!["x:rx".into()],
                    ..Default::default()
                },
                "CONTAINER[:ro|:rw]",
            ),
            (
                ExtraFlags {
                    dns_options: vec!["a b".into()],
                    ..Default::default()
                },
                "without spaces",
            ),
            (
                ExtraFlags {
                    group_add: vec!["4294967295".into()],
                    ..Default::default()
                },
                "out of range",
            ),
        ] {
            let e = err(x);
            assert!(e.contains(want), "{want}: {e}");
        }
        let e = check(
            &ExtraFlags {
                cpu_quota: Some(50_000),
                ..Default::default()
            },
            true,
            None,
            false,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("conflicting options"), "{e}");
        let e = check(
            &ExtraFlags {
                uts: Some("host".into()),
                ..Default::default()
            },
            false,
            None,
            true,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("UTS mode"), "{e}");
    }

    #[test]
    fn label_files_and_lsm_options() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("labels");
        std::fs::write(&p, "# c\na=1\n\nb\nc=x=y\n").unwrap();
        assert_eq!(
            read_label_file(&p).unwrap(),
            [
                ("a".to_string(), "1".to_string()),
                ("b".into(), "".into()),
                ("c".into(), "x=y".into())
            ]
        );
        std::fs::write(&p, "bad key=1\n").unwrap();
        assert!(read_label_file(&p).is_err());
        check_lsm_opt("apparmor=unconfined", "apparmor", "unconfined").unwrap();
        check_lsm_opt("label=disable", "label", "disable").unwrap();
        let e = check_lsm_opt("apparmor=docker-default", "apparmor", "docker-default")
            .unwrap_err()
            .to_string();
        assert!(e.contains("AppArmor"), "{e}");
        let e = check_lsm_opt("label=user:u", "label", "user:u")
            .unwrap_err()
            .to_string();
        assert!(e.contains("SELinux"), "{e}");
    }
}
