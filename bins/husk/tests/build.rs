//! `husk build` against the real kernel: Dockerfiles on the busybox image,
//! RUN through the engine's own container path, layers, the cache, the
//! context's rules, failures, and nothing left behind.

mod common;

use std::path::Path;

use common::engine::*;
use husk_fixtures::require_root;

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

/// (code, stdout, stderr) of `husk build ARGS... CONTEXT`.
fn build(e: &Engine, ctx: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<&str> = vec!["build"];
    all.extend_from_slice(args);
    let c = ctx.to_str().unwrap();
    all.push(c);
    e.code(&all)
}

fn build_ok(e: &Engine, ctx: &Path, args: &[&str]) -> String {
    let (code, out, err) = build(e, ctx, args);
    assert_eq!(code, 0, "build failed:\nstdout: {out}\nstderr: {err}");
    out
}

/// The final id: the last line of the output.
fn last_id(out: &str) -> String {
    out.lines().last().unwrap_or("").trim().to_string()
}

/// Nothing a build makes may stay: no container, no build temp dir, no
/// mount under the root.
fn assert_clean(e: &Engine) {
    assert!(e.ids().is_empty(), "containers left: {:?}", e.ids());
    let tmp = e.root.path().join("build/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|rd| rd.flatten().map(|x| x.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "build temp dirs left: {left:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = e.root.path().to_string_lossy().into_owned();
    assert!(
        !mounts.contains(&root),
        "mounts left under the root:\n{mounts}"
    );
}

fn run_out(e: &Engine, args: &[&str]) -> String {
    let mut all = vec!["run", "--rm", "--network", "none"];
    all.extend_from_slice(args);
    e.ok(&all)
}

#[test]
fn multi_stage_build_layers_deleted_file_and_config() {
    require_root!("multi_stage_build_layers_deleted_file_and_config");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "hello.txt", "hello from the context\n");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox AS maker\n\
         RUN mkdir -p /out/sub && echo made > /out/made.txt && echo gone > /out/gone.txt \
             && echo keep > /out/sub/keep\n\
         RUN rm /out/gone.txt\n\
         \n\
         FROM busybox\n\
         COPY --from=maker /out /app/\n\
         COPY hello.txt /app/hello.txt\n\
         ENV GREETING=hi PATH=/usr/local/bin:/bin\n\
         WORKDIR /app\n\
         USER 1000:1000\n\
         ENTRYPOINT [\"/bin/sh\", \"-c\"]\n\
         CMD [\"echo $GREETING; pwd; id -u; cat made.txt hello.txt; ls\"]\n",
    );
    let out = build_ok(&e, ctx.path(), &["-t", "built:1", "--network", "none"]);
    assert!(out.contains("STEP 1/11: FROM busybox AS maker"), "{out}");
    assert!(
        out.contains("STEP 5/11: COPY --from=maker /out /app/"),
        "{out}"
    );
    assert!(out.contains("Successfully tagged"), "{out}");
    let id = last_id(&out);
    assert_eq!(id.len(), 64, "{out}");
    // busybox's layer + COPY --from + COPY: metadata steps add none (nor
    // WORKDIR, whose directory the COPY made).
    let img = e.inspect("built:1");
    let layers = img["RootFS"]["Layers"].as_array().unwrap().len();
    let base = e.inspect("busybox")["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(layers, base + 2, "{img}");
    // The config steps, applied by run.
    let ran = run_out(&e, &["built:1"]);
    assert_eq!(
        ran, "hi\n/app\n1000\nmade\nhello from the context\nhello.txt\nmade.txt\nsub\n",
        "{ran}"
    );
    // The file the first stage deleted is absent.
    let (code, _, _) = e.code(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "",
        "built:1",
        "ls",
        "/app/gone.txt",
    ]);
    assert_ne!(code, 0);
    // The first stage on its own: its RUN rm is a layer with a whiteout,
    // so the file made a layer below stays deleted (and it is all cached).
    let maker = build_ok(
        &e,
        ctx.path(),
        &["--target", "maker", "-t", "maker:1", "--network", "none"],
    );
    assert_eq!(maker.matches("--> Using cache").count(), 2, "{maker}");
    assert!(maker.contains("STEP 3/3"), "{maker}");
    let m = e.inspect("maker:1");
    assert_eq!(m["RootFS"]["Layers"].as_array().unwrap().len(), base + 2);
    assert_eq!(
        run_out(&e, &["--entrypoint", "", "maker:1", "ls", "/out"]),
        "made.txt\nsub\n"
    );
    // Each step is an image; `images` hides those another builds on, as
    // docker does (the first stage's last one showed as <none> until
    // maker:1 named it), and `-a` shows them.
    assert!(
        !e.ok(&["images"]).contains("<none>"),
        "{}",
        e.ok(&["images"])
    );
    assert!(e.ok(&["images", "-a"]).matches("<none>").count() >= 8);
    assert_clean(&e);
}

#[test]
fn unchanged_rebuild_is_all_cache_and_a_changed_source_misses_from_its_step() {
    require_root!("unchanged_rebuild_is_all_cache_and_a_changed_source_misses_from_its_step");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "a.txt", "a1\n");
    write(ctx.path(), "b.txt", "b1\n");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\n\
         RUN echo ran-step-2 && echo one > /one\n\
         COPY a.txt /a.txt\n\
         RUN echo ran-step-4 && cat /a.txt > /copy-of-a\n\
         COPY b.txt /b.txt\n\
         RUN echo ran-step-6\n\
         ENV X=1\n",
    );
    let first = build_ok(&e, ctx.path(), &["-t", "c:1", "--network", "none"]);
    for s in ["ran-step-2", "ran-step-4", "ran-step-6"] {
        assert!(first.lines().any(|l| l == s), "{first}");
    }
    assert!(!first.contains("Using cache"), "{first}");
    let layers = std::fs::read_dir(e.root.path().join("layers"))
        .unwrap()
        .count();
    // Touched, not changed: the checksum decides, not the time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(ctx.path(), "a.txt", "a1\n");
    let again = build_ok(&e, ctx.path(), &["-t", "c:1", "--network", "none"]);
    let ran = |out: &str, s: &str| out.lines().any(|l| l == s);
    assert!(!ran(&again, "ran-step-2"), "a RUN ran again:\n{again}");
    assert!(!ran(&again, "ran-step-6"), "a RUN ran again:\n{again}");
    assert_eq!(again.matches("--> Using cache").count(), 6, "{again}");
    assert_eq!(last_id(&again), last_id(&first));
    assert_eq!(
        std::fs::read_dir(e.root.path().join("layers"))
            .unwrap()
            .count(),
        layers,
        "an all-cached rebuild made a layer"
    );
    // b.txt changes: steps 2-4 hit, 5 (its COPY) and everything after miss.
    write(ctx.path(), "b.txt", "b2\n");
    let third = build_ok(&e, ctx.path(), &["-t", "c:1", "--network", "none"]);
    assert_eq!(third.matches("--> Using cache").count(), 3, "{third}");
    let step5 = third.find("STEP 5/7").unwrap();
    assert!(!third[step5..].contains("Using cache"), "{third}");
    assert!(
        !ran(&third, "ran-step-2") && !ran(&third, "ran-step-4"),
        "{third}"
    );
    assert!(ran(&third, "ran-step-6"), "{third}");
    assert_ne!(last_id(&third), last_id(&first));
    assert_eq!(
        run_out(&e, &["c:1", "cat", "/b.txt", "/copy-of-a"]),
        "b2\na1\n"
    );
    // -q: only the id.
    let quiet = build_ok(&e, ctx.path(), &["-q", "--network", "none"]);
    assert_eq!(quiet.trim(), last_id(&third));
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    assert_clean(&e);
}

