//! Merging several compose files as docker compose does (compose-go's
//! `override` package): later files win for scalars, mappings merge by key,
//! most lists are appended and then de-duplicated by what identifies an
//! entry (a port, a mount's target, an environment key), and a few values
//! (`command`, `entrypoint`, `healthcheck.test`) are replaced whole.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// How the value at a path merges.
#[derive(Clone, Copy)]
enum Rule {
    /// The later value replaces the earlier one.
    Replace,
    /// A `KEY=VALUE` list or a mapping, merged by key.
    Dict,
    /// `extra_hosts`: `HOST=IP` / `HOST:IP` list or mapping, merged by host.
    Hosts,
    /// A list of names or a mapping by name (`depends_on`, service
    /// `networks`), merged by name.
    Named,
    /// `build`: a context string is `{context: ...}`.
    Build,
    /// Appended, then de-duplicated by the key: the first position, the
    /// last value.
    Unique(fn(&Value) -> String),
    /// Mappings merge, lists append, scalars are replaced.
    Default,
}

fn rule(path: &[&str]) -> Rule {
    match path {
        ["services", _, "command" | "entrypoint"] | ["services", _, "healthcheck", "test"] => {
            Rule::Replace
        }
        ["services", _, "environment" | "labels" | "sysctls"]
        | ["services", _, "build", "args" | "labels"]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => Rule::Dict,
        ["services", _, "extra_hosts"] => Rule::Hosts,
        ["services", _, "depends_on" | "networks"] => Rule::Named,
        ["services", _, "build"] => Rule::Build,
        ["services", _, "volumes"] => Rule::Unique(mount_target),
        ["services", _, "env_file"] => Rule::Unique(env_file_path),
        ["services", _, "ports"] => Rule::Unique(whole),
        ["services", _, "expose" | "dns" | "dns_search" | "dns_opt" | "cap_add" | "cap_drop" | "profiles"
        | "tmpfs" | "security_opt" | "group_add"] => Rule::Unique(whole),
        ["networks", _, "ipam", "config"] => Rule::Unique(subnet),
        _ => Rule::Default,
    }
}

/// Merges `over` (a later file) onto `base`.
pub(crate) fn merge(base: Value, over: Value) -> Value {
    merge_at(&mut Vec::new(), base, over)
}

fn merge_at(path: &mut Vec<String>, base: Value, over: Value) -> Value {
    // An empty value in a later file keeps the earlier one (`ports:` alone).
    if over.is_null() {
        return base;
    }
    if base.is_null() {
        return over;
    }
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    match rule(&segments) {
        Rule::Replace => over,
        Rule::Dict => by_key(base, over, dict),
        Rule::Hosts => by_key(base, over, hosts),
        Rule::Named => match (named(&base), named(&over)) {
            (Some(b), Some(o)) => merge_maps(path, b, o),
            _ => over,
        },
        Rule::Build => merge_maps_or_replace(path, build(base), build(over)),
        Rule::Unique(key) => match (base, over) {
            (Value::Array(mut b), Value::Array(o)) => {
                b.extend(o);
                Value::Array(unique(b, key))
            }
            (_, over) => over,
        },
        Rule::Default => match (base, over) {
            (Value::Array(mut b), Value::Array(o)) => {
                b.extend(o);
                Value::Array(b)
            }
            (base, over) => merge_maps_or_replace(path, base, over),
        },
    }
}

fn merge_maps_or_replace(path: &mut Vec<String>, base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => merge_maps(path, b, o),
        (_, over) => over,
    }
}

fn merge_maps(
    path: &mut Vec<String>,
    mut base: Map<String, Value>,
    over: Map<String, Value>,
) -> Value {
    for (key, o) in over {
        let merged = match base.remove(&key) {
            Some(b) => {
                path.push(key.clone());
                let m = merge_at(path, b, o);
                path.pop();
                m
            }
            None => o,
        };
        base.insert(key, merged);
    }
    Value::Object(base)
}

