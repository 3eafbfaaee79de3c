//! `-v`, `--mount` and `--tmpfs`: parsed and checked like docker's before
//! anything is created, then resolved into mount points (volumes created,
//! missing `-v` host directories made) that the spec and inspect read.
//!
//! Container paths are cleaned lexically (docker's `filepath.Clean`), so
//! no `..` reaches the runtime, which resolves them inside the rootfs
//! (symlinks included). The engine itself never creates anything under a
//! container path: the only host directories it makes are `-v` sources
//! given as absolute host paths and volumes under `<root>/volumes`, whose
//! names cannot hold `/` or start with `.`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Volume,
    Tmpfs,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// One mount of the container, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountPoint {
    pub kind: MountType,
    /// Volume name (empty for binds and tmpfs).
    #[serde(default)]
    pub name: String,
    /// Host path: the bind source or the volume's `_data` (empty for tmpfs).
    #[serde(default)]
    pub source: String,
    pub destination: String,
    /// `-v`'s mode text as docker shows it.
    #[serde(default)]
    pub mode: String,
    pub rw: bool,
    /// `rprivate`, `rshared`, ... for binds; empty otherwise.
    #[serde(default)]
    pub propagation: String,
    /// Made for this container alone (`-v /path`, image VOLUME).
    #[serde(default)]
    pub anonymous: bool,
    /// tmpfs data (`size=64m,mode=1777`).
    #[serde(default)]
    pub tmpfs_options: String,
    /// From `--tmpfs`: docker leaves these out of the top-level Mounts.
    #[serde(default)]
    pub from_tmpfs_flag: bool,
    /// `nocopy`: an empty volume is not filled from the image.
    #[serde(default)]
    pub nocopy: bool,
}

/// A `--mount` as docker's `HostConfig.Mounts` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MountFlag {
    pub kind: String,
    #[serde(default)]
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub propagation: String,
    #[serde(default)]
    pub tmpfs_size: i64,
    #[serde(default)]
    pub tmpfs_mode: u32,
    #[serde(default)]
    pub nocopy: bool,
}

