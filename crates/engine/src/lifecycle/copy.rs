//! `husk cp`: files between a container and the host, or a tar stream.
//!
//! A container's tree is hostile: any component of a path in it, the last
//! one included, may be a symlink to `/` or `../../..`. Every container
//! path is resolved with `openat2(RESOLVE_IN_ROOT)` in the container's
//! rootfs (or in the volume or bind source a mount of the container puts
//! there), read by fd without following symlinks (husk_layers'
//! `write_tar_of`) and written by fd (husk_layers' `extract`, the layer
//! unpacker's code), so a symlink resolves as it would inside the
//! container and never reaches the host. A copy out writes into the host
//! destination the same way: a symlink it brings along is made, never
//! followed.
//!
//! docker's rules decide what lands where (`copy_plan`): a directory into
//! an existing directory (`DIR/.` for its contents only), a new name, a
//! file over a file; `-` is a tar stream on stdin or stdout.
//!
//! A running container's mounted rootfs is used as it is. A stopped one's
//! is mounted for the copy in a mount namespace of this process's own
//! (read-only to read; read-write to write, holding the container's
//! monitor lock so it cannot start meanwhile), and goes with the process.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use husk_layers::{ExtractOptions, Owner};
use nix::errno::Errno;
use nix::fcntl::OFlag;

use super::reconcile;
use super::rootfs::{mounted, private_mount_namespace, TempMount};
use crate::config::mounts::MountType;
use crate::store::{Container, Paths};
use crate::{Error, Result};

/// What `husk cp` copies from the host side.
pub enum CopyFrom<'a, R> {
    /// A host file or directory.
    Host(&'a Path),
    /// A tar stream (`-`), extracted into the destination directory.
    Stream(R),
}

/// Where `husk cp` copies to on the host side.
pub enum CopyTo<'a, W> {
    Host(&'a Path),
    /// A tar stream (`-`).
    Stream(W),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// `-a`: keep the source's uid/gid (else a copy into a container is root's).
    pub archive: bool,
    /// `-L`: follow a symlink at the source path.
    pub follow_link: bool,
}

fn cp_error(msg: impl Into<String>) -> Error {
    Error::Refused { msg: msg.into() }
}

/// docker's `filepath.Clean` of a container path, made relative to the
/// container's `/` (a relative one is taken from `/`, as docker does).
fn clean(path: impl AsRef<Path>) -> PathBuf {
    husk_fs::normalize(path.as_ref())
}

/// `DIR/.` or `.`: the directory's contents, not the directory.
fn names_contents(path: &str) -> bool {
    path == "." || path.ends_with("/.")
}

/// A trailing `/` or `/.`: the path must be a directory (and a symlink
/// there is followed).
fn asserts_dir(path: &str) -> bool {
    path.ends_with('/') || names_contents(path)
}

/// A tree a container path lives in: the rootfs, or a mount's source.
struct Place {
    /// Host path of the tree's top (for naming it when a copy takes all of it).
    top: PathBuf,
    root: OwnedFd,
    /// The path below the top.
    rel: PathBuf,
}

/// The container's rootfs, open for one copy (a mount it needed goes on drop).
struct Rootfs {
    path: PathBuf,
    fd: OwnedFd,
    _mount: Option<TempMount>,
    _owner: Option<husk_fs::Lock>,
}

fn open_dir(p: &Path) -> Result<OwnedFd> {
    let f = std::fs::File::open(p).map_err(|e| Error::io("open", p, e))?;
    Ok(OwnedFd::from(f))
}