/// Both sides as mappings by `to_map`, later values winning per key; if
/// either side is malformed the later one wins whole and typing reports it.
fn by_key(base: Value, over: Value, to_map: fn(&Value) -> Option<Map<String, Value>>) -> Value {
    match (to_map(&base), to_map(&over)) {
        (Some(mut b), Some(o)) => {
            b.extend(o);
            Value::Object(b)
        }
        _ => over,
    }
}

fn dict(v: &Value) -> Option<Map<String, Value>> {
    split_list(v, |entry| {
        entry
            .split_once('=')
            .map(|(k, v)| (k.to_string(), Value::from(v)))
            .or_else(|| Some((entry.to_string(), Value::Null)))
    })
}

fn hosts(v: &Value) -> Option<Map<String, Value>> {
    split_list(v, |entry| {
        entry
            .split_once('=')
            .or_else(|| entry.split_once(':'))
            .map(|(h, ip)| (h.to_string(), Value::from(ip)))
    })
}

/// A mapping as is, or a list of strings through `split`.
fn split_list(
    v: &Value,
    split: impl Fn(&str) -> Option<(String, Value)>,
) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m.clone()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().and_then(&split))
            .collect(),
        _ => None,
    }
}

fn named(v: &Value) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m.clone()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(|n| (n.to_string(), Value::Object(Map::new())))
            })
            .collect(),
        _ => None,
    }
}

fn build(v: Value) -> Value {
    match v {
        Value::String(context) => {
            let mut m = Map::new();
            m.insert("context".to_string(), Value::String(context));
            Value::Object(m)
        }
        v => v,
    }
}

fn unique(items: Vec<Value>, key: fn(&Value) -> String) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in items {
        let k = key(&item);
        match seen.get(&k) {
            Some(&i) => out[i] = item,
            None => {
                seen.insert(k, out.len());
                out.push(item);
            }
        }
    }
    out
}

fn whole(v: &Value) -> String {
    v.to_string()
}

/// The container path of a short (`SRC:TARGET[:MODE]`, `TARGET`) or long mount.
fn mount_target(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            parts
                .get(1)
                .or(parts.first())
                .map(|t| t.to_string())
                .unwrap_or_default()
        }
        Value::Object(m) => m
            .get("target")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        v => v.to_string(),
    }
}

fn env_file_path(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .get("path")
            .map(Value::to_string)
            .unwrap_or_else(|| v.to_string()),
        v => v.to_string(),
    }
}

