//! The store as an attacker sees it: no other host user may reach what
//! images and containers keep there (setuid-root files, file capabilities,
//! device nodes); the image's /etc/passwd and /etc/group are hostile input
//! when read on the host; `rmi` never takes what a container stands on.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::engine::*;
use husk_fixtures::require_root;

const NOBODY: u32 = 65534;

/// Drops to nobody (no supplementary groups) in a forked child.
fn become_nobody() -> std::io::Result<()> {
    // SAFETY: plain syscalls in the forked child before exec.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(NOBODY) != 0
            || libc::setuid(NOBODY) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Executes `path` as nobody: the error of the exec, or what it printed
/// (a setuid-root payload prints `euid=0`).
fn exec_as_nobody(path: &Path) -> Result<String, std::io::Error> {
    let mut cmd = Command::new(path);
    cmd.arg("id").stdin(Stdio::null());
    // SAFETY: only async-signal-safe syscalls in the child.
    unsafe { cmd.pre_exec(become_nobody) };
    let out = cmd.output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Opens `path` for reading as nobody (without blocking): Ok if it could.
fn open_as_nobody(path: &Path, dir: bool) -> Result<(), std::io::Error> {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    let flags = libc::O_RDONLY
        | libc::O_NONBLOCK
        | libc::O_CLOEXEC
        | if dir { libc::O_DIRECTORY } else { 0 };
    let mut cmd = Command::new("/bin/true");
    // SAFETY: only async-signal-safe syscalls in the child; `c` was
    // allocated before the fork.
    unsafe {
        cmd.pre_exec(move || {
            become_nobody()?;
            if libc::open(c.as_ptr(), flags) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let st = cmd.status()?;
    assert!(st.success());
    Ok(())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// A busybox rootfs tarball with `extra` applied to the tree first.
fn image_tar(work: &Path, extra: impl FnOnce(&Path)) -> PathBuf {
    let rootfs = work.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    extra(&rootfs);
    let tar = work.join("image.tar");
    common::tar_dir(&rootfs, &tar, &[]);
    tar
}

/// A v2 `security.capability` value: CAP_SYS_ADMIN permitted and effective.
fn cap_sys_admin() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(0x0200_0001u32.to_le_bytes()); // VFS_CAP_REVISION_2 | EFFECTIVE
    v.extend((1u32 << 21).to_le_bytes()); // permitted: CAP_SYS_ADMIN
    v.extend(0u32.to_le_bytes()); // inheritable
    v.extend(0u32.to_le_bytes());
    v.extend(0u32.to_le_bytes());
    v
}

/// The device of the host's root filesystem: what a 0666 node in an image
/// would let anyone read if it were reachable.
fn host_disk() -> u64 {
    std::fs::metadata("/").unwrap().dev()
}

/// What an image can carry: a setuid-root payload, a payload with
/// CAP_SYS_ADMIN as a file capability, the host's disk as a 0666 node.
fn hostile_rootfs(rootfs: &Path) {
    let payload = rootfs.join("bin/payload");
    let suid = rootfs.join("suid");
    std::fs::copy(&payload, &suid).unwrap();
    std::os::unix::fs::chown(&suid, Some(0), Some(0)).unwrap();
    chmod(&suid, 0o4755);
    let cap = rootfs.join("capfile");
    std::fs::copy(&payload, &cap).unwrap();
    xattr::set(&cap, "security.capability", &cap_sys_admin()).unwrap();
    let dev = rootfs.join("disk");
    nix::sys::stat::mknod(
        &dev,
        nix::sys::stat::SFlag::S_IFBLK,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        host_disk(),
    )
    .unwrap();
    chmod(&dev, 0o666);
}

fn first_layer_diff(root: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("layers"))
        .unwrap()
        .map(|e| e.unwrap().path().join("diff"))
        .filter(|d| d.join("suid").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "one layer with the hostile files");
    dirs.pop().unwrap()
}

/// Proves the probe can fail: as root the file is there as the image made
/// it, so a refusal for nobody comes from the store's closed directories.
fn assert_hostile(diff: &Path) {
    assert_eq!(
        mode(&diff.join("suid")) & 0o4000,
        0o4000,
        "setuid kept in the layer"
    );
    assert!(
        xattr::get(diff.join("capfile"), "security.capability")
            .unwrap()
            .is_some(),
        "file capability kept in the layer"
    );
    let md = std::fs::symlink_metadata(diff.join("disk")).unwrap();
    assert_eq!(md.rdev(), host_disk(), "device node kept in the layer");
}

fn assert_exec_refused(path: &Path) {
    assert!(
        path.exists(),
        "{} must exist for the probe to mean anything",
        path.display()
    );
    match exec_as_nobody(path) {
        Err(e) => assert_eq!(
            e.raw_os_error(),
            Some(libc::EACCES),
            "{}: {e}",
            path.display()
        ),
        Ok(out) => panic!("nobody ran {}: {out}", path.display()),
    }
}

fn assert_open_refused(path: &Path, dir: bool) {
    assert!(
        path.exists(),
        "{} must exist for the probe to mean anything",
        path.display()
    );
    match open_as_nobody(path, dir) {
        Err(e) => assert_eq!(
            e.raw_os_error(),
            Some(libc::EACCES),
            "{}: {e}",
            path.display()
        ),
        Ok(()) => panic!("nobody opened {}", path.display()),
    }
}

#[test]
fn a_new_store_and_runroot_are_closed_to_other_users() {
    require_root!("a_new_store_and_runroot_are_closed_to_other_users");
    let work = tempdir("husk-test-store-");
    // An open parent, like /var/lib and /run: only husk's own modes protect.
    chmod(work.path(), 0o755);
    let root = work.path().join("lib/husk");
    let runroot = work.path().join("run/husk");
    let tar = image_tar(&work.path().join("img"), |_| {});
    let out = Command::new(env!("CARGO_BIN_EXE_husk"))
        .arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(&runroot)
        .arg("import")
        .arg(&tar)
        .arg("busybox")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for d in [&root, &runroot] {
        assert_eq!(mode(d), 0o700, "{}", d.display());
        assert_open_refused(d, true);
    }
    for d in ["layers", "l", "tmp", "blobs"] {
        assert_eq!(mode(&root.join(d)), 0o700, "{d}");
    }
}

#[test]
fn a_store_owned_by_another_user_is_refused() {
    require_root!("a_store_owned_by_another_user_is_refused");
    let work = tempdir("husk-test-store-");
    let root = work.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::os::unix::fs::chown(&root, Some(NOBODY), Some(NOBODY)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_husk"))
        .arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(work.path().join("run"))
        .arg("images")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is owned by uid 65534, not by uid 0 who runs husk")
            && err.contains("chown 0"),
        "{err}"
    );
}

#[test]
fn an_open_directory_that_is_no_store_keeps_its_mode() {
    require_root!("an_open_directory_that_is_no_store_keeps_its_mode");
    let work = tempdir("husk-test-store-");
    // A mistyped --root such as a home or /tmp: other users' files in it.
    let root = work.path().join("home");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    chmod(&root, 0o755);
    let out = Command::new(env!("CARGO_BIN_EXE_husk"))
        .arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(work.path().join("run"))
        .arg("images")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is open to other users and is not a husk store"),
        "{err}"
    );
    assert_eq!(mode(&root), 0o755);
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        1,
        "nothing made in it"
    );
}

#[test]
fn no_other_user_reaches_setuid_files_capabilities_or_devices_in_the_store() {
    require_root!("no_other_user_reaches_setuid_files_capabilities_or_devices_in_the_store");
    let e = Engine::new();
    let root = e.root.path().to_path_buf();
    let runroot = e.runroot.path().to_path_buf();
    // A store an older husk made: every directory 0755 (the test's temp
    // dirs start 0700). The next command must close it.
    for d in [&root, &runroot] {
        chmod(d, 0o755);
    }
    for d in ["layers", "l", "tmp", "blobs", "blobs/sha256", "containers"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
        chmod(&root.join(d), 0o755);
    }
    let work = tempdir("husk-test-hostile-");
    let tar = image_tar(work.path(), hostile_rootfs);
    e.ok(&["import", tar.to_str().unwrap(), "hostile"]);
    let id = e
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "-v",
            "vol:/vol",
            "hostile",
            "sleep",
            "500",
        ])
        .trim()
        .to_string();
    // The container's root makes its own setuid-root files, in its upper
    // dir and in a volume.
    e.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cp /bin/payload /made && chmod 4755 /made && cp /bin/payload /vol/made && chmod 4755 /vol/made",
    ]);
    for d in [&root, &runroot] {
        assert_eq!(mode(d), 0o700, "{} closed on upgrade", d.display());
    }
    for d in ["layers", "l", "tmp", "blobs", "containers", "volumes"] {
        assert_eq!(mode(&root.join(d)), 0o700, "{d} closed on upgrade");
    }

    let diff = first_layer_diff(&root);
    assert_hostile(&diff);
    let short = std::fs::read_dir(root.join("l"))
        .unwrap()
        .map(|l| l.unwrap().path())
        .find(|l| l.join("suid").exists())
        .expect("an l/ link to the hostile layer");
    let dir = root.join("containers").join(&id);
    let merged = dir.join("merged");
    assert_eq!(mode(&merged.join("made")) & 0o4000, 0o4000);
    let execs = [
        diff.join("suid"),
        diff.join("capfile"),
        short.join("suid"),
        merged.join("suid"),
        merged.join("capfile"),
        merged.join("made"),
        dir.join("upper/made"),
        root.join("volumes/vol/_data/made"),
    ];
    for p in &execs {
        assert_exec_refused(p);
    }
    assert_open_refused(&diff.join("disk"), false);
    assert_open_refused(&merged.join("disk"), false);
    for d in [
        root.clone(),
        root.join("tmp"),
        root.join("blobs/sha256"),
        runroot.join("containers").join(&id),
        runroot.join("runtime"),
    ] {
        assert_open_refused(&d, true);
    }
    // Inside, the container keeps its setuid files and non-root users
    // keep their root: only the host-side path is closed.
    let out = e.ok(&[
        "exec",
        "-u",
        "65534:65534",
        &id,
        "sh",
        "-c",
        "ls / >/dev/null && /suid id",
    ]);
    assert!(out.contains("euid=0"), "{out}");
    e.ok(&["rm", "-f", &id]);
    e.ok(&["volume", "rm", "vol"]);
}