fn open_rootfs(paths: &Paths, c: &Container, write: bool) -> Result<Rootfs> {
    let dir = paths.dir(&c.id);
    let merged = dir.join("merged");
    let running = |merged: PathBuf| -> Result<Rootfs> {
        Ok(Rootfs {
            fd: open_dir(&merged)?,
            path: merged,
            _mount: None,
            _owner: None,
        })
    };
    if mounted(&merged) {
        return running(merged);
    }
    // A write into a stopped container's upper dir must not meet a start
    // mounting the same upper dir: the monitor needs this lock to start.
    let owner = if write {
        let lock = crate::proc::try_lock(&paths.monitor_lock(&c.id))?;
        let Some(lock) = lock else {
            return Err(cp_error(format!(
                "container {} is starting or stopping: try again",
                c.name
            )));
        };
        if mounted(&merged) {
            return running(merged);
        }
        Some(lock)
    } else {
        None
    };
    private_mount_namespace()?;
    let at = dir.join(format!("cp-{}", std::process::id()));
    std::fs::create_dir(&at).map_err(|e| Error::io("create", &at, e))?;
    let guard = TempMount(at.clone());
    let upper = dir.join("upper");
    let lowers: Vec<PathBuf> = c.lower_dirs.iter().map(PathBuf::from).collect();
    let mounted = if write {
        husk_layers::mount_overlay(&lowers, &upper, &dir.join("work"), &at)
    } else {
        let mut stack = vec![upper];
        stack.extend(lowers);
        husk_layers::mount_readonly(&stack, &at)
    };
    if let Err(e) = mounted {
        // Nothing mounted: only the directory goes.
        let _ = std::fs::remove_dir(&guard.0);
        std::mem::forget(guard);
        return Err(e.into());
    }
    Ok(Rootfs {
        fd: open_dir(&at)?,
        path: at,
        _mount: Some(guard),
        _owner: owner,
    })
}

/// A mount of the container that a copy goes through instead of the rootfs.
struct Covering {
    /// Cleaned, relative to the container's `/`.
    destination: PathBuf,
    /// Host path; None for a tmpfs.
    source: Option<PathBuf>,
    rw: bool,
}

/// The container's volume and bind mounts, and the /etc files husk
/// bind-mounts (hostname, hosts, resolv.conf) where no mount replaces them.
fn coverings(paths: &Paths, c: &Container) -> Vec<Covering> {
    let mut out: Vec<Covering> = c
        .host_config
        .mount_points
        .iter()
        .map(|m| Covering {
            destination: clean(&m.destination),
            source: (m.kind != MountType::Tmpfs && !m.source.is_empty())
                .then(|| PathBuf::from(&m.source)),
            rw: m.rw,
        })
        .collect();
    for f in ["hostname", "hosts", "resolv.conf"] {
        let destination = Path::new("etc").join(f);
        let source = paths.dir(&c.id).join(f);
        if source.is_file() && !out.iter().any(|m| m.destination == destination) {
            out.push(Covering {
                destination,
                source: Some(source),
                rw: true,
            });
        }
    }
    out
}

/// Finds the tree `rel` (a cleaned container path) lives in: the source
/// of the deepest mount of the container that covers it (docker copies
/// into and out of volumes and binds), else the rootfs. Decided on the
/// path as written: a symlink in the rootfs into a mount's target resolves
/// in the rootfs beneath it. A mounted file (a file bind, husk's /etc
/// files) is read where it is, never replaced: its mount holds its inode.
fn locate(
    paths: &Paths,
    c: &Container,
    rootfs: &Rootfs,
    rel: &Path,
    shown: &str,
    write: bool,
) -> Result<Place> {
    let all = coverings(paths, c);
    let covering = all
        .iter()
        .filter(|m| rel.starts_with(&m.destination))
        .max_by_key(|m| m.destination.components().count());
    let Some(m) = covering else {
        if write && c.host_config.readonly_rootfs {
            return Err(cp_error(format!(
                "container {} has a read-only root filesystem (--read-only): {shown} cannot be written",
                c.name
            )));
        }
        return Ok(Place {
            top: rootfs.path.clone(),
            root: rootfs
                .fd
                .try_clone()
                .map_err(|e| Error::io("dup", &rootfs.path, e))?,
            rel: rel.to_path_buf(),
        });
    };
    if write && !m.rw {
        return Err(cp_error(format!(
            "{shown} in container {} is on a read-only mount: it cannot be written",
            c.name
        )));
    }
    let Some(top) = m.source.clone() else {
        return Err(cp_error(format!(
            "{shown} is on a tmpfs mount of container {}, which the host cannot reach: use husk exec with tar",
            c.name
        )));
    };
    let below = rel
        .strip_prefix(&m.destination)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    if top.is_dir() {
        return Ok(Place {
            root: open_dir(&top)?,
            top,
            rel: below,
        });
    }
    if write {
        return Err(cp_error(format!(
            "{shown} in container {} is the host file {} mounted there: write that file, or use husk exec",
            c.name,
            top.display()
        )));
    }
    let dir = top.parent().unwrap_or(Path::new("/")).to_path_buf();
    let name = top.file_name().unwrap_or(OsStr::new(".")).to_os_string();
    Ok(Place {
        root: open_dir(&dir)?,
        top: dir,
        rel: PathBuf::from(name).join(below),
    })
}

