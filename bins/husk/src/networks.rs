//! `husk network create|ls|inspect|rm|prune`: docker's output shapes. The
//! `host` and `none` modes are listed as docker lists them, as networks of
//! the `host` and `null` drivers.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use husk_engine::format::table::tabwrite;
use husk_engine::format::template;
use husk_engine::network::user;
use husk_engine::store::Paths;
use serde_json::{json, Value};

use crate::cli::*;

fn key_values(flag: &str, items: &[String]) -> Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None if !l.is_empty() && flag == "--label" => Ok((l.to_string(), String::new())),
            _ => bail!("invalid {flag} {l:?}: use KEY=VALUE"),
        })
        .collect()
}

pub fn create(paths: &Paths, a: &NetworkCreateArgs) -> Result<i32> {
    let o = user::CreateOptions {
        name: a.name.clone(),
        driver: a.driver.clone(),
        subnet: user::join_flags(&a.subnet),
        gateway: user::join_flags(&a.gateway),
        ip_range: user::join_flags(&a.ip_range),
        internal: a.internal,
        ipv6: a.ipv6,
        labels: key_values("--label", &a.label)?,
        options: key_values("--opt", &a.opt)?,
    };
    let net = user::create(paths, &o)?;
    println!("{}", net.id);
    Ok(0)
}

/// A network as `ls` and `inspect` see it: a recorded one, or one of the
/// two modes docker lists as networks.
struct Entry {
    inspect: Value,
}

impl Entry {
    fn str(&self, k: &str) -> String {
        self.inspect[k].as_str().unwrap_or_default().to_string()
    }
}

fn builtin(paths: &Paths, name: &str, driver: &str) -> Entry {
    Entry {
        inspect: json!({
            "Name": name,
            "Id": user::builtin_id(paths, name),
            "Created": "0001-01-01T00:00:00Z",
            "Scope": "local",
            "Driver": driver,
            "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": Value::Null, "Config": []},
            "Internal": false,
            "Attachable": false,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": {},
            "Options": {},
            "Labels": {},
        }),
    }
}

fn entries(paths: &Paths) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for n in user::list(paths)? {
        out.push(Entry {
            inspect: user::inspect(paths, &n)?,
        });
    }
    out.push(builtin(paths, "host", "host"));
    out.push(builtin(paths, "none", "null"));
    Ok(out)
}

fn find(paths: &Paths, key: &str) -> Result<Option<Entry>> {
    match key {
        "host" => return Ok(Some(builtin(paths, "host", "host"))),
        "none" => return Ok(Some(builtin(paths, "none", "null"))),
        _ => {}
    }
    match user::resolve(paths, key) {
        Ok(n) => Ok(Some(Entry {
            inspect: user::inspect(paths, &n)?,
        })),
        Err(_) => Ok(None),
    }
}

