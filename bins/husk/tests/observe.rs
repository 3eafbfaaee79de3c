//! Looking at containers and the engine, against the real kernel: the
//! events journal (`husk events` with filters, formats, --since/--until
//! and following), `top` (host PIDs checked in /proc), `stats` (figures
//! checked against the cgroup files the test reads itself), `info`,
//! `version` and `system df`.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::{cgroup_file, require_root};
use serde_json::Value;

/// Now as unix seconds with nanoseconds, for --since/--until.
fn unix_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["Action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn events_of_a_run_stop_rm_with_filters_and_times() {
    require_root!("events_of_a_run_stop_rm_with_filters_and_times");
    let e = Engine::new();
    let t0 = unix_now();
    let id = e
        .ok(&[
            "run", "-d", "--name", "ev1", "--label", "tier=x", "busybox", "sleep", "100",
        ])
        .trim()
        .to_string();
    // sleep as PID 1 ignores SIGTERM: stop sends SIGKILL after the timeout.
    e.ok(&["stop", "-t", "1", "ev1"]);
    e.ok(&["rm", "ev1"]);
    let t1 = unix_now();

    let all = json_lines(&e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--format",
        "{{json .}}",
    ]));
    let mine: Vec<Value> = all
        .iter()
        .filter(|v| v["Type"] == "container")
        .cloned()
        .collect();
    assert_eq!(
        actions(&mine),
        ["create", "start", "kill", "kill", "die", "stop", "destroy"],
        "{all:#?}"
    );
    for ev in &mine {
        assert_eq!(ev["id"], id.as_str());
        assert_eq!(ev["Actor"]["ID"], id.as_str());
        assert_eq!(ev["from"], "busybox");
        assert_eq!(ev["status"], ev["Action"]);
        assert_eq!(ev["scope"], "local");
        assert_eq!(ev["Actor"]["Attributes"]["name"], "ev1");
        assert_eq!(ev["Actor"]["Attributes"]["tier"], "x");
        let nanos = ev["timeNano"].as_i64().unwrap();
        assert_eq!(ev["time"].as_i64().unwrap(), nanos / 1_000_000_000);
    }
    assert_eq!(mine[2]["Actor"]["Attributes"]["signal"], "15");
    assert_eq!(mine[3]["Actor"]["Attributes"]["signal"], "9");
    assert_eq!(mine[4]["Actor"]["Attributes"]["exitCode"], "137");
    // The bridge connect and disconnect come around the start and the die.
    let net: Vec<&Value> = all.iter().filter(|v| v["Type"] == "network").collect();
    assert_eq!(
        actions(&net.iter().map(|v| (*v).clone()).collect::<Vec<_>>()),
        ["connect", "disconnect"],
        "{all:#?}"
    );
    assert_eq!(net[0]["Actor"]["Attributes"]["container"], id.as_str());

    // Filters: keys AND, values of one key OR.
    let die = e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "event=die",
        "--filter",
        "container=ev1",
    ]);
    let lines: Vec<&str> = die.lines().collect();
    assert_eq!(lines.len(), 1, "{die}");
    // docker's line: time, type, action, actor, sorted attributes.
    assert!(
        lines[0].contains(&format!(
            " container die {id} (exitCode=137, image=busybox, name=ev1, tier=x)"
        )),
        "{die}"
    );
    let t = lines[0].split(' ').next().unwrap();
    assert!(t.len() >= 30 && t.as_bytes()[10] == b'T', "{t}");
    let two = e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "event=start",
        "--filter",
        "event=destroy",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    assert_eq!(two, "start ev1\ndestroy ev1\n");
    let labelled = e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "label=tier=x",
        "--format",
        "{{.Type}}",
    ]);
    assert_eq!(labelled.lines().count(), 7, "{labelled}");
    assert!(e
        .ok(&[
            "events",
            "--since",
            &t0,
            "--until",
            &t1,
            "--filter",
            "label=tier=y"
        ])
        .is_empty());
    // The image was imported before t0: only --until (everything before it) shows it.
    assert!(e
        .ok(&[
            "events",
            "--since",
            &t0,
            "--until",
            &t1,
            "--filter",
            "type=image"
        ])
        .is_empty());
    let images = json_lines(&e.ok(&[
        "events",
        "--until",
        &t1,
        "--filter",
        "type=image",
        "--format",
        "json",
    ]));
    assert_eq!(actions(&images), ["import"], "{images:#?}");
    // Nothing of the container before it existed.
    assert!(e
        .ok(&["events", "--until", &t0, "--filter", "container=ev1"])
        .is_empty());
    // A duration: the last hour holds it all.
    let hour = e.ok(&[
        "events",
        "--since",
        "1h",
        "--until",
        &t1,
        "--filter",
        "container=ev1",
    ]);
    assert_eq!(hour.lines().count(), 7, "{hour}");

    let (code, _, err) = e.code(&["events", "--until", &t1, "--filter", "bogus=1"]);
    assert_eq!(code, 1);
    assert!(err.contains("bogus=1"), "{err}");
    let (code, _, err) = e.code(&["events", "--since", "yesterday", "--until", &t1]);
    assert_eq!(code, 1);
    assert!(err.contains("yesterday"), "{err}");
}

