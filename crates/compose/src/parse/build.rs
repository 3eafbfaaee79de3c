//! `build:`: a context string or a mapping.

use serde_json::Value;

use super::Cx;
use crate::model::Build;
use crate::paths;
use crate::Error;

const UNSUPPORTED: &[&str] = &[
    "additional_contexts",
    "cache_to",
    "entitlements",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "ssh",
    "ulimits",
];

pub(super) fn parse_build(cx: &mut Cx, v: &Value, path: &str) -> Result<Build, Error> {
    let map = match v {
        Value::String(context) => {
            return Ok(Build {
                context: context_dir(cx, context),
                ..Build::default()
            });
        }
        Value::Object(map) => map,
        v => return Err(cx.wrong_kind(path, v, "a context directory or a mapping with context:")),
    };
    let mut b = Build {
        context: context_dir(cx, "."),
        ..Build::default()
    };
    for (key, v) in map {
        let p = format!("{path}.{key}");
        let p = p.as_str();
        match key.as_str() {
            "context" => b.context = context_dir(cx, &cx.string(v, p)?),
            "dockerfile" => b.dockerfile = Some(cx.string(v, p)?),
            "dockerfile_inline" => b.dockerfile_inline = Some(cx.string(v, p)?),
            "args" => b.args = cx.env_dict(v, p)?,
            "target" => b.target = Some(cx.string(v, p)?),
            "labels" => b.labels = cx.string_dict(v, p)?,
            "network" => b.network = Some(cx.string(v, p)?),
            "no_cache" => b.no_cache = cx.boolean(v, p)?,
            "pull" => b.pull = cx.boolean(v, p)?,
            "tags" => b.tags = cx.strings(v, p)?,
            "cache_from" => b.cache_from = cx.strings(v, p)?,
            "platforms" => b.platforms = cx.strings(v, p)?,
            "shm_size" => b.shm_size = Some(cx.bytes(v, p)?),
            k if k.starts_with("x-") => {}
            k if UNSUPPORTED.contains(&k) => cx.unsupported_key(p),
            _ => cx.unknown_key(p),
        }
    }
    if b.dockerfile.is_some() && b.dockerfile_inline.is_some() {
        return Err(cx.invalid(
            &format!("{path}.dockerfile_inline"),
            None,
            "dockerfile and dockerfile_inline exclude each other: keep only one",
        ));
    }
    Ok(b)
}

/// A local context made absolute; a remote one kept as written.
fn context_dir(cx: &Cx, context: &str) -> String {
    if paths::is_remote_context(context) {
        context.to_string()
    } else {
        paths::resolve(cx.project_dir, context, cx.home())
            .display()
            .to_string()
    }
}
