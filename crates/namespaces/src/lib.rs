//! Linux namespaces as the spec names them: which ones a container creates
//! (clone flags), which it joins by path (setns), and the order joins need.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("linux.namespaces: {0}")]
    Invalid(String),
    #[error("join {kind} namespace {}", path.display())]
    Join {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("unshare {kind} namespace")]
    Unshare {
        kind: &'static str,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// The namespaces a container asks for, split by how each is obtained.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Created fresh, in the clone that starts the container's init.
    pub new: CloneFlags,
    /// Joined by path with setns (the runtime parent joins pid ones before
    /// forking; the init joins the rest).
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
}

impl Plan {
    pub fn from_spec(namespaces: &[LinuxNamespace]) -> Result<Plan> {
        let mut plan = Plan {
            new: CloneFlags::empty(),
            join: Vec::new(),
        };
        let mut seen = Vec::new();
        for ns in namespaces {
            let typ = ns.typ();
            if seen.contains(&typ) {
                return Err(Error::Invalid(format!("{} listed twice", name(typ))));
            }
            seen.push(typ);
            if typ == LinuxNamespaceType::Time {
                return Err(Error::Invalid(format!(
                    "{} namespaces are not supported yet (remove it from linux.namespaces)",
                    name(typ)
                )));
            }
            match ns.path() {
                Some(p) if !p.as_os_str().is_empty() => {
                    if !p.exists() {
                        return Err(Error::Invalid(format!(
                            "{} path {} does not exist",
                            name(typ),
                            p.display()
                        )));
                    }
                    plan.join.push((typ, p.clone()));
                }
                _ => plan.new |= flag(typ),
            }
        }
        Ok(plan)
    }

    pub fn creates(&self, typ: LinuxNamespaceType) -> bool {
        self.new.contains(flag(typ))
    }

    /// True when the container has its own namespace of this type, new or joined.
    pub fn has(&self, typ: LinuxNamespaceType) -> bool {
        self.creates(typ) || self.join.iter().any(|(t, _)| *t == typ)
    }
}

/// The clone flag of a namespace type.
pub fn flag(typ: LinuxNamespaceType) -> CloneFlags {
    CloneFlags::from_bits_retain(typ as libc::c_int)
}

/// The spec's name of a namespace type, for messages.
pub fn name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mount",
        LinuxNamespaceType::Cgroup => "cgroup",
        LinuxNamespaceType::Uts => "uts",
        LinuxNamespaceType::Ipc => "ipc",
        LinuxNamespaceType::User => "user",
        LinuxNamespaceType::Pid => "pid",
        LinuxNamespaceType::Network => "network",
        LinuxNamespaceType::Time => "time",
    }
}

/// The file under /proc/PID/ns for a namespace type.
pub fn proc_name(typ: LinuxNamespaceType) -> &'static str {
    match typ {
        LinuxNamespaceType::Mount => "mnt",
        LinuxNamespaceType::Network => "net",
        LinuxNamespaceType::Pid => "pid",
        other => name(other),
    }
}

/// Joins the namespace at `path` (a /proc/PID/ns/* file or a bind mount of one).
pub fn join(typ: LinuxNamespaceType, path: &Path) -> Result<()> {
    let err = |source| Error::Join {
        kind: name(typ),
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(err)?;
    nix::sched::setns(f.as_fd(), flag(typ)).map_err(|e| err(std::io::Error::from(e)))
}

/// Creates and enters a new namespace for the calling process.
pub fn unshare(typ: LinuxNamespaceType) -> Result<()> {
    nix::sched::unshare(flag(typ)).map_err(|e| Error::Unshare {
        kind: name(typ),
        source: e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(json: &str) -> Vec<LinuxNamespace> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn new_namespaces_become_clone_flags() {
        let plan = Plan::from_spec(&ns(
            r#"[{"type":"pid"},{"type":"network"},{"type":"mount"}]"#,
        ))
        .unwrap();
        assert_eq!(
            plan.new,
            CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS
        );
        assert!(plan.join.is_empty());
    }

    #[test]
    fn paths_are_joined_not_created() {
        let plan =
            Plan::from_spec(&ns(r#"[{"type":"network","path":"/proc/self/ns/net"}]"#)).unwrap();
        assert!(plan.new.is_empty());
        assert_eq!(plan.join.len(), 1);
        assert!(plan.has(LinuxNamespaceType::Network));
    }

    #[test]
    fn duplicates_and_missing_paths_are_errors() {
        let e = Plan::from_spec(&ns(r#"[{"type":"pid"},{"type":"pid"}]"#)).unwrap_err();
        assert!(e.to_string().contains("pid listed twice"), "{e}");
        let e = Plan::from_spec(&ns(r#"[{"type":"uts","path":"/nonexistent/ns"}]"#)).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ns"), "{e}");
    }

    #[test]
    fn user_namespace_is_created_and_time_fails_closed() {
        let plan = Plan::from_spec(&ns(r#"[{"type":"user"},{"type":"mount"}]"#)).unwrap();
        assert!(plan.creates(LinuxNamespaceType::User));
        let e = Plan::from_spec(&ns(r#"[{"type":"time"}]"#)).unwrap_err();
        assert!(
            e.to_string().contains("time namespaces are not supported"),
            "{e}"
        );
    }
}
