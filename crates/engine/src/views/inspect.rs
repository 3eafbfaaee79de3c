//! `husk inspect` for containers: docker's JSON shape and key order.

use serde_json::{json, Value};

use crate::store::{Container, Paths};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time_or_zero(s: &str) -> &str {
    if s.is_empty() {
        ZERO_TIME
    } else {
        s
    }
}

pub fn inspect(paths: &Paths, c: &Container) -> Value {
    let mut v = inspect_base(paths, c);
    add_flag_fields(&mut v, c);
    add_health(&mut v, c);
    v["HostConfig"] = docker_host_config(c, &v["HostConfig"]);
    super::inspect_flags::apply(&mut v, c);
    v
}

/// HostConfig with every key docker shows, in docker's order: what husk
/// decided where it has it, docker's defaults for what it does not
/// configure (no flag for it yet, so the default is what applies).
fn docker_host_config(c: &Container, known: &Value) -> Value {
    let h = &c.host_config;
    let get = |k: &str, default: Value| match known.get(k) {
        Some(v) => v.clone(),
        None => default,
    };
    let (masked, readonly) = if h.privileged {
        (Value::Null, Value::Null)
    } else {
        (
            json!(crate::oci::spec::MASKED),
            json!(crate::oci::spec::READONLY),
        )
    };
    let network_mode = if h.network_default {
        json!("default")
    } else {
        json!(h.network_mode)
    };
    // docker shows the runtime's name (`runc`), not where it lives.
    let runtime = std::path::Path::new(&h.runtime)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| h.runtime.clone());
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("Binds", get("Binds", Value::Null));
    put("ContainerIDFile", json!(""));
    put("LogConfig", get("LogConfig", Value::Null));
    put("NetworkMode", network_mode);
    put("PortBindings", get("PortBindings", json!({})));
    put(
        "RestartPolicy",
        get(
            "RestartPolicy",
            json!({"Name": "no", "MaximumRetryCount": 0}),
        ),
    );
    put("AutoRemove", get("AutoRemove", json!(false)));
    put("VolumeDriver", json!(""));
    put("VolumesFrom", Value::Null);
    put("ConsoleSize", json!([0, 0]));
    put("CapAdd", get("CapAdd", Value::Null));
    put("CapDrop", get("CapDrop", Value::Null));
    // husk makes no cgroup namespace: docker's "host" (its v1 default).
    put("CgroupnsMode", json!("host"));
    put("Dns", get("Dns", json!([])));
    put("DnsOptions", json!([]));
    put("DnsSearch", get("DnsSearch", json!([])));
    put("ExtraHosts", get("ExtraHosts", Value::Null));
    put("GroupAdd", Value::Null);
    put("IpcMode", json!("private"));
    put("Cgroup", json!(""));
    put("Links", Value::Null);
    put("OomScoreAdj", json!(0));
    put("PidMode", json!(""));
    put("Privileged", get("Privileged", json!(false)));
    put("PublishAllPorts", get("PublishAllPorts", json!(false)));
    put("ReadonlyRootfs", get("ReadonlyRootfs", json!(false)));
    put("SecurityOpt", get("SecurityOpt", Value::Null));
    put("UTSMode", json!(""));
    put("UsernsMode", json!(""));
    // The /dev/shm tmpfs every container gets (docker's 64 MiB).
    put("ShmSize", json!(64 * 1024 * 1024));
    put("Runtime", json!(runtime));
    put("Isolation", json!(""));
    put("CpuShares", get("CpuShares", json!(0)));
    put("Memory", get("Memory", json!(0)));
    put("NanoCpus", get("NanoCpus", json!(0)));
    put("CgroupParent", json!(""));
    put("BlkioWeight", get("BlkioWeight", json!(0)));
    for k in [
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
    ] {
        put(k, json!([]));
    }
    for k in [
        "CpuPeriod",
        "CpuQuota",
        "CpuRealtimePeriod",
        "CpuRealtimeRuntime",
    ] {
        put(k, get(k, json!(0)));
    }
    put("CpusetCpus", get("CpusetCpus", json!("")));
    put("CpusetMems", get("CpusetMems", json!("")));
    put("Devices", get("Devices", json!([])));
    put("DeviceCgroupRules", Value::Null);
    put("DeviceRequests", Value::Null);
    put("MemoryReservation", get("MemoryReservation", json!(0)));
    put("MemorySwap", get("MemorySwap", json!(0)));
    put("MemorySwappiness", Value::Null);
    put("OomKillDisable", json!(false));
    put("PidsLimit", get("PidsLimit", Value::Null));
    put("Ulimits", get("Ulimits", Value::Null));
    for k in [
        "CpuCount",
        "CpuPercent",
        "IOMaximumIOps",
        "IOMaximumBandwidth",
    ] {
        put(k, json!(0));
    }
    put("MaskedPaths", masked);
    put("ReadonlyPaths", readonly);
    // Set only when given (docker's omitempty).
    for k in ["Tmpfs", "Mounts", "Init"] {
        if let Some(v) = known.get(k).filter(|v| !v.is_null()) {
            put(k, v.clone());
        }
    }
    // Anything husk adds that docker's list above lacks stays visible.
    if let Some(obj) = known.as_object() {
        for (k, v) in obj {
            if !m.contains_key(k) {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(m)
}

/// The limits only `husk update` sets yet.
/// The fields of the resource, security and mount flags (kept apart: one
/// `json!` literal for everything exceeds the macro's recursion limit).
fn add_flag_fields(v: &mut Value, c: &Container) {
    let h = &c.host_config;
    let hc = &mut v["HostConfig"];
    // docker's Binds hold `SOURCE:TARGET[:MODE]`; `-v /path` (anonymous)
    // shows in Config.Volumes instead.
    let binds: Vec<&String> = h.binds.iter().filter(|b| b.contains(':')).collect();
    hc["Binds"] = if binds.is_empty() {
        Value::Null
    } else {
        json!(binds)
    };
    hc["MemoryReservation"] = json!(h.memory_reservation);
    hc["CpusetCpus"] = json!(h.cpuset_cpus);
    hc["CpusetMems"] = json!(h.cpuset_mems);
    if !h.ulimits.is_empty() {
        hc["Ulimits"] = json!(h.ulimits);
    }
    if !h.tmpfs.is_empty() {
        hc["Tmpfs"] = json!(h.tmpfs);
    }
    hc["Mounts"] = if h.mounts.is_empty() {
        Value::Null
    } else {
        json!(h.mounts.iter().map(|m| m.to_docker()).collect::<Vec<_>>())
    };
    let cfg = &mut v["Config"];
    if !c.config.stop_signal.is_empty() {
        cfg["StopSignal"] = json!(c.config.stop_signal);
    }
    if let Some(t) = c.config.stop_timeout {
        cfg["StopTimeout"] = json!(t);
    }
}

/// `State.Health` once a healthcheck has run its course at a start, and
/// `Config.Healthcheck` when one is configured (`NONE` included), as
/// docker shows them.
fn add_health(v: &mut Value, c: &Container) {
    if let Some(h) = &c.state.health {
        v["State"]["Health"] = json!(h);
    }
    if !c.config.shell.is_empty() {
        v["Config"]["Shell"] = json!(c.config.shell);
    }
    if let Some(h) = &c.config.healthcheck {
        // Right after Cmd, where docker's Config has it.
        if let Value::Object(cfg) = v["Config"].take() {
            let mut out = serde_json::Map::new();
            for (k, x) in cfg {
                let after = k == "Cmd";
                out.insert(k, x);
                if after {
                    out.insert("Healthcheck".into(), json!(h));
                }
            }
            out.entry("Healthcheck").or_insert_with(|| json!(h));
            v["Config"] = Value::Object(out);
        }
    }
}

fn inspect_base(paths: &Paths, c: &Container) -> Value {
    let dir = paths.dir(&c.id);
    let st = &c.state;
    let running = c.is_running();
    let opt_vec = |v: &Vec<String>| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    json!({
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": c.args,
        "State": {
            "Status": st.status.as_str(),
            // docker's Running stays true while a policy restarts it.
            "Running": running || st.status == crate::store::Status::Restarting,
            "Paused": st.status == crate::store::Status::Paused,
            "Restarting": st.status == crate::store::Status::Restarting,
            "OOMKilled": st.oom_killed,
            "Dead": st.status == crate::store::Status::Dead,
            "Pid": if running { st.pid } else { 0 },
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": time_or_zero(&st.started_at),
            "FinishedAt": time_or_zero(&st.finished_at),
        },
        "Image": c.image_id,
        "ResolvConfPath": dir.join("resolv.conf"),
        "HostnamePath": dir.join("hostname"),
        "HostsPath": dir.join("hosts"),
        "LogPath": paths.log(&c.id),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": Value::Null,
        "HostConfig": {
            "Binds": opt_vec(&c.host_config.binds),
            "LogConfig": c.host_config.log_config,
            "Init": if c.host_config.init { json!(true) } else { Value::Null },
            "NetworkMode": c.host_config.network_mode,
            "PortBindings": port_bindings(c),
            "PublishAllPorts": c.host_config.publish_all,
            "Dns": c.host_config.dns,
            "DnsSearch": c.host_config.dns_search,
            "ExtraHosts": opt_vec(&c.host_config.extra_hosts),
            "RestartPolicy": c.host_config.restart_policy,
            "AutoRemove": c.host_config.auto_remove,
            "Runtime": c.host_config.runtime,
            "CapAdd": opt_vec(&c.host_config.cap_add),
            "CapDrop": opt_vec(&c.host_config.cap_drop),
            "Privileged": c.host_config.privileged,
            "ReadonlyRootfs": c.host_config.readonly_rootfs,
            "SecurityOpt": if c.host_config.security_opt.is_empty() {
                Value::Null
            } else {
                json!(c.host_config.security_opt)
            },
            "CpuShares": c.host_config.cpu_shares,
            "Memory": c.host_config.memory,
            "NanoCpus": c.host_config.nano_cpus,
            "MemorySwap": c.host_config.memory_swap,
            "PidsLimit": c.host_config.pids_limit,
            "Devices": [],
            "Ulimits": Value::Null,
            "Tmpfs": Value::Null,
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": c.lower_dirs.join(":"),
                "MergedDir": dir.join("merged"),
                "UpperDir": dir.join("upper"),
                "WorkDir": dir.join("work"),
            },
        },
        "Mounts": mounts(c),
        "Config": {
            "Hostname": c.config.hostname,
            "Domainname": "",
            "User": c.config.user,
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "Tty": c.config.tty,
            "OpenStdin": c.config.open_stdin,
            "StdinOnce": false,
            "Env": c.config.env,
            "Cmd": opt_vec(&c.config.cmd),
            "Image": c.config.image,
            "Volumes": config_volumes(c),
            "WorkingDir": c.config.working_dir,
            "Entrypoint": opt_vec(&c.config.entrypoint),
            "OnBuild": Value::Null,
            "Labels": c.config.labels,
            "ExposedPorts": exposed_ports(c),
            "MacAddress": c.host_config.mac_address,
        },
        "NetworkSettings": network_settings(paths, c),
    })
}

/// `{"80/tcp": {}}` or null, as docker's Config.ExposedPorts: the
/// image's EXPOSE and, as docker adds them, every port `-p` publishes.
fn exposed_ports(c: &Container) -> Value {
    let mut keys: Vec<String> = c.config.exposed_ports.clone();
    for spec in &c.host_config.port_bindings {
        for p in husk_network::parse_port_spec(spec).unwrap_or_default() {
            keys.push(format!("{}/{}", p.container_port, p.proto));
        }
    }
    if keys.is_empty() {
        return Value::Null;
    }
    // Go's encoding/json writes a map's keys sorted.
    keys.sort();
    let m: serde_json::Map<String, Value> = keys.into_iter().map(|p| (p, json!({}))).collect();
    Value::Object(m)
}

/// HostConfig.PortBindings: the `-p` requests as given (HostPort empty
/// when the host port is chosen at start).
fn port_bindings(c: &Container) -> Value {
    let mut m = serde_json::Map::new();
    for spec in &c.host_config.port_bindings {
        let Ok(specs) = husk_network::parse_port_spec(spec) else {
            continue;
        };
        for p in specs {
            let host_port = match (p.host_start, p.host_end) {
                (0, _) => String::new(),
                (a, b) if a == b => a.to_string(),
                (a, b) => format!("{a}-{b}"),
            };
            let key = format!("{}/{}", p.container_port, p.proto);
            let entry = m.entry(key).or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(json!({
                    "HostIp": p.host_ip.map(|i| i.to_string()).unwrap_or_default(),
                    "HostPort": host_port,
                }));
            }
        }
    }
    Value::Object(m)
}

