//! `blobs/sha256/<hex>`: content-addressed, verified on the way in, staged
//! in `tmp/` and renamed into place, so a blob that exists is complete.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use husk_layers::{Digest, HashReader};

use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// A blob file being written under `tmp/`; removed on drop unless committed.
pub struct StagedBlob {
    pub file: File,
    path: PathBuf,
    committed: bool,
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl BlobStore {
    pub fn new(root: &Path) -> BlobStore {
        BlobStore {
            root: root.to_path_buf(),
        }
    }

    pub fn init(&self) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        let d = self.root.join("blobs/sha256");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(husk_fs::PRIVATE_MODE)
            .create(&d)
            .map_err(|e| Error::io("create", &d, e))
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(digest.hex())
    }

    pub fn exists(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn size(&self, digest: &Digest) -> Result<u64> {
        let p = self.path(digest);
        Ok(fs::metadata(&p)
            .map_err(|e| Error::io("stat blob", &p, e))?
            .len())
    }

    pub fn stage(&self) -> Result<StagedBlob> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = self
            .root
            .join("tmp")
            .join(format!("blob-{}-{n}", std::process::id()));
        let file = File::create(&path).map_err(|e| Error::io("create", &path, e))?;
        Ok(StagedBlob {
            file,
            path,
            committed: false,
        })
    }

    /// fsync + rename: the blob appears complete or not at all.
    pub fn commit(&self, mut staged: StagedBlob, digest: &Digest) -> Result<()> {
        let target = self.path(digest);
        if !target.exists() {
            staged
                .file
                .sync_all()
                .map_err(|e| Error::io("fsync", &staged.path, e))?;
            fs::rename(&staged.path, &target).map_err(|e| Error::io("rename to", &target, e))?;
            staged.committed = true;
            husk_fs::fsync_dir(&self.root.join("blobs/sha256"))?;
        }
        Ok(())
    }

    /// Where an interrupted download of `digest` keeps what it received,
    /// so the next one asks only for the rest (an HTTP Range). Under tmp/
    /// with a prefix the writers' tmp/ clean-up leaves alone.
    pub fn partial_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("partial-{}", digest.hex()))
    }

    /// Removes what interrupted pulls kept to resume; the bytes freed.
    pub fn remove_partials(&self) -> Result<u64> {
        let dir = self.root.join("tmp");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::io("read dir", &dir, e)),
        };
        let mut freed = 0;
        for ent in entries {
            let ent = ent.map_err(|e| Error::io("read dir", &dir, e))?;
            if !ent.file_name().to_string_lossy().starts_with("partial-") {
                continue;
            }
            let len = ent.metadata().map(|m| m.len()).unwrap_or(0);
            match fs::remove_file(ent.path()) {
                Ok(()) => freed += len,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", ent.path(), e)),
            }
        }
        Ok(freed)
    }

    /// Makes the complete file at `path` (under the store root) the blob
    /// `digest`: fsync + rename, as [`BlobStore::commit`].
    pub fn commit_file(&self, path: &Path, digest: &Digest) -> Result<()> {
        let target = self.path(digest);
        if target.exists() {
            return fs::remove_file(path).map_err(|e| Error::io("remove", path, e));
        }
        File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("fsync", path, e))?;
        fs::rename(path, &target).map_err(|e| Error::io("rename to", &target, e))?;
        husk_fs::fsync_dir(&self.root.join("blobs/sha256"))?;
        Ok(())
    }

    /// Stores what `reader` yields if it hashes to `expected` (when given);
    /// on a mismatch nothing is stored. The registry pull path lands here.
    pub fn put_blob(&self, expected: Option<&Digest>, reader: impl Read) -> Result<(Digest, u64)> {
        if let Some(d) = expected {
            if self.exists(d) {
                return Ok((d.clone(), self.size(d)?));
            }
        }
        let mut staged = self.stage()?;
        let mut hr = HashReader::with_tee(reader, Some(&mut staged.file));
        hr.drain()
            .map_err(|e| Error::io("write blob", &staged.path, e))?;
        let (digest, size) = hr.finish();
        check(expected, &digest, "blob")?;
        self.commit(staged, &digest)?;
        Ok((digest, size))
    }

    pub fn put_bytes(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        if !self.exists(&d) {
            let mut staged = self.stage()?;
            staged
                .file
                .write_all(data)
                .map_err(|e| Error::io("write", &staged.path, e))?;
            self.commit(staged, &d)?;
        }
        Ok(d)
    }

    /// Reads a small blob (manifest, config) and checks it still matches its name.
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>> {
        let p = self.path(digest);
        let data = fs::read(&p).map_err(|e| Error::io("read blob", &p, e))?;
        check(Some(digest), &Digest::of(&data), "stored blob")?;
        Ok(data)
    }

    pub fn open(&self, digest: &Digest) -> Result<File> {
        let p = self.path(digest);
        File::open(&p).map_err(|e| Error::io("open blob", &p, e))
    }

    pub fn list(&self) -> Result<Vec<Digest>> {
        let dir = self.root.join("blobs/sha256");
        let mut out = Vec::new();
        for ent in fs::read_dir(&dir).map_err(|e| Error::io("read dir", &dir, e))? {
            let ent = ent.map_err(|e| Error::io("read dir", &dir, e))?;
            if let Some(d) = ent
                .file_name()
                .to_str()
                .and_then(|h| Digest::from_hex(h).ok())
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub fn remove(&self, digest: &Digest) -> Result<()> {
        let p = self.path(digest);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &p, e)),
        }
    }
}

pub(crate) fn check(expected: Option<&Digest>, actual: &Digest, what: &str) -> Result<()> {
    match expected {
        Some(e) if e != actual => Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: e.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}