/// Follows symlinks at the last component of `rel` inside `root` (only
/// there: `openat2` resolves the components above), as docker does for a
/// destination, and for a source with `-L` or a trailing `/`.
fn follow_final(root: &OwnedFd, rel: &Path) -> Result<PathBuf> {
    let mut rel = rel.to_path_buf();
    for _ in 0..40 {
        let (Some(name), Some(parent)) = (rel.file_name(), rel.parent()) else {
            return Ok(rel);
        };
        let pfd = match husk_fs::open_in_root(root, parent, OFlag::O_PATH | OFlag::O_DIRECTORY) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                return Ok(rel)
            }
            Err(e) => return Err(e.into()),
        };
        let target = match nix::fcntl::readlinkat(Some(pfd.as_raw_fd()), name) {
            Ok(t) => PathBuf::from(t),
            Err(Errno::EINVAL | Errno::ENOENT) => return Ok(rel),
            Err(e) => return Err(Error::io("readlink", &rel, e.into())),
        };
        let joined = if target.is_absolute() {
            target
        } else {
            parent.join(target)
        };
        rel = clean(&joined);
    }
    Err(Error::io("resolve", &rel, Errno::ELOOP.into()))
}

/// Whether `rel` exists in `root` (symlinks resolved in it) and is a directory.
fn stat_in(root: &OwnedFd, rel: &Path) -> Result<Option<bool>> {
    match husk_fs::open_in_root(root, rel, OFlag::O_PATH) {
        Ok(fd) => {
            let st = nix::sys::stat::fstat(fd.as_raw_fd())
                .map_err(|e| Error::io("stat", rel, e.into()))?;
            Ok(Some(st.st_mode & libc::S_IFMT == libc::S_IFDIR))
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The source of a copy, as docker describes it (`CopyInfo`).
struct Source {
    is_dir: bool,
    /// `DIR/.`: the contents only.
    contents: bool,
    /// Its name in the destination when it keeps its own.
    name: Option<OsString>,
}

/// docker's `PrepareArchiveCopy`: where the source's entries go (a
/// directory that must exist) and what the top one is named (None: the
/// source directory's contents, unnamed). `dst_is_dir` is None when the
/// destination does not exist. Errors are docker's words with the path.
fn copy_plan(
    src: &Source,
    dst: &str,
    dst_rel: &Path,
    dst_is_dir: Option<bool>,
) -> Result<(PathBuf, Option<OsString>)> {
    let parent = || dst_rel.parent().unwrap_or(Path::new("")).to_path_buf();
    let own = |name: Option<&OsStr>| name.map(OsStr::to_os_string);
    match dst_is_dir {
        Some(true) if src.is_dir && src.contents => Ok((dst_rel.to_path_buf(), None)),
        Some(true) => match &src.name {
            Some(n) => Ok((dst_rel.to_path_buf(), Some(n.clone()))),
            None => Ok((dst_rel.to_path_buf(), None)),
        },
        Some(false) if src.is_dir => Err(cp_error(format!(
            "cannot copy a directory to a file: {dst} is a file"
        ))),
        Some(false) => Ok((parent(), own(dst_rel.file_name()))),
        None if !src.is_dir && dst.ends_with('/') => Err(cp_error(format!(
            "no such directory: {dst} (a destination ending in / must exist)"
        ))),
        None => match dst_rel.file_name() {
            Some(n) => Ok((parent(), Some(n.to_os_string()))),
            None => Err(cp_error(format!("no such directory: {dst}"))),
        },
    }
}

/// Runs `write` (producing a tar) and `read` (consuming it) together
/// through a pipe; the reader's error is the one to report when both fail
/// (the writer then only saw the pipe close).
fn piped<T>(
    write: impl FnOnce(std::io::PipeWriter) -> Result<()> + Send,
    read: impl FnOnce(std::io::PipeReader) -> Result<T>,
) -> Result<T> {
    let (r, w) = std::io::pipe().map_err(|e| Error::io("pipe", "husk cp", e))?;
    std::thread::scope(|s| {
        let writer = s.spawn(move || write(w));
        let got = read(r);
        let wrote = writer
            .join()
            .unwrap_or_else(|_| Err(cp_error("the archive writer panicked")));
        // The writer failing first (a source it could not read) cut the
        // stream short: its error is the cause, the reader's a consequence.
        match (got, wrote) {
            (_, Err(e)) if !broken_pipe(&e) => Err(e),
            (got, wrote) => {
                let got = got?;
                wrote?;
                Ok(got)
            }
        }
    })
}

/// The pipe's reader went away (it failed, and says why).
fn broken_pipe(e: &Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// A tar entry error from a hostile stream: named as an archive entry.
fn archive_error(e: husk_layers::Error) -> Error {
    match e {
        husk_layers::Error::UnsafeEntry { path, reason } => cp_error(format!(
            "archive entry {}: {reason}",
            husk_fs::printable(&path.to_string_lossy(), 300)
        )),
        other => other.into(),
    }
}

/// `husk cp CONTAINER:SRC DEST|-`. Returns the bytes of file content copied.
pub fn copy_out<W: Write + Send>(
    paths: &Paths,
    name: &str,
    src: &str,
    to: CopyTo<'_, W>,
    opts: CopyOptions,
) -> Result<u64> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let rootfs = open_rootfs(paths, &c, false)?;
    let not_found = || {
        cp_error(format!(
            "Could not find the file {src} in container {}",
            c.name
        ))
    };
    let mut place = locate(paths, &c, &rootfs, &clean(src), src, false)?;
    if opts.follow_link || asserts_dir(src) {
        place.rel = follow_final(&place.root, &place.rel)?;
    }
    // The source as (directory fd, name): never followed past this point.
    let (parent, entry) = match (place.rel.parent(), place.rel.file_name()) {
        (Some(p), Some(n)) => {
            let fd = husk_fs::open_in_root(&place.root, p, OFlag::O_PATH | OFlag::O_DIRECTORY)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ENOENT | libc::ENOTDIR) => not_found(),
                    _ => e.into(),
                })?;
            (fd, n.to_os_string())
        }
        // The whole tree: its top, named from the host directory above.
        _ => {
            let above = place.top.parent().unwrap_or(Path::new("/"));
            let n = place.top.file_name().unwrap_or(OsStr::new("."));
            (open_dir(above)?, n.to_os_string())
        }
    };
    let st = match nix::sys::stat::fstatat(
        Some(parent.as_raw_fd()),
        entry.as_os_str(),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Err(not_found()),
        Err(e) => return Err(Error::io("stat", src, e.into())),
    };
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    if asserts_dir(src) && !is_dir {
        return Err(cp_error(format!(
            "{src} in container {} is not a directory",
            c.name
        )));
    }
    let source = Source {
        is_dir,
        contents: is_dir && names_contents(src),
        name: Path::new(src)
            .file_name()
            .map(OsStr::to_os_string)
            .filter(|_| !clean(src).as_os_str().is_empty()),
    };
    let shown = Path::new(src);
    let tar_of = |top: Option<&Path>, out: &mut dyn Write| -> Result<u64> {
        let t = husk_layers::write_tar_of(&parent, &entry, top, shown, out)?;
        Ok(t.content_size)
    };
    match to {
        CopyTo::Stream(mut w) => {
            // docker's archive of a path names its entries from the path's
            // base (`.` for `DIR/.`, `/` not being a name).
            let top = match (&source.name, source.contents) {
                (Some(n), false) => Some(PathBuf::from(n)),
                _ => None,
            };
            let n = tar_of(top.as_deref(), &mut w)?;
            w.flush().map_err(|e| Error::io("write", "stdout", e))?;
            Ok(n)
        }
        CopyTo::Host(dest) => {
            let dest_s = dest.to_string_lossy();
            let dst_is_dir = match std::fs::metadata(dest) {
                Ok(m) => Some(m.is_dir()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io("stat", dest, e)),
            };
            let (dir, top) = copy_plan(&source, &dest_s, dest, dst_is_dir)?;
            // The host directory the entries go into is the user's; what
            // is below it is written by fd, never through a symlink.
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            let root = open_dir(&dir).map_err(|_| {
                cp_error(format!(
                    "no such directory: {} (the destination's parent must exist)",
                    dir.display()
                ))
            })?;
            let extract = ExtractOptions {
                base: PathBuf::new(),
                owner: Owner::Caller,
                to_host: true,
            };
            piped(
                |mut w| tar_of(top.as_deref().map(Path::new), &mut w).map(drop),
                |r| husk_layers::extract(root, &dir, r, &extract).map_err(archive_error),
            )
        }
    }
}

