use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error(transparent)]
    Layers(#[from] husk_layers::Error),
    #[error(
        "image {name:?} not found: load it with 'husk load -i FILE' or 'husk import FILE {name}'"
    )]
    NotFound { name: String },
    #[error("image id prefix {prefix:?} matches several images: give more digits")]
    Ambiguous { prefix: String },
    #[error("invalid reference format {name:?}: {reason}")]
    InvalidReference { name: String, reason: &'static str },
    #[error("{what} digest mismatch: expected {expected}, got {actual}: the data is corrupt, nothing was stored")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{}: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("parse {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("conflict: unable to remove repository reference \"{reference}\" (must force) - container {container} is using its referenced image {image}: remove the container first, or use -f to untag it")]
    ReferenceInUse {
        reference: String,
        container: String,
        image: String,
    },
    #[error("conflict: unable to delete {image} (cannot be forced) - image is being used by running container {container}: stop and remove the container first")]
    UsedByRunning { image: String, container: String },
    #[error("conflict: unable to delete {image} (must be forced) - image is being used by stopped container {container}: remove the container first or use -f")]
    UsedByStopped { image: String, container: String },
    #[error("conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories: untag with 'husk rmi REPO:TAG' or use -f")]
    MultipleRepos { short: String },
    #[error("{0}")]
    Unsupported(String),
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

    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            what: what.into(),
            source,
        }
    }

    pub fn archive(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Archive {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
