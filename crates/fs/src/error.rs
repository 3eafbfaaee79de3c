use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is a {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: String },
    #[error("{} is larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{} is owned by uid {owner}, not by uid {me} who runs husk: another user could put setuid files in it; chown {me} it or choose another directory", path.display())]
    NotOurs { path: PathBuf, owner: u32, me: u32 },
    #[error("{} is open to other users and is not a husk store: husk keeps setuid files and device nodes in its directories, so give it one of its own (empty or new), or chmod 700 this one", path.display())]
    NotAStore { path: PathBuf },
    #[error("encode {}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
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

    pub fn nix(op: &'static str, path: impl Into<PathBuf>, errno: nix::errno::Errno) -> Self {
        Error::io(op, path, std::io::Error::from_raw_os_error(errno as i32))
    }

    /// The errno behind this error, so callers can branch on ENOENT and friends.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            Error::NotRegular { .. } => Some(libc::EINVAL),
            Error::TooLarge { .. } => Some(libc::EFBIG),
            Error::NotOurs { .. } | Error::NotAStore { .. } => Some(libc::EPERM),
            Error::Json { .. } => None,
        }
    }
}

/// Whether `e`, or any error it wraps, is a full filesystem (ENOSPC) or an
/// exhausted quota (EDQUOT): callers report these as such, and may carry
/// on where a write that needs space is not essential.
pub fn is_no_space(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

/// An error and the errors that caused it, on one line joined by ": ".
///
/// husk's error types keep their cause out of their own message (it is
/// their `source()`), so `{e}` alone shows only the outer step. Wherever an
/// error becomes text (a message to another process, a warning, a record),
/// format it through this so the cause is said exactly once.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'a));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cur = self.0.source();
        while let Some(cause) = cur {
            write!(f, ": {cause}")?;
            cur = cause.source();
        }
        Ok(())
    }
}

/// `e` and its causes as one line (see [`Chain`]).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    Chain(e).to_string()
}

/// `text` escaped for a terminal and cut at `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_says_each_cause_once() {
        let e = Error::io(
            "open",
            "/nope",
            std::io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert_eq!(e.to_string(), "open /nope");
        assert_eq!(
            error_chain(&e),
            "open /nope: No such file or directory (os error 2)"
        );
    }
}
