//! One runtime of the peer comparisons (husk-runtime, runc or crun) with
//! its own --root; its containers are deleted with its own binary, and
//! cgroup dirs a peer leaves are removed (and must not exist for
//! husk-runtime).
//!
//! crun refuses this hybrid cgroup host ("cgroups in hybrid mode not
//! supported") unless hugetlb is also mounted as a v1 hierarchy; a crun
//! peer holds a husk_fixtures::HugetlbV1, which mounts it and restores the
//! host after the last of them.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::common::*;
use crate::common_conf::*;

pub struct Peer {
    pub name: &'static str,
    bin: PathBuf,
    pub root: tempfile::TempDir,
    ids: RefCell<Vec<String>>,
    /// crun's v1 hugetlb hierarchy, released after Drop removed the
    /// containers (fields drop after the body).
    _hugetlb: Option<husk_fixtures::HugetlbV1>,
}

impl Peer {
    fn new(name: &'static str, bin: PathBuf) -> Peer {
        // As containerd's shim is: the subreaper of what `run -d` leaves.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        Peer {
            name,
            bin,
            root: tempfile::Builder::new()
                .prefix(&format!("husk-peer-{name}-"))
                .tempdir()
                .expect("peer root"),
            ids: Default::default(),
            _hugetlb: None,
        }
    }

    pub fn husk() -> Option<Peer> {
        Some(Peer::new("husk", bin()))
    }

    pub fn runc() -> Option<Peer> {
        let bin = PathBuf::from("/usr/sbin/runc");
        if !bin.exists() {
            skip("runc", "runc is not installed");
            return None;
        }
        Some(Peer::new("runc", bin))
    }

    pub fn crun() -> Option<Peer> {
        let bin = PathBuf::from("/usr/bin/crun");
        if !bin.exists() {
            skip("crun", "crun is not installed");
            return None;
        }
        let hugetlb = husk_fixtures::HugetlbV1::acquire();
        let mut peer = Peer::new("crun", bin);
        peer._hugetlb = Some(hugetlb);
        Some(peer)
    }

    /// A busybox bundle for this runtime. crun 1.8.1 refuses ociVersion
    /// 1.2.0 ("unknown version specified"): it gets 1.0.2, which has every
    /// field these cases use.
    pub fn bundle(&self, args: &[&str]) -> Bundle {
        let mut b = Bundle::new(args);
        if self.name == "crun" {
            b.edit(|c| c["ociVersion"] = json!("1.0.2"));
        }
        b
    }

    pub fn id(&self, name: &str) -> String {
        let id = unique(&format!("husk-p-{}-{name}", self.name));
        self.ids.borrow_mut().push(id.clone());
        id
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(self.root.path()).args(args);
        c
    }

    /// The version number from `--version` ("runc version 1.1.5+ds1").
    pub fn version(&self) -> String {
        let out = self.cmd(&["--version"]).output().expect("--version");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let first = text.lines().next().unwrap_or_default();
        first.rsplit(' ').next().unwrap_or_default().to_string()
    }

    /// `run` in the foreground: (exit code, stdout, stderr).
    pub fn run_bundle(&self, b: &Bundle, name: &str) -> (i32, String, String) {
        let id = self.id(name);
        Bg::spawn(self.cmd(&["run", "--bundle", p(b), &id])).wait(30)
    }

    pub fn run_ok(&self, b: &Bundle, name: &str) -> String {
        let (code, out, err) = self.run_bundle(b, name);
        assert_eq!(
            code, 0,
            "{} run {name}: exit {code}\nstdout: {out}\nstderr: {err}",
            self.name
        );
        out
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            let _ = Bg::spawn(self.cmd(&["delete", "-f", id])).wait(30);
            let mut left = cgroup_dirs(id);
            if self.name == "husk" && !left.is_empty() && !std::thread::panicking() {
                panic!("husk-runtime left cgroup dirs for {id}: {left:?}");
            }
            left.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            for d in left {
                let _ = std::fs::remove_dir(&d);
            }
        }
    }
}

/// `peer_suite!(husk, runc; [case, ...])`: one #[test] per runtime and
/// case, `mod <runtime> { fn <case>() }`, each calling `case(&Peer)`.
macro_rules! peer_suite {
    ($($runtime:ident),*; $cases:tt) => {
        $( peer_suite!(@one $runtime $cases); )*
    };
    (@one $runtime:ident [$($case:ident),* $(,)?]) => {
        mod $runtime {
            $(
                #[test]
                fn $case() {
                    husk_fixtures::require_root!(concat!(stringify!($runtime), "::", stringify!($case)));
                    let Some(rt) = super::Peer::$runtime() else { return };
                    super::$case(&rt);
                }
            )*
        }
    };
}
