//! Top-level `networks:` and `volumes:`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Cx;
use crate::toplevel::{Ipam, IpamPool, Network, Volume};
use crate::Error;

pub(super) fn parse_networks(cx: &mut Cx, v: &Value) -> Result<BTreeMap<String, Network>, Error> {
    let mut out = BTreeMap::new();
    let empty = Map::new();
    for (key, spec) in cx.mapping(v, "networks")? {
        cx.locate(&["networks", key]);
        let path = format!("networks.{key}");
        let map = cx.mapping_or_null(spec, &path)?.unwrap_or(&empty);
        let mut n = Network::default();
        let mut name = None;
        for (k, v) in map {
            let p = format!("{path}.{k}");
            let p = p.as_str();
            match k.as_str() {
                "name" => name = Some(cx.string(v, p)?),
                "driver" => n.driver = Some(cx.string(v, p)?),
                "driver_opts" => n.driver_opts = cx.string_dict(v, p)?,
                "internal" => n.internal = cx.boolean(v, p)?,
                "attachable" => n.attachable = cx.boolean(v, p)?,
                "enable_ipv6" => n.enable_ipv6 = Some(cx.boolean(v, p)?),
                "ipam" => n.ipam = Some(ipam(cx, v, p)?),
                "labels" => n.labels = cx.string_dict(v, p)?,
                "external" => n.external = external(cx, v, p, &mut name)?,
                "enable_ipv4" => cx.unsupported_key(p),
                x if x.starts_with("x-") => {}
                _ => cx.unknown_key(p),
            }
        }
        if n.external {
            let set = [
                "driver",
                "driver_opts",
                "internal",
                "attachable",
                "enable_ipv6",
                "ipam",
            ];
            if let Some(conflict) = set.iter().find(|k| map.contains_key(**k)) {
                return Err(cx.invalid(
                    &format!("{path}.{conflict}"),
                    None,
                    "an external network is made elsewhere: remove this key or external: true",
                ));
            }
        }
        n.name = resolved_name(cx, key, name, n.external);
        out.insert(key.clone(), n);
    }
    Ok(out)
}

fn ipam(cx: &mut Cx, v: &Value, path: &str) -> Result<Ipam, Error> {
    let mut ipam = Ipam::default();
    for (key, v) in cx.mapping(v, path)? {
        let p = format!("{path}.{key}");
        match key.as_str() {
            "driver" => ipam.driver = Some(cx.string(v, &p)?),
            "options" => ipam.options = cx.string_dict(v, &p)?,
            "config" => {
                for (i, item) in cx.list(v, &p)?.iter().enumerate() {
                    let ip = format!("{p}[{i}]");
                    let mut pool = IpamPool::default();
                    for (k, v) in cx.mapping(item, &ip)? {
                        let kp = format!("{ip}.{k}");
                        match k.as_str() {
                            "subnet" => pool.subnet = Some(cx.string(v, &kp)?),
                            "gateway" => pool.gateway = Some(cx.string(v, &kp)?),
                            "ip_range" => pool.ip_range = Some(cx.string(v, &kp)?),
                            "aux_addresses" => pool.aux_addresses = cx.string_dict(v, &kp)?,
                            x if x.starts_with("x-") => {}
                            _ => cx.unknown_key(&kp),
                        }
                    }
                    ipam.config.push(pool);
                }
            }
            x if x.starts_with("x-") => {}
            _ => cx.unknown_key(&p),
        }
    }
    Ok(ipam)
}

pub(super) fn parse_volumes(cx: &mut Cx, v: &Value) -> Result<BTreeMap<String, Volume>, Error> {
    let mut out = BTreeMap::new();
    let empty = Map::new();
    for (key, spec) in cx.mapping(v, "volumes")? {
        cx.locate(&["volumes", key]);
        let path = format!("volumes.{key}");
        crate::mount::check_volume_name(key).map_err(|m| cx.invalid(&path, None, m))?;
        let map = cx.mapping_or_null(spec, &path)?.unwrap_or(&empty);
        let mut vol = Volume::default();
        let mut name = None;
        for (k, v) in map {
            let p = format!("{path}.{k}");
            let p = p.as_str();
            match k.as_str() {
                "name" => name = Some(cx.string(v, p)?),
                "driver" => vol.driver = Some(cx.string(v, p)?),
                "driver_opts" => vol.driver_opts = cx.string_dict(v, p)?,
                "labels" => vol.labels = cx.string_dict(v, p)?,
                "external" => vol.external = external(cx, v, p, &mut name)?,
                x if x.starts_with("x-") => {}
                _ => cx.unknown_key(p),
            }
        }
        if vol.external {
            if let Some(conflict) = ["driver", "driver_opts"]
                .iter()
                .find(|k| map.contains_key(**k))
            {
                return Err(cx.invalid(
                    &format!("{path}.{conflict}"),
                    None,
                    "an external volume is made elsewhere: remove this key or external: true",
                ));
            }
        }
        vol.name = resolved_name(cx, key, name, vol.external);
        out.insert(key.clone(), vol);
    }
    Ok(out)
}

/// `external: true`, or the legacy `external: {name: X}` (which sets the name).
fn external(cx: &mut Cx, v: &Value, path: &str, name: &mut Option<String>) -> Result<bool, Error> {
    match v {
        Value::Object(map) => {
            cx.warn(
                path,
                "external.name is deprecated: write name: at the same level as external: true",
            );
            for (k, v) in map {
                match k.as_str() {
                    "name" => *name = Some(cx.string(v, &format!("{path}.name"))?),
                    _ => cx.unknown_key(&format!("{path}.{k}")),
                }
            }
            Ok(true)
        }
        v => cx.boolean(v, path),
    }
}

/// What the engine calls it: `name:` if given, an external one's key,
/// else `<project>_<key>`.
fn resolved_name(cx: &Cx, key: &str, name: Option<String>, external: bool) -> String {
    match name {
        Some(name) => name,
        None if external => key.to_string(),
        None => format!("{}_{key}", cx.project_name),
    }
}

/// The network a service gets when it names none.
pub(super) fn default_network(cx: &Cx) -> Network {
    Network {
        name: format!("{}_default", cx.project_name),
        ..Network::default()
    }
}