/// docker's NetworkSettings: the legacy top-level fields of the default
/// bridge, Ports (published and exposed-only) and one entry per network.
fn network_settings(paths: &Paths, c: &Container) -> Value {
    let state = c.network.clone().unwrap_or_default();
    let ep = state.endpoint.as_ref();
    let ip = ep.map(|e| e.ip.to_string()).unwrap_or_default();
    let gw = ep.map(|e| e.gateway.to_string()).unwrap_or_default();
    let prefix = ep.map(|e| e.prefix).unwrap_or(0);
    let mac = ep
        .map(|e| husk_network::driver::format_mac(e.mac))
        .unwrap_or_default();
    let mut ports = serde_json::Map::new();
    if c.is_running() && state.endpoint.is_some() {
        for e in &c.config.exposed_ports {
            if let Some((port, proto)) = crate::network::parse_exposed(e) {
                ports.insert(format!("{port}/{proto}"), Value::Null);
            }
        }
        for p in ep.map(|e| e.ports.as_slice()).unwrap_or_default() {
            let key = format!("{}/{}", p.container_port, p.proto);
            let host_ip = p
                .host_ip
                .map_or_else(|| "0.0.0.0".to_string(), |i| i.to_string());
            let binding = json!({"HostIp": host_ip, "HostPort": p.host_port.to_string()});
            match ports.get_mut(&key).and_then(Value::as_array_mut) {
                Some(list) => list.push(binding),
                None => {
                    ports.insert(key, json!([binding]));
                }
            }
        }
    }
    let mut networks = serde_json::Map::new();
    let mode = crate::network::Mode::parse(&c.host_config.network_mode);
    let user_defined = matches!(mode, Some(crate::network::Mode::Named(_)));
    // docker's embedded DNS answers these on a user-defined network.
    let (aliases, dns_names) = if user_defined {
        let mut names = vec![c.name.clone(), c.short_id().to_string()];
        names.extend(c.host_config.network_aliases.iter().cloned());
        (json!(c.host_config.network_aliases), json!(names))
    } else {
        (Value::Null, Value::Null)
    };
    if c.host_config.network_mode == "bridge"
        || c.host_config.network_mode == "host"
        || c.host_config.network_mode == "none"
        || user_defined
    {
        let v6 = ep.and_then(|e| crate::network::user::ipv6_of(paths, &e.network, &c.id));
        networks.insert(
            c.host_config.network_mode.clone(),
            json!({
                "IPAMConfig": crate::network::user::ipam_config(&c.host_config.ip),
                "Links": Value::Null,
                "Aliases": aliases,
                "MacAddress": mac,
                "NetworkID": state.network_id,
                "EndpointID": state.endpoint_id,
                "Gateway": gw,
                "IPAddress": ip,
                "IPPrefixLen": prefix,
                "IPv6Gateway": v6.map(|v| v.2.to_string()).unwrap_or_default(),
                "GlobalIPv6Address": v6.map(|v| v.0.to_string()).unwrap_or_default(),
                "GlobalIPv6PrefixLen": v6.map_or(0, |v| v.1),
                "DNSNames": dns_names,
            }),
        );
    }
    for x in &state.extra {
        let ep = &x.endpoint;
        let attached = c
            .host_config
            .extra_networks
            .iter()
            .find(|a| a.name == ep.network);
        let aliases = attached.map(|a| a.aliases.clone()).unwrap_or_default();
        let user = ep.network != husk_network::network::DEFAULT_NETWORK;
        let v6 = crate::network::user::ipv6_of(paths, &ep.network, &c.id);
        let mut names = vec![c.name.clone(), c.short_id().to_string()];
        names.extend(aliases.iter().cloned());
        networks.insert(
            ep.network.clone(),
            json!({
                "IPAMConfig": crate::network::user::ipam_config(attached.map_or("", |a| a.ip.as_str())),
                "Links": Value::Null,
                "Aliases": if user { json!(aliases) } else { Value::Null },
                "MacAddress": husk_network::driver::format_mac(ep.mac),
                "NetworkID": x.network_id,
                "EndpointID": x.endpoint_id,
                "Gateway": ep.gateway.to_string(),
                "IPAddress": ep.ip.to_string(),
                "IPPrefixLen": ep.prefix,
                "IPv6Gateway": v6.map(|v| v.2.to_string()).unwrap_or_default(),
                "GlobalIPv6Address": v6.map(|v| v.0.to_string()).unwrap_or_default(),
                "GlobalIPv6PrefixLen": v6.map_or(0, |v| v.1),
                "DNSNames": if user { json!(names) } else { Value::Null },
            }),
        );
    }
    // The legacy top-level fields describe the default bridge only.
    let (ip, gw, prefix, mac) = if user_defined {
        (String::new(), String::new(), 0, String::new())
    } else {
        (ip, gw, prefix, mac)
    };
    json!({
        "Bridge": "",
        "SandboxID": state.endpoint_id,
        "SandboxKey": state.sandbox_key,
        "Ports": ports,
        "EndpointID": state.endpoint_id,
        "Gateway": gw,
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": ip,
        "IPPrefixLen": prefix,
        "IPv6Gateway": "",
        "MacAddress": mac,
        "Networks": networks,
    })
}

/// docker's `Config.Volumes`: the anonymous volumes' paths.
fn config_volumes(c: &Container) -> Value {
    let m: serde_json::Map<String, Value> = c
        .host_config
        .mount_points
        .iter()
        .filter(|m| m.anonymous)
        .map(|m| (m.destination.clone(), json!({})))
        .collect();
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m)
    }
}

/// docker's `Mounts` entries.
fn mounts(c: &Container) -> Value {
    if !c.host_config.mount_points.is_empty() {
        return crate::config::mounts::inspect_mounts(&c.host_config.mount_points);
    }
    let items: Vec<Value> = c
        .host_config
        .binds
        .iter()
        .filter_map(|b| {
            let parts: Vec<&str> = b.split(':').collect();
            let [host, ctr, rest @ ..] = parts.as_slice() else {
                return None;
            };
            let rw = rest.first() != Some(&"ro");
            Some(json!({
                "Type": "bind",
                "Source": host,
                "Destination": ctr,
                "Mode": rest.first().copied().unwrap_or(""),
                "RW": rw,
                "Propagation": "rprivate",
            }))
        })
        .collect();
    json!(items)
}
