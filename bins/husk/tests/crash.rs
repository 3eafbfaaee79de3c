//! What must hold when husk is killed: a SIGKILL of the `husk` command,
//! of a container's monitor or of its init, at any moment, leaves records
//! that tell the truth, nothing that no command lists or removes, and an
//! engine that goes on working. Killed here are only processes this test
//! started and their descendants (monitors and inits of its own root).
//!
//! The seeded test prints its seed; `HUSK_CRASH_SEED=N` replays a run and
//! `HUSK_CRASH_ITERATIONS=N` makes it longer.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::{require_root, sigkill};

/// A host process as /proc shows it.
#[derive(Debug, Clone)]
struct Proc {
    pid: i32,
    ppid: i32,
    args: Vec<String>,
    /// Its pid in its own pid namespace (NSpid's last field): 1 for a
    /// container's init.
    inner_pid: i32,
    /// In a pid namespace below ours.
    nested: bool,
}

fn procs() -> Vec<Proc> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let field = |k: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.split_whitespace().map(String::from).collect::<Vec<_>>())
            };
            if field("State:")?.first()? == "Z" {
                return None;
            }
            let ppid = field("PPid:")?.first()?.parse().ok()?;
            let nspid = field("NSpid:")?;
            let args = std::fs::read(format!("/proc/{pid}/cmdline"))
                .ok()?
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            Some(Proc {
                pid,
                ppid,
                args,
                inner_pid: nspid.last()?.parse().ok()?,
                nested: nspid.len() > 1,
            })
        })
        .collect()
}

/// Whether `pid` runs (a zombie does not).
fn alive(pid: i64) -> bool {
    pid > 0
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rfind(')')
                .and_then(|i| s[i + 2..].chars().next())
                .is_some_and(|c| c != 'Z' && c != 'X')
        })
}

/// This engine's monitors (`husk --root ROOT ... __monitor ID`): pid → id.
fn monitors(e: &Engine, all: &[Proc]) -> BTreeMap<i32, String> {
    let root = e.root.path().to_string_lossy().into_owned();
    all.iter()
        .filter(|p| p.args.contains(&root))
        .filter_map(|p| {
            let at = p.args.iter().position(|a| a == "__monitor")?;
            Some((p.pid, p.args.get(at + 1)?.clone()))
        })
        .collect()
}

fn descends(all: &[Proc], mut pid: i32, ancestor: i32) -> bool {
    for _ in 0..64 {
        let Some(p) = all.iter().find(|p| p.pid == pid) else {
            return false;
        };
        if p.ppid == ancestor {
            return true;
        }
        pid = p.ppid;
    }
    false
}

/// Container inits below `monitor`: its descendants that are PID 1 of a
/// pid namespace of their own.
fn inits_below(all: &[Proc], monitor: i32) -> Vec<i32> {
    all.iter()
        .filter(|p| p.nested && p.inner_pid == 1 && descends(all, p.pid, monitor))
        .map(|p| p.pid)
        .collect()
}

/// Waits for `child` at most `limit`: a husk command that outlives it is
/// hung (killed, then reported by the caller).
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn describe(st: &ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (_, Some(s)) => format!("signal {s}"),
        _ => format!("{st:?}"),
    }
}

/// A command of the engine, its output to files, started now.
struct Running {
    child: Child,
    out: std::fs::File,
    err: std::fs::File,
}

impl Running {
    fn start(e: &Engine, args: &[&str]) -> Running {
        let out = tempfile::tempfile().unwrap();
        let err = tempfile::tempfile().unwrap();
        let child = e
            .cmd(args)
            .stdout(out.try_clone().unwrap())
            .stderr(err.try_clone().unwrap())
            .spawn()
            .unwrap();
        Running { child, out, err }
    }

    fn read(f: &mut std::fs::File) -> String {
        use std::io::{Read, Seek};
        let mut s = String::new();
        f.rewind().unwrap();
        f.read_to_string(&mut s).unwrap();
        s
    }

    /// (status, stdout, stderr); panics with `ctx` when it hangs.
    fn finish(mut self, ctx: &str) -> (ExitStatus, String, String) {
        let st = wait_bounded(&mut self.child, Duration::from_secs(90));
        let err = Running::read(&mut self.err);
        let Some(st) = st else {
            panic!("{ctx}: the husk command hung (killed after 90 s); stderr: {err}");
        };
        (st, Running::read(&mut self.out), err)
    }
}