/// A memory cgroup (v1) that the commands of one test run in: the
/// monitor and the CLI can be shown to stay small, and a regression is
/// OOM-killed there instead of taking the machine's memory.
struct MemoryCage(PathBuf);

impl MemoryCage {
    fn new(label: &str) -> MemoryCage {
        let p = PathBuf::from("/sys/fs/cgroup/memory")
            .join(format!("husk-test-{}-{label}", std::process::id()));
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("memory.limit_in_bytes"), "268435456").unwrap();
        MemoryCage(p)
    }

    /// Runs `cmd` inside, killing it after `limit` (a hang guard, not a
    /// timing): (exit code, stderr).
    fn run(&self, cmd: &mut Command, limit: Duration) -> (Option<i32>, String) {
        let procs = std::fs::OpenOptions::new()
            .write(true)
            .open(self.0.join("cgroup.procs"))
            .unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&procs);
        let errf = tempfile::tempfile().unwrap();
        cmd.stdout(Stdio::null()).stderr(errf.try_clone().unwrap());
        // SAFETY: one write(2) of a constant in the child.
        unsafe {
            cmd.pre_exec(move || {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = std::fs::read_to_string(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&errf)
        ))
        .unwrap_or_default();
        (status.code(), err)
    }

    fn peak(&self) -> u64 {
        std::fs::read_to_string(self.0.join("memory.max_usage_in_bytes"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for MemoryCage {
    fn drop(&mut self) {
        // The monitor may take a moment to exit after reporting.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::remove_dir(&self.0).is_err() && Instant::now() < deadline {
            reap_all();
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_device_as_etc_passwd_fails_run_fast_with_bounded_memory() {
    require_root!("a_device_as_etc_passwd_fails_run_fast_with_bounded_memory");
    let e = Engine::new();
    let work = tempdir("husk-test-passwd-");
    let tar = image_tar(work.path(), |r| {
        let p = r.join("etc/passwd");
        std::fs::remove_file(&p).unwrap();
        nix::sys::stat::mknod(
            &p,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            nix::sys::stat::makedev(1, 5),
        )
        .unwrap();
    });
    e.ok(&["import", tar.to_str().unwrap(), "zeropasswd"]);
    let cage = MemoryCage::new("run");
    let (code, err) = cage.run(
        &mut e.cmd(&[
            "run",
            "--rm",
            "--network",
            "none",
            "-u",
            "nobody",
            "zeropasswd",
            "true",
        ]),
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(125), "{err}");
    assert!(
        err.contains("user \"nobody\"")
            && err.contains("/etc/passwd is a character device 1:5, not a regular file"),
        "{err}"
    );
    assert!(cage.peak() < 64 << 20, "peak {} bytes", cage.peak());
    // Without -u nothing is looked up: the image still runs.
    e.ok(&["run", "--rm", "--network", "none", "zeropasswd", "true"]);
}

#[test]
fn exec_user_lookup_refuses_a_device_or_a_fifo_made_in_the_container() {
    require_root!("exec_user_lookup_refuses_a_device_or_a_fifo_made_in_the_container");
    let e = Engine::new();
    let id = e
        .ok(&["run", "-d", "--network", "none", "busybox", "sleep", "500"])
        .trim()
        .to_string();
    e.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cp /etc/passwd /etc/passwd.ok && rm /etc/passwd && mknod /etc/passwd c 1 5",
    ]);
    let cage = MemoryCage::new("exec");
    let (code, err) = cage.run(
        &mut e.cmd(&["exec", "-u", "nobody", &id, "true"]),
        Duration::from_secs(60),
    );
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("/etc/passwd is a character device 1:5, not a regular file"),
        "{err}"
    );
    assert!(cage.peak() < 64 << 20, "peak {} bytes", cage.peak());
    e.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "rm /etc/passwd && mv /etc/passwd.ok /etc/passwd && rm /etc/group && mkfifo /etc/group",
    ]);
    let (code, err) = cage.run(
        &mut e.cmd(&["exec", "-u", "nobody", &id, "true"]),
        Duration::from_secs(60),
    );
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("/etc/group is a fifo, not a regular file"),
        "{err}"
    );
    // Regular files again: the lookup works.
    e.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "rm /etc/group && echo nogroup:x:65534: >/etc/group",
    ]);
    assert_eq!(
        e.ok(&["exec", "-u", "nobody", &id, "id", "-u"]).trim(),
        "65534"
    );
    e.ok(&["rm", "-f", &id]);
}