/// docker's `network ls` filters: name= (substring), id= (prefix),
/// driver=, label=KEY[=VALUE], type=custom|builtin.
fn keep(e: &Entry, filters: &[(String, String)]) -> Result<bool> {
    let builtin = matches!(e.str("Name").as_str(), "bridge" | "host" | "none");
    for (k, v) in filters {
        let ok = match k.as_str() {
            "name" => e.str("Name").contains(v.as_str()),
            "id" => e.str("Id").starts_with(v.as_str()),
            "driver" => e.str("Driver") == *v,
            "label" => {
                let (lk, lv) = v
                    .split_once('=')
                    .map_or((v.as_str(), None), |(a, b)| (a, Some(b)));
                match e.inspect["Labels"].get(lk) {
                    Some(have) => lv.is_none_or(|lv| have.as_str() == Some(lv)),
                    None => false,
                }
            }
            "type" => match v.as_str() {
                "custom" => !builtin,
                "builtin" => builtin,
                _ => bail!("invalid filter 'type={v}': use custom or builtin"),
            },
            _ => bail!("invalid filter {k:?}: use name, id, driver, label or type"),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn ls(paths: &Paths, a: &NetworkLsArgs) -> Result<i32> {
    let filters: Vec<(String, String)> = a
        .filter
        .iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => bail!("invalid filter {f:?}: use KEY=VALUE"),
        })
        .collect::<Result<_>>()?;
    let mut all = Vec::new();
    for e in entries(paths)? {
        if keep(&e, &filters)? {
            all.push(e);
        }
    }
    all.sort_by_key(|e| e.str("Name"));
    let id = |e: &Entry| {
        let id = e.str("Id");
        if a.no_trunc {
            id
        } else {
            id.chars().take(12).collect()
        }
    };
    if a.quiet {
        for e in &all {
            println!("{}", id(e));
        }
        return Ok(0);
    }
    if let Some(f) = &a.format {
        let rows: Vec<Value> = all
            .iter()
            .map(|e| {
                let labels = e.inspect["Labels"].as_object().cloned().unwrap_or_default();
                json!({
                    "ID": id(e),
                    "Name": e.str("Name"),
                    "Driver": e.str("Driver"),
                    "Scope": "local",
                    "IPv6": "false",
                    "Internal": e.inspect["Internal"].as_bool().unwrap_or(false).to_string(),
                    "CreatedAt": e.str("Created"),
                    "Labels": labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(","),
                    "Label": labels,
                })
            })
            .collect();
        return Ok(
            match template::rows(f, &rows, &template::NETWORKS, |h| match h {
                "ID" => "NETWORK ID".into(),
                "IPv6" => "IPV6".into(),
                h => h.to_uppercase(),
            }) {
                Ok(out) => {
                    print!("{out}");
                    0
                }
                Err(e) => {
                    eprintln!("{}", husk_fs::Chain(&e));
                    1
                }
            },
        );
    }
    let mut lines = vec!["NETWORK ID\tNAME\tDRIVER\tSCOPE".to_string()];
    for e in &all {
        lines.push(format!(
            "{}\t{}\t{}\tlocal",
            id(e),
            e.str("Name"),
            e.str("Driver")
        ));
    }
    print!("{}", tabwrite(&lines));
    Ok(0)
}

pub fn inspect(paths: &Paths, a: &InspectArgs) -> Result<i32> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for n in &a.images {
        match find(paths, n)? {
            Some(e) => found.push((e.inspect, &template::NETWORK)),
            None => missing.push(n.clone()),
        }
    }
    let code = crate::output::print_inspected(&found, a.format.as_deref())?;
    if code == 64 {
        return Ok(code);
    }
    for m in &missing {
        eprintln!("Error: No such network: {m}");
    }
    Ok(if missing.is_empty() { code } else { 1 })
}

pub fn rm(paths: &Paths, a: &NetworkRmArgs) -> Result<i32> {
    let mut failed = 0;
    for n in &a.networks {
        if matches!(n.as_str(), "host" | "none") {
            eprintln!("husk: network {n}: it is a pre-defined network and cannot be removed");
            failed += 1;
            continue;
        }
        if a.force && user::resolve(paths, n).is_err() {
            continue;
        }
        match user::remove(paths, n) {
            Ok(_) => println!("{n}"),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn prune(paths: &Paths, a: &NetworkPruneArgs) -> Result<i32> {
    if !a.force
        && !crate::prune::confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )?
    {
        return Ok(0);
    }
    print!(
        "{}",
        crate::prune::deleted("Networks", &user::prune(paths)?)
    );
    Ok(0)
}

pub fn connect(paths: &Paths, a: &NetworkConnectArgs) -> Result<i32> {
    husk_engine::network::connect_to(
        paths,
        &a.network,
        &a.container,
        a.ip.as_deref(),
        a.ip6.as_deref(),
        &a.alias,
    )?;
    Ok(0)
}

pub fn disconnect(paths: &Paths, a: &NetworkDisconnectArgs) -> Result<i32> {
    husk_engine::network::disconnect_from(paths, &a.network, &a.container, a.force)?;
    Ok(0)
}