fn invalid(flag: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// `filepath.Clean` for an absolute container path; `None` when relative.
pub fn clean_path(p: &str) -> Option<String> {
    if !p.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            // `..` at the top stays at `/`, as the kernel resolves it.
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn destination(flag: &'static str, value: &str, p: &str) -> Result<String> {
    match clean_path(p) {
        None => Err(invalid(
            flag,
            value,
            format!("the container path {p:?} must be absolute"),
        )),
        Some(d) if d == "/" => Err(invalid(flag, value, "the container path can't be '/'")),
        Some(d) => Ok(d),
    }
}

const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// Parses one `-v`. `cwd` turns `./rel` host paths absolute, as docker's
/// CLI does.
pub fn parse_volume(v: &str, cwd: &Path) -> Result<MountPoint> {
    const F: &str = "--volume";
    let parts: Vec<&str> = v.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [d] => ("", *d, ""),
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => {
            return Err(invalid(
                F,
                v,
                "use [HOST-PATH|NAME:]CONTAINER-PATH[:OPTIONS]",
            ))
        }
    };
    if src.is_empty() && parts.len() > 1 {
        return Err(invalid(F, v, "the source is empty"));
    }
    let destination = destination(F, v, dst)?;
    let mut rw = true;
    let mut propagation = String::new();
    let mut nocopy = false;
    if !mode.is_empty() {
        let mut seen_rw = false;
        for m in mode.split(',') {
            match m {
                "ro" | "rw" if !seen_rw => {
                    seen_rw = true;
                    rw = m == "rw";
                }
                m if PROPAGATIONS.contains(&m) && propagation.is_empty() => {
                    propagation = m.to_string()
                }
                "nocopy" => nocopy = true,
                // SELinux relabelling: no SELinux here.
                "z" | "Z" => {}
                _ => {
                    return Err(invalid(
                        F,
                        v,
                        format!("invalid mode {mode:?}: use ro or rw, a propagation (rprivate, rshared, rslave, ...), z, Z or nocopy"),
                    ))
                }
            }
        }
    }
    if src.is_empty() {
        return Ok(MountPoint {
            kind: MountType::Volume,
            name: String::new(),
            source: String::new(),
            destination,
            mode: mode.to_string(),
            rw,
            propagation: String::new(),
            anonymous: true,
            tmpfs_options: String::new(),
            from_tmpfs_flag: false,
            nocopy,
        });
    }
    let host = if src.starts_with('.') {
        Some(cwd.join(src).to_string_lossy().into_owned())
    } else if src.starts_with('/') {
        Some(src.to_string())
    } else {
        None
    };
    match host {
        Some(h) => Ok(MountPoint {
            kind: MountType::Bind,
            name: String::new(),
            source: clean_path(&h).unwrap_or(h),
            destination,
            mode: mode.to_string(),
            rw,
            propagation: if propagation.is_empty() {
                "rprivate".into()
            } else {
                propagation
            },
            anonymous: false,
            tmpfs_options: String::new(),
            from_tmpfs_flag: false,
            nocopy: false,
        }),
        None => {
            if !super::valid_name(src) {
                return Err(invalid(
                    F,
                    v,
                    format!("{src:?} includes invalid characters for a local volume name, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; to bind a host directory, give an absolute path"),
                ));
            }
            if !propagation.is_empty() {
                return Err(invalid(
                    F,
                    v,
                    "a propagation mode applies to bind mounts only",
                ));
            }
            Ok(MountPoint {
                kind: MountType::Volume,
                name: src.to_string(),
                source: String::new(),
                destination,
                mode: if mode.is_empty() {
                    "z".into()
                } else {
                    mode.to_string()
                },
                rw,
                propagation: String::new(),
                anonymous: false,
                tmpfs_options: String::new(),
                from_tmpfs_flag: false,
                nocopy,
            })
        }
    }
}

fn parse_bool(flag: &'static str, all: &str, key: &str, v: Option<&str>) -> Result<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("1") | Some("true") => Ok(true),
        Some("0") | Some("false") => Ok(false),
        Some(_) => Err(invalid(
            flag,
            all,
            format!("invalid value for {key}: use true or false"),
        )),
    }
}