#[test]
fn user_lookup_follows_links_inside_the_rootfs_only() {
    require_root!("user_lookup_follows_links_inside_the_rootfs_only");
    let e = Engine::new();
    let work = tempdir("husk-test-passwd-");
    let tar = image_tar(work.path(), |r| {
        std::fs::write(
            r.join("etc/realpasswd"),
            "root:x:0:0:root:/root:/bin/sh\ninimage:x:4242:4242::/:/bin/sh\n",
        )
        .unwrap();
        std::fs::remove_file(r.join("etc/passwd")).unwrap();
        // Climbs out of the rootfs if followed on the host; inside it, `/..` is `/`.
        std::os::unix::fs::symlink("/../../../../../../etc/realpasswd", r.join("etc/passwd"))
            .unwrap();
    });
    e.ok(&["import", tar.to_str().unwrap(), "linkpasswd"]);
    let out = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-u",
        "inimage",
        "linkpasswd",
        "id",
        "-u",
    ]);
    assert_eq!(out.trim(), "4242");
    // The host's own users are not the image's: the host's passwd is never read.
    let host = std::fs::read_to_string("/etc/passwd").unwrap();
    let host_only = host
        .lines()
        .filter_map(|l| l.split(':').next())
        .find(|n| !["root", "inimage"].contains(n) && !n.is_empty())
        .expect("a host user besides root");
    let (code, _, err) = e.code(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-u",
        host_only,
        "linkpasswd",
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("no matching entries in passwd file"), "{err}");
}

