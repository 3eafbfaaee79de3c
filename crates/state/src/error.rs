use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("container {0} does not exist")]
    NotFound(String),
    #[error("container {0} is locked by another operation that did not finish in 30s")]
    Busy(String),
    #[error("container {0} already exists (delete it first, or pick another id)")]
    Exists(String),
    #[error("invalid container id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("invalid container id {id:?}: it is {len} bytes long, at most {max} are allowed (it names the container's directory under --root; use a shorter id)")]
    IdTooLong { id: String, len: usize, max: usize },
    #[error("state of container {id} is unreadable ({}): {reason}", path.display())]
    Corrupt {
        id: String,
        path: PathBuf,
        reason: String,
    },
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
