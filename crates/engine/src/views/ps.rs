//! `husk ps`: docker's columns, durations and tabwriter layout.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::format::{ellipsis, human_duration, human_size, tabwrite};
use crate::store::{tree_bytes, Container, Paths, Status};

#[derive(Default)]
pub struct PsOptions {
    pub all: bool,
    pub quiet: bool,
    pub no_trunc: bool,
    /// `-n N` / `-l`: the N most recently created, in any state.
    pub last: Option<usize>,
    /// `-s`: the SIZE column, by container id ("2B (virtual 4.26MB)").
    pub sizes: Option<HashMap<String, String>>,
}

fn elapsed(since: &str, now: DateTime<Utc>) -> std::time::Duration {
    DateTime::parse_from_rfc3339(since)
        .ok()
        .and_then(|t| (now - t.with_timezone(&Utc)).to_std().ok())
        .unwrap_or_default()
}

/// `ps -s`: the writable layer's bytes, and with the image's (`virtual`),
/// as docker's SIZE column prints them.
pub fn size_text(rw: u64, image: u64) -> String {
    format!("{} (virtual {})", human_size(rw), human_size(rw + image))
}

/// `ps -s` for each of `containers`: its writable layer (the overlay's
/// upper dir) and its image's size. A container whose image is gone
/// counts the writable layer alone.
pub fn sizes(paths: &Paths, containers: &[Container]) -> HashMap<String, String> {
    let store = husk_image::Store::open_read(&paths.root).ok();
    let images = store
        .as_ref()
        .and_then(|s| s.images().ok())
        .unwrap_or_default();
    containers
        .iter()
        .map(|c| {
            let rw = tree_bytes(&paths.dir(&c.id).join("upper"));
            let image = images
                .iter()
                .find(|i| i.id.to_string() == c.image_id)
                .zip(store.as_ref())
                .and_then(|(i, s)| s.size(i).ok())
                .unwrap_or(0);
            (c.id.clone(), size_text(rw, image))
        })
        .collect()
}

/// docker's `State.String()`.
pub fn status_text(c: &Container, now: DateTime<Utc>) -> String {
    match c.state.status {
        Status::Running => match &c.state.health {
            Some(h) => format!(
                "Up {} ({})",
                human_duration(elapsed(&c.state.started_at, now)),
                h.status.ps_text()
            ),
            None => format!("Up {}", human_duration(elapsed(&c.state.started_at, now))),
        },
        Status::Paused => format!(
            "Up {} (Paused)",
            human_duration(elapsed(&c.state.started_at, now))
        ),
        Status::Created => "Created".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            c.state.exit_code,
            human_duration(elapsed(&c.state.finished_at, now))
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            c.state.exit_code,
            human_duration(elapsed(&c.state.finished_at, now))
        ),
    }
}

/// `ps --filter KEY=VALUE`: values of one key are ORed, keys ANDed, as
/// docker does. Keys: id (prefix), name (substring), status, label
/// (`k` or `k=v`), exited (code), ancestor (image name, name:tag, or id
/// prefix; husk keeps no parent chain, so an image's descendants are not
/// matched), health (starting, healthy, unhealthy, none), volume (a
/// volume's name or a mount's destination), network (a network's name or
/// id prefix), before and since (a container: those created before or
/// after it, applied by [`Filters::retain`]).
#[derive(Debug, Default)]
pub struct Filters {
    by_key: std::collections::BTreeMap<String, Vec<String>>,
}

