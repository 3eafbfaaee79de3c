use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("write {value:?} to {}", path.display())]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse {}: {msg}", path.display())]
    Parse { path: PathBuf, msg: String },
    #[error("invalid cgroups path {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    #[error("invalid {field}: {reason}")]
    InvalidResource { field: String, reason: String },
    #[error("cannot set {field}: controller {controller} is not mounted on this host")]
    ControllerMissing {
        field: String,
        controller: &'static str,
    },
    #[error("{field} is not supported on cgroup {version}: {reason}")]
    Unsupported {
        field: String,
        version: &'static str,
        reason: String,
    },
    #[error("systemd cgroup driver: {reason}")]
    Systemd { reason: String },
    #[error("no cgroup hierarchy found in {}", path.display())]
    NoHierarchy { path: PathBuf },
    #[error("freeze {}: {reason}", path.display())]
    Freeze { path: PathBuf, reason: String },
    #[error("destroy {}: {reason}", path.display())]
    Destroy { path: PathBuf, reason: String },
    #[error("bpf load device program for {} (verifier log: {log})", path.display())]
    BpfLoad {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        log: String,
    },
    #[error("bpf {op} on {}", path.display())]
    Bpf {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidResource {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The errno behind this error, so callers can branch on ENOENT, EBUSY and friends.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Write { source, .. }
            | Error::Io { source, .. }
            | Error::Bpf { source, .. }
            | Error::BpfLoad { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}