/// A husk-runtime that stops for three seconds before `verb`, first
/// creating `mark`: the window in which a test kills the monitor.
fn pausing_runtime(dir: &Path, verb: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join(format!("pause-before-{verb}"));
    let mark = dir.join(format!("at-{verb}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             for a in \"$@\"; do case \"$a\" in create|start) verb=$a; break;; esac; done\n\
             if [ \"$verb\" = {verb} ]; then : > {mark}; sleep 3; fi\n\
             exec {runtime} \"$@\"\n",
            mark = mark.display(),
            runtime = runtime_bin().display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, mark)
}

/// Nothing of container `id`'s start is left: no mount, runtime state,
/// cgroup, bundle, netns handle or address; its monitor is not recorded.
fn assert_released(e: &Engine, id: &str, ctx: &str) {
    let dir = e.root.path().join("containers").join(id);
    assert!(
        mounts_under(&dir).is_empty(),
        "{ctx}: {id}: rootfs still mounted"
    );
    assert!(
        !e.runroot.path().join("runtime").join(id).exists(),
        "{ctx}: {id}: runtime state left"
    );
    assert_eq!(
        cgroup_dirs(id),
        Vec::<PathBuf>::new(),
        "{ctx}: {id}: cgroups left"
    );
    assert!(
        !e.runroot.path().join("containers").join(id).exists(),
        "{ctx}: {id}: bundle left"
    );
    assert!(
        !e.runroot.path().join("netns").join(id).exists(),
        "{ctx}: {id}: netns handle left"
    );
    let held: Vec<_> = e
        .allocations()
        .into_iter()
        .filter(|(_, o)| o == id)
        .collect();
    assert!(held.is_empty(), "{ctx}: {id}: addresses left: {held:?}");
    if dir.join("container.json").exists() {
        let rec = e.record(id);
        assert_eq!(rec["state"]["monitor_pid"], 0, "{ctx}: {id}: {rec}");
        assert!(rec["network"].is_null(), "{ctx}: {id}: {rec}");
    }
}

#[test]
fn a_monitor_killed_before_reporting_fails_the_start_and_leaves_nothing() {
    require_root!("a_monitor_killed_before_reporting_fails_the_start_and_leaves_nothing");
    let e = Engine::new();
    let work = tempdir("husk-test-crash-");
    // Killed while the runtime's create has not run yet (rootfs mounted,
    // network connected), then while its init waits for `start`
    // (cgroups, runtime state, an init that would run on).
    for (verb, rm) in [("create", false), ("start", false), ("start", true)] {
        let ctx = format!("killed before {verb}{}", if rm { ", --rm" } else { "" });
        let (runtime, mark) = pausing_runtime(work.path(), verb);
        let _ = std::fs::remove_file(&mark);
        let runtime = runtime.to_str().unwrap();
        let mut args = vec!["run", "-d", "--runtime", runtime];
        if rm {
            args.push("--rm");
        }
        args.extend(["busybox", "sleep", "300"]);
        let cmd = Running::start(&e, &args);
        wait_for(
            &format!("{ctx}: the runtime to pause"),
            Duration::from_secs(30),
            || mark.exists(),
        );
        let ms = monitors(&e, &procs());
        assert_eq!(ms.len(), 1, "{ctx}: {ms:?}");
        let (&monitor, id) = ms.iter().next().unwrap();
        let id = id.clone();
        sigkill(monitor);
        // Before the fix `run` held the report pipe's write end itself
        // and waited here forever.
        let (st, _, err) = cmd.finish(&ctx);
        assert_eq!(st.code(), Some(125), "{ctx}: {err}");
        assert!(
            err.contains("monitor was killed by signal 9 before the container started"),
            "{ctx}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{ctx}: {err}");
        // The paused runtime belonged to the dead monitor: it must not
        // wake up and create a container after the cleanup.
        wait_for(
            &format!("{ctx}: the runtime to be gone"),
            Duration::from_secs(10),
            || !procs().iter().any(|p| p.args.iter().any(|a| a == runtime)),
        );
        reap_all();
        assert_released(&e, &id, &ctx);
        let ps = e.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
        if rm {
            // A --rm container goes with its failed start, as when its
            // monitor reports the failure.
            assert_eq!(ps, "", "{ctx}");
            assert!(e.ids().is_empty(), "{ctx}: {:?}", e.ids());
        } else {
            assert_eq!(ps, format!("{id} created\n"), "{ctx}");
            let rec = e.record(&id);
            assert_eq!(rec["state"]["exit_code"], 125, "{ctx}: {rec}");
            assert!(
                rec["state"]["error"]
                    .as_str()
                    .unwrap()
                    .contains("monitor died"),
                "{ctx}: {rec}"
            );
            // It can start again, and goes fully.
            e.ok(&["start", &id]);
            assert_eq!(e.inspect(&id)["State"]["Status"], "running", "{ctx}");
            e.ok(&["rm", "-f", &id]);
        }
        assert!(e.ids().is_empty(), "{ctx}");
    }
}

#[test]
fn an_rm_container_whose_monitor_and_init_were_killed_goes_at_the_next_command() {
    require_root!("an_rm_container_whose_monitor_and_init_were_killed_goes_at_the_next_command");
    let e = Engine::new();
    let keep = e.ok(&["run", "-d", "busybox", "sleep", "300"]);
    let keep = keep.trim();
    let nexts: [&[&str]; 2] = [&["ps", "-a"], &["create", "busybox", "true"]];
    for (i, next) in nexts.iter().enumerate() {
        let ctx = format!("then `{}`", next.join(" "));
        let id = e.ok(&["run", "-d", "--rm", "busybox", "sleep", "300"]);
        let id = id.trim().to_string();
        let all = procs();
        let (&monitor, _) = monitors(&e, &all)
            .iter()
            .find(|(_, c)| **c == id)
            .expect("its monitor");
        let init = e.record(&id)["state"]["pid"].as_i64().unwrap() as i32;
        assert_eq!(inits_below(&all, monitor), [init], "{ctx}");
        // The monitor first, so nobody records the exit or removes it.
        sigkill(monitor);
        wait_for("the monitor to die", Duration::from_secs(10), || {
            !alive(monitor.into())
        });
        sigkill(init);
        wait_for("the init to die", Duration::from_secs(10), || {
            !alive(init.into())
        });
        reap_all();
        e.ok(next);
        assert_released(&e, &id, &ctx);
        let mut left = e.ids();
        left.retain(|c| c != keep && !(i == 1 && e.record(c)["state"]["status"] == "created"));
        assert!(left.is_empty(), "{ctx}: still there: {left:?}");
        let ps = e.ok(&["ps", "-a", "--no-trunc", "-q"]);
        assert!(!ps.contains(&id), "{ctx}: {ps}");
    }
    // The running one next to it was left alone.
    assert_eq!(e.inspect(keep)["State"]["Status"], "running");
}

#[test]
fn what_killed_creates_and_removals_left_is_swept() {
    require_root!("what_killed_creates_and_removals_left_is_swept");
    let e = Engine::new();
    let kept = e.ok(&["create", "busybox", "true"]);
    let kept = kept.trim().to_string();
    let containers = e.root.path().join("containers");
    let id = |c: char| std::iter::repeat_n(c, 64).collect::<String>();
    // A `create` killed between making the directory and writing the
    // record (the window is held under the store lock, so a sweep never
    // meets a live one).
    for d in ["upper/etc", "work", "merged"] {
        std::fs::create_dir_all(containers.join(id('a')).join(d)).unwrap();
    }
    std::fs::write(containers.join(id('a')).join("upper/etc/x"), "x").unwrap();
    // A removal killed after taking the directory away.
    std::fs::create_dir_all(containers.join(format!(".rm-{}", id('b'))).join("upper")).unwrap();
    // A bundle whose record is gone.
    let bundle = e.runroot.path().join("containers").join(id('c'));
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("config.json"), "{}").unwrap();
    // A removal at work: its remover holds the directory's lock.
    let busy = containers.join(format!(".rm-{}", id('d')));
    std::fs::create_dir_all(busy.join("upper")).unwrap();
    let held = std::fs::File::open(&busy).unwrap();
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&held),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    assert_eq!(rc, 0);

    let ps = e.ok(&["ps", "-a", "--no-trunc", "-q"]);
    assert_eq!(ps.trim(), kept);
    let mut left: Vec<String> = std::fs::read_dir(&containers)
        .unwrap()
        .flatten()
        .filter(|d| d.path().is_dir())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [format!(".rm-{}", id('d')), kept.clone()]);
    assert!(!bundle.exists(), "bundle left");
    // Its remover gone, the next command that takes the store lock
    // finishes the removal.
    drop(held);
    let made = e.ok(&["create", "busybox", "true"]);
    assert!(!busy.exists(), "a dead removal's directory was left");
    e.ok(&["rm", &kept, made.trim()]);
}

