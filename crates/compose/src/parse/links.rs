//! What ties a service to others: `depends_on`, `networks`, `extra_hosts`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::Cx;
use crate::model::{Condition, Dependency, ExtraHost, ServiceNetwork};
use crate::Error;

pub(super) fn parse_depends_on(
    cx: &mut Cx,
    v: &Value,
    path: &str,
) -> Result<BTreeMap<String, Dependency>, Error> {
    let mut out = BTreeMap::new();
    match v {
        Value::Array(_) => {
            for name in cx.strings(v, path)? {
                out.insert(name, Dependency::default());
            }
        }
        Value::Object(map) => {
            for (name, spec) in map {
                let p = format!("{path}.{name}");
                let mut dep = Dependency::default();
                for (key, v) in cx.mapping_or_null(spec, &p)?.into_iter().flatten() {
                    let kp = format!("{p}.{key}");
                    match key.as_str() {
                        "condition" => {
                            dep.condition = match cx.string(v, &kp)?.as_str() {
                                "service_started" => Condition::ServiceStarted,
                                "service_healthy" => Condition::ServiceHealthy,
                                "service_completed_successfully" => Condition::ServiceCompletedSuccessfully,
                                _ => {
                                    return Err(cx.invalid(
                                        &kp,
                                        Some(v),
                                        "unknown condition: use service_started, service_healthy or service_completed_successfully",
                                    ))
                                }
                            }
                        }
                        "restart" => dep.restart = cx.boolean(v, &kp)?,
                        "required" => dep.required = cx.boolean(v, &kp)?,
                        k if k.starts_with("x-") => {}
                        _ => cx.unknown_key(&kp),
                    }
                }
                out.insert(name.clone(), dep);
            }
        }
        v => {
            return Err(cx.wrong_kind(
                path,
                v,
                "a list of services or a mapping of service: {condition: ...}",
            ))
        }
    }
    Ok(out)
}

const NETWORK_UNSUPPORTED: &[&str] = &[
    "driver_opts",
    "gw_priority",
    "interface_name",
    "link_local_ips",
];

pub(super) fn parse_networks(
    cx: &mut Cx,
    v: &Value,
    path: &str,
) -> Result<BTreeMap<String, ServiceNetwork>, Error> {
    let mut out = BTreeMap::new();
    let entries: Vec<(String, Option<&Value>)> = match v {
        Value::Array(_) => cx
            .strings(v, path)?
            .into_iter()
            .map(|n| (n, None))
            .collect(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), Some(v))).collect(),
        v => {
            return Err(cx.wrong_kind(
                path,
                v,
                "a list of networks or a mapping of network: {aliases: ...}",
            ))
        }
    };
    for (name, spec) in entries {
        let p = format!("{path}.{name}");
        if name != "default" && !cx.declared_networks.contains(&name) {
            return Err(cx.invalid(
                &p,
                None,
                format!(
                    "network {name:?} is not declared: add it under the top-level networks key"
                ),
            ));
        }
        let mut n = ServiceNetwork::default();
        let map = match spec {
            Some(spec) => cx.mapping_or_null(spec, &p)?,
            None => None,
        };
        for (key, v) in map.into_iter().flatten() {
            let kp = format!("{p}.{key}");
            match key.as_str() {
                "aliases" => n.aliases = cx.strings(v, &kp)?,
                "ipv4_address" => {
                    let text = cx.string(v, &kp)?;
                    n.ipv4_address = Some(text.parse().map_err(|_| {
                        cx.invalid(&kp, Some(v), "not an IPv4 address: write e.g. 172.20.0.5")
                    })?);
                }
                "ipv6_address" => {
                    let text = cx.string(v, &kp)?;
                    n.ipv6_address = Some(text.parse().map_err(|_| {
                        cx.invalid(&kp, Some(v), "not an IPv6 address: write e.g. fd00::5")
                    })?);
                }
                "priority" => n.priority = Some(cx.int(v, &kp)?),
                "mac_address" => n.mac_address = Some(cx.string(v, &kp)?),
                k if k.starts_with("x-") => {}
                k if NETWORK_UNSUPPORTED.contains(&k) => cx.unsupported_key(&kp),
                _ => cx.unknown_key(&kp),
            }
        }
        out.insert(name, n);
    }
    Ok(out)
}

pub(super) fn parse_extra_hosts(
    cx: &mut Cx,
    v: &Value,
    path: &str,
) -> Result<Vec<ExtraHost>, Error> {
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let entry = cx.string(item, &p)?;
                // `=` is the newer separator; `:` would split an IPv6 address.
                let split = entry.split_once('=').or_else(|| entry.split_once(':'));
                let Some((host, ip)) = split else {
                    return Err(cx.invalid(&p, Some(item), "no address: write HOST=IP or HOST:IP"));
                };
                out.push(extra_host(cx, host, ip, &p, item)?);
            }
        }
        Value::Object(map) => {
            for (host, ips) in map {
                let p = format!("{path}.{host}");
                for ip in cx.string_or_list(ips, &p)? {
                    out.push(extra_host(cx, host, &ip, &p, ips)?);
                }
            }
        }
        v => return Err(cx.wrong_kind(path, v, "a list of HOST=IP or a mapping of HOST: IP")),
    }
    Ok(out)
}

fn extra_host(cx: &Cx, host: &str, ip: &str, path: &str, v: &Value) -> Result<ExtraHost, Error> {
    let ip = ip.trim();
    let bare = ip
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(ip);
    if host.trim().is_empty() {
        return Err(cx.invalid(path, Some(v), "no host name: write HOST=IP"));
    }
    if bare != "host-gateway" && bare.parse::<IpAddr>().is_err() {
        return Err(cx.invalid(
            path,
            Some(v),
            format!("{ip:?} is not an IP address: write HOST=IP or HOST=host-gateway"),
        ));
    }
    Ok(ExtraHost {
        host: host.trim().to_string(),
        ip: bare.to_string(),
    })
}