#[test]
fn events_of_exec_pause_commit_restart_volumes_and_images() {
    require_root!("events_of_exec_pause_commit_restart_volumes_and_images");
    let e = Engine::new();
    let t0 = unix_now();
    e.ok(&["run", "-d", "--name", "ev3", "busybox", "sleep", "100"]);
    assert_eq!(e.code(&["exec", "ev3", "sh", "-c", "exit 4"]).0, 4);
    e.ok(&["pause", "ev3"]);
    e.ok(&["unpause", "ev3"]);
    e.ok(&["commit", "-m", "snap", "ev3", "snap:1"]);
    e.ok(&["restart", "-t", "0", "ev3"]);
    e.ok(&["volume", "create", "v3"]);
    e.ok(&["volume", "rm", "v3"]);
    e.ok(&["tag", "busybox", "other:2"]);
    e.ok(&["rmi", "other:2"]);
    e.ok(&["rm", "-f", "ev3"]);
    e.ok(&["rmi", "snap:1"]);
    let t1 = unix_now();
    let all = json_lines(&e.ok(&["events", "--since", &t0, "--until", &t1, "--format", "json"]));
    let line = |ev: &Value| {
        format!(
            "{} {}",
            ev["Type"].as_str().unwrap(),
            ev["Action"].as_str().unwrap()
        )
    };
    let seen: Vec<String> = all
        .iter()
        .filter(|v| v["Type"] != "network")
        .map(line)
        .collect();
    assert_eq!(
        seen,
        [
            "container create",
            "container start",
            "container exec_create: sh -c exit 4",
            "container exec_start: sh -c exit 4",
            "container exec_die",
            "container pause",
            "container unpause",
            "container commit",
            "container kill",
            "container kill",
            "container die",
            "container stop",
            "container start",
            "container restart",
            "volume create",
            "volume destroy",
            "image tag",
            "image untag",
            "container kill",
            "container die",
            "container destroy",
            "image untag",
            "image delete",
        ],
        "{all:#?}"
    );
    let by = |action: &str| all.iter().find(|v| v["Action"] == action).unwrap();
    assert_eq!(by("exec_die")["Actor"]["Attributes"]["exitCode"], "4");
    let exec_id = by("exec_die")["Actor"]["Attributes"]["execID"].clone();
    assert_eq!(exec_id.as_str().unwrap().len(), 64);
    assert_eq!(
        by("exec_start: sh -c exit 4")["Actor"]["Attributes"]["execID"],
        exec_id
    );
    assert_eq!(by("commit")["Actor"]["Attributes"]["comment"], "snap");
    assert_eq!(by("commit")["Actor"]["Attributes"]["imageRef"], "snap:1");
    assert_eq!(by("tag")["Actor"]["Attributes"]["name"], "other:2");
    assert!(by("tag")["Actor"]["ID"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(by("create")["Actor"]["Attributes"]["name"], "ev3");
    let volume = by("destroy");
    assert_eq!(volume["Type"], "volume");
    assert_eq!(volume["Actor"]["ID"], "v3");
    assert!(volume.get("status").is_none(), "{volume}");
    // `event=exec_start` matches the action with its command.
    let starts = e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "event=exec_start",
    ]);
    assert_eq!(starts.lines().count(), 1, "{starts}");
}

