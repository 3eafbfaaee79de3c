use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {}", path.display())]
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
        "image {name:?} not found: pull it with 'husk pull {name}', or load it with 'husk load -i FILE'"
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
    #[error("{}: {reason}", shown(path))]
    Archive { path: PathBuf, reason: String },
    #[error("{} is not a docker-archive or OCI archive ({reason})", shown(path))]
    NotArchive { path: PathBuf, reason: String },
    #[error("{what} while writing {target} to {}: free space on that filesystem (remove unused images with 'husk image prune -a', stopped containers with 'husk rm') and retry", path.display())]
    NoSpace {
        /// "no space left on device (ENOSPC)" or the quota's words.
        what: &'static str,
        /// What was being written: "layer sha256:...".
        target: String,
        /// The store root.
        path: PathBuf,
    },
    #[error("parse {what}")]
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

impl Error {
    /// An error caused by a full filesystem (or an exhausted quota),
    /// whatever wraps it, made into one that says so: the writer's ENOSPC
    /// is the cause to report, not the step that happened to hit it.
    pub fn explain_no_space(self, target: impl FnOnce() -> String, root: &Path) -> Error {
        if matches!(self, Error::NoSpace { .. }) {
            return self;
        }
        match no_space(&self) {
            Some(what) => Error::NoSpace {
                what,
                target: target(),
                path: root.to_path_buf(),
            },
            None => self,
        }
    }

    /// The same error naming `to` where it named the file `from` (an
    /// archive spooled from stdin is shown as "stdin", not as a temp file).
    pub fn renamed(self, from: &Path, to: &Path) -> Error {
        match self {
            Error::Archive { path, reason } if path == from => Error::Archive {
                path: to.to_path_buf(),
                reason,
            },
            Error::NotArchive { path, reason } if path == from => Error::NotArchive {
                path: to.to_path_buf(),
                reason,
            },
            other => other,
        }
    }
}

fn no_space(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::StorageFull => return Some("no space left on device (ENOSPC)"),
                std::io::ErrorKind::QuotaExceeded => return Some("disk quota exceeded (EDQUOT)"),
                _ => {}
            }
        }
        cur = e.source();
    }
    None
}

/// A path as it can be printed on one line: control characters escaped,
/// non-UTF-8 bytes replaced, and at most 200 characters, whatever a hostile
/// archive or a careless argument put in it.
pub fn shown(path: &Path) -> String {
    printable(&path.to_string_lossy(), 200)
}

pub use husk_fs::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_and_cuts() {
        assert_eq!(printable("a\nb\x1b[2J", 100), "a\\nb\\u{1b}[2J");
        assert_eq!(printable(&"x".repeat(300), 5), "xxxxx...");
    }

    #[test]
    fn no_space_is_found_through_wrappers() {
        let io = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let e = Error::Layers(husk_layers::Error::io("write", "/s/tmp/f", io));
        let e = e.explain_no_space(|| "layer x".into(), Path::new("/s"));
        let msg = e.to_string();
        assert!(
            msg.starts_with("no space left on device (ENOSPC) while writing layer x to /s"),
            "{msg}"
        );
        let other = Error::io("write", "/f", std::io::Error::from_raw_os_error(libc::EIO));
        assert!(matches!(
            other.explain_no_space(|| "x".into(), Path::new("/")),
            Error::Io { .. }
        ));
    }
}
