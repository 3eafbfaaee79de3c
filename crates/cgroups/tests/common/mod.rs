//! Helpers for the root tests on the real kernel.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use husk_cgroups::{Layout, Manager, Version};

/// A cgroup path no other test (or test run) uses.
pub fn unique(tag: &str) -> String {
    format!("/{}", husk_fixtures::unique(&format!("husk-test-cg-{tag}")))
}

/// The cgroup plus the processes a test started in it; dropping it (also on panic) kills
/// those processes and destroys the cgroup.
pub struct Cg {
    pub m: Manager,
    pub children: Vec<Child>,
}

impl Cg {
    pub fn new(path: &str) -> Cg {
        let m = Manager::new(Some(path), path.rsplit('/').next().unwrap(), false).unwrap();
        Cg {
            m,
            children: Vec::new(),
        }
    }

    pub fn with_layout(layout: &Layout, path: &str) -> Cg {
        let m = Manager::with_layout(layout, Some(path), "t", false).unwrap();
        Cg {
            m,
            children: Vec::new(),
        }
    }

    /// Starts `script` under busybox sh, moved into the cgroup before it runs a single
    /// command of the script (it waits for a line on stdin first). Returns its index.
    pub fn spawn(&mut self, script: &str) -> usize {
        let mut child = Command::new("/bin/busybox")
            .args(["sh", "-c", &format!("read _go; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.m.apply(child.id() as i32).unwrap();
        child.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
        self.children.push(child);
        self.children.len() - 1
    }

    pub fn pid(&self, i: usize) -> i32 {
        self.children[i].id() as i32
    }

    /// Reads one line of the child's stdout (a "ready" marker).
    pub fn read_line(&mut self, i: usize) -> String {
        let out = self.children[i].stdout.take().unwrap();
        let mut r = BufReader::new(out);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        line
    }
}

impl Drop for Cg {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Err(e) = self.m.destroy() {
            eprintln!(
                "cleanup of {:?} failed: {e}",
                self.m.dirs().first().map(|d| &d.path)
            );
        }
    }
}

/// User+system ticks of a process, from /proc/PID/stat.
pub fn cpu_ticks(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of the full line; the state is field 3.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

pub use husk_fixtures::wait_until;

/// True when the host mounts `controller` as a v1 hierarchy.
pub fn host_has_v1(controller: &str) -> bool {
    Layout::host()
        .map(|l| {
            l.hierarchies
                .iter()
                .any(|h| h.version == Version::V1 && h.controllers.iter().any(|c| c == controller))
        })
        .expect("read the host's cgroup layout")
}