#[test]
fn dockerignore_is_honoured() {
    require_root!("dockerignore_is_honoured");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "keep.txt", "k\n");
    write(ctx.path(), "secret.key", "s\n");
    write(ctx.path(), "logs/a.log", "l\n");
    write(ctx.path(), "logs/important.log", "i\n");
    write(ctx.path(), "deep/x/y.tmp", "t\n");
    write(
        ctx.path(),
        ".dockerignore",
        "*.key\nlogs\n!logs/important.log\n**/*.tmp\n",
    );
    write(ctx.path(), "Dockerfile", "FROM busybox\nCOPY . /ctx/\n");
    build_ok(&e, ctx.path(), &["-t", "ign:1", "--network", "none"]);
    let listing = run_out(&e, &["ign:1", "find", "/ctx", "-type", "f"]);
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/keep.txt",
            "/ctx/logs/important.log"
        ],
        "{listing}"
    );
    // A change to an ignored file does not touch the cache.
    write(ctx.path(), "secret.key", "changed\n");
    let again = build_ok(&e, ctx.path(), &["-t", "ign:1", "--network", "none"]);
    assert!(again.contains("--> Using cache"), "{again}");
    // Naming an ignored file is an error.
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nCOPY secret.key /\n",
    );
    let (code, _, err) = build(&e, ctx.path(), &["--network", "none"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("secret.key") && err.contains(".dockerignore"),
        "{err}"
    );
    assert_clean(&e);
}

