use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {}", shown(path))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Fs(#[from] husk_fs::Error),
    #[error("read layer stream")]
    Stream(#[source] std::io::Error),
    #[error("layer {0} stream is corrupt or truncated")]
    Decompress(&'static str, #[source] std::io::Error),
    #[error("not a tar archive ({0}): a layer must be a tar, tar+gzip or tar+zstd stream")]
    NotTar(String),
    #[error("layer tar is corrupt at byte {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    #[error(
        "layer tar is truncated: unexpected end of the stream after {0} bytes, inside an entry"
    )]
    Truncated(u64),
    #[error("write layer blob copy")]
    BlobWrite(#[source] std::io::Error),
    #[error("layer entry {}: {reason}", shown(path))]
    UnsafeEntry { path: PathBuf, reason: &'static str },
    /// A `cp` that would replace what it must not.
    #[error("{}: {reason}", shown(path))]
    Copy { path: PathBuf, reason: &'static str },
    #[error("layer entry {}: unsupported tar entry type {kind}", shown(path))]
    UnsupportedEntry { path: PathBuf, kind: String },
    #[error("layer compression: {0}")]
    Compression(String),
    #[error("invalid digest {0:?}: want sha256:<64 hex digits>")]
    BadDigest(String),
    #[error("{what} digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("overlay mount on {}: {reason}", path.display())]
    Overlay { path: PathBuf, reason: String },
    #[error("layer {chain_id}: {reason}")]
    Layer { chain_id: String, reason: String },
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

    pub fn nix(op: &'static str, path: impl Into<PathBuf>, errno: nix::errno::Errno) -> Self {
        Error::io(op, path, std::io::Error::from_raw_os_error(errno as i32))
    }
}

/// A path named by a layer, as it can be printed: the names come from the
/// archive, so control characters are escaped and a huge name is cut.
fn shown(path: &Path) -> String {
    husk_fs::printable(&path.to_string_lossy(), 300)
}