fn image_id(e: &Engine, name: &str) -> String {
    e.ok(&["image", "inspect", "-f", "{{.Id}}", name])
        .trim()
        .to_string()
}

fn count(e: &Engine, dir: &str) -> usize {
    std::fs::read_dir(e.root.path().join(dir))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn rmi_never_takes_what_a_running_container_uses() {
    require_root!("rmi_never_takes_what_a_running_container_uses");
    let e = Engine::new();
    let img = image_id(&e, "busybox");
    let short_img = &img[7..19];
    let id = e
        .ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "web",
            "busybox",
            "sleep",
            "500",
        ])
        .trim()
        .to_string();
    let (code, _, err) = e.code(&["rmi", "busybox"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("conflict: unable to remove repository reference \"busybox\" (must force) - container {} is using its referenced image {short_img}", &id[..12])),
        "{err}"
    );
    for args in [vec!["rmi", &img], vec!["rmi", "-f", &img]] {
        let (code, _, err) = e.code(&args);
        assert_eq!(code, 1, "{args:?}");
        assert!(
            err.contains(&format!("conflict: unable to delete {short_img} (cannot be forced) - image is being used by running container {}", &id[..12])),
            "{args:?}: {err}"
        );
    }
    // Forced by name: the name goes, the image stays for the container.
    assert_eq!(
        e.ok(&["rmi", "-f", "busybox"]),
        "Untagged: busybox:latest\n"
    );
    assert_eq!(e.ok(&["images", "-q", "--no-trunc"]).trim(), img);
    e.ok(&["image", "prune", "-f"]);
    e.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(
        e.ok(&["images", "-q", "--no-trunc"]).trim(),
        img,
        "prune spares it"
    );
    assert_eq!(count(&e, "layers"), 1);
    assert_eq!(e.ok(&["exec", "web", "sh", "-c", "echo ok"]), "ok\n");
    e.ok(&["restart", "-t", "1", "web"]);
    assert_eq!(e.ok(&["exec", "web", "sh", "-c", "echo again"]), "again\n");
    e.ok(&["rm", "-f", "web"]);
    assert_eq!(e.ok(&["rmi", &img]), format!("Deleted: {img}\n"));
    for d in ["layers", "l", "blobs/sha256"] {
        assert_eq!(count(&e, d), 0, "{d}");
    }
}