#[test]
fn context_escapes_are_refused() {
    require_root!("context_escapes_are_refused");
    let e = Engine::new();
    let top = tempdir("husk-build-top-");
    write(top.path(), "secret", "host secret\n");
    let ctx = top.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::os::unix::fs::symlink("../secret", ctx.join("up")).unwrap();
    std::os::unix::fs::symlink(top.path().join("secret"), ctx.join("abs")).unwrap();
    std::fs::create_dir(ctx.join("d")).unwrap();
    std::os::unix::fs::symlink("/etc", ctx.join("d/root")).unwrap();
    for (src, what) in [
        ("../secret", "dotdot"),
        ("up", "relative symlink"),
        ("abs", "absolute symlink"),
        ("d/root/passwd", "symlinked directory"),
        ("sub/../../secret", "dotdot in the middle"),
    ] {
        write(
            &ctx,
            "Dockerfile",
            &format!("FROM busybox\nCOPY {src} /x\n"),
        );
        let (code, out, err) = build(&e, &ctx, &["-t", "esc:1", "--network", "none"]);
        assert_eq!(code, 1, "{what}: {out}{err}");
        assert!(err.contains("outside the build context"), "{what}: {err}");
        assert!(!out.contains("Successfully"), "{what}: {out}");
    }
    // A symlink inside the context to a file inside it is fine; a
    // directory copy keeps a symlink as a symlink, never reading its target.
    write(&ctx, "real.txt", "inside\n");
    std::os::unix::fs::symlink("real.txt", ctx.join("ok")).unwrap();
    write(
        &ctx,
        "Dockerfile",
        "FROM busybox\nCOPY ok /ok\nCOPY d /d/\n",
    );
    build_ok(&e, &ctx, &["-t", "esc:2", "--network", "none"]);
    assert_eq!(run_out(&e, &["esc:2", "cat", "/ok"]), "inside\n");
    assert_eq!(run_out(&e, &["esc:2", "readlink", "/d/root"]), "/etc\n");
    assert_clean(&e);
}

#[test]
fn a_failing_run_stops_the_build_with_its_code_and_output() {
    require_root!("a_failing_run_stops_the_build_with_its_code_and_output");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nRUN echo before-the-failure; echo to-stderr >&2; exit 7\nRUN echo never\n",
    );
    let (code, out, err) = build(&e, ctx.path(), &["-t", "f:1", "--network", "none"]);
    assert_eq!(code, 7, "{out}{err}");
    assert!(out.contains("before-the-failure"), "{out}");
    assert!(err.contains("to-stderr"), "{err}");
    assert!(err.contains("non-zero code: 7"), "{err}");
    assert!(!out.contains("never"), "{out}");
    // The REPOSITORY column: "f " anywhere would also match an image ID ending in f.
    let images = e.ok(&["images"]);
    assert!(
        !images.lines().any(|l| l.starts_with("f ")),
        "tagged after a failure: {images}"
    );
    // With -q the output is shown on failure too.
    let (code, out, err) = build(&e, ctx.path(), &["-q", "--network", "none"]);
    assert_eq!(code, 7);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("before-the-failure"), "{err}");
    assert_clean(&e);
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    require_root!("a_syntax_error_names_the_file_and_line");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nRUN true\nBOGUS thing\n",
    );
    let (code, out, err) = build(&e, ctx.path(), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Dockerfile:3:"), "{err}");
    assert!(err.to_lowercase().contains("bogus"), "{err}");
    assert!(!out.contains("STEP"), "{out}");
    assert_clean(&e);
}

