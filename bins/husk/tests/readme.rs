//! README.md's examples, run as written: every ```sh block (but the
//! first, whose `make install`/`make test` would rebuild and rerun this
//! suite) runs in bash, in order, as root against the real kernel, with
//! the built husk and husk-runtime first on PATH, inside the test's own
//! network namespace, a private engine root and runroot, a private
//! husk-runtime root and a scratch directory holding the repository's
//! `scripts/`. Each logical line must exit 0; a few outputs the README
//! promises are checked. Whatever the examples leave is removed, and the
//! engine checks on drop that nothing is left.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::engine::*;
use husk_fixtures::require_root;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ```sh blocks of `text`, in order.
fn sh_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Backslash-continued lines joined: one entry per command line as typed.
fn logical_lines(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::new();
    for line in block.lines() {
        match line.strip_suffix('\\') {
            Some(part) => {
                acc.push_str(part);
                acc.push(' ');
            }
            None => {
                acc.push_str(line);
                out.push(std::mem::take(&mut acc));
            }
        }
    }
    out
}

/// The block as a script that stops at the first line that fails, naming it.
fn checked_script(block: &str) -> String {
    let mut s = String::new();
    for (n, line) in logical_lines(block).iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        s.push_str(line);
        s.push('\n');
        let shown = line.replace('\'', "'\\''");
        s.push_str(&format!(
            "rc=$?; if [ $rc -ne 0 ]; then echo 'README line {} failed:' \"($rc)\" '{shown}' >&2; exit 1; fi\n",
            n + 1
        ));
    }
    s
}

#[test]
fn blocks_are_found_and_lines_joined() {
    let text = "a\n```sh\nx \\\n  y\nz\n```\n```toml\nk = 1\n```\n```sh\nw\n```\n";
    let blocks = sh_blocks(text);
    assert_eq!(blocks, ["x \\\n  y\nz\n", "w\n"]);
    assert_eq!(logical_lines(&blocks[0]), ["x    y", "z"]);
    let s = checked_script("false\n");
    assert!(s.contains("README line 1 failed"), "{s}");
}

#[test]
fn links_stay_inside_the_repository() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let target = &rest[..rest.find(')').unwrap_or(rest.len())];
        assert!(
            !target.starts_with('/') && !target.starts_with("..") && !target.contains("://"),
            "README links outside the repository: {target}"
        );
        let file = target.split('#').next().unwrap_or_default();
        assert!(
            repo().join(file).exists(),
            "README links to {target}, which the repository lacks"
        );
    }
}

#[test]
fn readme_examples_run_as_written() {
    require_root!("readme_examples_run_as_written");
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = sh_blocks(&text);
    assert!(blocks.len() >= 5, "README's sh blocks: {blocks:#?}");
    assert!(
        blocks[0].contains("make install"),
        "the first block is the make one: {}",
        blocks[0]
    );
    let e = Engine::new();
    let work = tempdir("husk-readme-");
    std::os::unix::fs::symlink(repo().join("scripts"), work.path().join("scripts")).unwrap();
    let rt_root = tempdir("hkrt-");
    let bin = Path::new(env!("CARGO_BIN_EXE_husk")).parent().unwrap();
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin.display());
    let mut all_out = String::new();
    let mut failure = None;
    for (i, block) in blocks.iter().enumerate().skip(1) {
        let script = work.path().join(format!("block{i}.sh"));
        std::fs::write(&script, checked_script(block)).unwrap();
        // `run -it` needs a terminal: `script` gives the block one, and
        // what is "typed" on it ends the container's shell.
        let interactive = block.contains(" -it ");
        let mut cmd = if interactive {
            let mut c = e.netns.command("script");
            c.arg("-qec")
                .arg(format!("bash {}", script.display()))
                .arg("/dev/null");
            c
        } else {
            let mut c = e.netns.command("bash");
            c.arg(&script);
            c
        };
        cmd.current_dir(work.path())
            .env_clear()
            .env("PATH", &path)
            .env("HOME", work.path())
            .env("TERM", "xterm")
            .env("HUSK_ROOT", e.root.path())
            .env("HUSK_RUNROOT", e.runroot.path())
            .env("HUSK_CONFIG", e.config_path())
            .env("HUSK_RUNTIME_ROOT", rt_root.path());
        if let Ok(init) = std::env::var("HUSK_INIT") {
            cmd.env("HUSK_INIT", init);
        }
        if interactive {
            let typed = work.path().join("typed");
            std::fs::write(&typed, "exit\n").unwrap();
            cmd.stdin(std::fs::File::open(&typed).unwrap());
        } else {
            cmd.stdin(Stdio::null());
        }
        let out = husk_fixtures::output_via_files(&mut cmd);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        all_out.push_str(&stdout);
        if !out.status.success() {
            failure = Some(format!(
                "README block {i} failed ({}):\n{block}\nstdout:\n{stdout}\nstderr:\n{stderr}",
                out.status
            ));
            break;
        }
    }
    // Whatever a failed block left in husk-runtime's root goes first.
    for entry in std::fs::read_dir(rt_root.path())
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::process::Command::new(bin.join("husk-runtime"))
            .arg("--root")
            .arg(rt_root.path())
            .args(["delete", "--force"])
            .arg(entry.file_name())
            .output();
    }
    if let Some(f) = failure {
        panic!("{f}");
    }
    let left: Vec<_> = std::fs::read_dir(rt_root.path())
        .unwrap()
        .flatten()
        .map(|d| d.file_name())
        .collect();
    assert!(left.is_empty(), "husk-runtime state left: {left:?}");
    // What the README's comments promise.
    for want in [
        "hello\n3\n",
        "419430400",
        "hello from husk\n",
        "built\n",
        "D /etc/group\n",
        "A /note\n",
        "Using cache",
        // husk-runtime exec's view of a user namespace's uid_map.
        "         0     100000      65536\n",
    ] {
        assert!(
            all_out.replace("\r\n", "\n").contains(want),
            "README output lacks {want:?}:\n{all_out}"
        );
    }
    assert_eq!(all_out.matches("hello from husk").count(), 2, "{all_out}");
}
