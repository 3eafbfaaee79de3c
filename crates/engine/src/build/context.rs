//! The build context: a directory, or a tar stream (stdin) unpacked into
//! the build's private temp dir. Every source a COPY/ADD names is resolved
//! by descriptor with `RESOLVE_BENEATH`, so `../x` and a symlink leading
//! out of the context are refused by the kernel, never by string checks;
//! what `.dockerignore` excludes is invisible to COPY and to the cache.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, SFlag};

use crate::{Error, Result};

/// Which context paths `.dockerignore` excludes (relative, `/`-separated,
/// no leading `/`).
pub type Ignore = Box<dyn Fn(&str) -> bool>;

/// Whether an excluded directory holds re-included (`!`) paths.
pub type Descend = Box<dyn Fn(&str) -> bool>;

/// A context directory opened once; its path is only for messages.
pub struct Context {
    pub(crate) root: OwnedFd,
    pub(crate) shown: PathBuf,
    ignore: Option<Ignore>,
    descend: Option<Descend>,
    /// A stage's or image's rootfs (`COPY --from`): symlinks resolve inside
    /// it as they would in a container, rather than being refused.
    in_root: bool,
}

/// Deeper trees are refused rather than risk the stack.
const MAX_DEPTH: u32 = 256;

fn own(fd: i32) -> OwnedFd {
    // SAFETY: called only on descriptors that open/openat2 just returned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

pub(crate) fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

impl Context {
    /// Opens a context directory.
    pub fn dir(path: &Path) -> Result<Context> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map(own)
        .map_err(|e| Error::Build {
            msg: format!(
                "unable to prepare context: {}: {e}: give an existing directory or - for a tar on stdin",
                path.display()
            ),
        })?;
        Ok(Context {
            root: fd,
            shown: path.to_path_buf(),
            ignore: None,
            descend: None,
            in_root: false,
        })
    }

    /// A mounted rootfs as a COPY source (`COPY --from`).
    pub fn rootfs(path: &Path, shown: &str) -> Result<Context> {
        let mut c = Context::dir(path)?;
        c.in_root = true;
        c.shown = PathBuf::from(shown);
        Ok(c)
    }

    /// Unpacks a context tar (plain, gzip or zstd) from `reader` into `dir`
    /// (an empty directory the caller owns and removes), through the same
    /// hostile-archive-safe unpacker as image layers.
    pub fn tar<R: Read + Send>(reader: R, dir: &Path) -> Result<Context> {
        husk_layers::unpack(reader, None, None, Some(dir)).map_err(|e| Error::Build {
            msg: format!(
                "read the build context from stdin: {}: pipe a tar archive of the context",
                husk_fs::Chain(&e)
            ),
        })?;
        let mut c = Context::dir(dir)?;
        c.shown = PathBuf::from("-");
        Ok(c)
    }

    /// Sets the `.dockerignore` matcher.
    pub fn set_ignore(&mut self, ignore: Ignore, descend: Descend) {
        self.ignore = Some(ignore);
        self.descend = Some(descend);
    }

    /// An excluded directory that must still be walked for its exceptions.
    pub fn descend(&self, rel: &str) -> bool {
        self.descend.as_ref().is_some_and(|f| f(rel))
    }

    pub fn ignored(&self, rel: &str) -> bool {
        !rel.is_empty() && self.ignore.as_ref().is_some_and(|f| f(rel))
    }

    /// Reads a small regular file of the context (the Dockerfile,
    /// `.dockerignore`); `None` when missing.
    pub fn read_file(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let fd = match self.open(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY) {
            Ok(fd) => fd,
            Err(Error::Build { .. }) | Err(Error::Io { .. }) if !self.exists(rel) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| Error::io("stat", self.shown.join(rel), e.into()))?;
        if kind(&st) != SFlag::S_IFREG {
            return Err(Error::Build {
                msg: format!("{rel} in the build context is not a regular file"),
            });
        }
        let mut data = Vec::new();
        File::from(fd)
            .take(16 << 20)
            .read_to_end(&mut data)
            .map_err(|e| Error::io("read", self.shown.join(rel), e))?;
        Ok(Some(data))
    }

    fn exists(&self, rel: &str) -> bool {
        self.open(rel, OFlag::O_PATH).is_ok()
    }

    /// Opens `rel` (relative to the context; a leading `/` means the
    /// context's root, as docker reads COPY sources) without leaving the
    /// context: `..` above it or a symlink out of it is refused.
    pub fn open(&self, rel: &str, flags: OFlag) -> Result<OwnedFd> {
        let mut clean = clean(rel);
        if self.in_root {
            // `..` at the top of a rootfs is its root, as in a container.
            clean = clean
                .components()
                .skip_while(|c| matches!(c, Component::ParentDir))
                .collect();
        }
        let how = OpenHow::new().flags(flags | OFlag::O_CLOEXEC).resolve(
            if self.in_root {
                ResolveFlag::RESOLVE_IN_ROOT
            } else {
                ResolveFlag::RESOLVE_BENEATH
            } | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
        let name = if clean.as_os_str().is_empty() {
            Path::new(".")
        } else {
            clean.as_path()
        };
        loop {
            match nix::fcntl::openat2(self.root.as_raw_fd(), name, how) {
                Ok(fd) => return Ok(own(fd)),
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => continue,
                Err(Errno::EXDEV) => return Err(escape(rel)),
                Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => {
                    return Err(Error::Build {
                        msg: format!(
                            "{rel}: no such file or directory in the build context {}",
                            self.shown.display()
                        ),
                    })
                }
                Err(e) => return Err(Error::io("open", self.shown.join(rel), e.into())),
            }
        }
    }

    /// The context paths (relative, `/`-separated) a COPY source names:
    /// itself, or with glob characters every match, `.dockerignore`d ones
    /// left out. An error when nothing matches, as docker's.
    pub fn expand(&self, source: &str) -> Result<Vec<String>> {
        let clean = clean(source);
        if clean.starts_with("..") && !self.in_root {
            return Err(escape(source));
        }
        let rel = clean.to_string_lossy().into_owned();
        if !has_glob(&rel) {
            if self.ignored(&rel) {
                return Err(Error::Build {
                    msg: format!("{source}: excluded by .dockerignore: not in the build context"),
                });
            }
            // Refuses escapes and missing sources now, with their message.
            self.open(&rel, OFlag::O_PATH)?;
            return Ok(vec![rel]);
        }
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        let mut found = Vec::new();
        self.glob(String::new(), &parts, 0, &mut found)?;
        found.sort();
        if found.is_empty() {
            return Err(Error::Build {
                msg: format!("{source}: no source files were specified (nothing in the build context matches)"),
            });
        }
        Ok(found)
    }

    fn glob(&self, dir: String, parts: &[&str], depth: u32, found: &mut Vec<String>) -> Result<()> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let names = if has_glob(first) {
            self.list(&dir)?
                .into_iter()
                .filter(|n| glob_match(first, n))
                .collect()
        } else {
            vec![first.to_string()]
        };
        for n in names {
            let p = if dir.is_empty() {
                n
            } else {
                format!("{dir}/{n}")
            };
            if self.ignored(&p) && (rest.is_empty() || !self.descend(&p)) {
                continue;
            }
            if rest.is_empty() {
                if self.open(&p, OFlag::O_PATH).is_ok() {
                    found.push(p);
                }
            } else if self.open(&p, OFlag::O_PATH | OFlag::O_DIRECTORY).is_ok() {
                self.glob(p, rest, depth + 1, found)?;
            }
        }
        Ok(())
    }

    /// The names in the context directory `rel`, sorted.
    pub fn list(&self, rel: &str) -> Result<Vec<String>> {
        let fd = self.open(rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
        list_fd(fd, &self.shown.join(rel))
    }

    /// A checksum of what COPY would take from `rel` (a file, or a whole
    /// tree): names, types, permission bits, symlink targets and content,
    /// never times, so a touched but unchanged file still hits the cache.
    pub fn checksum(&self, rel: &str) -> Result<String> {
        let mut h = Hasher::default();
        let fd = self.open(rel, OFlag::O_PATH)?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd())
            .map_err(|e| Error::io("stat", self.shown.join(rel), e.into()))?;
        self.sum(rel, &st, &mut h, 0)?;
        Ok(h.finish())
    }

    fn sum(&self, rel: &str, st: &FileStat, h: &mut Hasher, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::Build {
                msg: format!("{rel}: the build context is nested too deep"),
            });
        }
        h.add(format!("{rel}\0{:o}\0", st.st_mode).as_bytes());
        match kind(st) {
            SFlag::S_IFREG => {
                let fd = self.open(rel, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY)?;
                let mut f = File::from(fd);
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = f
                        .read(&mut buf)
                        .map_err(|e| Error::io("read", self.shown.join(rel), e))?;
                    if n == 0 {
                        break;
                    }
                    h.add(&buf[..n]);
                }
            }
            SFlag::S_IFLNK => {
                let target = self.readlink(rel)?;
                h.add(target.as_bytes());
            }
            SFlag::S_IFDIR => {
                for n in self.list(rel)? {
                    let p = if rel.is_empty() {
                        n
                    } else {
                        format!("{rel}/{n}")
                    };
                    if self.ignored(&p) && !self.descend(&p) {
                        continue;
                    }
                    let st = self.lstat(&p)?;
                    self.sum(&p, &st, h, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `lstat` of a context path (its last component not followed).
    pub fn lstat(&self, rel: &str) -> Result<FileStat> {
        let (parent, name) = split(rel);
        let dir = self.open(&parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        nix::sys::stat::fstatat(
            Some(dir.as_raw_fd()),
            name.as_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::io("stat", self.shown.join(rel), e.into()))
    }

    fn readlink(&self, rel: &str) -> Result<String> {
        let (parent, name) = split(rel);
        let dir = self.open(&parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name.as_str())
            .map(|t| t.to_string_lossy().into_owned())
            .map_err(|e| Error::io("readlink", self.shown.join(rel), e.into()))
    }
}

pub(crate) fn list_fd(fd: OwnedFd, shown: &Path) -> Result<Vec<String>> {
    let mut dir = nix::dir::Dir::from_fd(fd.as_raw_fd())
        .map_err(|e| Error::io("read dir", shown, e.into()))?;
    // Dir owns the descriptor now.
    std::mem::forget(fd);
    let mut names: Vec<String> = dir
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    Ok(names)
}

fn escape(rel: &str) -> Error {
    Error::Build {
        msg: format!(
            "{rel}: forbidden path outside the build context (a ../ or a symlink leaving it): \
             copy only what is inside the context"
        ),
    }
}

/// `(parent, name)` of a cleaned relative path.
fn split(rel: &str) -> (String, String) {
    let clean = clean(rel).to_string_lossy().into_owned();
    match clean.rsplit_once('/') {
        Some((p, n)) => (p.to_string(), n.to_string()),
        None => (String::new(), clean),
    }
}

/// The path relative to the context root: a leading `/` and `.` dropped,
/// `..` kept (the kernel refuses it when it climbs out).
pub(crate) fn clean(rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(n) => out.push(n),
            // Above the top stays `..` (which the kernel then refuses).
            Component::ParentDir if out.as_os_str().is_empty() || out.ends_with("..") => {
                out.push("..")
            }
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

pub(crate) fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Go's `filepath.Match` for one path component: `*`, `?`, `[a-z]`,
/// `[^x]`, `\` escapes.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('[', rest)) => {
                let Some((c, n_rest)) = n.split_first() else {
                    return false;
                };
                let (negate, mut body) = match rest.first() {
                    Some('^') | Some('!') => (true, &rest[1..]),
                    _ => (false, rest),
                };
                let mut matched = false;
                let mut first = true;
                loop {
                    match body.split_first() {
                        None => return false,
                        Some((']', after)) if !first => {
                            body = after;
                            break;
                        }
                        Some((lo, after)) => {
                            let (lo, after) = if *lo == '\\' {
                                match after.split_first() {
                                    Some((x, a)) => (*x, a),
                                    None => return false,
                                }
                            } else {
                                (*lo, after)
                            };
                            if after.len() >= 2 && after[0] == '-' && after[1] != ']' {
                                let hi = after[1];
                                if lo <= *c && *c <= hi {
                                    matched = true;
                                }
                                body = &after[2..];
                            } else {
                                if lo == *c {
                                    matched = true;
                                }
                                body = after;
                            }
                        }
                    }
                    first = false;
                }
                matched != negate && go(body, n_rest)
            }
            Some(('\\', rest)) => match rest.split_first() {
                Some((x, r)) => n.first() == Some(x) && go(r, &n[1..]),
                None => false,
            },
            Some((x, rest)) => n.first() == Some(x) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// sha256 over a stream of parts.
#[derive(Default)]
pub(crate) struct Hasher(sha2::Sha256);

impl Hasher {
    pub(crate) fn add(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    pub(crate) fn finish(self) -> String {
        format!("sha256:{}", hex::encode(sha2::Digest::finalize(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_go() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "a.txs"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[^a-c]x", "bx"));
        assert!(glob_match("\\*", "*"));
        assert!(!glob_match("\\*", "a"));
    }

    #[test]
    fn escapes_are_refused_by_the_kernel() {
        let t = tempfile::tempdir().unwrap();
        let ctx = t.path().join("ctx");
        std::fs::create_dir(&ctx).unwrap();
        std::fs::write(t.path().join("secret"), "host").unwrap();
        std::fs::write(ctx.join("ok"), "x").unwrap();
        std::os::unix::fs::symlink("../secret", ctx.join("up")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", ctx.join("abs")).unwrap();
        std::os::unix::fs::symlink("ok", ctx.join("inside")).unwrap();
        let c = Context::dir(&ctx).unwrap();
        assert!(c.open("ok", OFlag::O_RDONLY).is_ok());
        assert!(c.open("/ok", OFlag::O_RDONLY).is_ok());
        assert!(c.open("inside", OFlag::O_RDONLY).is_ok());
        for bad in [
            "../secret",
            "up",
            "abs",
            "sub/../../secret",
            "../../x/../secret",
        ] {
            let e = c.open(bad, OFlag::O_RDONLY).unwrap_err().to_string();
            assert!(e.contains("outside the build context"), "{bad}: {e}");
        }
        assert_eq!(c.expand("*k").unwrap(), vec!["ok"]);
    }

    #[test]
    fn checksums_follow_content_not_times() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("d/a"), "one").unwrap();
        let c = Context::dir(t.path()).unwrap();
        let first = c.checksum("d").unwrap();
        std::fs::write(t.path().join("d/a"), "one").unwrap();
        assert_eq!(c.checksum("d").unwrap(), first);
        std::fs::write(t.path().join("d/a"), "two").unwrap();
        assert_ne!(c.checksum("d").unwrap(), first);
    }
}