impl Filters {
    pub fn parse(args: &[String]) -> crate::Result<Filters> {
        let mut f = Filters::default();
        for a in args {
            let bad = |reason: &str| crate::Error::InvalidFlag {
                flag: "--filter",
                value: a.clone(),
                reason: reason.into(),
            };
            let (k, v) = a.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
            if !matches!(
                k,
                "id" | "name"
                    | "status"
                    | "label"
                    | "exited"
                    | "ancestor"
                    | "health"
                    | "volume"
                    | "network"
                    | "before"
                    | "since"
            ) {
                return Err(bad(
                    "supported keys: id, name, status, label, exited, ancestor, health, volume, network, before, since",
                ));
            }
            if k == "health" && !matches!(v, "starting" | "healthy" | "unhealthy" | "none") {
                return Err(bad("health is one of starting, healthy, unhealthy, none"));
            }
            f.by_key.entry(k.into()).or_default().push(v.into());
        }
        Ok(f)
    }

    /// docker shows stopped containers when filtering on status or exit code.
    pub fn implies_all(&self) -> bool {
        self.by_key.contains_key("status") || self.by_key.contains_key("exited")
    }

    pub fn matches(&self, c: &Container) -> bool {
        self.by_key.iter().all(|(k, vs)| {
            vs.iter().any(|v| match k.as_str() {
                "id" => c.id.starts_with(v.as_str()),
                "name" => c.name.contains(v.as_str()),
                "status" => c.state.status.as_str() == v,
                "exited" => c.state.status == Status::Exited && c.state.exit_code.to_string() == *v,
                "ancestor" => is_ancestor(v, c),
                "health" => {
                    c.state
                        .health
                        .as_ref()
                        .map_or("none", |h| h.status.as_str())
                        == v
                }
                "volume" => c
                    .host_config
                    .mount_points
                    .iter()
                    .any(|m| (!m.name.is_empty() && m.name == *v) || m.destination == *v),
                "network" => on_network(v, c),
                // Applied by `retain`, which knows the order.
                "before" | "since" => true,
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => c.config.labels.get(lk).is_some_and(|x| x == lv),
                    None => c.config.labels.contains_key(v.as_str()),
                },
                _ => false,
            })
        })
    }
}

/// docker's network filter: a network's name, or a prefix of its id.
fn on_network(v: &str, c: &Container) -> bool {
    let mode = &c.host_config.network_mode;
    if !mode.starts_with("container:") && mode == v {
        return true;
    }
    !v.is_empty()
        && c.network
            .as_ref()
            .is_some_and(|n| !n.network_id.is_empty() && n.network_id.starts_with(v))
}

impl Filters {
    /// Keeps the containers of `all` (oldest first, as the store lists
    /// them) that match, and only running ones unless `show_all`.
    /// `before=X`/`since=X` keep those created before/after container X,
    /// which must exist among them (docker: "No such container").
    pub fn retain(&self, all: &mut Vec<Container>, show_all: bool) -> crate::Result<()> {
        let position = |key: &str| -> crate::Result<Vec<usize>> {
            let values = self.by_key.get(key).map(Vec::as_slice).unwrap_or(&[]);
            values.iter().map(|v| find(all, v)).collect()
        };
        // Several values of one key: the tightest bound, as docker's
        // single before/since container in effect is the last one given.
        let before = position("before")?.into_iter().min();
        let since = position("since")?.into_iter().max();
        let mut i = 0;
        all.retain(|c| {
            let at = i;
            i += 1;
            before.is_none_or(|b| at < b)
                && since.is_none_or(|s| at > s)
                && self.matches(c)
                // docker lists a restarting container with the running ones.
                && (show_all || c.is_running() || c.state.status == Status::Restarting)
        });
        Ok(())
    }
}

/// docker's lookup within a list: exact id or name, then a unique id prefix.
fn find(all: &[Container], name: &str) -> crate::Result<usize> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if let Some(i) = all.iter().position(|c| c.id == name || c.name == bare) {
        return Ok(i);
    }
    let hits: Vec<usize> = (0..all.len())
        .filter(|&i| !name.is_empty() && all[i].id.starts_with(name))
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(crate::Error::NoSuchContainer {
            name: name.to_string(),
        }),
        _ => Err(crate::Error::AmbiguousContainer {
            prefix: name.to_string(),
        }),
    }
}

