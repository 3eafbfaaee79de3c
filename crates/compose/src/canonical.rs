//! The canonical form of a project (`docker compose config`) and of a
//! service (its config hash).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::emit::to_yaml;
use crate::model::{Project, Service};

impl Project {
    /// The project as `docker compose config` prints it: `name:` first,
    /// then the active services, networks and volumes, each sorted by key,
    /// with every value interpolated and every short syntax in its long
    /// form. A literal `$` is written `$$`, so loading this output again
    /// gives the same project.
    pub fn canonical_yaml(&self) -> String {
        let mut root = Map::new();
        root.insert("name".to_string(), Value::from(self.name.as_str()));
        let services: Map<String, Value> = self
            .active_services()
            .map(|s| (s.name.clone(), sorted(to_value(s))))
            .collect();
        root.insert("services".to_string(), Value::Object(services));
        if !self.networks.is_empty() {
            root.insert("networks".to_string(), sorted(to_value(&self.networks)));
        }
        if !self.volumes.is_empty() {
            root.insert("volumes".to_string(), sorted(to_value(&self.volumes)));
        }
        to_yaml(&escape_dollars(Value::Object(root)))
    }
}

impl Service {
    /// SHA-256 (hex) of the service's normalized configuration, leaving out
    /// `scale` and `deploy.replicas`: equal hashes mean a container made
    /// from the old config can stay. The engine keeps it in the
    /// `com.docker.compose.config-hash` label.
    pub fn config_hash(&self) -> String {
        let mut v = to_value(self);
        if let Value::Object(map) = &mut v {
            map.remove("scale");
            let deploy_left_empty = match map.get_mut("deploy") {
                Some(Value::Object(deploy)) => {
                    deploy.remove("replicas");
                    deploy.is_empty()
                }
                _ => false,
            };
            if deploy_left_empty {
                map.remove("deploy");
            }
        }
        hex::encode(Sha256::digest(sorted(v).to_string()))
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    // The model serializes infallibly: string keys only, and serde_json
    // writes a non-finite float as null rather than failing.
    serde_json::to_value(v).expect("the project model serializes to JSON")
}

/// `$` as `$$` in every string value (keys are never interpolated).
fn escape_dollars(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, escape_dollars(v)))
                .collect(),
        ),
        v => v,
    }
}

/// Every mapping's keys in sorted order, so output and hash do not depend
/// on field declaration order.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::policy::{Deploy, Healthcheck};

    fn service() -> Service {
        Service {
            name: "web".into(),
            image: Some("busybox".into()),
            ..Service::default()
        }
    }

    #[test]
    fn hash_is_stable_and_ignores_scale_and_replicas() {
        let base = service();
        let h = base.config_hash();
        assert_eq!(h.len(), 64);
        assert_eq!(h, service().config_hash());
        let scaled = Service {
            scale: Some(3),
            ..service()
        };
        assert_eq!(scaled.config_hash(), h);
        let replicated = Service {
            deploy: Some(Deploy {
                replicas: Some(5),
                ..Deploy::default()
            }),
            ..service()
        };
        assert_eq!(replicated.config_hash(), h);
        let renamed = Service {
            name: "other".into(),
            ..service()
        };
        assert_eq!(renamed.config_hash(), h);
    }

    #[test]
    fn hash_changes_with_the_config() {
        let h = service().config_hash();
        let other_image = Service {
            image: Some("busybox:1.36".into()),
            ..service()
        };
        assert_ne!(other_image.config_hash(), h);
        let env = Service {
            environment: BTreeMap::from([("A".into(), Some("1".into()))]),
            ..service()
        };
        assert_ne!(env.config_hash(), h);
        let health = Service {
            healthcheck: Some(Healthcheck::default()),
            ..service()
        };
        assert_ne!(health.config_hash(), h);
    }

    #[test]
    fn sorted_orders_keys_recursively() {
        let v: Value = serde_json::json!({"b": 1, "a": {"d": [{"z": 1, "y": 2}], "c": 3}});
        assert_eq!(
            sorted(v).to_string(),
            r#"{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }
}
