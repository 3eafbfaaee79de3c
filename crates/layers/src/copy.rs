//! `husk cp`'s two halves over the layer code: [`extract`] writes a tar
//! stream below a directory of a tree nothing may leave (a container's
//! rootfs, or the host directory a copy-out lands in), by fd, never
//! following a symlink out of it; [`crate::write_tar_of`] is the reading
//! half.

use std::io::{BufReader, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::apply::{Applier, CopyMode, Owner};
use crate::compression::Compression;
use crate::tarstream::TarReader;
use crate::Result;

/// Where and how [`extract`] writes.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// The directory of the root the entries go below (resolved in the
    /// root on every use: a symlink there stays inside it).
    pub base: PathBuf,
    pub owner: Owner,
    /// The tree is the host's and the archive a container's: see
    /// [`CopyMode::to_host`](crate::apply).
    pub to_host: bool,
}

/// Extracts the tar stream `input` (plain, gzip or zstd, as docker's
/// `DecompressStream` takes) below `opts.base` of `root`. `shown` is how
/// errors name the root. Returns the bytes of file content written.
pub fn extract<R: Read + Send>(
    root: OwnedFd,
    shown: &Path,
    input: R,
    opts: &ExtractOptions,
) -> Result<u64> {
    let mut buffered = BufReader::with_capacity(256 * 1024, input);
    let comp = Compression::detect(&mut buffered, None)?;
    let decoded = comp.decoder(buffered)?;
    let mut applier = Applier::for_copy(
        root,
        shown,
        CopyMode {
            base: opts.base.clone(),
            owner: opts.owner,
            to_host: opts.to_host,
        },
    );
    let mut tar = TarReader::new(decoded);
    while let Some(entry) = tar.next()? {
        applier.apply(entry, &mut tar)?;
    }
    applier.finish()?;
    Ok(applier.content_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt};

    fn tar_of(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_uid(1234);
            h.set_gid(5678);
            if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
                h.set_link_name_literal(data.as_bytes()).unwrap();
                h.set_size(0);
                // Raw bytes: `set_path` refuses `..`, hostile archives do not.
                h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            } else {
                h.set_size(data.len() as u64);
                h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, data.as_bytes()).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    fn root_of(p: &Path) -> OwnedFd {
        OwnedFd::from(std::fs::File::open(p).unwrap())
    }

    #[test]
    fn a_planted_symlink_never_leads_out_of_the_root() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        let outside = top.path().join("outside");
        std::fs::create_dir_all(root.join("dst")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        let up = format!("../../{}", "../".repeat(8));
        let data = tar_of(&[
            ("evil", tar::EntryType::Symlink, "/"),
            ("evil/etc-x", tar::EntryType::Regular, "abs"),
            ("up", tar::EntryType::Symlink, &up),
            ("up/outside/y", tar::EntryType::Regular, "rel"),
        ]);
        let opts = ExtractOptions {
            base: PathBuf::from("/dst"),
            owner: Owner::Set(0, 0),
            to_host: false,
        };
        extract(root_of(&root), Path::new("/"), &data[..], &opts).unwrap();
        // Both landed inside the root, where the root's own `/` is.
        assert_eq!(std::fs::read(root.join("etc-x")).unwrap(), b"abs");
        assert_eq!(std::fs::read(root.join("outside/y")).unwrap(), b"rel");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn dotdot_entries_are_refused() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let data = tar_of(&[("../escape", tar::EntryType::Regular, "x")]);
        let opts = ExtractOptions {
            base: PathBuf::from("/"),
            owner: Owner::Keep,
            to_host: false,
        };
        let err = extract(root_of(&root), Path::new("/"), &data[..], &opts).unwrap_err();
        assert!(err.to_string().contains("climbs out"), "{err}");
        assert!(!top.path().join("escape").exists());
    }

    #[test]
    fn owners_whiteout_names_and_no_dir_overwrite() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("d")).unwrap();
        let data = tar_of(&[
            (".wh.kept", tar::EntryType::Regular, "literal"),
            ("f", tar::EntryType::Regular, "x"),
        ]);
        let opts = ExtractOptions {
            base: PathBuf::from("d"),
            owner: Owner::Set(0, 0),
            to_host: false,
        };
        extract(root_of(root.path()), Path::new("/"), &data[..], &opts).unwrap();
        let f = root.path().join("d/.wh.kept");
        assert_eq!(std::fs::read(&f).unwrap(), b"literal");
        if nix::unistd::geteuid().is_root() {
            assert_eq!(std::fs::metadata(&f).unwrap().uid(), 0);
            let keep = ExtractOptions {
                base: PathBuf::from("d"),
                owner: Owner::Keep,
                to_host: false,
            };
            extract(root_of(root.path()), Path::new("/"), &data[..], &keep).unwrap();
            assert_eq!(std::fs::metadata(&f).unwrap().uid(), 1234);
        }
        // A file over the directory `d` is refused, not swapped in.
        let over = tar_of(&[("d", tar::EntryType::Regular, "x")]);
        let top = ExtractOptions {
            base: PathBuf::new(),
            owner: Owner::Keep,
            to_host: false,
        };
        let err = extract(root_of(root.path()), Path::new("/"), &over[..], &top).unwrap_err();
        assert!(
            err.to_string().contains("cannot overwrite a directory"),
            "{err}"
        );
        assert!(root.path().join("d/f").is_file());
        // A symlink over a directory entry is refused the same way.
        symlink("/nowhere", root.path().join("l")).unwrap();
        let dir = tar_of(&[("l/", tar::EntryType::Directory, "")]);
        let err = extract(root_of(root.path()), Path::new("/"), &dir[..], &top).unwrap_err();
        assert!(
            err.to_string().contains("cannot overwrite a non-directory"),
            "{err}"
        );
    }
}