/// `husk cp SRC|- CONTAINER:DEST`. Returns the bytes of file content copied.
pub fn copy_in<R: Read + Send>(
    paths: &Paths,
    from: CopyFrom<'_, R>,
    name: &str,
    dst: &str,
    opts: CopyOptions,
) -> Result<u64> {
    let c = reconcile(paths, &paths.resolve(name)?)?;
    // The host source is checked before anything is mounted.
    let from = match from {
        CopyFrom::Host(p) => Prepared::Host(host_source(p, opts.follow_link)?),
        CopyFrom::Stream(r) => Prepared::Stream(r),
    };
    let rootfs = open_rootfs(paths, &c, true)?;
    let mut place = locate(paths, &c, &rootfs, &clean(dst), dst, true)?;
    // docker follows a symlink at the destination (inside the container).
    place.rel = follow_final(&place.root, &place.rel)?;
    let dst_is_dir = stat_in(&place.root, &place.rel)?;
    let owner = if opts.archive {
        Owner::Keep
    } else {
        Owner::Set(0, 0)
    };
    let shown = PathBuf::from("/");
    match from {
        Prepared::Stream(r) => {
            if dst_is_dir != Some(true) {
                return Err(cp_error(format!(
                    "destination \"{}:{dst}\" must be a directory",
                    c.name
                )));
            }
            let extract = ExtractOptions {
                base: place.rel,
                owner,
                to_host: false,
            };
            husk_layers::extract(place.root, &shown, r, &extract).map_err(archive_error)
        }
        Prepared::Host(h) => {
            let (dir, top) = copy_plan(&h.source, dst, &place.rel, dst_is_dir)?;
            if stat_in(&place.root, &dir)? != Some(true) {
                return Err(cp_error(format!(
                    "Could not find the file {} in container {}",
                    Path::new("/").join(&dir).display(),
                    c.name
                )));
            }
            let extract = ExtractOptions {
                base: dir,
                owner,
                to_host: false,
            };
            piped(
                |mut w| {
                    husk_layers::write_tar_of(
                        &h.parent,
                        &h.entry,
                        top.as_deref().map(Path::new),
                        &h.path,
                        &mut w,
                    )
                    .map(drop)
                    .map_err(Into::into)
                },
                |r| husk_layers::extract(place.root, &shown, r, &extract).map_err(archive_error),
            )
        }
    }
}