fn subnet(v: &Value) -> String {
    v.get("subnet")
        .map(Value::to_string)
        .unwrap_or_else(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(v: Value) -> Value {
        json!({"services": {"web": v}})
    }

    fn merged(base: Value, over: Value) -> Value {
        merge(svc(base), svc(over))["services"]["web"].clone()
    }

    #[test]
    fn scalars_override_and_maps_merge() {
        let m = merged(
            json!({"image": "a", "user": "1"}),
            json!({"image": "b", "tty": true}),
        );
        assert_eq!(m, json!({"image": "b", "user": "1", "tty": true}));
        let m = merge(
            json!({"name": "x", "volumes": {"a": {}}}),
            json!({"volumes": {"b": null}}),
        );
        assert_eq!(m, json!({"name": "x", "volumes": {"a": {}, "b": null}}));
    }

    #[test]
    fn command_and_entrypoint_are_replaced() {
        let m = merged(
            json!({"command": ["a", "b"], "entrypoint": "x y", "healthcheck": {"test": ["CMD", "a"], "retries": 3}}),
            json!({"command": ["c"], "entrypoint": ["z"], "healthcheck": {"test": ["CMD", "b"]}}),
        );
        assert_eq!(m["command"], json!(["c"]));
        assert_eq!(m["entrypoint"], json!(["z"]));
        assert_eq!(
            m["healthcheck"],
            json!({"test": ["CMD", "b"], "retries": 3})
        );
    }

    #[test]
    fn environment_and_labels_merge_by_key_across_forms() {
        let m = merged(
            json!({"environment": ["A=1", "B=2", "C"], "labels": {"x": "1"}}),
            json!({"environment": {"B": "3", "D": "4"}, "labels": ["y=2", "x=0"]}),
        );
        assert_eq!(
            m["environment"],
            json!({"A": "1", "B": "3", "C": null, "D": "4"})
        );
        assert_eq!(m["labels"], json!({"x": "0", "y": "2"}));
    }

    #[test]
    fn ports_expose_dns_append_without_duplicates() {
        let m = merged(
            json!({"ports": ["8080:80", "443:443"], "expose": ["1"], "dns": ["1.1.1.1"]}),
            json!({"ports": ["8080:80", "9090:90"], "expose": ["2", "1"], "dns": "8.8.8.8"}),
        );
        assert_eq!(m["ports"], json!(["8080:80", "443:443", "9090:90"]));
        assert_eq!(m["expose"], json!(["1", "2"]));
        // A string where a list was: the later value wins whole.
        assert_eq!(m["dns"], json!("8.8.8.8"));
    }

    #[test]
    fn volumes_merge_by_target() {
        let m = merged(
            json!({"volumes": ["data:/data", "./a:/a:ro", "/cache"]}),
            json!({"volumes": [{"type": "bind", "source": "./b", "target": "/a"}, "other:/other", "/cache"]}),
        );
        assert_eq!(
            m["volumes"],
            json!(["data:/data", {"type": "bind", "source": "./b", "target": "/a"}, "/cache", "other:/other"])
        );
    }

    #[test]
    fn depends_on_and_networks_merge_by_name() {
        let m = merged(
            json!({"depends_on": ["db"], "networks": ["front"]}),
            json!({"depends_on": {"db": {"condition": "service_healthy"}, "cache": {"condition": "service_started"}}, "networks": {"back": {"aliases": ["b"]}}}),
        );
        assert_eq!(
            m["depends_on"],
            json!({"db": {"condition": "service_healthy"}, "cache": {"condition": "service_started"}})
        );
        assert_eq!(
            m["networks"],
            json!({"front": {}, "back": {"aliases": ["b"]}})
        );
    }

    #[test]
    fn build_string_becomes_context() {
        let m = merged(
            json!({"build": "./app"}),
            json!({"build": {"target": "dev", "args": ["A=1"]}}),
        );
        assert_eq!(
            m["build"],
            json!({"context": "./app", "target": "dev", "args": ["A=1"]})
        );
        let m = merged(
            json!({"build": {"args": {"A": "1", "B": "2"}}}),
            json!({"build": {"args": ["A=3"]}}),
        );
        assert_eq!(m["build"]["args"], json!({"A": "3", "B": "2"}));
    }

    #[test]
    fn extra_hosts_merge_by_host() {
        let m = merged(
            json!({"extra_hosts": ["a:1.1.1.1", "b=2.2.2.2"]}),
            json!({"extra_hosts": {"a": "3.3.3.3"}}),
        );
        assert_eq!(m["extra_hosts"], json!({"a": "3.3.3.3", "b": "2.2.2.2"}));
    }

    #[test]
    fn null_in_a_later_file_keeps_the_earlier_value() {
        let m = merged(json!({"ports": ["80:80"]}), json!({"ports": null}));
        assert_eq!(m["ports"], json!(["80:80"]));
    }

    #[test]
    fn other_lists_append() {
        let m = merged(
            json!({"security_opt": ["a"], "x-list": [1]}),
            json!({"security_opt": ["b", "a"], "x-list": [2]}),
        );
        assert_eq!(m["security_opt"], json!(["a", "b"]));
        assert_eq!(m["x-list"], json!([1, 2]));
    }

    #[test]
    fn ipam_pools_merge_by_subnet() {
        let base = json!({"networks": {"n": {"ipam": {"config": [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"}]}}}});
        let over = json!({"networks": {"n": {"ipam": {"config": [{"subnet": "10.0.0.0/24", "gateway": "10.0.0.254"}, {"subnet": "10.1.0.0/24"}]}}}});
        let m = merge(base, over);
        assert_eq!(
            m["networks"]["n"]["ipam"]["config"],
            json!([{"subnet": "10.0.0.0/24", "gateway": "10.0.0.254"}, {"subnet": "10.1.0.0/24"}])
        );
    }
}