#[test]
fn events_say_oom_before_die() {
    require_root!("events_say_oom_before_die");
    let e = Engine::new();
    let t0 = unix_now();
    let (code, _, err) = e.code(&[
        "run", "--name", "hog", "-m", "8m", "busybox", "payload", "memhog", "64",
    ]);
    assert_eq!(code, 137, "{err}");
    let t1 = unix_now();
    let out = e.ok(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "container=hog",
        "--format",
        "{{.Action}} {{index .Actor.Attributes \"exitCode\"}}",
    ]);
    assert_eq!(out, "create \nstart \noom \ndie 137\n");
}

#[test]
fn events_follows_new_events() {
    require_root!("events_follows_new_events");
    let e = Engine::new();
    let t0 = unix_now();
    e.ok(&[
        "create", "--rm", "--name", "ev2", "busybox", "sh", "-c", "exit 3",
    ]);
    let dir = tempdir("husk-test-events-");
    let out_path = dir.path().join("out");
    let out = std::fs::File::create(&out_path).unwrap();
    // --since without --until: the past events, then the new ones as
    // they come.
    let mut follower = e
        .cmd(&[
            "events",
            "--since",
            &t0,
            "--filter",
            "container=ev2",
            "--format",
            "{{.Action}}",
        ])
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wait_for_output = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = std::fs::read_to_string(&out_path).unwrap();
            if seen.contains(want) || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // From the journal's past: the follower is now following.
    let past = wait_for_output("create\n");
    let (code, _, _) = e.code(&["start", "-a", "ev2"]);
    let seen = wait_for_output("destroy\n");
    // Ours, by the PID we started.
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(past, "create\n");
    assert_eq!(code, 3);
    assert_eq!(seen, "create\nstart\ndie\ndestroy\n");
}