/// What a copy in reads, checked before the container is touched.
enum Prepared<R> {
    Host(HostSource),
    Stream(R),
}

/// A host source, opened: the user's own path (symlinks above the last
/// component are followed; the last only with `-L` or a trailing `/`).
struct HostSource {
    path: PathBuf,
    parent: OwnedFd,
    entry: OsString,
    source: Source,
}

fn host_source(p: &Path, follow: bool) -> Result<HostSource> {
    let s = p.to_string_lossy();
    let follow = follow || asserts_dir(&s);
    let meta = if follow {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    }
    .map_err(|e| Error::io(if follow { "stat" } else { "lstat" }, p, e))?;
    let resolved = if follow {
        std::fs::canonicalize(p).map_err(|e| Error::io("resolve", p, e))?
    } else {
        std::path::absolute(p).map_err(|e| Error::io("resolve", p, e))?
    };
    // `absolute` keeps `..` and a trailing `.`: the last real component is wanted.
    let resolved = if follow {
        resolved
    } else {
        normalize_host(&resolved)
    };
    let (parent, entry) = match (resolved.parent(), resolved.file_name()) {
        (Some(d), Some(n)) => (open_dir(d)?, n.to_os_string()),
        _ => (open_dir(Path::new("/"))?, OsString::from(".")),
    };
    let is_dir = meta.is_dir();
    if asserts_dir(&s) && !is_dir {
        return Err(cp_error(format!("{s} is not a directory")));
    }
    let name = Path::new(&*s)
        .file_name()
        .filter(|n| n.as_bytes() != b"..")
        .map(OsStr::to_os_string);
    Ok(HostSource {
        path: p.to_path_buf(),
        parent,
        entry,
        source: Source {
            is_dir,
            contents: is_dir && names_contents(&s),
            name,
        },
    })
}

