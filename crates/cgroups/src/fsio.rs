//! The one place that touches cgroupfs files, so every error names the file (and the value).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `value` to `dir/file` in a single write(2), which is what cgroupfs expects: the
/// kernel parses each write as one command. The file is never created, so a missing
/// controller file is an ENOENT naming it rather than a stray regular file.
/// `append` is for list files (devices.allow, io.max, ...) where each write adds a rule;
/// cgroupfs ignores the offset, and in fake trees the lines accumulate for tests to read.
fn write_with(dir: &Path, file: &str, value: &str, append: bool) -> Result<()> {
    let path = dir.join(file);
    let err = |source| Error::Write {
        path: path.clone(),
        value: value.to_string(),
        source,
    };
    let mut opts = OpenOptions::new();
    if append {
        opts.append(true);
    } else {
        opts.write(true).truncate(true);
    }
    let mut f = opts.open(&path).map_err(err)?;
    if append {
        f.write_all(format!("{value}\n").as_bytes()).map_err(err)
    } else {
        f.write_all(value.as_bytes()).map_err(err)
    }
}

pub(crate) fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    write_with(dir, file, value, false)
}

pub(crate) fn append(dir: &Path, file: &str, value: &str) -> Result<()> {
    write_with(dir, file, value, true)
}

pub(crate) fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|e| Error::io("read", path, e))
}

/// Reads a file that may legitimately be absent (a controller or kernel feature missing).
pub(crate) fn read_opt(dir: &Path, file: &str) -> Result<Option<String>> {
    match read(dir, file) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

fn parse_err(dir: &Path, file: &str, msg: String) -> Error {
    Error::Parse {
        path: dir.join(file),
        msg,
    }
}

/// Parses a single number; "max" (v2) reads as u64::MAX.
pub(crate) fn parse_u64(dir: &Path, file: &str, s: &str) -> Result<u64> {
    let s = s.trim();
    if s == "max" {
        return Ok(u64::MAX);
    }
    s.parse()
        .map_err(|e| parse_err(dir, file, format!("{s:?}: {e}")))
}

pub(crate) fn read_u64(dir: &Path, file: &str) -> Result<u64> {
    let s = read(dir, file)?;
    parse_u64(dir, file, &s)
}

/// Like `read_u64` but 0 when the file is absent, for optional stats.
pub(crate) fn read_u64_opt(dir: &Path, file: &str) -> Result<u64> {
    match read_opt(dir, file)? {
        Some(s) => parse_u64(dir, file, &s),
        None => Ok(0),
    }
}

/// Parses "key value" lines (memory.stat, cpu.stat, memory.events, ...).
pub(crate) fn read_keyed(dir: &Path, file: &str) -> Result<Vec<(String, u64)>> {
    let Some(s) = read_opt(dir, file)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for line in s.lines() {
        let mut it = line.split_whitespace();
        let (Some(k), Some(v)) = (it.next(), it.next()) else {
            continue;
        };
        out.push((k.to_string(), parse_u64(dir, file, v)?));
    }
    Ok(out)
}

pub(crate) fn keyed(pairs: &[(String, u64)], key: &str) -> u64 {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or(0)
}

/// Every pid listed in `dir/cgroup.procs`; an absent directory means no pids.
pub(crate) fn procs(dir: &Path) -> Result<Vec<i32>> {
    let file = "cgroup.procs";
    let Some(s) = read_opt(dir, file)? else {
        return Ok(Vec::new());
    };
    s.split_whitespace()
        .map(|p| {
            p.parse()
                .map_err(|e| parse_err(dir, file, format!("{p:?}: {e}")))
        })
        .collect()
}

/// Sub-directories (child cgroups) of `dir`, deepest first, so they can be removed in order.
pub(crate) fn child_cgroups(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    collect_children(dir, &mut out)?;
    Ok(out)
}

fn collect_children(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        Err(e) => return Err(Error::io("read dir", dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?;
        if ft.is_dir() {
            collect_children(&entry.path(), out)?;
            out.push(entry.path());
        }
    }
    Ok(())
}
