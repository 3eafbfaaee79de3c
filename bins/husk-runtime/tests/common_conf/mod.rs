//! Helpers shared by the conformance suites (config_process, config_linux,
//! security, runtime_errors, cli_flags, runtime_peers), on top of `common`.
//! A directory module so that cargo does not build it as a test of its own.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{cgroup_dirs, mounts_under, Bundle, Rt};

pub fn p(b: &Bundle) -> &str {
    b.path().to_str().unwrap_or_default()
}

/// `husk-runtime run` of `b` in the foreground; panics unless it exits 0.
/// Returns stdout.
pub fn run_ok(rt: &Rt, b: &Bundle, name: &str) -> String {
    let (code, out, err) = rt.run_bundle(b, name);
    assert_eq!(
        code, 0,
        "run {name} exited {code}\nstdout: {out}\nstderr: {err}"
    );
    out
}

/// The value of one `Key:\tvalue` line of `payload status`.
pub fn field(status: &str, key: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in {status}"))
}

/// Asserts that a refused command failed closed: a non-zero exit, exactly
/// one non-empty line on stderr containing every needle, and nothing left
/// for `id` (no state dir, no cgroup dir, no mounts under the bundle).
pub fn assert_refused(
    rt: &Rt,
    out: &Output,
    id: &str,
    bundle: Option<&Path>,
    needles: &[&str],
) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "want exactly one line on stderr, got: {err:?}"
    );
    assert!(!lines[0].trim().is_empty(), "empty error line");
    for n in needles {
        assert!(err.contains(n), "stderr does not mention {n:?}: {err}");
    }
    assert_nothing_left(rt, id, bundle);
    err
}

pub fn assert_nothing_left(rt: &Rt, id: &str, bundle: Option<&Path>) {
    assert!(!rt.root.path().join(id).exists(), "state dir left for {id}");
    let left: Vec<_> = std::fs::read_dir(rt.root.path())
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "runtime root not empty: {left:?}");
    assert!(
        cgroup_dirs(id).is_empty(),
        "cgroup dirs left: {:?}",
        cgroup_dirs(id)
    );
    if let Some(b) = bundle {
        assert!(
            mounts_under(b).is_empty(),
            "mounts left: {:?}",
            mounts_under(b)
        );
    }
}

/// A runtime command running in the background with stdout and stderr in
/// files (a container's init inherits them, see `Rt::run`).
pub struct Bg {
    pub child: Child,
    out: File,
    err: File,
}

impl Bg {
    pub fn spawn(mut cmd: Command) -> Bg {
        let out = tempfile::tempfile().expect("stdout file");
        let err = tempfile::tempfile().expect("stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(err.try_clone().expect("dup"))
            .spawn()
            .expect("spawn runtime");
        Bg { child, out, err }
    }

    pub fn stdout(&self) -> String {
        read_file(&self.out)
    }

    pub fn stderr(&self) -> String {
        read_file(&self.err)
    }

    /// Waits up to `secs` for the process; kills it after that.
    pub fn wait(&mut self, secs: u64) -> (i32, String, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return (st.code().unwrap_or(-1), self.stdout(), self.stderr());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "runtime did not finish in {secs}s\nstdout: {}\nstderr: {}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_file(f: &File) -> String {
    use std::io::{Read, Seek};
    let mut f = f.try_clone().expect("dup");
    let mut s = String::new();
    let _ = f.rewind();
    let _ = f.read_to_string(&mut s);
    s
}

/// Unmounts (lazily) on drop: host-side mounts a test makes are undone
/// even when an assertion fails first.
pub struct MountGuard(pub PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A host directory for a test, removed on drop (after its mounts).
pub fn host_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("husk-conf-{name}-"))
        .tempdir()
        .expect("host dir")
}

/// The current (soft, hard) limit of `res` for this process, which the
/// runtime it spawns inherits.
pub fn own_rlimit(res: libc::__rlimit_resource_t) -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is a valid rlimit for the call.
    assert_eq!(unsafe { libc::getrlimit(res, &mut r) }, 0);
    (r.rlim_cur, r.rlim_max)
}

/// The path of this process's cgroup in the v1 hierarchy `controller`.
pub fn own_cgroup(pid: &str, controller: &str) -> String {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read cgroup");
    cg.lines()
        .find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
            ctrl.split(',')
                .any(|c| c == controller)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("no {controller} in {cg}"))
}

/// Receives one fd sent with SCM_RIGHTS on `conn`.
pub fn recv_fd(conn: &std::os::unix::net::UnixStream) -> std::os::fd::OwnedFd {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .expect("recvmsg on the console socket");
    for c in msg.cmsgs().expect("cmsgs") {
        if let ControlMessageOwned::ScmRights(fds) = c {
            assert_eq!(fds.len(), 1, "one fd expected: {fds:?}");
            // SAFETY: the fd was just received and is owned by nobody else.
            return unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no SCM_RIGHTS message on the console socket");
}

/// Reads a pty master until the last slave closes (EIO), on a thread.
pub fn read_pty(master: std::os::fd::OwnedFd) -> std::thread::JoinHandle<String> {
    use std::io::Read;
    let mut master = std::fs::File::from(master);
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break, // EIO once the last slave fd closes
                Ok(k) => out.extend_from_slice(&buf[..k]),
            }
        }
        String::from_utf8_lossy(&out).replace('\r', "")
    })
}
