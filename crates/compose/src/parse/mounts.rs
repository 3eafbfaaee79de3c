//! A service's `volumes:` (short and long syntax).

use serde_json::{Map, Value};

use super::Cx;
use crate::mount::{
    check_volume_name, parse_short_volume, BindOptions, Mount, MountType, TmpfsOptions,
    VolumeOptions, VOLUME_HINT,
};
use crate::paths;
use crate::Error;

pub(super) fn parse_mounts(cx: &mut Cx, v: &Value, path: &str) -> Result<Vec<Mount>, Error> {
    let mut mounts = Vec::new();
    for (i, item) in cx.list(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let mut mount = match item {
            Value::String(spec) => {
                parse_short_volume(spec).map_err(|m| cx.invalid(&p, Some(item), m))?
            }
            Value::Object(map) => long_mount(cx, map, &p)?,
            item => {
                return Err(cx.wrong_kind(
                    &p,
                    item,
                    &format!("a string or a mapping with type: and target: ({VOLUME_HINT})"),
                ))
            }
        };
        match mount.kind {
            MountType::Bind => {
                if let Some(source) = &mount.source {
                    mount.source = Some(
                        paths::resolve(cx.project_dir, source, cx.home())
                            .display()
                            .to_string(),
                    );
                }
            }
            MountType::Volume => {
                if let Some(name) = &mount.source {
                    if !cx.declared_volumes.contains(name) {
                        return Err(cx.invalid(
                            &p,
                            Some(item),
                            format!("named volume {name:?} is not declared: add it under the top-level volumes key, or write ./{name} for a host directory"),
                        ));
                    }
                }
            }
            MountType::Tmpfs => {}
        }
        mounts.push(mount);
    }
    Ok(mounts)
}

fn long_mount(cx: &mut Cx, map: &Map<String, Value>, path: &str) -> Result<Mount, Error> {
    let mut kind = None;
    let mut source = None;
    let mut target = None;
    let mut read_only = false;
    let mut bind = None;
    let mut volume = None;
    let mut tmpfs = None;
    for (key, v) in map {
        let p = format!("{path}.{key}");
        let p = p.as_str();
        match key.as_str() {
            "type" => {
                kind = Some(match cx.string(v, p)?.as_str() {
                    "volume" => MountType::Volume,
                    "bind" => MountType::Bind,
                    "tmpfs" => MountType::Tmpfs,
                    _ => {
                        return Err(cx.invalid(
                            p,
                            Some(v),
                            "unknown mount type: use volume, bind or tmpfs",
                        ))
                    }
                })
            }
            "source" => source = Some(cx.string(v, p)?),
            "target" => target = Some(cx.string(v, p)?),
            "read_only" => read_only = cx.boolean(v, p)?,
            "bind" => bind = Some(bind_options(cx, v, p)?),
            "volume" => volume = Some(volume_options(cx, v, p)?),
            "tmpfs" => tmpfs = Some(tmpfs_options(cx, v, p)?),
            // Docker Desktop's consistency hint means nothing on Linux.
            "consistency" => {}
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(p),
        }
    }
    let kind =
        kind.ok_or_else(|| cx.invalid(path, None, "no type: add type: volume, bind or tmpfs"))?;
    let target = target
        .ok_or_else(|| cx.invalid(path, None, "no target: add target: /path/in/container"))?;
    if !target.starts_with('/') {
        return Err(cx.invalid(
            &format!("{path}.target"),
            Some(&Value::from(target.as_str())),
            "not an absolute path: start it with /",
        ));
    }
    let misplaced = |key: &str, kind: &str| {
        cx.invalid(
            &format!("{path}.{key}"),
            None,
            format!("{key} options on a {kind} mount: remove them or change type"),
        )
    };
    match kind {
        MountType::Bind => {
            if volume.is_some() {
                return Err(misplaced("volume", "bind"));
            }
            if tmpfs.is_some() {
                return Err(misplaced("tmpfs", "bind"));
            }
            if source.is_none() {
                return Err(cx.invalid(
                    path,
                    None,
                    "a bind mount needs source: add source: ./host/dir",
                ));
            }
            bind = Some(bind.unwrap_or(BindOptions {
                create_host_path: true,
                ..BindOptions::default()
            }));
        }
        MountType::Volume => {
            if bind.is_some() {
                return Err(misplaced("bind", "volume"));
            }
            if tmpfs.is_some() {
                return Err(misplaced("tmpfs", "volume"));
            }
            if let Some(name) = &source {
                check_volume_name(name).map_err(|m| {
                    cx.invalid(
                        &format!("{path}.source"),
                        Some(&Value::from(name.as_str())),
                        m,
                    )
                })?;
            }
        }
        MountType::Tmpfs => {
            if bind.is_some() {
                return Err(misplaced("bind", "tmpfs"));
            }
            if volume.is_some() {
                return Err(misplaced("volume", "tmpfs"));
            }
            if source.is_some() {
                return Err(cx.invalid(
                    &format!("{path}.source"),
                    None,
                    "a tmpfs mount has no source: remove it",
                ));
            }
        }
    }
    Ok(Mount {
        kind,
        source,
        target,
        read_only,
        bind,
        volume,
        tmpfs,
    })
}

fn bind_options(cx: &mut Cx, v: &Value, path: &str) -> Result<BindOptions, Error> {
    // Compose v2 creates a missing host path unless told not to.
    let mut b = BindOptions {
        create_host_path: true,
        ..BindOptions::default()
    };
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "propagation" => b.propagation = Some(cx.string(v, &p)?),
            "create_host_path" => b.create_host_path = cx.boolean(v, &p)?,
            "selinux" => {
                let s = cx.string(v, &p)?;
                if s != "z" && s != "Z" {
                    return Err(cx.invalid(&p, Some(v), "use z (shared) or Z (private)"));
                }
                b.selinux = Some(s);
            }
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(b)
}

fn volume_options(cx: &mut Cx, v: &Value, path: &str) -> Result<VolumeOptions, Error> {
    let mut o = VolumeOptions::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "nocopy" => o.nocopy = cx.boolean(v, &p)?,
            "subpath" => o.subpath = Some(cx.string(v, &p)?),
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(o)
}

fn tmpfs_options(cx: &mut Cx, v: &Value, path: &str) -> Result<TmpfsOptions, Error> {
    let mut o = TmpfsOptions::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "size" => o.size = Some(cx.bytes(v, &p)?),
            "mode" => o.mode = Some(tmpfs_mode(cx, v, &p)?),
            k if k.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(o)
}

/// A YAML number is taken as is (write `0o1777` for octal); a string is
/// read as octal, the way modes are written (`"1777"`).
fn tmpfs_mode(cx: &Cx, v: &Value, path: &str) -> Result<u32, Error> {
    let parsed = match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => u32::from_str_radix(s.trim_start_matches("0o"), 8).ok(),
        _ => None,
    };
    parsed
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| cx.wrong_kind(path, v, "an octal mode, e.g. \"1777\" or 0o1777"))
}
