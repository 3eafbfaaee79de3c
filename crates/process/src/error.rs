use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config.json field that is invalid or not supported; the message
    /// starts with the field's path (e.g. `process.rlimits[0]`).
    #[error("{0}")]
    Spec(String),
    #[error("{op} {}", target.display())]
    Sys {
        op: &'static str,
        target: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error the container's init reported from inside its namespaces.
    #[error("{0}")]
    Init(String),
    #[error("container {id} is {status}: {hint}")]
    WrongState {
        id: String,
        status: String,
        hint: &'static str,
    },
    #[error("{0}")]
    Hook(String),
    /// The container was created without a cgroup (none is recorded).
    #[error("container {id} has no cgroup")]
    NoCgroup { id: String },
    /// A part of the state recorded at create time (the cgroup, the spec)
    /// cannot be encoded or read back: acting without it would leak the
    /// cgroup or skip hooks, so the verb stops instead.
    #[error("{op} the {what} of container {id} in its state")]
    Record {
        op: &'static str,
        what: &'static str,
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Namespaces(#[from] husk_namespaces::Error),
    #[error("cgroup")]
    Cgroups(#[from] husk_cgroups::Error),
    #[error(transparent)]
    State(#[from] husk_state::Error),
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error(transparent)]
    Bundle(#[from] husk_spec::Error),
    #[error(transparent)]
    Seccomp(#[from] husk_seccomp::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn record(
        op: &'static str,
        what: &'static str,
        id: &str,
    ) -> impl FnOnce(serde_json::Error) -> Error {
        let id = id.to_string();
        move |source| Error::Record {
            op,
            what,
            id,
            source,
        }
    }

    pub fn sys(op: &'static str, target: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Sys {
            op,
            target: target.into(),
            source,
        }
    }
}

/// Attaches an operation and a path to an io::Result.
pub(crate) trait Context<T> {
    fn ctx(self, op: &'static str, target: impl Into<PathBuf>) -> Result<T>;
}

impl<T> Context<T> for std::io::Result<T> {
    fn ctx(self, op: &'static str, target: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::sys(op, target, e))
    }
}

impl<T> Context<T> for nix::Result<T> {
    fn ctx(self, op: &'static str, target: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::sys(op, target, e.into()))
    }
}