/// docker's `filepath.Clean` of an absolute host path whose last
/// component is not to be followed.
fn normalize_host(p: &Path) -> PathBuf {
    Path::new("/").join(clean(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(src_dir: bool, contents: bool, dst: &str, exists: Option<bool>) -> String {
        let src = Source {
            is_dir: src_dir,
            contents,
            name: Some("src".into()),
        };
        match copy_plan(&src, dst, &clean(dst), exists) {
            Ok((dir, top)) => format!(
                "{} {}",
                dir.display(),
                top.map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "<contents>".into())
            ),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn docker_rules_for_what_lands_where() {
        // A file: into a directory, over a file, to a new name.
        assert_eq!(plan(false, false, "/d", Some(true)), "d src");
        assert_eq!(plan(false, false, "/d/f", Some(false)), "d f");
        assert_eq!(plan(false, false, "/d/new", None), "d new");
        assert!(plan(false, false, "/d/new/", None).starts_with("error: no such directory"));
        // A directory: into one, its contents, a new one, never over a file.
        assert_eq!(plan(true, false, "/d", Some(true)), "d src");
        assert_eq!(plan(true, true, "/d", Some(true)), "d <contents>");
        assert_eq!(plan(true, true, "/d/new", None), "d new");
        assert_eq!(plan(true, false, "/d/new/", None), "d new");
        assert!(
            plan(true, false, "/d/f", Some(false)).starts_with("error: cannot copy a directory")
        );
    }

    /// Links at the last component are followed as the container would
    /// see them: absolute ones and ones climbing past `/` end inside.
    #[test]
    fn final_links_resolve_inside_the_root() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let outside = top.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name));
        link(&outside, "abs").unwrap();
        link(Path::new("../../../../etc/../.."), "up").unwrap();
        link(Path::new("loop"), "loop").unwrap();
        link(Path::new("abs"), "chain").unwrap();
        let fd = open_dir(&root).unwrap();
        let abs = clean(&outside);
        assert_eq!(follow_final(&fd, Path::new("abs")).unwrap(), abs);
        assert_eq!(follow_final(&fd, Path::new("chain")).unwrap(), abs);
        assert_eq!(follow_final(&fd, Path::new("up")).unwrap(), Path::new(""));
        assert_eq!(
            follow_final(&fd, Path::new("etc")).unwrap(),
            Path::new("etc")
        );
        assert!(follow_final(&fd, Path::new("loop")).is_err());
        // Missing below a link: the resolved path, for the caller to refuse.
        assert_eq!(
            follow_final(&fd, Path::new("nope/x")).unwrap(),
            Path::new("nope/x")
        );
    }

    #[test]
    fn container_paths_are_cleaned_from_the_root() {
        assert_eq!(clean("/a/../../b/./c/"), Path::new("b/c"));
        assert_eq!(clean("rel/x"), Path::new("rel/x"));
        assert_eq!(clean("/"), Path::new(""));
        assert!(names_contents("/d/.") && asserts_dir("/d/") && !asserts_dir("/d"));
    }
}