/// `ancestor=busybox` matches `busybox` and `busybox:latest`; an id
/// matches by (at least 4 hex digits of) prefix, with or without `sha256:`.
fn is_ancestor(v: &str, c: &Container) -> bool {
    let with_tag = |r: &str| {
        let last = r.rsplit('/').next().unwrap_or(r);
        if last.contains(':') || last.contains('@') {
            r.to_string()
        } else {
            format!("{r}:latest")
        }
    };
    if !c.config.image.is_empty() && with_tag(&c.config.image) == with_tag(v) {
        return true;
    }
    let hex = v.strip_prefix("sha256:").unwrap_or(v);
    let image_hex = c.image_id.strip_prefix("sha256:").unwrap_or(&c.image_id);
    hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && image_hex.starts_with(hex)
}

/// docker's PORTS column (its `DisplayablePorts`): exposed-only ports
/// and same-number mappings grouped into ranges (`3300-3310/tcp`), then
/// the other host mappings (`0.0.0.0:8080->80/tcp`). Empty unless the
/// container runs connected.
pub fn ports_text(c: &Container) -> String {
    let Some(ep) = c.network.as_ref().and_then(|n| n.endpoint.as_ref()) else {
        return String::new();
    };
    if !c.is_running() {
        return String::new();
    }
    // (private port, host ip, public port, proto); exposed-only ports
    // have no ip and no public port.
    let mut ports: Vec<(u16, String, u16, &'static str)> = ep
        .ports
        .iter()
        .map(|p| {
            let ip = p
                .host_ip
                .map_or_else(|| "0.0.0.0".to_string(), |i| i.to_string());
            (p.container_port, ip, p.host_port, p.proto.as_str())
        })
        .collect();
    for e in &c.config.exposed_ports {
        if let Some((port, proto)) = crate::network::parse_exposed(e) {
            if !ports.iter().any(|p| p.0 == port && p.3 == proto.as_str()) {
                ports.push((port, String::new(), 0, proto.as_str()));
            }
        }
    }
    ports.sort();
    let form = |key: &str, first: u16, last: u16| {
        let (ip, proto) = key.split_once('/').unwrap_or(("", key));
        let mut group = first.to_string();
        if first != last {
            group = format!("{group}-{last}");
        }
        if !ip.is_empty() {
            group = format!("{ip}:{group}->{group}");
        }
        format!("{group}/{proto}")
    };
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    for (private, ip, public, proto) in ports {
        let key = if ip.is_empty() {
            proto.to_string()
        } else if public != private {
            host_mappings.push(format!("{ip}:{public}->{private}/{proto}"));
            continue;
        } else {
            format!("{ip}/{proto}")
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            None => groups.push((key, private, private)),
            Some(g) if g.2.checked_add(1) == Some(private) => g.2 = private,
            Some(g) => {
                result.push(form(&g.0, g.1, g.2));
                (g.1, g.2) = (private, private);
            }
        }
    }
    result.extend(groups.iter().map(|(k, f, l)| form(k, *f, *l)));
    result.extend(host_mappings);
    result.join(", ")
}

/// Go's `strconv.Quote` for the strings a command line holds.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// One container as `ps --format` sees it: docker's row, the fields the
/// table above prints (`ID`, `Image`, `Command`, `Status`, `Ports`,
/// `Names`, `Size`) plus the ones only a template asks for.
pub fn row(
    c: &Container,
    no_trunc: bool,
    sizes: Option<&HashMap<String, String>>,
    now: DateTime<Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "ID": if no_trunc { c.id.clone() } else { c.short_id().to_string() },
        "Image": c.config.image,
        "Command": go_quote(&if no_trunc { c.command_line() } else { ellipsis(&c.command_line(), 20) }),
        "CreatedAt": crate::format::go_time(Some(&c.created)),
        "RunningFor": crate::format::since(Some(&c.created), now),
        "Status": status_text(c, now),
        "State": c.state.status.as_str(),
        "Ports": ports_text(c),
        "Names": c.name,
        "Labels": c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
        "Size": sizes.and_then(|s| s.get(&c.id)).cloned().unwrap_or_default(),
        // `.Label "key"`: a method of docker's row, not a field.
        "Label": c.config.labels,
    })
}

