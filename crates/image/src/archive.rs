//! Random access into an image archive (docker save / OCI archive): one
//! scan records where each member's bytes are, then manifests, configs and
//! layers are read straight from the file in whatever order they are needed
//! (docker writes manifest.json last).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

enum Member {
    Data { offset: u64, size: u64 },
    Link(String),
}

pub struct Archive {
    file: File,
    path: PathBuf,
    members: HashMap<String, Member>,
    /// Where the end-of-archive marker should be, when it is missing: a
    /// file cut at a member boundary reads as a shorter, valid archive.
    unterminated: Option<u64>,
}

impl Archive {
    /// Indexes the archive at `path`. A file that is not a tar, or one cut
    /// short inside a member, is refused here with an error that says so
    /// (and never echoes the file's bytes).
    pub fn open(path: &Path) -> Result<Archive> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat", path, e))?
            .len();
        let mut members = HashMap::new();
        // Where the next header starts: each member's header plus its
        // data rounded up to whole blocks.
        let mut next: u64 = 0;
        let mut last_name = String::new();
        {
            let mut tar = tar::Archive::new(&file);
            // The tar crate's messages can quote a garbage header's bytes:
            // say what is wrong in our own words instead.
            let bad = |next: u64, last: &str| {
                if next == 0 && len < 512 {
                    Error::NotArchive {
                        path: path.to_path_buf(),
                        reason: format!("not a tar file, or one cut short: only {len} bytes"),
                    }
                } else if next == 0 {
                    Error::NotArchive {
                        path: path.to_path_buf(),
                        reason: "not a tar file".into(),
                    }
                } else if len < next + 512 {
                    truncated(path, len, last)
                } else {
                    Error::archive(
                        path,
                        format!("corrupt archive: invalid tar header at byte {next}, after member {last:?}"),
                    )
                }
            };
            let entries = tar.entries_with_seek().map_err(|_| bad(0, ""))?;
            for entry in entries {
                let entry = entry.map_err(|_| bad(next, &last_name))?;
                let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
                let data_end = entry.raw_file_position().saturating_add(entry.size());
                next = data_end.div_ceil(512).saturating_mul(512);
                last_name = crate::printable(&name, 100);
                if data_end > len {
                    return Err(truncated(path, len, &last_name));
                }
                let kind = entry.header().entry_type();
                let link = entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned());
                let member = match (kind, link) {
                    (tar::EntryType::Symlink, Some(l)) => {
                        // Relative to the link's directory.
                        let dir = Path::new(&name).parent().unwrap_or(Path::new(""));
                        Member::Link(normalize(&dir.join(l).to_string_lossy()))
                    }
                    (tar::EntryType::Link, Some(l)) => Member::Link(normalize(&l)),
                    (k, _) if k.is_file() => Member::Data {
                        offset: entry.raw_file_position(),
                        size: entry.size(),
                    },
                    _ => continue,
                };
                members.insert(name, member);
            }
        }
        if len == 0 {
            return Err(Error::NotArchive {
                path: path.to_path_buf(),
                reason: "the file is empty".into(),
            });
        }
        let unterminated = (!zero_block_at(&file, next)).then_some(len);
        Ok(Archive {
            file,
            path: path.to_path_buf(),
            members,
            unterminated,
        })
    }

    /// Set when the archive lacks its end marker: it was probably cut at
    /// a member boundary. The value is the file's length.
    pub fn truncated_at(&self) -> Option<u64> {
        self.unterminated
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    fn find(&self, name: &str) -> Result<(u64, u64)> {
        let mut name = normalize(name);
        for _ in 0..16 {
            match self.members.get(&name) {
                Some(Member::Data { offset, size }) => return Ok((*offset, *size)),
                Some(Member::Link(t)) => name = t.clone(),
                None => break,
            }
        }
        let shown = crate::printable(&name, 100);
        Err(Error::archive(
            &self.path,
            match self.unterminated {
                Some(len) => format!(
                    "no {shown:?} in the archive, which is truncated or corrupt: it ends after {len} bytes without the end-of-archive marker"
                ),
                None => format!("no {shown:?} in the archive"),
            },
        ))
    }

    /// A reader over one member's bytes.
    pub fn open_member(&self, name: &str) -> Result<MemberReader<'_>> {
        let (offset, size) = self.find(name)?;
        Ok(MemberReader {
            file: &self.file,
            pos: offset,
            end: offset + size,
        })
    }

    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open_member(name)?
            .read_to_end(&mut out)
            .map_err(|e| Error::io("read", self.path.join(name), e))?;
        Ok(out)
    }
}

fn truncated(path: &Path, len: u64, member: &str) -> Error {
    Error::archive(
        path,
        format!("truncated or corrupt archive: unexpected end of archive after {len} bytes, inside member {member:?}"),
    )
}

/// Whether a whole zero block (the end-of-archive marker) is at `at`.
fn zero_block_at(file: &File, at: u64) -> bool {
    let mut block = [0u8; 512];
    file.read_exact_at(&mut block, at).is_ok() && block.iter().all(|b| *b == 0)
}

/// `./a//b` → `a/b`; `..` is dropped at the top, as a path inside the
/// archive cannot climb out of it anyway (these are only lookup keys).
fn normalize(name: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

pub struct MemberReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.end - self.pos) as usize;
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(left);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        Ok(n)
    }
}