/// splitmix64: small, seedable, good enough to pick moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Import,
    Load,
    RunDetached,
    RemoveForce,
    RunRm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Victim {
    Cli,
    Monitor,
    Init,
}

/// The engine at rest: no start, exit or `--rm` removal under way (a
/// monitor left only for running containers that are not `--rm`).
fn quiesce(e: &Engine, ctx: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        reap_all();
        let busy: Vec<String> = monitors(e, &procs())
            .into_values()
            .filter(|id| {
                let p = e
                    .root
                    .path()
                    .join("containers")
                    .join(id)
                    .join("container.json");
                let Ok(data) = std::fs::read(&p) else {
                    return true;
                };
                let rec: serde_json::Value = serde_json::from_slice(&data).unwrap_or_default();
                // Starting, recording an exit, or removing an --rm one.
                rec["state"]["status"] != "running"
                    || rec["host_config"]["auto_remove"] == true
                    || !alive(rec["state"]["pid"].as_i64().unwrap_or(0))
            })
            .collect();
        if busy.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{ctx}: monitors still busy after 60 s: {busy:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ps -a` as id → state, taken again while a container it lists running
/// has nothing alive: an init whose monitor was killed runs on, and may
/// end between the listing and the look at its pid (the next `ps`
/// settles it). One that stays so over several listings is an error the
/// caller reports.
fn listed_settled(e: &Engine, ctx: &str) -> BTreeMap<String, String> {
    let mut tries = 0;
    loop {
        let ps = e.run(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
        let err = String::from_utf8_lossy(&ps.stderr);
        assert!(ps.status.success(), "{ctx}: ps -a: {err}");
        let listed: BTreeMap<String, String> = String::from_utf8_lossy(&ps.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let ended_since = listed.iter().any(|(id, state)| {
            let rec = e.record(id);
            (state == "running" || state == "paused")
                && !alive(rec["state"]["pid"].as_i64().unwrap_or(0))
                && !alive(rec["state"]["monitor_pid"].as_i64().unwrap_or(0))
        });
        tries += 1;
        if !ended_since || tries == 5 {
            return listed;
        }
        reap_all();
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ps -a` and `images` agree with what is on disk and in the kernel.
fn assert_consistent(e: &Engine, seen: &BTreeSet<String>, ctx: &str) {
    let listed = listed_settled(e, ctx);
    let on_disk: BTreeMap<String, String> =
        e.ids().into_iter().map(|i| (i, String::new())).collect();
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        on_disk.keys().collect::<Vec<_>>(),
        "{ctx}: ps -a and the store disagree"
    );
    let trash: Vec<_> = std::fs::read_dir(e.root.path().join("containers"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rm-"))
        .collect();
    assert!(
        trash.is_empty(),
        "{ctx}: removals left half done: {trash:?}"
    );
    let mut running = BTreeSet::new();
    for (id, state) in &listed {
        let rec = e.record(id);
        let ctx = format!("{ctx}: {id} ({state})");
        if state == "running" || state == "paused" {
            assert!(
                alive(rec["state"]["pid"].as_i64().unwrap_or(0))
                    || alive(rec["state"]["monitor_pid"].as_i64().unwrap_or(0)),
                "{ctx}: listed running, nothing alive: {rec}"
            );
            running.insert(id.clone());
        } else {
            // A `run --rm` killed before it started one leaves it created,
            // as `create --rm` does; one that ended must be gone.
            assert!(
                rec["host_config"]["auto_remove"] != true || state == "created",
                "{ctx}: an ended --rm container is still there"
            );
            assert_released(e, id, &ctx);
        }
    }
    for id in seen.difference(&running) {
        assert_eq!(
            cgroup_dirs(id),
            Vec::<PathBuf>::new(),
            "{ctx}: cgroups of {id}"
        );
    }
    let owners: BTreeSet<String> = e.allocations().into_iter().map(|(_, o)| o).collect();
    assert!(owners.is_subset(&running), "{ctx}: addresses of {owners:?}");
    let names = |dir: PathBuf| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "@seccomp")
            .collect()
    };
    for sub in ["runtime", "containers", "netns"] {
        let found = names(e.runroot.path().join(sub));
        assert!(found.is_subset(&running), "{ctx}: {sub}: {found:?}");
    }
    for m in mounts_under(e.root.path()) {
        let point = m.split(' ').nth(4).unwrap_or("");
        assert!(
            running
                .iter()
                .any(|id| point.ends_with(&format!("containers/{id}/merged"))),
            "{ctx}: mount {m}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let veths = e.netns.veths();
        if veths.len() <= running.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{ctx}: veths {veths:?} for {running:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // `images` opens the store, which clears what killed writers staged.
    let images = e.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(images.lines().any(|l| l == "busybox"), "{ctx}: {images}");
    common::assert_store_consistent(e.root.path());
    let staged = names(e.root.path().join("tmp"));
    assert!(staged.is_empty(), "{ctx}: staging left: {staged:?}");
}

#[test]
fn seeded_sigkills_leave_a_consistent_engine() {
    require_root!("seeded_sigkills_leave_a_consistent_engine");
    let seed: u64 = std::env::var("HUSK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let iterations: usize = std::env::var("HUSK_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    // Shown with the failure (cargo prints a failing test's output).
    println!("crash test seed {seed} ({iterations} iterations): HUSK_CRASH_SEED={seed} replays it");
    let e = Engine::new();
    let work = tempdir("husk-test-crash-");
    let rootfs = work.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = work.path().join("bb.tar");
    common::tar_dir(&rootfs, &tar, &[]);
    let tar = tar.to_str().unwrap().to_string();
    let archive = work.path().join("bb-save.tar");
    let archive = archive.to_str().unwrap().to_string();
    e.ok(&["save", "-o", &archive, "busybox"]);

    let args = |op: Op, n: usize, victim: &str| -> Vec<String> {
        let v: Vec<&str> = match op {
            Op::Import => vec!["import", &tar],
            Op::Load => vec!["load", "-i", &archive],
            Op::RunDetached => vec!["run", "-d", "busybox", "sleep", "300"],
            Op::RemoveForce => vec!["rm", "-f", victim],
            Op::RunRm => vec!["run", "--rm", "busybox", "sh", "-c", "echo hi; sleep 0.2"],
        };
        let mut v: Vec<String> = v.into_iter().map(String::from).collect();
        if op == Op::Import {
            v.push(format!("imp{}", n % 3));
        }
        v
    };
    // How long each takes unharmed here (this machine, this build): the
    // moments to kill at are drawn from that span.
    let mut span: BTreeMap<Op, u64> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for op in [
        Op::Import,
        Op::Load,
        Op::RunDetached,
        Op::RemoveForce,
        Op::RunRm,
    ] {
        let victim = e.ids().first().cloned().unwrap_or_default();
        let t = Instant::now();
        let out = e.ok(&args(op, 0, &victim)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
        span.insert(op, t.elapsed().as_millis() as u64 + 1);
        if op == Op::RunDetached {
            seen.insert(out.trim().to_string());
        }
    }
    let mut rng = Rng(seed);
    let mut history: Vec<String> = Vec::new();
    for i in 0..iterations {
        let ids = e.ids();
        let op = match rng.below(5) {
            _ if ids.len() >= 6 => Op::RemoveForce,
            0 => Op::Import,
            1 => Op::Load,
            2 => Op::RunDetached,
            3 if !ids.is_empty() => Op::RemoveForce,
            _ => Op::RunRm,
        };
        let victim = match op {
            Op::Import | Op::Load => Victim::Cli,
            _ => [Victim::Cli, Victim::Monitor, Victim::Init][rng.below(3) as usize],
        };
        // To kill a monitor or an init during `rm -f`, remove a container
        // that has them.
        let live: Vec<String> = monitors(&e, &procs()).into_values().collect();
        let pool = if victim != Victim::Cli && !live.is_empty() {
            &live
        } else {
            &ids
        };
        let target = if pool.is_empty() {
            String::new()
        } else {
            pool[rng.below(pool.len() as u64) as usize].clone()
        };
        let argv = args(op, i, &target);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let before: BTreeSet<i32> = monitors(&e, &procs()).into_keys().collect();
        let mut cmd = Running::start(&e, &argv);
        let t = Instant::now();
        // The monitor this command drives: a new one for `run`, the
        // container's own for `rm -f`; the init below it.
        let find = |all: &[Proc]| -> (Option<i32>, Option<i32>) {
            let ms = monitors(&e, all);
            let m = ms
                .iter()
                .find(|(pid, id)| match op {
                    Op::RemoveForce => **id == target,
                    _ => !before.contains(pid),
                })
                .map(|(pid, _)| *pid);
            (m, m.and_then(|m| inits_below(all, m).first().copied()))
        };
        // The moment: for the command, a time into its usual span; for a
        // monitor or an init, a time after it appears (while the command
        // runs: a `run -d` leaves its monitor and init for good).
        let running = |cmd: &mut Running| cmd.child.try_wait().unwrap().is_none();
        let appeared = match victim {
            Victim::Cli => Some(t),
            Victim::Monitor | Victim::Init => loop {
                let (m, init) = find(&procs());
                let there = if victim == Victim::Monitor { m } else { init };
                if there.is_some() {
                    break Some(Instant::now());
                }
                if !running(&mut cmd) {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(2));
            },
        };
        // `rm -f` kills the init itself at once, and its monitor soon after.
        let window = match (victim, op) {
            (Victim::Cli, _) => span[&op] * 6 / 5,
            (Victim::Monitor, Op::RemoveForce) => span[&op] / 3,
            (Victim::Monitor, _) => span[&op] / 2,
            (Victim::Init, Op::RemoveForce) => 20,
            (Victim::Init, _) => 150,
        };
        let delay = Duration::from_millis(rng.below(window));
        if let Some(from) = appeared {
            while from.elapsed() < delay && running(&mut cmd) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let all = procs();
        let (monitor, init) = find(&all);
        let ms = monitors(&e, &all);
        let killed = match victim {
            Victim::Cli => running(&mut cmd).then(|| {
                let _ = cmd.child.kill();
                "husk".to_string()
            }),
            Victim::Monitor => monitor.map(|m| {
                sigkill(m);
                format!("monitor {m}")
            }),
            Victim::Init => init.map(|p| {
                sigkill(p);
                format!("init {p}")
            }),
        };
        let step = format!(
            "{i}: {argv:?}, SIGKILL to {victim:?} {} ms after {}: {}",
            delay.as_millis(),
            if victim == Victim::Cli {
                "the start"
            } else {
                "it appeared"
            },
            killed.as_deref().unwrap_or("nothing (not there)")
        );
        let ctx = format!(
            "seed {seed}, step {step}\nearlier steps:\n{}",
            history.join("\n")
        );
        let (st, out, err) = cmd.finish(&ctx);
        reap_all();
        // Whatever the outcome, never a panic or a raw error.
        assert!(!err.contains("panicked"), "{ctx}: {err}");
        // A foreground run reports its killed container's 128+9 (or,
        // killed before it ran, a failed start: said as any error is).
        let container_killed = op == Op::RunRm && victim == Victim::Init && killed.is_some();
        let ok = st.success() || container_killed && st.code() == Some(137);
        if !ok && killed.as_deref() != Some("husk") {
            assert!(err.starts_with("husk: "), "{ctx}: {}: {err}", describe(&st));
        }
        if op == Op::RunDetached && st.success() {
            seen.insert(out.trim().to_string());
        }
        for m in ms.values() {
            seen.insert(m.clone());
        }
        seen.extend(e.ids());
        let line = format!(
            "{step} -> {} {}",
            describe(&st),
            err.lines().next().unwrap_or_default()
        );
        println!("{line}");
        history.push(line);
        if i % 3 == 2 {
            let (code, out, err) = e.code(&["run", "--rm", "busybox", "echo", "ok"]);
            assert_eq!((code, out.as_str()), (0, "ok\n"), "{ctx}: a new run: {err}");
        }
        quiesce(&e, &ctx);
        assert_consistent(&e, &seen, &ctx);
    }
    let ctx = format!("seed {seed}, at the end\nsteps:\n{}", history.join("\n"));
    // The engine still works: images in, containers run.
    e.ok(&["import", &tar, "imp-final"]);
    e.ok(&["load", "-i", &archive]);
    assert_eq!(
        e.ok(&["run", "--rm", "busybox", "echo", "ok"]),
        "ok\n",
        "{ctx}"
    );
    let id = e.ok(&["run", "-d", "busybox", "sleep", "300"]);
    seen.insert(id.trim().to_string());
    assert_consistent(&e, &seen, &ctx);
    // And after `rm -f` of everything nothing is left.
    let ids = e.ids();
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    e.ok(&rm);
    quiesce(&e, &ctx);
    assert_consistent(&e, &seen, &ctx);
    assert!(e.ids().is_empty(), "{ctx}");
    assert_eq!(e.network_leftovers(), Vec::<String>::new(), "{ctx}");
    assert!(mounts_under(e.runroot.path()).is_empty(), "{ctx}");
    assert!(monitors(&e, &procs()).is_empty(), "{ctx}");
}
