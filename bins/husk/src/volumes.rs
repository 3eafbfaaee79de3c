//! `husk volume create|ls|inspect|rm`: docker's output for local volumes.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use husk_engine::format::template;
use husk_engine::store::Paths;
use husk_engine::volumes;

use crate::cli::*;

pub fn create(root: &Path, a: &VolumeCreateArgs) -> Result<i32> {
    if a.driver != "local" {
        bail!(
            "volume driver {:?} is not available: only local exists",
            a.driver
        );
    }
    let name = a
        .name
        .clone()
        .unwrap_or_else(husk_engine::store::names::new_id);
    let labels: BTreeMap<String, String> = a
        .label
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let v = volumes::create(root, &name, labels)?;
    println!("{}", v.name);
    Ok(0)
}

pub fn ls(root: &Path, a: &VolumeLsArgs) -> Result<i32> {
    let all = volumes::list(root)?;
    if let Some(f) = &a.format {
        let items: Vec<serde_json::Value> = all
            .iter()
            .map(|v| {
                serde_json::json!({
                    "Driver": v.driver,
                    "Name": v.name,
                    "Mountpoint": volumes::data_dir(root, &v.name),
                    "Scope": "local",
                    // docker fills these from `system df` data only.
                    "Links": "N/A",
                    "Size": "N/A",
                    "Labels": v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                    // `.Label "key"`: a method of docker's row, not a field.
                    "Label": v.labels,
                })
            })
            .collect();
        return Ok(
            match template::rows(f, &items, &template::VOLUMES, |f| f.to_uppercase()) {
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
    if a.quiet {
        for v in &all {
            println!("{}", v.name);
        }
        return Ok(0);
    }
    println!("DRIVER    VOLUME NAME");
    for v in &all {
        println!("{:<10}{}", v.driver, v.name);
    }
    Ok(0)
}

pub fn inspect(root: &Path, a: &InspectArgs) -> Result<i32> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for n in &a.images {
        match volumes::load(root, n)? {
            Some(v) => found.push((volumes::inspect(root, &v), &template::VOLUME)),
            None => missing.push(n.clone()),
        }
    }
    let code = crate::output::print_inspected(&found, a.format.as_deref())?;
    if code == 64 {
        return Ok(code);
    }
    for m in &missing {
        eprintln!("Error: No such volume: {m}");
    }
    Ok(if missing.is_empty() { code } else { 1 })
}

pub fn rm(root: &Path, a: &VolumeRmArgs) -> Result<i32> {
    // Records live under the root alone; no runroot is needed to read them.
    let containers = Paths::new(root, Path::new("")).all()?;
    let mut failed = 0;
    for n in &a.volumes {
        let users: Vec<String> = containers
            .iter()
            .filter(|c| c.host_config.mount_points.iter().any(|m| &m.name == n))
            .map(|c| c.short_id().to_string())
            .collect();
        match volumes::remove(root, n, &users) {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("husk: {}", husk_fs::Chain(&e));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}