/// Parses one `--mount type=...,source=...,target=...`.
pub fn parse_mount<'a>(m: &'a str) -> Result<MountFlag> {
    const F: &str = "--mount";
    let mut f = MountFlag {
        kind: "volume".into(),
        ..Default::default()
    };
    let mut has_size_or_mode = false;
    let mut bind_opts = false;
    for field in m.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v)),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<&'a str>| -> Result<&'a str> {
            v.ok_or_else(|| {
                invalid(
                    F,
                    m,
                    format!("invalid field '{field}' must be a key=value pair"),
                )
            })
        };
        match k.as_str() {
            "type" => f.kind = need(v)?.to_ascii_lowercase(),
            "source" | "src" => f.source = need(v)?.to_string(),
            "target" | "dst" | "destination" => f.target = need(v)?.to_string(),
            "readonly" | "ro" => f.read_only = parse_bool(F, m, &k, v)?,
            "bind-propagation" => {
                let p = need(v)?;
                if !PROPAGATIONS.contains(&p) {
                    return Err(invalid(F, m, format!("invalid bind-propagation {p:?}")));
                }
                f.propagation = p.to_string();
                bind_opts = true;
            }
            "tmpfs-size" => {
                let s = need(v)?;
                f.tmpfs_size = husk_spec::units::ram_in_bytes(s)
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        invalid(
                            F,
                            m,
                            format!("invalid tmpfs-size {s:?}: use a size like 64m"),
                        )
                    })?;
                has_size_or_mode = true;
            }
            "tmpfs-mode" => {
                let s = need(v)?;
                f.tmpfs_mode = u32::from_str_radix(s, 8)
                    .ok()
                    .filter(|n| *n <= 0o7777)
                    .ok_or_else(|| {
                        invalid(
                            F,
                            m,
                            format!("invalid tmpfs-mode {s:?}: use octal, like 1777"),
                        )
                    })?;
                has_size_or_mode = true;
            }
            // Accepted for compatibility; they change nothing here.
            "volume-nocopy" => f.nocopy = parse_bool(F, m, &k, v)?,
            // Accepted for compatibility; it changes nothing on Linux.
            "consistency" => {}
            "volume-driver" if v == Some("local") => {}
            _ => return Err(invalid(F, m, format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    let kind = f.kind.clone();
    let cfg = |reason: String| {
        invalid(
            F,
            m,
            format!("invalid mount config for type \"{kind}\": {reason}"),
        )
    };
    match kind.as_str() {
        "bind" | "volume" | "tmpfs" => {}
        other => {
            return Err(invalid(
                F,
                m,
                format!("mount type unknown: {other:?}: use bind, volume or tmpfs"),
            ))
        }
    }
    if f.target.is_empty() {
        return Err(cfg("field Target must not be empty".into()));
    }
    f.target = destination(F, m, &f.target)?;
    if has_size_or_mode && kind != "tmpfs" {
        return Err(cfg("tmpfs options are only allowed with type=tmpfs".into()));
    }
    if bind_opts && kind != "bind" {
        return Err(cfg("bind options are only allowed with type=bind".into()));
    }
    match kind.as_str() {
        "bind" => {
            if f.source.is_empty() {
                return Err(cfg("field Source must not be empty".into()));
            }
            if !f.source.starts_with('/') {
                return Err(cfg(format!(
                    "invalid mount path: {:?} mount path must be absolute",
                    f.source
                )));
            }
        }
        "volume" if !f.source.is_empty() && !super::valid_name(&f.source) => {
            return Err(cfg(format!(
                "{:?} includes invalid characters for a local volume name, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                f.source
            )));
        }
        "tmpfs" if !f.source.is_empty() => {
            return Err(cfg("field Source must not be specified".into()));
        }
        _ => {}
    }
    Ok(f)
}

/// docker's ConvertTmpfsOptions: `size=64m`, `mode=1777`.
fn tmpfs_data(size: i64, mode: u32) -> String {
    let mut out = Vec::new();
    if size > 0 {
        let (mut n, mut suffix) = (size, "");
        for (s, d) in [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
            if size % d == 0 {
                n = size / d;
                suffix = s;
                break;
            }
        }
        out.push(format!("size={n}{suffix}"));
    }
    if mode != 0 {
        out.push(format!("mode={mode:o}"));
    }
    out.join(",")
}

impl MountFlag {
    /// The mount point this `--mount` asks for (volumes not created yet).
    pub fn to_mount_point(&self) -> MountPoint {
        let kind = match self.kind.as_str() {
            "bind" => MountType::Bind,
            "tmpfs" => MountType::Tmpfs,
            _ => MountType::Volume,
        };
        MountPoint {
            kind,
            name: if kind == MountType::Volume {
                self.source.clone()
            } else {
                String::new()
            },
            source: if kind == MountType::Bind {
                clean_path(&self.source).unwrap_or_else(|| self.source.clone())
            } else {
                String::new()
            },
            destination: self.target.clone(),
            mode: String::new(),
            rw: !self.read_only,
            propagation: match kind {
                MountType::Bind if self.propagation.is_empty() => "rprivate".into(),
                MountType::Bind => self.propagation.clone(),
                _ => String::new(),
            },
            anonymous: kind == MountType::Volume && self.source.is_empty(),
            tmpfs_options: if kind == MountType::Tmpfs {
                tmpfs_data(self.tmpfs_size, self.tmpfs_mode)
            } else {
                String::new()
            },
            from_tmpfs_flag: false,
            nocopy: self.nocopy,
        }
    }

    /// docker's `HostConfig.Mounts[]` entry.
    pub fn to_docker(&self) -> Value {
        let mut v = json!({"Type": self.kind, "Source": self.source, "Target": self.target});
        if self.read_only {
            v["ReadOnly"] = json!(true);
        }
        if !self.propagation.is_empty() {
            v["BindOptions"] = json!({"Propagation": self.propagation});
        }
        if self.nocopy {
            v["VolumeOptions"] = json!({"NoCopy": true});
        }
        if self.kind == "tmpfs" && (self.tmpfs_size > 0 || self.tmpfs_mode != 0) {
            let mut t = json!({});
            if self.tmpfs_size > 0 {
                t["SizeBytes"] = json!(self.tmpfs_size);
            }
            if self.tmpfs_mode != 0 {
                t["Mode"] = json!(self.tmpfs_mode);
            }
            v["TmpfsOptions"] = t;
        }
        v
    }
}

/// Flags that take a "no" form; the value names the group a later option
/// replaces an earlier one in (docker's MergeTmpfsOptions).
const TMPFS_FLAGS: &[(&str, &str)] = &[
    ("rw", "ro"),
    ("ro", "ro"),
    ("exec", "exec"),
    ("noexec", "exec"),
    ("suid", "suid"),
    ("nosuid", "suid"),
    ("dev", "dev"),
    ("nodev", "dev"),
    ("sync", "sync"),
    ("async", "sync"),
    ("dirsync", "dirsync"),
    ("mand", "mand"),
    ("nomand", "mand"),
    ("atime", "atime"),
    ("noatime", "atime"),
    ("diratime", "diratime"),
    ("nodiratime", "diratime"),
    ("relatime", "relatime"),
    ("norelatime", "relatime"),
    ("strictatime", "strictatime"),
    ("nostrictatime", "strictatime"),
    ("private", "propagation"),
    ("rprivate", "propagation"),
    ("shared", "propagation"),
    ("rshared", "propagation"),
    ("slave", "propagation"),
    ("rslave", "propagation"),
];

const TMPFS_DATA: &[&str] = &[
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

/// Later options win; `Err` names the first unknown one.
pub fn merge_tmpfs_options(options: &[&str]) -> std::result::Result<Vec<String>, String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for o in options.iter().rev() {
        if o.is_empty() || *o == "defaults" {
            continue;
        }
        let key = if let Some((_, g)) = TMPFS_FLAGS.iter().find(|(f, _)| f == o) {
            *g
        } else {
            match o.split_once('=') {
                Some((k, v)) if TMPFS_DATA.contains(&k) && !v.is_empty() => k,
                _ => return Err(format!("invalid tmpfs option {o:?}")),
            }
        };
        if !seen.contains(&key) {
            seen.push(key);
            out.insert(0, o.to_string());
        }
    }
    Ok(out)
}

/// Parses one `--tmpfs /path[:opts]` → (path, opts).
pub fn parse_tmpfs(t: &str) -> Result<(String, String)> {
    const F: &str = "--tmpfs";
    let (p, opts) = t.split_once(':').unwrap_or((t, ""));
    let dest = destination(F, t, p)?;
    let list: Vec<&str> = opts.split(',').collect();
    merge_tmpfs_options(&list).map_err(|e| invalid(F, t, e))?;
    Ok((dest, opts.to_string()))
}

/// Every mount the flags ask for, checked: no two on one destination.
/// Image VOLUMEs not covered by a flag become anonymous volumes.
pub fn plan(
    cwd: &Path,
    binds: &[String],
    mounts: &[MountFlag],
    tmpfs: &[(String, String)],
    image_volumes: &[String],
) -> Result<Vec<MountPoint>> {
    let mut out: Vec<MountPoint> = Vec::new();
    for v in binds {
        out.push(parse_volume(v, cwd)?);
    }
    out.extend(mounts.iter().map(MountFlag::to_mount_point));
    for (dest, opts) in tmpfs {
        out.push(MountPoint {
            kind: MountType::Tmpfs,
            name: String::new(),
            source: String::new(),
            destination: dest.clone(),
            mode: String::new(),
            rw: true,
            propagation: String::new(),
            anonymous: false,
            tmpfs_options: opts.clone(),
            from_tmpfs_flag: true,
            nocopy: false,
        });
    }
    for (i, m) in out.iter().enumerate() {
        if out[..i].iter().any(|o| o.destination == m.destination) {
            return Err(invalid(
                "--volume/--mount/--tmpfs",
                &m.destination,
                format!("duplicate mount point: {}", m.destination),
            ));
        }
    }
    for v in image_volumes {
        let Some(d) = clean_path(v).filter(|d| d != "/") else {
            continue;
        };
        if !out.iter().any(|m| m.destination == d) {
            out.push(MountPoint {
                kind: MountType::Volume,
                name: String::new(),
                source: String::new(),
                destination: d,
                mode: String::new(),
                rw: true,
                propagation: String::new(),
                anonymous: true,
                tmpfs_options: String::new(),
                from_tmpfs_flag: false,
                nocopy: false,
            });
        }
    }
    Ok(out)
}

/// Checks bind sources: `--mount type=bind` needs an existing one (docker
/// refuses), `-v` sources are made later. Nothing is created here.
pub fn check_sources(mounts: &[MountFlag]) -> Result<()> {
    for m in mounts.iter().filter(|m| m.kind == "bind") {
        if !Path::new(&m.source).exists() {
            return Err(invalid(
                "--mount",
                &m.source,
                format!("invalid mount config for type \"bind\": bind source path does not exist: {}: create it first or use -v, which does", m.source),
            ));
        }
    }
    Ok(())
}

/// OCI `mounts[]` entries, parents before children (docker's sortMounts).
pub fn spec_mounts(points: &[MountPoint]) -> Vec<Value> {
    let mut sorted: Vec<&MountPoint> = points.iter().collect();
    sorted.sort_by_key(|m| m.destination.split('/').count());
    sorted
        .into_iter()
        .map(|m| match m.kind {
            MountType::Tmpfs => {
                let mut opts = vec!["noexec", "nosuid", "nodev", "rprivate"];
                if !m.rw {
                    opts.push("ro");
                }
                opts.extend(m.tmpfs_options.split(','));
                // Checked at create; an option that slipped through is
                // left for the runtime to refuse.
                let merged = merge_tmpfs_options(&opts)
                    .unwrap_or_else(|_| opts.iter().map(|s| s.to_string()).collect());
                json!({"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": merged})
            }
            _ => {
                let mut opts = vec!["rbind".to_string()];
                opts.push(if m.propagation.is_empty() {
                    "rprivate".into()
                } else {
                    m.propagation.clone()
                });
                if !m.rw {
                    opts.push("ro".into());
                }
                json!({"destination": m.destination, "type": "bind", "source": m.source, "options": opts})
            }
        })
        .collect()
}

/// docker's top-level `Mounts` (no `--tmpfs` entries, as docker).
pub fn inspect_mounts(points: &[MountPoint]) -> Value {
    let items: Vec<Value> = points
        .iter()
        .filter(|m| !m.from_tmpfs_flag)
        .map(|m| match m.kind {
            MountType::Volume => json!({
                "Type": "volume",
                "Name": m.name,
                "Source": m.source,
                "Destination": m.destination,
                "Driver": "local",
                "Mode": m.mode,
                "RW": m.rw,
                "Propagation": "",
            }),
            _ => json!({
                "Type": m.kind.as_str(),
                "Source": m.source,
                "Destination": m.destination,
                "Mode": m.mode,
                "RW": m.rw,
                "Propagation": m.propagation,
            }),
        })
        .collect();
    json!(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags_parse_like_docker() {
        let cwd = Path::new("/work");
        let b = parse_volume("/srv:/data:ro", cwd).unwrap();
        assert_eq!(
            (b.kind, b.source.as_str(), b.destination.as_str(), b.rw),
            (MountType::Bind, "/srv", "/data", false)
        );
        assert_eq!(b.propagation, "rprivate");
        let n = parse_volume("cache:/var/cache", cwd).unwrap();
        assert_eq!(
            (n.kind, n.name.as_str(), n.anonymous, n.mode.as_str()),
            (MountType::Volume, "cache", false, "z")
        );
        let a = parse_volume("/scratch", cwd).unwrap();
        assert!(a.anonymous && a.kind == MountType::Volume && a.name.is_empty());
        let r = parse_volume("./d:/d:rw,rshared", cwd).unwrap();
        assert_eq!(
            (r.source.as_str(), r.propagation.as_str()),
            ("/work/d", "rshared")
        );
        // `..` never survives into the destination.
        assert_eq!(
            parse_volume("v1:/a/../../etc/x", cwd).unwrap().destination,
            "/etc/x"
        );
        for bad in [
            "/srv:/",
            "/srv:rel",
            "x/y:/d",
            "a b:/d",
            "/srv:/d:rx",
            "/a:/b:ro:x",
            ":/d",
            "/a/../..:/",
        ] {
            assert!(parse_volume(bad, cwd).is_err(), "{bad}");
        }
        assert!(parse_volume("/srv:/d:ro", cwd).is_ok());
    }

    #[test]
    fn mount_flags_parse_like_docker() {
        let m = parse_mount("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (64 << 20, 0o1770));
        assert_eq!(m.to_mount_point().tmpfs_options, "size=64m,mode=1770");
        assert_eq!(
            m.to_docker()["TmpfsOptions"],
            json!({"SizeBytes": 67108864, "Mode": 1016})
        );
        let v = parse_mount("source=data,target=/d,readonly").unwrap();
        assert_eq!((v.kind.as_str(), v.read_only), ("volume", true));
        let b = parse_mount("type=bind,src=/srv,dst=/d,bind-propagation=rslave").unwrap();
        assert_eq!(b.to_mount_point().propagation, "rslave");
        assert!(
            parse_mount("type=volume,target=/x")
                .unwrap()
                .to_mount_point()
                .anonymous
        );
        for bad in [
            "type=bind,target=/d",
            "type=bind,source=rel,target=/d",
            "type=tmpfs,source=x,target=/d",
            "type=volume,source=../x,target=/d",
            "type=nfs,target=/d",
            "type=bind,source=/s",
            "type=bind,source=/s,target=/d,tmpfs-size=1m",
            "type=tmpfs,target=/d,tmpfs-mode=99",
            "type=tmpfs,target=/d,foo=bar",
            "type=volume,target=/d,readonly=maybe",
        ] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
        assert_eq!(tmpfs_data(1000, 0), "size=1000");
        assert_eq!(tmpfs_data(3 << 10, 0o755), "size=3k,mode=755");
    }

    #[test]
    fn tmpfs_options_merge_later_wins() {
        assert_eq!(
            merge_tmpfs_options(&["noexec", "nosuid", "nodev", "exec", "size=1m", "size=2m"])
                .unwrap(),
            ["nosuid", "nodev", "exec", "size=2m"]
        );
        assert!(merge_tmpfs_options(&["bogus"]).is_err());
        assert_eq!(
            parse_tmpfs("/run:size=64k,mode=1777").unwrap(),
            ("/run".to_string(), "size=64k,mode=1777".to_string())
        );
        assert!(parse_tmpfs("run").is_err());
        assert!(parse_tmpfs("/run:size").is_err());
    }

    #[test]
    fn plans_refuse_duplicates_and_sort_parents_first() {
        let cwd = Path::new("/");
        assert!(plan(cwd, &["/a:/d".into(), "v1:/d".into()], &[], &[], &[]).is_err());
        assert!(plan(
            cwd,
            &["/a:/d".into()],
            &[],
            &[("/d".into(), String::new())],
            &[]
        )
        .is_err());
        let p = plan(
            cwd,
            &["/a:/d/e".into(), "/b:/d".into()],
            &[],
            &[],
            &["/d".into(), "/img".into()],
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert!(p[2].anonymous && p[2].destination == "/img");
        let s = spec_mounts(&p);
        assert_eq!(s[0]["destination"], "/d");
        assert_eq!(s[1]["destination"], "/img");
        assert_eq!(s[2]["destination"], "/d/e");
        assert_eq!(s[0]["options"], json!(["rbind", "rprivate"]));
    }
}
