//! `husk inspect` for containers: docker's JSON shape and key order.

use serde_json::{json, Value};

use super::{Container, Paths};

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time_or_zero(s: &str) -> &str {
    if s.is_empty() {
        ZERO_TIME
    } else {
        s
    }
}

pub fn inspect(paths: &Paths, c: &Container) -> Value {
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
            "Running": running,
            "Paused": st.status == super::Status::Paused,
            "Restarting": st.status == super::Status::Restarting,
            "OOMKilled": st.oom_killed,
            "Dead": st.status == super::Status::Dead,
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
            "PortBindings": {},
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": c.host_config.auto_remove,
            "Runtime": c.host_config.runtime,
            "CapAdd": opt_vec(&c.host_config.cap_add),
            "CapDrop": opt_vec(&c.host_config.cap_drop),
            "Privileged": false,
            "ReadonlyRootfs": c.host_config.readonly_rootfs,
            "SecurityOpt": if c.host_config.security_opt.is_empty() {
                Value::Null
            } else {
                json!(c.host_config.security_opt)
            },
            "CpuShares": c.host_config.cpu_shares,
            "Memory": c.host_config.memory,
            "NanoCpus": c.host_config.nano_cpus,
            "MemorySwap": 0,
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
            "Volumes": Value::Null,
            "WorkingDir": c.config.working_dir,
            "Entrypoint": opt_vec(&c.config.entrypoint),
            "OnBuild": Value::Null,
            "Labels": c.config.labels,
        },
        "NetworkSettings": {
            "SandboxKey": "",
            "Ports": {},
            "IPAddress": "",
            "Gateway": "",
            "IPPrefixLen": 0,
            "MacAddress": "",
            "Networks": {},
        },
    })
}

/// docker's `Mounts` entries for `-v` binds.
fn mounts(c: &Container) -> Value {
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
