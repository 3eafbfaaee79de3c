//! The image commands end to end: import, images, save (both formats),
//! skopeo reading what we wrote, load of what skopeo wrote.

mod common;

use common::*;

fn busybox_tar(dir: &std::path::Path) -> std::path::PathBuf {
    let rootfs = dir.join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tar = dir.join("busybox.tar");
    tar_dir(&rootfs, &tar, &[]);
    tar
}

#[test]
fn import_save_skopeo_copy_load_roundtrip() {
    husk_fixtures::require_root!("import_save_skopeo_copy_load_roundtrip");
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let id = h.ok(&["import", tar.to_str().unwrap(), "busybox:test"]);
    let id = id.trim();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");

    let list = h.ok(&["images"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"),
        "{list}"
    );
    let cols: Vec<&str> = lines[1]
        .split("   ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(cols[0], "busybox");
    assert_eq!(cols[1], "test");
    assert_eq!(cols[2], &id[7..19]);
    assert!(cols[3].ends_with("ago"), "{list}");
    assert!(cols[4].ends_with("MB"), "{list}");
    assert_eq!(h.ok(&["images", "-q"]).trim(), &id[7..19]);
    assert_eq!(
        h.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
            .trim(),
        format!("busybox:test {}", &id[7..19])
    );
    let json: serde_json::Value =
        serde_json::from_str(h.ok(&["images", "--format", "json"]).trim()).unwrap();
    assert_eq!(json["Repository"], "busybox");
    assert!(h
        .ok(&["images", "--digests"])
        .lines()
        .next()
        .unwrap()
        .contains("DIGEST"));

    let info = h.inspect("busybox:test");
    assert_eq!(info["Id"], id);
    assert_eq!(info["RepoTags"][0], "busybox:test");
    assert_eq!(info["Os"], "linux");
    let layers = info["RootFS"]["Layers"].clone();
    assert_eq!(layers.as_array().unwrap().len(), 1);

    let docker = work.path().join("docker.tar");
    let oci = work.path().join("oci.tar");
    h.ok(&["save", "-o", docker.to_str().unwrap(), "busybox:test"]);
    h.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        "busybox:test",
    ]);
    let d: serde_json::Value = serde_json::from_str(&run_tool(
        "skopeo",
        &["inspect", &format!("docker-archive:{}", docker.display())],
    ))
    .unwrap();
    assert_eq!(d["Layers"], layers);
    assert_eq!(d["Os"], "linux");
    let o: serde_json::Value = serde_json::from_str(&run_tool(
        "skopeo",
        &["inspect", &format!("oci-archive:{}", oci.display())],
    ))
    .unwrap();
    assert_eq!(o["Os"], "linux");

    let copied = work.path().join("copied.tar");
    run_tool(
        "skopeo",
        &[
            "copy",
            &format!("docker-archive:{}", docker.display()),
            &format!("oci-archive:{}", copied.display()),
        ],
    );
    let h2 = Husk::new();
    let out = h2.ok(&["load", "-i", copied.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("Loaded image ID: {id}"));
    let info2 = h2.inspect(id);
    assert_eq!(info2["Id"], id);
    assert_eq!(info2["RootFS"]["Layers"], layers);
    h2.assert_consistent();

    // A docker-archive as skopeo writes it (layers named by digest).
    let sk = work.path().join("skopeo-docker.tar");
    run_tool(
        "skopeo",
        &[
            "copy",
            &format!("oci-archive:{}", oci.display()),
            &format!("docker-archive:{}:busybox:skopeo", sk.display()),
        ],
    );
    let h4 = Husk::new();
    assert_eq!(
        h4.ok(&["load", "-i", sk.to_str().unwrap()]).trim(),
        "Loaded image: busybox:skopeo"
    );
    assert_eq!(h4.inspect("busybox:skopeo")["Id"], id);

    // Our own archives load back with their names.
    for archive in [&docker, &oci] {
        let h3 = Husk::new();
        let out = h3.ok(&["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(out.trim(), "Loaded image: busybox:test");
        assert_eq!(h3.inspect("busybox:test")["Id"], id);
        // Same files as the original unpack.
        let chain = layers[0].as_str().unwrap()[7..].to_string();
        let a = h
            .root()
            .join("layers")
            .join(&chain)
            .join("diff/bin/busybox");
        let b = h3
            .root()
            .join("layers")
            .join(&chain)
            .join("diff/bin/busybox");
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
}

#[test]
fn load_from_stdin_and_gzip_import_from_stdin() {
    husk_fixtures::require_root!("load_from_stdin_and_gzip_import_from_stdin");
    let work = tempdir();
    let rootfs = work.path().join("rootfs");
    husk_fixtures::busybox_rootfs(&rootfs);
    let tgz = work.path().join("r.tgz");
    tar_dir(&rootfs, &tgz, &["-z"]);
    let h = Husk::new();
    let mut c = h.cmd(&["import", "-", "gz:1"]);
    c.stdin(std::fs::File::open(&tgz).unwrap());
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = h.inspect("gz:1");
    let archive = work.path().join("a.tar");
    h.ok(&["save", "-o", archive.to_str().unwrap(), "gz:1"]);
    let h2 = Husk::new();
    let mut c = h2.cmd(&["load"]);
    c.stdin(std::fs::File::open(&archive).unwrap());
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Loaded image: gz:1"
    );
    assert_eq!(h2.inspect("gz:1")["Id"], info["Id"]);
    assert_eq!(h2.count("tmp"), 0);
}

#[test]
fn tag_rmi_and_prune() {
    husk_fixtures::require_root!("tag_rmi_and_prune");
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let id = h
        .ok(&["import", tar.to_str().unwrap(), "one"])
        .trim()
        .to_string();
    h.ok(&["tag", "one", "two:v2"]);
    assert_eq!(h.ok(&["images", "-q"]).lines().count(), 2);
    // By id with two names: docker refuses without -f.
    let err = h.fails(&["rmi", &id[7..19]]);
    assert!(err.contains("must be forced"), "{err}");
    assert_eq!(h.ok(&["rmi", "one"]).trim(), "Untagged: one:latest");
    let out = h.ok(&["rmi", "two:v2"]);
    assert_eq!(out, format!("Untagged: two:v2\nDeleted: {id}\n"));
    assert_eq!(h.count("layers"), 0);
    assert_eq!(h.count("blobs/sha256"), 0);
    assert_eq!(h.count("l"), 0);

    // Re-import twice under the same name: the first becomes dangling.
    h.ok(&["import", tar.to_str().unwrap(), "x"]);
    h.ok(&["import", tar.to_str().unwrap(), "x"]);
    let list = h.ok(&["images"]);
    assert!(
        list.lines()
            .any(|l| l.split_whitespace().take(2).eq(["<none>", "<none>"])),
        "{list}"
    );
    let out = h.ok(&["image", "prune", "-f"]);
    assert!(
        out.starts_with("Deleted Images:\ndeleted: sha256:"),
        "{out}"
    );
    assert!(out.contains("Total reclaimed space: "), "{out}");
    assert_eq!(h.ok(&["images", "-q"]).lines().count(), 1);
    // The shared layer survived: the remaining image still has it.
    assert_eq!(h.count("layers"), 1);
    h.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(h.count("layers"), 0);
    assert_eq!(
        h.ok(&["images"]),
        "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    );
}

#[test]
fn errors_are_one_line_with_a_fix_and_exit_1() {
    let h = Husk::new();
    let err = h.fails(&["image", "inspect", "nope"]);
    assert!(err.contains("nope"), "{err}");
    let err = h.fails(&["history", "foo"]);
    assert_eq!(
        err,
        "husk: image \"foo:latest\" not found: pull it with 'husk pull foo:latest', or load it with 'husk load -i FILE'\n"
    );
    let err = h.fails(&["tag", "foo", "Bad"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = h.fails(&["load", "-i", "/nonexistent.tar"]);
    assert!(err.contains("/nonexistent.tar"), "{err}");
}

#[test]
fn history_lists_the_import() {
    husk_fixtures::require_root!("history_lists_the_import");
    let work = tempdir();
    let tar = busybox_tar(work.path());
    let h = Husk::new();
    let id = h
        .ok(&["import", "-m", "hello", tar.to_str().unwrap(), "h"])
        .trim()
        .to_string();
    let out = h.ok(&["history", "h"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("IMAGE          CREATED"), "{out}");
    assert!(lines[1].starts_with(&id[7..19]), "{out}");
    assert!(
        lines[1].contains("husk import") && lines[1].ends_with("hello"),
        "{out}"
    );
}
