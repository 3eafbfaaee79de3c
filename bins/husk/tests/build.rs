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
    assert!(out.contains("STEP 5/11: COPY --from=maker /out /app/"), "{out}");
    assert!(out.contains("Successfully tagged"), "{out}");
    let id = last_id(&out);
    assert_eq!(id.len(), 64, "{out}");
    // busybox's one layer + COPY --from + COPY: metadata steps add none.
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
        ran,
        "hi\n/app\n1000\nmade\nhello from the context\nhello.txt\nmade.txt\nsub\n",
        "{ran}"
    );
    // The file the first stage deleted is absent.
    let (code, _, _) = e.code(&[
        "run", "--rm", "--network", "none", "--entrypoint", "", "built:1", "ls", "/app/gone.txt",
    ]);
    assert_ne!(code, 0);
    assert_clean(&e);
}
