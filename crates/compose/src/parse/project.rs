//! The top level of the merged tree: dispatch, and the checks that need
//! every service at hand.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{service, top, Cx};
use crate::model::Service;
use crate::toplevel::{Network, Volume};
use crate::Error;

/// The typed parts of a project.
pub(crate) struct Parsed {
    pub services: BTreeMap<String, Service>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
}

const UNSUPPORTED: &[&str] = &["configs", "models", "secrets"];

pub(crate) fn parse_project(cx: &mut Cx, tree: &Value) -> Result<Parsed, Error> {
    let top = cx.mapping(tree, "(top level)")?;
    let mut parsed = Parsed {
        services: BTreeMap::new(),
        networks: BTreeMap::new(),
        volumes: BTreeMap::new(),
    };
    for (key, v) in top {
        cx.locate(&[key]);
        match key.as_str() {
            // Read before typing (name) or warned about per file (version).
            "name" | "version" | "services" => {}
            "networks" => parsed.networks = top::parse_networks(cx, v)?,
            "volumes" => parsed.volumes = top::parse_volumes(cx, v)?,
            "include" => {
                return Err(cx.invalid(
                    "include",
                    None,
                    "include is not supported by husk yet: pass the files with several -f instead",
                ))
            }
            k if k.starts_with("x-") => {}
            k if UNSUPPORTED.contains(&k) => cx.unsupported_key(k),
            k => cx.unknown_key(k),
        }
    }
    cx.declared_volumes = parsed.volumes.keys().cloned().collect();
    cx.declared_networks = parsed.networks.keys().cloned().collect();
    // `services:` with nothing under it is an empty project, not an error.
    if let Some(services) = top.get("services").filter(|v| !v.is_null()) {
        cx.locate(&["services"]);
        for (name, v) in cx.mapping(services, "services")? {
            let s = service::parse_service(cx, name, v)?;
            parsed.services.insert(name.clone(), s);
        }
    }
    check_dependencies(cx, &parsed.services)?;
    let uses_default = parsed
        .services
        .values()
        .any(|s| s.networks.contains_key("default"));
    if uses_default && !parsed.networks.contains_key("default") {
        parsed
            .networks
            .insert("default".to_string(), top::default_network(cx));
    }
    Ok(parsed)
}

/// Every required `depends_on` must name a defined service; an optional
/// one (`required: false`) may be missing, with a warning, as compose does.
fn check_dependencies(cx: &mut Cx, services: &BTreeMap<String, Service>) -> Result<(), Error> {
    for s in services.values() {
        for (dep, how) in &s.depends_on {
            if services.contains_key(dep) {
                continue;
            }
            cx.locate(&["services", &s.name, "depends_on"]);
            let path = format!("services.{}.depends_on.{dep}", s.name);
            if how.required {
                return Err(cx.invalid(
                    &path,
                    None,
                    format!(
                        "service {dep:?} is not defined: define it or remove it from depends_on"
                    ),
                ));
            }
            cx.warn(
                &path,
                &format!("optional dependency {dep:?} is not defined, ignored"),
            );
        }
    }
    Ok(())
}