#[test]
fn a_context_tar_on_stdin_builds() {
    require_root!("a_context_tar_on_stdin_builds");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "f.txt", "from the tar\n");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nCOPY f.txt /f.txt\n",
    );
    let tar = tempdir("husk-build-tar-");
    let tarfile = tar.path().join("ctx.tar");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(ctx.path())
        .arg("-cf")
        .arg(&tarfile)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let mut c = e.cmd(&["build", "-t", "tar:1", "-"]);
    c.stdin(std::fs::File::open(&tarfile).unwrap());
    let out = husk_fixtures::output_via_files(&mut c);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(run_out(&e, &["tar:1", "cat", "/f.txt"]), "from the tar\n");
    assert_clean(&e);
}

#[test]
fn run_steps_use_the_network_asked_for() {
    require_root!("run_steps_use_the_network_asked_for");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    // The network namespace each RUN sees, by inode.
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\n\
         RUN stat -L -c %i /proc/self/ns/net > /default-net\n\
         RUN --network=host stat -L -c %i /proc/self/ns/net > /host-net\n\
         RUN --network=none stat -L -c %i /proc/self/ns/net > /none-net && cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' > /none-ifs\n",
    );
    build_ok(&e, ctx.path(), &["-t", "net:1", "--network", "none"]);
    let host = e.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "stat",
        "-L",
        "-c",
        "%i",
        "/proc/self/ns/net",
    ]);
    let got = run_out(
        &e,
        &[
            "net:1",
            "cat",
            "/default-net",
            "/host-net",
            "/none-net",
            "/none-ifs",
        ],
    );
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 4, "{got}");
    assert_eq!(
        lines[1],
        host.trim(),
        "RUN --network=host is not the host's: {got}"
    );
    assert_ne!(
        lines[0],
        host.trim(),
        "build --network none shared the host's: {got}"
    );
    assert_ne!(lines[2], host.trim(), "{got}");
    assert_eq!(lines[3], "lo", "a none network has only lo: {got}");
    assert_clean(&e);
}

#[test]
fn ctrl_c_during_a_run_step_leaves_nothing() {
    require_root!("ctrl_c_during_a_run_step_leaves_nothing");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nCOPY Dockerfile /d\nRUN echo started; sleep 300\n",
    );
    let out_dir = tempdir("husk-build-out-");
    let out_path = out_dir.path().join("out");
    let mut c = e.cmd(&[
        "build",
        "-t",
        "int:1",
        "--network",
        "none",
        ctx.path().to_str().unwrap(),
    ]);
    c.stdout(std::fs::File::create(&out_path).unwrap());
    c.stderr(std::fs::File::create(out_dir.path().join("err")).unwrap());
    let mut child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&out_path)
        .unwrap_or_default()
        .lines()
        .any(|l| l == "started")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the RUN never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(e.ids().len(), 1, "the RUN's container should exist now");
    // SAFETY: kill(2) on our own child, not yet waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    let err = std::fs::read_to_string(out_dir.path().join("err")).unwrap();
    assert!(err.contains("interrupted"), "{err}");
    reap_all();
    assert_clean(&e);
    let images = e.ok(&["images"]);
    assert!(
        !images.lines().any(|l| l.starts_with("int ")),
        "tagged after Ctrl-C: {images}"
    );
}

/// Unmounts whatever is mounted under a dir (podman's store bind-mounts
/// its overlay dir) when dropped, even after a failed assertion.
struct UnmountUnder(std::path::PathBuf);