#[test]
fn top_lists_the_containers_host_pids() {
    require_root!("top_lists_the_containers_host_pids");
    let e = Engine::new();
    let id = e
        .ok(&[
            "run",
            "-d",
            "--name",
            "tp",
            "busybox",
            "sh",
            "-c",
            "sleep 1000 & exec sleep 999",
        ])
        .trim()
        .to_string();
    let init = e.inspect("tp")["State"]["Pid"].as_i64().unwrap();
    // Until the background sleep is there too.
    let mut out = String::new();
    for _ in 0..100 {
        out = e.ok(&["top", "tp"]);
        if out.lines().count() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let titles = columns(lines[0]);
    assert_eq!(
        titles,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{out}"
    );
    let mut pids = Vec::new();
    for row in &lines[1..] {
        let f: Vec<&str> = row.split_whitespace().collect();
        let pid: i64 = f[1].parse().unwrap();
        pids.push(pid);
        // Host PIDs: /proc here shows them in the container's cgroup.
        let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        assert!(cg.contains(&id), "{pid}: {cg}");
        let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
        assert!(cmd.starts_with("sleep\0"), "{cmd:?}");
        assert!(
            row.ends_with(&cmd.trim_end_matches('\0').replace('\0', " ")),
            "{row}"
        );
    }
    assert!(pids.contains(&init), "{pids:?} {init}");

    // ps options are passed on; the PID column still selects the rows.
    let custom = e.ok(&["top", "tp", "-o", "pid,comm"]);
    let lines: Vec<&str> = custom.lines().collect();
    assert_eq!(columns(lines[0]), ["PID", "COMMAND"], "{custom}");
    assert_eq!(lines.len(), 3, "{custom}");
    assert!(lines[1..].iter().all(|l| l.ends_with("sleep")), "{custom}");

    e.ok(&["kill", "tp"]);
    let (code, _, err) = e.code(&["top", "tp"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not running"), "{err}");
    let (code, _, err) = e.code(&["top", "nosuch"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such container"), "{err}");
}

/// "1.5MiB" → bytes (docker's BytesSize, 4 digits: within 0.1%).
fn parse_binary(s: &str) -> f64 {
    let units = [
        ("KiB", 1024f64),
        ("MiB", 1024f64 * 1024.0),
        ("GiB", 1024f64.powi(3)),
        ("B", 1.0),
    ];
    for (u, m) in units {
        if let Some(n) = s.strip_suffix(u) {
            return n.parse::<f64>().unwrap_or_else(|_| panic!("{s}")) * m;
        }
    }
    panic!("not a size: {s}")
}

#[test]
fn stats_match_the_cgroup_files() {
    require_root!("stats_match_the_cgroup_files");
    let e = Engine::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "st",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "sleep 1000 & sleep 1000 & exec sleep 999",
    ]);
    e.ok(&["create", "--name", "idle", "busybox", "true"]);
    let pid = e.inspect("st")["State"]["Pid"].as_i64().unwrap() as i32;
    let pids_file = cgroup_file(pid, "pids", "pids.current", "pids.current").expect("pids cgroup");
    let usage_file = cgroup_file(pid, "memory", "memory.usage_in_bytes", "memory.current")
        .expect("memory cgroup");
    let limit_file =
        cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max").expect("memory cgroup");
    assert_eq!(limit_file.read(), "67108864");
    for _ in 0..100 {
        if pids_file.read() == "3" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let before: u64 = usage_file.read().parse().unwrap();
    let out = e.ok(&["stats", "--no-stream", "--format", "{{json .}}", "st"]);
    let after: u64 = usage_file.read().parse().unwrap();
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1, "{out}");
    let r = &rows[0];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "BlockIO",
            "CPUPerc",
            "Container",
            "ID",
            "MemPerc",
            "MemUsage",
            "Name",
            "NetIO",
            "PIDs"
        ]
    );
    assert_eq!(r["Name"], "st");
    assert_eq!(r["Container"], "st");
    assert_eq!(r["PIDs"], pids_file.read().as_str());
    let (usage, limit) = r["MemUsage"].as_str().unwrap().split_once(" / ").unwrap();
    assert_eq!(limit, "64MiB");
    // docker shows the usage without the inactive page cache: at most what
    // the cgroup file says, and more than nothing.
    let usage = parse_binary(usage);
    let most = before.max(after) as f64 * 1.001;
    assert!(usage > 0.0 && usage <= most, "{usage} vs {before}..{after}");
    let perc: f64 = r["MemPerc"]
        .as_str()
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!((perc - usage / 67108864.0 * 100.0).abs() < 0.1, "{r}");
    assert!(r["CPUPerc"].as_str().unwrap().ends_with('%'));
    assert!(r["NetIO"].as_str().unwrap().contains(" / "));

    // The default table: docker's header, running containers only.
    let table = e.ok(&["stats", "--no-stream"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        columns(lines[0]),
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ],
        "{table}"
    );
    assert_eq!(lines.len(), 2, "{table}");
    assert_eq!(columns(lines[1])[1], "st");
    // -a adds the created one, with zeros.
    let all = e.ok(&[
        "stats",
        "--no-stream",
        "-a",
        "--format",
        "{{.Name}} {{.MemUsage}} {{.PIDs}}",
    ]);
    assert!(all.contains("idle 0B / 0B 0\n"), "{all}");
    // Without --no-stream it goes on drawing, once a second.
    let dir = tempdir("husk-test-stats-");
    let out_path = dir.path().join("out");
    let mut streaming = e
        .cmd(&["stats", "--format", "{{.Name}} {{.PIDs}}", "st"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut frames = String::new();
    while Instant::now() < deadline {
        frames = std::fs::read_to_string(&out_path).unwrap();
        if frames.lines().count() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Ours, by the PID we started.
    let _ = streaming.kill();
    let _ = streaming.wait();
    assert!(frames.lines().count() >= 3, "{frames:?}");
    assert!(frames.lines().all(|l| l == "st 3"), "{frames:?}");
    let (code, _, err) = e.code(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such container"), "{err}");
}

#[test]
fn info_version_and_system_df() {
    require_root!("info_version_and_system_df");
    let e = Engine::new();
    e.ok(&["volume", "create", "data"]);
    e.ok(&["volume", "create", "spare"]);
    e.ok(&[
        "run",
        "-d",
        "--name",
        "up",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo hello > /data/f; exec sleep 1000",
    ]);
    e.ok(&["create", "--name", "down", "busybox", "true"]);

    let info: Value = serde_json::from_str(&e.ok(&["info", "--format", "{{json .}}"])).unwrap();
    assert_eq!(info["Containers"], 2);
    assert_eq!(info["ContainersRunning"], 1);
    assert_eq!(info["ContainersStopped"], 1);
    assert_eq!(info["ContainersPaused"], 0);
    assert_eq!(info["Images"], 1);
    assert_eq!(info["Driver"], "overlay2");
    assert_eq!(info["CgroupDriver"], "cgroupfs");
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert_eq!(info["CgroupVersion"], if v2 { "2" } else { "1" });
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(info["KernelVersion"], release.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(info["MemTotal"], kb * 1024);
    assert!(info["NCPU"].as_u64().unwrap() >= 1);
    assert_eq!(info["DockerRootDir"], e.root.path().to_str().unwrap());
    assert_eq!(info["DefaultRuntime"], "husk-runtime");
    assert!(info["Runtimes"]["husk-runtime"]["path"].is_string());
    assert_eq!(
        e.ok(&["info", "--format", "{{.Driver}} {{.ContainersRunning}}"]),
        "overlay2 1\n"
    );
    let text = e.ok(&["info"]);
    for want in [
        "Server:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n",
        " Storage Driver: overlay2\n  Backing Filesystem: ",
        " Cgroup Driver: cgroupfs\n",
        " Default Runtime: husk-runtime\n",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        e.ok(&[
            "version",
            "--format",
            "{{.Client.Version}} {{.Server.Version}}"
        ]),
        format!("{version} {version}\n")
    );
    let doc: Value = serde_json::from_str(&e.ok(&["version", "--format", "json"])).unwrap();
    let names: Vec<&str> = doc["Server"]["Components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..2], ["Engine", "husk-runtime"], "{doc}");
    assert!(
        !doc["Server"]["Components"][1]["Version"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{doc}"
    );
    let text = e.ok(&["version"]);
    assert!(text.starts_with("Client:\n Version:"), "{text}");
    assert!(text.contains("Server: husk\n Engine:\n"), "{text}");

    let df = |e: &Engine| -> Vec<Value> {
        json_lines(&e.ok(&["system", "df", "--format", "{{json .}}"]))
    };
    let rows = df(&e);
    let kinds: Vec<&str> = rows.iter().map(|r| r["Type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["Images", "Containers", "Local Volumes", "Build Cache"]
    );
    let counts = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["TotalCount"].as_str().unwrap().to_string(),
                    r["Active"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let c = |t: &str, a: &str| (t.to_string(), a.to_string());
    assert_eq!(
        counts(&rows),
        [c("1", "1"), c("2", "1"), c("2", "1"), c("0", "0")]
    );
    // The image is in use: nothing of it is reclaimable.
    assert!(
        rows[0]["Reclaimable"].as_str().unwrap().starts_with("0B"),
        "{rows:?}"
    );
    // The spare volume is empty, the used one holds "hello\n".
    assert_eq!(rows[2]["Size"], "6B");
    assert_eq!(rows[2]["Reclaimable"], "0B (0%)");
    let table = e.ok(&["system", "df"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        columns(lines[0]),
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    );
    assert_eq!(columns(lines[3])[..3], ["Local Volumes", "2", "1"]);

    let verbose = e.ok(&["system", "df", "-v"]);
    for want in [
        "Images space usage:\n\nREPOSITORY ",
        "\nContainers space usage:\n\nCONTAINER ID ",
        "\nLocal Volumes space usage:\n\nVOLUME NAME ",
        "\nBuild cache usage: 0B\n",
    ] {
        assert!(verbose.contains(want), "{want:?} not in:\n{verbose}");
    }
    let vol_line = verbose.lines().find(|l| l.starts_with("data ")).unwrap();
    assert_eq!(columns(vol_line), ["data", "1", "6B"], "{verbose}");
    let img_line = verbose.lines().find(|l| l.starts_with("busybox ")).unwrap();
    assert_eq!(columns(img_line).last().unwrap(), "2", "{verbose}");
    assert_eq!(e.code(&["system", "df", "-v", "--format", "json"]).0, 1);

    e.ok(&["rm", "-f", "up"]);
    e.ok(&["rm", "down"]);
    let rows = df(&e);
    assert_eq!(
        counts(&rows),
        [c("1", "0"), c("0", "0"), c("2", "0"), c("0", "0")]
    );
    assert!(
        rows[0]["Reclaimable"].as_str().unwrap().ends_with("(100%)"),
        "{rows:?}"
    );
    assert_eq!(rows[2]["Reclaimable"], "6B (100%)");
}
