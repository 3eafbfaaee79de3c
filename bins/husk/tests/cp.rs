//! `husk cp` both ways, against the real kernel: files, directories, `-`
//! tar streams, running and stopped containers, `-a` ownership, volumes;
//! and hostile containers whose symlinks (absolute, relative, in any
//! component, the last one included, and in a `-` stream's entries) try to
//! make cp read or write the host: a sentinel directory on the host must
//! come out untouched.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::engine::*;
use husk_fixtures::require_root;

fn write(p: &Path, data: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

/// `husk ARGS` with `input` on stdin: (exit code, stdout bytes, stderr).
fn with_stdin(e: &Engine, args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let out = e.run_with_stdin(args, input);
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn upper(e: &Engine, name: &str) -> PathBuf {
    let id = e.inspect(name)["Id"].as_str().unwrap().to_string();
    e.root.path().join("containers").join(id).join("upper")
}

/// Names and link targets of a tar stream's entries.
fn tar_names(data: &[u8]) -> Vec<String> {
    tar::Archive::new(data)
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let p = e.path().unwrap().display().to_string();
            match e.link_name().unwrap() {
                Some(l) => format!("{p} -> {}", l.display()),
                None => p,
            }
        })
        .collect()
}

#[test]
fn cp_files_dirs_and_streams_both_ways_running_and_stopped() {
    require_root!("cp_files_dirs_and_streams_both_ways_running_and_stopped");
    let e = Engine::new();
    let host = tempdir("husk-cp-host-");
    let h = host.path();
    write(&h.join("src/file.txt"), "hello\n");
    write(&h.join("src/sub/inner"), "inner\n");
    std::os::unix::fs::symlink("file.txt", h.join("src/link")).unwrap();
    std::fs::set_permissions(h.join("src/file.txt"), PermissionsExt::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(h.join("src/file.txt"), Some(1234), Some(5678)).unwrap();
    let hs = |p: &str| h.join(p).to_str().unwrap().to_string();

    e.ok(&["run", "-d", "--name", "ctr", "busybox", "sleep", "500"]);
    // A file into an existing directory keeps its name; to a new name, takes it.
    e.ok(&["cp", &hs("src/file.txt"), "ctr:/tmp"]);
    e.ok(&["cp", &hs("src/file.txt"), "ctr:/tmp/renamed.txt"]);
    assert_eq!(e.ok(&["exec", "ctr", "cat", "/tmp/file.txt"]), "hello\n");
    assert_eq!(e.ok(&["exec", "ctr", "cat", "/tmp/renamed.txt"]), "hello\n");
    // docker's default owner in the container is root; the mode is kept.
    let up = upper(&e, "ctr");
    let m = std::fs::metadata(up.join("tmp/file.txt")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o640));
    // -a keeps the source's ids.
    e.ok(&["cp", "-a", &hs("src/file.txt"), "ctr:/tmp/kept.txt"]);
    let m = std::fs::metadata(up.join("tmp/kept.txt")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1234, 5678));

    // A directory: into an existing one, as a new one, its contents with /.
    e.ok(&["cp", &hs("src"), "ctr:/tmp"]);
    e.ok(&["cp", &hs("src"), "ctr:/newdir"]);
    e.ok(&["exec", "ctr", "mkdir", "/existing"]);
    e.ok(&["cp", &format!("{}/.", hs("src")), "ctr:/existing"]);
    for p in [
        "/tmp/src/sub/inner",
        "/newdir/sub/inner",
        "/existing/sub/inner",
    ] {
        assert_eq!(e.ok(&["exec", "ctr", "cat", p]), "inner\n", "{p}");
    }
    // A symlink is copied as a symlink.
    assert_eq!(
        e.ok(&["exec", "ctr", "readlink", "/newdir/link"]),
        "file.txt\n"
    );
    // A directory never replaces a file.
    let (code, _, err) = e.code(&["cp", &hs("src"), "ctr:/tmp/file.txt"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot copy a directory to a file"), "{err}");

    // Out: a file to a new name, a directory into an existing one, contents.
    e.ok(&[
        "exec",
        "ctr",
        "sh",
        "-c",
        "echo made-inside > /tmp/src/made",
    ]);
    e.ok(&["cp", "ctr:/tmp/src/made", &hs("out.txt")]);
    assert_eq!(
        std::fs::read_to_string(h.join("out.txt")).unwrap(),
        "made-inside\n"
    );
    std::fs::create_dir(h.join("into")).unwrap();
    e.ok(&["cp", "ctr:/tmp/src", &hs("into")]);
    assert_eq!(
        std::fs::read_to_string(h.join("into/src/sub/inner")).unwrap(),
        "inner\n"
    );
    e.ok(&["cp", "ctr:/tmp/src/.", &hs("into")]);
    assert_eq!(
        std::fs::read_to_string(h.join("into/made")).unwrap(),
        "made-inside\n"
    );
    assert_eq!(
        std::fs::read_link(h.join("into/link")).unwrap(),
        Path::new("file.txt")
    );
    // Out is owned by the caller (root here), not the container's ids.
    e.ok(&["exec", "ctr", "chown", "4321:4321", "/tmp/src/made"]);
    e.ok(&["cp", "ctr:/tmp/src/made", &hs("owned")]);
    assert_eq!(std::fs::metadata(h.join("owned")).unwrap().uid(), 0);

    // The whole root, out of the overlay it is mounted as.
    e.ok(&["cp", "ctr:/", &hs("wholeroot")]);
    assert!(h.join("wholeroot/bin/busybox").is_file());
    assert_eq!(
        std::fs::read_to_string(h.join("wholeroot/tmp/src/sub/inner")).unwrap(),
        "inner\n"
    );

    // What the container made cannot grant anything on the host: setuid
    // bits go, a device node is refused (a `-` stream still carries both).
    e.ok(&[
        "exec",
        "ctr",
        "sh",
        "-c",
        "cp /bin/busybox /tmp/suid && chmod 4755 /tmp/suid && mkdir /tmp/devs && mknod /tmp/devs/disk b 7 0",
    ]);
    e.ok(&["cp", "ctr:/tmp/suid", &hs("suid")]);
    let mode = std::fs::metadata(h.join("suid")).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    let (code, _, err) = e.code(&["cp", "ctr:/tmp/devs", &hs("devs")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("is a device node made in the container"),
        "{err}"
    );
    assert!(!h.join("devs/disk").exists());
    let (code, tar_out, err) = with_stdin(&e, &["cp", "ctr:/tmp/devs", "-"], b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(tar_names(&tar_out), ["devs/", "devs/disk"]);

    // docker's errors.
    let (code, _, err) = e.code(&["cp", "ctr:/nope", &hs("x")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Could not find the file /nope in container ctr"),
        "{err}"
    );
    let (code, _, err) = e.code(&["cp", &hs("src/file.txt"), "ctr:/no/such/dir/x"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Could not find the file /no/such/dir in container ctr"),
        "{err}"
    );
    let (code, _, err) = e.code(&["cp", "ctr:/a", "ctr:/b"]);
    assert!(
        code == 1 && err.contains("copying between containers is not supported"),
        "{err}"
    );

    // `-`: a tar stream out, and one in.
    let (code, tar_out, err) = with_stdin(&e, &["cp", "ctr:/tmp/src", "-"], b"");
    assert_eq!(code, 0, "{err}");
    let names = tar_names(&tar_out);
    assert!(names.contains(&"src/sub/inner".to_string()), "{names:?}");
    assert!(
        names.contains(&"src/link -> file.txt".to_string()),
        "{names:?}"
    );
    let (code, _, err) = with_stdin(&e, &["cp", "-", "ctr:/existing"], &tar_out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        e.ok(&["exec", "ctr", "cat", "/existing/src/made"]),
        "made-inside\n"
    );
    let (code, _, err) = with_stdin(&e, &["cp", "-", "ctr:/tmp/file.txt"], &tar_out);
    assert_eq!(code, 1);
    assert!(
        err.contains("destination \"ctr:/tmp/file.txt\" must be a directory"),
        "{err}"
    );

    // husk's /etc files are read where they are (bind-mounted), not from
    // the rootfs beneath, and never replaced by a copy.
    let (code, tar_out, err) = with_stdin(&e, &["cp", "ctr:/etc/hostname", "-"], b"");
    assert_eq!(code, 0, "{err}");
    let mut a = tar::Archive::new(&tar_out[..]);
    let mut entry = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.path().unwrap(), Path::new("hostname"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    let id = e.inspect("ctr")["Id"].as_str().unwrap().to_string();
    assert_eq!(text, format!("{}\n", &id[..12]));
    let (code, _, err) = e.code(&["cp", &hs("src/file.txt"), "ctr:/etc/hosts"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/etc/hosts in container ctr is the host file"),
        "{err}"
    );

    // Stopped: its rootfs is mounted for the copy, and unmounted after.
    e.ok(&["stop", "-t", "1", "ctr"]);
    e.ok(&["cp", &hs("src/file.txt"), "ctr:/stopped.txt"]);
    e.ok(&["cp", "ctr:/tmp/src/sub", &hs("from-stopped")]);
    assert_eq!(
        std::fs::read_to_string(h.join("from-stopped/inner")).unwrap(),
        "inner\n"
    );
    let (code, tar_out, err) = with_stdin(&e, &["cp", "ctr:/stopped.txt", "-"], b"");
    assert_eq!(code, 0, "{err}");
    assert_eq!(tar_names(&tar_out), ["stopped.txt"]);
    assert!(
        mounts_under(e.root.path()).is_empty(),
        "{:?}",
        mounts_under(e.root.path())
    );
    let leftovers: Vec<_> = std::fs::read_dir(e.root.path().join("containers").join(&id))
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    e.ok(&["start", "ctr"]);
    assert_eq!(e.ok(&["exec", "ctr", "cat", "/stopped.txt"]), "hello\n");
    e.ok(&["rm", "-f", "ctr"]);
}

#[test]
fn cp_into_and_out_of_a_volume() {
    require_root!("cp_into_and_out_of_a_volume");
    let e = Engine::new();
    let host = tempdir("husk-cp-vol-");
    write(&host.path().join("f"), "to the volume\n");
    let f = host.path().join("f");
    e.ok(&[
        "run",
        "-d",
        "--name",
        "vol",
        "-v",
        "data:/data",
        "busybox",
        "sleep",
        "500",
    ]);
    e.ok(&["cp", f.to_str().unwrap(), "vol:/data/f"]);
    assert_eq!(e.ok(&["exec", "vol", "cat", "/data/f"]), "to the volume\n");
    let vol = e.root.path().join("volumes/data/_data/f");
    assert_eq!(std::fs::read_to_string(vol).unwrap(), "to the volume\n");
    let back = host.path().join("back");
    e.ok(&["cp", "vol:/data", back.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(back.join("f")).unwrap(),
        "to the volume\n"
    );
    e.ok(&["rm", "-f", "vol"]);
    // Read-only: the rootfs (--read-only) and a :ro volume refuse a copy in.
    e.ok(&[
        "run",
        "-d",
        "--name",
        "ro",
        "--read-only",
        "-v",
        "data:/data:ro",
        "busybox",
        "sleep",
        "500",
    ]);
    let (code, _, err) = e.code(&["cp", f.to_str().unwrap(), "ro:/tmp/"]);
    assert_eq!(code, 1);
    assert!(err.contains("read-only root filesystem"), "{err}");
    let (code, _, err) = e.code(&["cp", f.to_str().unwrap(), "ro:/data/g"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/data/g in container ro is on a read-only mount"),
        "{err}"
    );
    e.ok(&["cp", "ro:/data/f", back.join("again").to_str().unwrap()]);
    e.ok(&["rm", "-f", "ro"]);
    e.ok(&["volume", "rm", "data"]);
    // A container never started: its rootfs is mounted for the copy too.
    e.ok(&["create", "--name", "fresh", "busybox", "cat", "/f"]);
    e.ok(&["cp", f.to_str().unwrap(), "fresh:/f"]);
    e.ok(&["start", "fresh"]);
    assert_eq!(e.ok(&["wait", "fresh"]).trim(), "0");
    assert_eq!(e.ok(&["logs", "fresh"]), "to the volume\n");
    e.ok(&["rm", "fresh"]);
}

/// The host sentinel's files and their contents.
fn sentinel(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// A tar with raw entry names (the tar crate refuses `..` in `set_path`).
fn hostile_tar(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
            h.set_link_name_literal(data.as_bytes()).unwrap();
            h.set_size(0);
            h.set_cksum();
            b.append(&h, std::io::empty()).unwrap();
        } else {
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append(&h, data.as_bytes()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

#[test]
fn cp_hostile_symlinks_never_reach_the_host() {
    require_root!("cp_hostile_symlinks_never_reach_the_host");
    let e = Engine::new();
    let guard = tempdir("husk-cp-sentinel-");
    let s = guard.path().to_str().unwrap().to_string();
    write(&guard.path().join("secret"), "host-secret\n");
    let before = sentinel(guard.path());
    let work = tempdir("husk-cp-work-");
    let w = |p: &str| work.path().join(p).to_str().unwrap().to_string();
    write(&work.path().join("payload"), "payload\n");

    e.ok(&["run", "-d", "--name", "hostile", "busybox", "sleep", "500"]);
    // Links to the host's sentinel path: absolute, relative climbing far
    // above `/`, the root itself, and the last component of a path; a
    // decoy at the same path inside the container shows where they resolve.
    let setup = format!(
        "ln -s / /etc/evil && ln -s {s} /abs && ln -s ../../../../../../../..{s} /x \
         && ln -s {s}/secret /leak && mkdir -p {s} && echo decoy > {s}/secret"
    );
    e.ok(&["exec", "hostile", "sh", "-c", &setup]);
    e.ok(&["exec", "hostile", "mkdir", "-p", "/dst"]);

    for stopped in [false, true] {
        if stopped {
            e.ok(&["stop", "-t", "1", "hostile"]);
        }
        // Out, through a symlinked directory: the container's file, not the host's.
        for (i, src) in ["/x/secret", "/abs/secret", "/etc/evil/x/secret"]
            .iter()
            .enumerate()
        {
            let dst = w(&format!("out-{stopped}-{i}"));
            e.ok(&["cp", &format!("hostile:{src}"), &dst]);
            assert_eq!(std::fs::read_to_string(&dst).unwrap(), "decoy\n", "{src}");
        }
        // The last component: copied as the link it is; with -L, followed inside.
        let link = w(&format!("link-{stopped}"));
        e.ok(&["cp", "hostile:/leak", &link]);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let followed = w(&format!("followed-{stopped}"));
        e.ok(&["cp", "-L", "hostile:/leak", &followed]);
        assert_eq!(std::fs::read_to_string(&followed).unwrap(), "decoy\n");
        // A tar stream out of a symlinked path holds the container's file.
        let (code, out, err) = with_stdin(&e, &["cp", "hostile:/abs/secret", "-"], b"");
        assert_eq!(code, 0, "{err}");
        let mut a = tar::Archive::new(&out[..]);
        let mut entry = a.entries().unwrap().next().unwrap().unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        assert_eq!(text, "decoy\n");

        // In, through every kind of link: all lands inside the container.
        e.ok(&["cp", &w("payload"), "hostile:/abs/in-abs"]);
        e.ok(&["cp", &w("payload"), "hostile:/x/in-rel"]);
        e.ok(&["cp", &w("payload"), "hostile:/etc/evil/x/in-root"]);
        // A stream whose entries plant links and then write through them,
        // climb with .., and hard-link to the host's path.
        let planted = hostile_tar(&[
            ("esc", tar::EntryType::Symlink, &s),
            ("esc/through-abs", tar::EntryType::Regular, "t\n"),
            ("up", tar::EntryType::Symlink, "../../../../../../../../.."),
            (
                &format!("up{s}/through-rel")[..],
                tar::EntryType::Regular,
                "t\n",
            ),
            ("hard", tar::EntryType::Link, &format!("{s}/secret")[..]),
        ]);
        let (code, _, err) = with_stdin(&e, &["cp", "-", "hostile:/dst"], &planted);
        // The hard link names a file the archive did not write: refused.
        assert_eq!(code, 1, "{err}");
        let climbing = hostile_tar(&[("../../../../escape", tar::EntryType::Regular, "x")]);
        let (code, _, err) = with_stdin(&e, &["cp", "-", "hostile:/dst"], &climbing);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("archive entry"), "{err}");
        assert_eq!(sentinel(guard.path()), before, "the host sentinel changed");
        assert!(!guard.path().join("through-abs").exists());
        assert!(!work.path().join("escape").exists());
        if stopped {
            e.ok(&["start", "hostile"]);
        }
    }
    // Over the final-component link: the container's decoy is replaced.
    e.ok(&["cp", &w("payload"), "hostile:/leak"]);
    // Inside the container, where each write was resolved.
    let inside = e.ok(&["exec", "hostile", "sh", "-c", &format!("ls {s} | sort")]);
    for name in ["in-abs", "in-rel", "in-root", "through-abs", "through-rel"] {
        assert!(inside.lines().any(|l| l == name), "{name} not in {inside}");
    }
    assert_eq!(
        e.ok(&["exec", "hostile", "cat", &format!("{s}/secret")]),
        "payload\n"
    );
    assert_eq!(sentinel(guard.path()), before, "the host sentinel changed");
    e.ok(&["rm", "-f", "hostile"]);
}