pub fn render(containers: &[Container], o: &PsOptions, now: DateTime<Utc>) -> String {
    let shown: Vec<&Container> = containers
        .iter()
        .filter(|c| {
            // docker lists a restarting container as a running one.
            o.all || o.last.is_some() || c.is_running() || c.state.status == Status::Restarting
        })
        .rev()
        .take(o.last.unwrap_or(usize::MAX))
        .collect();
    let id = |c: &Container| {
        if o.no_trunc {
            c.id.clone()
        } else {
            c.short_id().to_string()
        }
    };
    if o.quiet {
        return shown.iter().map(|c| format!("{}\n", id(c))).collect();
    }
    let mut header = "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES".to_string();
    if o.sizes.is_some() {
        header.push_str("\tSIZE");
    }
    let mut lines = vec![header];
    for c in shown {
        let cmd = if o.no_trunc {
            c.command_line()
        } else {
            ellipsis(&c.command_line(), 20)
        };
        let image = if c.config.image.is_empty() {
            "<no image>".to_string()
        } else {
            c.config.image.clone()
        };
        let mut line = format!(
            "{}\t{}\t{}\t{} ago\t{}\t{}\t{}",
            id(c),
            image,
            go_quote(&cmd),
            human_duration(elapsed(&c.created, now)),
            status_text(c, now),
            ports_text(c),
            c.name
        );
        if let Some(sizes) = &o.sizes {
            line.push('\t');
            line.push_str(sizes.get(&c.id).map(String::as_str).unwrap_or("0B"));
        }
        lines.push(line);
    }
    tabwrite(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ContainerConfig, HostConfig, State};

    fn container(name: &str, status: Status, code: i32) -> Container {
        let mut state = State::created();
        state.status = status;
        state.exit_code = code;
        state.started_at = "2026-01-01T00:00:05Z".into();
        state.finished_at = "2026-01-01T00:00:07Z".into();
        Container {
            id: format!("{:a<64}", "3bd9d2f6c1a2"),
            name: name.into(),
            created: "2026-01-01T00:00:00Z".into(),
            path: "/docker-entrypoint.sh".into(),
            args: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            image_id: String::new(),
            lower_dirs: Vec::new(),
            config: ContainerConfig {
                image: "nginx".into(),
                ..Default::default()
            },
            host_config: HostConfig::default(),
            state,
            restart_count: 0,
            network: None,
        }
    }

    #[test]
    fn ports_column_groups_like_docker() {
        use husk_network::{Endpoint, Proto, PublishedPort};
        let mut c = container("web", Status::Running, 0);
        let p = |host, ctr, proto| PublishedPort {
            host_ip: None,
            host_port: host,
            container_port: ctr,
            proto,
        };
        c.config.exposed_ports = vec!["9988/tcp".into(), "80/tcp".into()];
        c.network = Some(crate::store::NetworkState {
            endpoint: Some(Endpoint {
                network: "bridge".into(),
                ifname: "eth0".into(),
                host_veth: "veth1".into(),
                ip: "172.17.0.2".parse().unwrap(),
                prefix: 16,
                gateway: "172.17.0.1".parse().unwrap(),
                mac: [2, 0x42, 172, 17, 0, 2],
                ports: vec![
                    p(8080, 80, Proto::Tcp),
                    p(8001, 81, Proto::Udp),
                    p(3300, 3300, Proto::Tcp),
                    p(3301, 3301, Proto::Tcp),
                    p(3302, 3302, Proto::Tcp),
                ],
            }),
            ..Default::default()
        });
        assert_eq!(
            ports_text(&c),
            "0.0.0.0:3300-3302->3300-3302/tcp, 9988/tcp, 0.0.0.0:8080->80/tcp, 0.0.0.0:8001->81/udp"
        );
        c.state.status = Status::Exited;
        assert_eq!(ports_text(&c), "");
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn status_strings_match_docker() {
        let now = at("2026-01-01T02:00:07Z");
        assert_eq!(
            status_text(&container("a", Status::Running, 0), now),
            "Up 2 hours"
        );
        assert_eq!(
            status_text(&container("a", Status::Exited, 3), now),
            "Exited (3) 2 hours ago"
        );
        assert_eq!(
            status_text(&container("a", Status::Created, 0), now),
            "Created"
        );
    }

    #[test]
    fn filters_or_values_and_keys() {
        let mut a = container("web", Status::Running, 0);
        a.config.labels.insert("tier".into(), "front".into());
        let b = container("db", Status::Exited, 3);
        let f = |args: &[&str]| {
            Filters::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert!(f(&["status=running", "status=exited"]).matches(&b));
        assert!(!f(&["status=running", "name=db"]).matches(&b));
        assert!(f(&["exited=3"]).matches(&b) && f(&["exited=3"]).implies_all());
        assert!(f(&["label=tier"]).matches(&a) && !f(&["label=tier=back"]).matches(&a));
        assert!(f(&["name=we", "id=3bd9"]).matches(&a));
        a.image_id = format!("sha256:{:c<64}", "9f3e");
        for hit in ["nginx", "nginx:latest", "9f3e", "sha256:9f3ecc"] {
            assert!(f(&[&format!("ancestor={hit}")]).matches(&a), "{hit}");
        }
        for miss in ["nginx:1.25", "ngin", "9f3", "busybox"] {
            assert!(!f(&[&format!("ancestor={miss}")]).matches(&a), "{miss}");
        }
        assert!(Filters::parse(&["bogus=1".to_string()]).is_err());
        assert!(Filters::parse(&["status".to_string()]).is_err());
    }

    #[test]
    fn health_volume_network_and_order_filters() {
        use crate::store::health::{Health, HealthStatus};
        let f = |args: &[&str]| {
            Filters::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let mut a = container("a", Status::Running, 0);
        a.id = format!("{:a<64}", "1");
        a.host_config.network_mode = "bridge".into();
        let mut b = container("b", Status::Running, 0);
        b.id = format!("{:b<64}", "2");
        b.host_config.network_mode = "container:x".into();
        b.state.health = Some(Health::starting(None));
        let mut c = container("c", Status::Exited, 0);
        c.id = format!("{:c<64}", "3");
        c.host_config.network_mode = "none".into();
        c.host_config.mount_points = vec![serde_json::from_value(serde_json::json!({
            "kind": "volume", "name": "v1", "destination": "/data", "rw": true
        }))
        .unwrap()];
        assert!(f(&["health=none"]).matches(&a) && !f(&["health=none"]).matches(&b));
        assert!(f(&["health=starting"]).matches(&b));
        b.state.health.as_mut().unwrap().status = HealthStatus::Unhealthy;
        assert!(f(&["health=unhealthy"]).matches(&b) && !f(&["health=healthy"]).matches(&b));
        assert!(Filters::parse(&["health=sick".to_string()]).is_err());
        assert!(f(&["volume=v1"]).matches(&c) && f(&["volume=/data"]).matches(&c));
        assert!(!f(&["volume=v2"]).matches(&c) && !f(&["volume=/data"]).matches(&a));
        assert!(f(&["network=bridge"]).matches(&a) && !f(&["network=bridge"]).matches(&b));
        assert!(!f(&["network=container:x"]).matches(&b) && f(&["network=none"]).matches(&c));
        let kept = |args: &[&str], show_all: bool| -> Vec<String> {
            let mut all = vec![a.clone(), b.clone(), c.clone()];
            f(args).retain(&mut all, show_all).unwrap();
            all.into_iter().map(|c| c.name).collect()
        };
        assert_eq!(kept(&["before=c"], true), ["a", "b"]);
        assert_eq!(kept(&["since=a"], true), ["b", "c"]);
        assert_eq!(kept(&["since=a"], false), ["b"]);
        assert_eq!(kept(&["since=a", "before=c"], true), ["b"]);
        assert_eq!(kept(&["before=1aa"], true), Vec::<String>::new());
        assert_eq!(kept(&["since=2bb"], true), ["c"]);
        let mut all = vec![a.clone()];
        assert!(f(&["since=zzz"]).retain(&mut all, true).is_err());
    }

    #[test]
    fn health_shows_after_up_as_docker_shows_it() {
        use crate::store::health::{Health, HealthStatus};
        let now = at("2026-01-01T02:00:07Z");
        let mut c = container("a", Status::Running, 0);
        c.state.health = Some(Health::starting(None));
        assert_eq!(status_text(&c, now), "Up 2 hours (health: starting)");
        c.state.health.as_mut().unwrap().status = HealthStatus::Healthy;
        assert_eq!(status_text(&c, now), "Up 2 hours (healthy)");
        c.state.status = Status::Exited;
        assert_eq!(status_text(&c, now), "Exited (0) 2 hours ago");
    }

    #[test]
    fn table_matches_docker_layout() {
        let now = at("2026-01-01T00:00:10Z");
        let cs = [
            container("web", Status::Exited, 0),
            container("gracious_gagarin", Status::Running, 0),
        ];
        let o = PsOptions {
            all: true,
            ..Default::default()
        };
        assert_eq!(
            render(&cs, &o, now),
            "CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS                     PORTS     NAMES\n\
             3bd9d2f6c1a2   nginx     \"/docker-entrypoint.…\"   10 seconds ago   Up 5 seconds                         gracious_gagarin\n\
             3bd9d2f6c1a2   nginx     \"/docker-entrypoint.…\"   10 seconds ago   Exited (0) 3 seconds ago             web\n"
        );
        let running = PsOptions {
            quiet: true,
            no_trunc: true,
            ..Default::default()
        };
        assert_eq!(render(&cs, &running, now), format!("{}\n", cs[1].id));
        // -l: the newest in any state, even when it is not running.
        let mut newest = container("last", Status::Exited, 1);
        newest.id = format!("{:b<64}", "77");
        let cs3 = [cs[0].clone(), cs[1].clone(), newest.clone()];
        let last = PsOptions {
            quiet: true,
            no_trunc: true,
            last: Some(1),
            ..Default::default()
        };
        assert_eq!(render(&cs3, &last, now), format!("{}\n", newest.id));
        let two = PsOptions {
            last: Some(2),
            quiet: true,
            no_trunc: true,
            ..Default::default()
        };
        assert_eq!(
            render(&cs3, &two, now),
            format!("{}\n{}\n", newest.id, cs[1].id)
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a"), [0u8; 1000]).unwrap();
        std::fs::hard_link(dir.path().join("sub/a"), dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("l")).unwrap();
        assert_eq!(tree_bytes(dir.path()), 1000 + "/etc/passwd".len() as u64);
        let sized = PsOptions {
            sizes: Some([(cs[1].id.clone(), size_text(2, 4_260_000))].into()),
            ..Default::default()
        };
        assert_eq!(
            render(&cs, &sized, now),
            "CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS         PORTS     NAMES              SIZE\n\
             3bd9d2f6c1a2   nginx     \"/docker-entrypoint.…\"   10 seconds ago   Up 5 seconds             gracious_gagarin   2B (virtual 4.26MB)\n"
        );
        assert_eq!(
            render(&[], &o, now),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
    }
}