impl Drop for UnmountUnder {
    fn drop(&mut self) {
        let prefix = self.0.to_string_lossy().into_owned();
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .filter(|p| p.starts_with(&prefix))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = nix::mount::umount2(p.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// Every file of an image as seen inside a container of it: path, mode,
/// owner, and content checksum or link target (what the kernel's own
/// mounts, /proc /sys /dev and the engine's /etc files, hide is left out).
const LISTING: &str = "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /etc/hosts \
    -o -path /etc/hostname -o -path /etc/resolv.conf \\) -prune -o -print | sort | while read f; do \
    stat -c '%n %f %u %g' \"$f\"; if [ -L \"$f\" ]; then readlink \"$f\"; \
    elif [ -f \"$f\" ]; then md5sum < \"$f\"; fi; done";

#[test]
fn podman_build_of_the_same_dockerfile_gives_the_same_files() {
    require_root!("podman_build_of_the_same_dockerfile_gives_the_same_files");
    if std::process::Command::new("podman")
        .arg("--version")
        .output()
        .is_err()
    {
        husk_fixtures::skip(
            "podman_build_of_the_same_dockerfile_gives_the_same_files",
            "podman is not installed (make deps)",
        );
        return;
    }
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "conf/app.conf", "setting=1\n");
    write(ctx.path(), "conf/sub/deep.txt", "deep\n");
    write(ctx.path(), "script.sh", "#!/bin/sh\necho hi\n");
    std::fs::set_permissions(
        ctx.path().join("script.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox AS maker\n\
         RUN mkdir -p /out/d && echo made > /out/made && echo gone > /out/gone && ln -s made /out/link\n\
         RUN rm /out/gone && rm -r /home\n\
         FROM busybox\n\
         RUN rm -r /var && mkdir -p /srv/data && echo x > /srv/data/x && chmod 0640 /srv/data/x\n\
         COPY --from=maker /out /out\n\
         COPY conf /etc/app/\n\
         COPY --chmod=0700 script.sh /usr/local/bin/\n\
         COPY --chown=1000:1000 conf/app.conf /home/app.conf\n\
         WORKDIR /work\n\
         RUN echo in-workdir > here && rm /srv/data/x\n",
    );
    build_ok(&e, ctx.path(), &["-t", "cmp:1", "--network", "none"]);
    let husk_files = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "cmp:1",
        "sh",
        "-c",
        LISTING,
    ]);

    // podman with a private store, the same busybox imported. Its runtime is
    // crun, which refuses this hybrid host while the unified hierarchy owns
    // hugetlb (a fresh machine): hold hugetlb on v1 for as long as podman runs.
    let _hugetlb = husk_fixtures::HugetlbV1::acquire();
    let p = tempdir("husk-build-podman-");
    let _unmount = UnmountUnder(p.path().to_path_buf());
    let proot = p.path().join("root");
    let prun = p.path().join("run");
    let podman = |args: &[&str]| {
        let out = husk_fixtures::output_via_files(
            std::process::Command::new("podman")
                .arg("--root")
                .arg(&proot)
                .arg("--runroot")
                .arg(&prun)
                .args([
                    "--storage-driver",
                    "overlay",
                    "--cgroup-manager",
                    "cgroupfs",
                    "--events-backend",
                    "file",
                ])
                .args(args),
        );
        assert!(out.status.success(), "podman {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let rootfs = p.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = p.path().join("busybox.tar");
    husk_fixtures::tar_tree(&rootfs, &tar);
    podman(&["import", tar.to_str().unwrap(), "busybox"]);
    podman(&[
        "build",
        "--network",
        "none",
        "-t",
        "cmp:1",
        ctx.path().to_str().unwrap(),
    ]);
    // The podman image's files: `podman export` of a container of it,
    // unpacked and listed by the same script in a chroot (podman run
    // cannot raise its RLIMIT_NOFILE under the test harness).
    let cid = podman(&["create", "cmp:1", "true"]);
    let exported = p.path().join("exported.tar");
    podman(&["export", "-o", exported.to_str().unwrap(), cid.trim()]);
    podman(&["rm", cid.trim()]);
    let tree = p.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    assert!(std::process::Command::new("tar")
        .args(["--numeric-owner", "-xpf"])
        .arg(&exported)
        .arg("-C")
        .arg(&tree)
        .status()
        .unwrap()
        .success());
    let listed = husk_fixtures::output_via_files(
        std::process::Command::new("chroot")
            .arg(&tree)
            .args(["/bin/sh", "-c", LISTING]),
    );
    assert!(listed.status.success(), "{listed:?}");
    let podman_files = String::from_utf8_lossy(&listed.stdout).into_owned();
    if husk_files != podman_files {
        let h: Vec<&str> = husk_files.lines().collect();
        let q: Vec<&str> = podman_files.lines().collect();
        let only_husk: Vec<&&str> = h.iter().filter(|l| !q.contains(l)).collect();
        let only_podman: Vec<&&str> = q.iter().filter(|l| !h.contains(l)).collect();
        panic!("husk and podman images differ:\nonly husk: {only_husk:#?}\nonly podman: {only_podman:#?}");
    }
    assert!(husk_files.contains("/out/link"), "{husk_files}");
    assert!(!husk_files.contains("/out/gone"), "{husk_files}");
    assert_clean(&e);
}

#[test]
fn build_args_labels_iidfile_and_a_named_dockerfile() {
    require_root!("build_args_labels_iidfile_and_a_named_dockerfile");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    let other = tempdir("husk-build-df-");
    write(
        other.path(),
        "Build.file",
        "ARG BASE=busybox\n\
         FROM $BASE\n\
         ARG WHO=nobody\n\
         ARG UNUSED\n\
         ENV GREETING=\"hello ${WHO}\" DIR=/srv\n\
         WORKDIR ${DIR}/app\n\
         RUN echo \"$GREETING from $WHO\" > out.txt\n\
         LABEL made.by=${WHO}\n\
         EXPOSE 8080 53/udp\n\
         STOPSIGNAL SIGUSR1\n\
         CMD cat out.txt\n",
    );
    let iid = other.path().join("iid");
    let df = other.path().join("Build.file");
    let out = build_ok(
        &e,
        ctx.path(),
        &[
            "-f",
            df.to_str().unwrap(),
            "--build-arg",
            "WHO=husk",
            "--label",
            "extra=yes",
            "--iidfile",
            iid.to_str().unwrap(),
            "-t",
            "args:1",
            "--network",
            "none",
        ],
    );
    let id = last_id(&out);
    assert_eq!(
        std::fs::read_to_string(&iid).unwrap(),
        format!("sha256:{id}")
    );
    assert_eq!(run_out(&e, &["args:1"]), "hello husk from husk\n");
    let cfg = &e.inspect("args:1")["Config"];
    assert_eq!(cfg["WorkingDir"], "/srv/app", "{cfg}");
    assert_eq!(cfg["Labels"]["made.by"], "husk", "{cfg}");
    assert_eq!(cfg["Labels"]["extra"], "yes", "{cfg}");
    assert_eq!(cfg["StopSignal"], "SIGUSR1", "{cfg}");
    assert!(cfg["ExposedPorts"]["8080/tcp"].is_object(), "{cfg}");
    assert!(cfg["ExposedPorts"]["53/udp"].is_object(), "{cfg}");
    // Build args are not the image's environment.
    let env = cfg["Env"].to_string();
    assert!(
        env.contains("GREETING=hello husk") && !env.contains("WHO="),
        "{env}"
    );
    // Another value of an ARG misses from the first step that uses it.
    let again = build_ok(
        &e,
        ctx.path(),
        &[
            "-f",
            df.to_str().unwrap(),
            "--build-arg",
            "WHO=other",
            "--network",
            "none",
        ],
    );
    assert!(!again.contains("Using cache"), "{again}");
    // The history shows the steps.
    let hist = e.ok(&["history", "--no-trunc", "args:1"]);
    assert!(hist.contains("RUN /bin/sh -c echo"), "{hist}");
    assert!(hist.contains("WORKDIR ${DIR}/app"), "{hist}");
    assert_clean(&e);
}

#[test]
fn onbuild_triggers_run_in_the_child_build() {
    require_root!("onbuild_triggers_run_in_the_child_build");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    write(ctx.path(), "t.txt", "triggered\n");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\nONBUILD COPY t.txt /from-trigger.txt\nONBUILD RUN echo ran > /trigger-ran\n",
    );
    build_ok(&e, ctx.path(), &["-t", "parent:1", "--network", "none"]);
    let onbuild = &e.inspect("parent:1")["Config"]["OnBuild"];
    assert_eq!(onbuild.as_array().map(|a| a.len()), Some(2), "{onbuild}");
    write(ctx.path(), "Dockerfile", "FROM parent:1\nENV CHILD=1\n");
    let out = build_ok(&e, ctx.path(), &["-t", "child:1", "--network", "none"]);
    assert!(out.contains("Executing 2 build trigger"), "{out}");
    assert_eq!(
        run_out(&e, &["child:1", "cat", "/from-trigger.txt", "/trigger-ran"]),
        "triggered\nran\n"
    );
    let cfg = &e.inspect("child:1")["Config"];
    assert!(
        cfg["OnBuild"].is_null() || cfg["OnBuild"].as_array().is_some_and(|a| a.is_empty()),
        "{cfg}"
    );
    assert_clean(&e);
}

#[test]
fn add_extracts_local_archives_and_copy_writes_heredocs() {
    require_root!("add_extracts_local_archives_and_copy_writes_heredocs");
    let e = Engine::new();
    let ctx = tempdir("husk-build-ctx-");
    let src = tempdir("husk-build-arc-");
    write(src.path(), "pkg/bin/tool", "#!/bin/sh\necho tool\n");
    write(src.path(), "pkg/README", "read me\n");
    assert!(std::process::Command::new("tar")
        .arg("-C")
        .arg(src.path())
        .args(["-czf"])
        .arg(ctx.path().join("pkg.tar.gz"))
        .arg("pkg")
        .status()
        .unwrap()
        .success());
    write(ctx.path(), "plain.txt", "not an archive\n");
    write(
        ctx.path(),
        "Dockerfile",
        "FROM busybox\n\
         ARG NAME=world\n\
         ADD pkg.tar.gz /opt/\n\
         ADD plain.txt /opt/plain.txt\n\
         COPY <<EOF /etc/greeting\n\
         hello $NAME\n\
         EOF\n\
         COPY pkg.tar.gz /kept/\n",
    );
    build_ok(&e, ctx.path(), &["-t", "add:1", "--network", "none"]);
    assert_eq!(
        run_out(
            &e,
            &[
                "add:1",
                "cat",
                "/opt/pkg/README",
                "/opt/plain.txt",
                "/etc/greeting"
            ]
        ),
        "read me\nnot an archive\nhello world\n"
    );
    // COPY never extracts.
    assert_eq!(run_out(&e, &["add:1", "ls", "/kept"]), "pkg.tar.gz\n");
    assert_clean(&e);
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for `ADD <url>`: each path answers
/// the body set for it (with a fixed Last-Modified), anything else 404.
/// The test process forks no container, so a thread is fine here.
struct Http {
    port: u16,
    files: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const LAST_MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const LAST_MODIFIED_SECS: u64 = 784111777;

impl Http {
    /// Listens on 127.0.0.1 of the engine's network namespace (where
    /// husk runs in these tests).
    fn start(e: &Engine) -> Http {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = e
            .netns
            .run(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let port = listener.local_addr().unwrap().port();
        let files = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
            String,
            Vec<u8>,
        >::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (f, s) = (files.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // Polled, so that Drop's flag ends the thread.
            listener.set_nonblocking(true).unwrap();
            while !s.load(Ordering::SeqCst) {
                let mut conn = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        continue;
                    }
                };
                if conn.set_nonblocking(false).is_err() {
                    continue;
                }
                let Ok(read) = conn.try_clone() else { continue };
                let mut r = BufReader::new(read);
                let mut first = String::new();
                if r.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut l = String::new();
                    match r.read_line(&mut l) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if l == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let target = first.split_whitespace().nth(1).unwrap_or("");
                let path = target.split('?').next().unwrap_or("").to_string();
                let body = f.lock().unwrap().get(&path).cloned();
                let resp = match body {
                    Some(b) => {
                        let mut v = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: {LAST_MODIFIED}\r\n\
                             Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .into_bytes();
                        v.extend(b);
                        v
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = conn.write_all(&resp);
            }
        });
        Http {
            port,
            files,
            stop,
            thread: Some(thread),
        }
    }

    fn serve(&self, path: &str, body: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_string(), body.to_vec());
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn add_url_downloads_a_file_unextracted_and_caches_on_its_content() {
    require_root!("add_url_downloads_a_file_unextracted_and_caches_on_its_content");
    let e = Engine::new();
    let http = Http::start(&e);
    let src = tempdir("husk-build-arc-");
    write(src.path(), "pkg/README", "read me\n");
    let tar = src.path().join("pkg.tar");
    assert!(std::process::Command::new("tar")
        .arg("-C")
        .arg(src.path())
        .arg("-cf")
        .arg(&tar)
        .arg("pkg")
        .status()
        .unwrap()
        .success());
    let tar_body = std::fs::read(&tar).unwrap();
    http.serve("/files/pkg.tar", &tar_body);
    http.serve("/files/hello.txt", b"hello over http\n");
    let ctx = tempdir("husk-build-ctx-");
    write(
        ctx.path(),
        "Dockerfile",
        &format!(
            "FROM busybox\n\
             ADD --chown=1000:1000 --checksum=sha256:{} {} /opt/\n\
             ADD {} /dl/\n\
             ADD {} /named.txt\n",
            sha256_hex(&tar_body),
            http.url("/files/pkg.tar"),
            http.url("/files/hello.txt?v=1"),
            http.url("/files/hello.txt"),
        ),
    );
    // The builder fetches: RUN's network (none) does not apply to ADD.
    let first = build_ok(&e, ctx.path(), &["-t", "url:1", "--network", "none"]);
    assert!(!first.contains("Using cache"), "{first}");
    // Not extracted, even though it is a tar.
    assert_eq!(run_out(&e, &["url:1", "ls", "/opt"]), "pkg.tar\n");
    assert_eq!(
        run_out(&e, &["url:1", "cat", "/dl/hello.txt", "/named.txt"]),
        "hello over http\nhello over http\n"
    );
    assert_eq!(
        run_out(
            &e,
            &[
                "url:1",
                "stat",
                "-c",
                "%n %a %u %g %Y",
                "/opt/pkg.tar",
                "/dl/hello.txt",
                "/named.txt"
            ]
        ),
        format!(
            "/opt/pkg.tar 600 1000 1000 {t}\n/dl/hello.txt 600 0 0 {t}\n/named.txt 600 0 0 {t}\n",
            t = LAST_MODIFIED_SECS
        )
    );
    // The same content again: every step hits, the same image.
    let again = build_ok(&e, ctx.path(), &["-t", "url:1", "--network", "none"]);
    assert_eq!(again.matches("--> Using cache").count(), 3, "{again}");
    assert_eq!(last_id(&again), last_id(&first));
    // The body changes behind the same URL: its step (3) misses.
    http.serve("/files/hello.txt", b"changed\n");
    let third = build_ok(&e, ctx.path(), &["-t", "url:1", "--network", "none"]);
    assert_eq!(third.matches("--> Using cache").count(), 1, "{third}");
    let step3 = third.find("STEP 3/4").unwrap();
    assert!(!third[step3..].contains("Using cache"), "{third}");
    assert_eq!(
        run_out(&e, &["url:1", "cat", "/dl/hello.txt", "/named.txt"]),
        "changed\nchanged\n"
    );
    assert_clean(&e);
}

#[test]
fn add_url_failures_are_one_line() {
    require_root!("add_url_failures_are_one_line");
    let e = Engine::new();
    let http = Http::start(&e);
    http.serve("/f", b"body\n");
    let ctx = tempdir("husk-build-ctx-");
    let fails = |dockerfile: String| -> String {
        write(ctx.path(), "Dockerfile", &dockerfile);
        let (code, out, err) = build(&e, ctx.path(), &["--network", "none"]);
        assert_ne!(code, 0, "built:\n{out}\n{err}");
        let err = err.trim().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let wrong = "0".repeat(64);
    let err = fails(format!(
        "FROM busybox\nADD --checksum=sha256:{wrong} {} /f\n",
        http.url("/f")
    ));
    assert!(err.contains(&format!("sha256:{wrong}")), "{err}");
    assert!(
        err.contains(&format!("sha256:{}", sha256_hex(b"body\n"))),
        "{err}"
    );
    let err = fails(format!("FROM busybox\nADD {} /f\n", http.url("/missing")));
    assert!(err.contains("404") && err.contains("/missing"), "{err}");
    // Nothing listens: the message says the build needs the network.
    let closed = e
        .netns
        .run(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = fails(format!("FROM busybox\nADD http://127.0.0.1:{port}/f /f\n"));
    assert!(err.contains("needs network access"), "{err}");
    assert_clean(&e);
}
