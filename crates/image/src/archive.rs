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
}

impl Archive {
    pub fn open(path: &Path) -> Result<Archive> {
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let mut members = HashMap::new();
        {
            let bad = |e: io::Error| Error::archive(path, format!("not a tar archive: {e}"));
            let mut tar = tar::Archive::new(&file);
            for entry in tar.entries_with_seek().map_err(bad)? {
                let entry = entry.map_err(bad)?;
                let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
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
        Ok(Archive {
            file,
            path: path.to_path_buf(),
            members,
        })
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
        Err(Error::archive(
            &self.path,
            format!("no {name:?} in the archive"),
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