#[test]
fn rmi_of_a_stopped_containers_image_keeps_its_layers() {
    require_root!("rmi_of_a_stopped_containers_image_keeps_its_layers");
    let e = Engine::new();
    let img = image_id(&e, "busybox");
    let short_img = &img[7..19];
    let id = e
        .ok(&[
            "create",
            "--network",
            "none",
            "--name",
            "job",
            "busybox",
            "echo",
            "hi",
        ])
        .trim()
        .to_string();
    assert_eq!(e.ok(&["start", "-a", "job"]), "hi\n");
    let (code, _, err) = e.code(&["rmi", "busybox"]);
    assert_eq!(code, 1);
    assert!(err.contains("(must force) - container"), "{err}");
    let (code, _, err) = e.code(&["rmi", &img]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("conflict: unable to delete {short_img} (must be forced) - image is being used by stopped container {}", &id[..12])),
        "{err}"
    );
    // Forced: the image goes, as in docker; its layer stays for the container.
    assert_eq!(
        e.ok(&["rmi", "-f", "busybox"]),
        format!("Untagged: busybox:latest\nDeleted: {img}\n")
    );
    assert_eq!(e.ok(&["images", "-q"]), "");
    assert_eq!(count(&e, "layers"), 1);
    e.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(count(&e, "layers"), 1, "prune spares a container's layer");
    assert_eq!(e.ok(&["start", "-a", "job"]), "hi\n");
    e.ok(&["restart", "-t", "1", "job"]);
    // Its container gone, the layer is nobody's and goes with it.
    e.ok(&["rm", "-f", "job"]);
    for d in ["layers", "l", "blobs/sha256"] {
        assert_eq!(count(&e, d), 0, "{d}");
    }
}

#[test]
fn image_prune_spares_images_containers_use() {
    require_root!("image_prune_spares_images_containers_use");
    let e = Engine::new();
    let old = image_id(&e, "busybox");
    let id = e
        .ok(&["create", "--network", "none", "busybox", "true"])
        .trim()
        .to_string();
    // Importing again moves the name: the old image is dangling but used.
    let work = tempdir("husk-test-img-");
    let tar = image_tar(work.path(), |_| {});
    let new = e
        .ok(&["import", tar.to_str().unwrap(), "busybox"])
        .trim()
        .to_string();
    assert_ne!(new, old);
    e.ok(&["image", "prune", "-f"]);
    e.ok(&["image", "prune", "-a", "-f"]);
    let left = e.ok(&["images", "-q", "--no-trunc"]);
    assert!(
        left.contains(&old),
        "the container's image was pruned: {left}"
    );
    assert!(!left.contains(&new), "an unused image was kept: {left}");
    assert_eq!(e.ok(&["start", "-a", &id]), "");
    e.ok(&["rm", &id]);
    e.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(e.ok(&["images", "-q"]), "");
    assert_eq!(count(&e, "layers"), 0);
}
