//! Raw tar building: the `tar` crate's builder refuses `..` and absolute
//! names, and hostile archives are exactly what these tests need.

#![allow(dead_code)]

pub const FILE: u8 = b'0';
pub const HARDLINK: u8 = b'1';
pub const SYMLINK: u8 = b'2';
pub const CHAR: u8 = b'3';
pub const DIR: u8 = b'5';
pub const FIFO: u8 = b'6';

pub struct Entry<'a> {
    pub name: &'a str,
    pub kind: u8,
    pub link: &'a str,
    pub data: &'a [u8],
    pub mode: u32,
}

pub fn file<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry {
        name,
        kind: FILE,
        link: "",
        data,
        mode: 0o644,
    }
}

pub fn link<'a>(name: &'a str, kind: u8, target: &'a str) -> Entry<'a> {
    Entry {
        name,
        kind,
        link: target,
        data: b"",
        mode: 0o777,
    }
}

pub fn dir(name: &str) -> Entry<'_> {
    Entry {
        name,
        kind: DIR,
        link: "",
        data: b"",
        mode: 0o755,
    }
}

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}\0", v, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

pub fn header(e: &Entry) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..e.name.len()].copy_from_slice(e.name.as_bytes());
    octal(&mut h[100..108], e.mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], e.data.len() as u64);
    octal(&mut h[136..148], 1_600_000_000);
    h[156] = e.kind;
    h[157..157 + e.link.len()].copy_from_slice(e.link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&header(e));
        out.extend_from_slice(e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        out.resize(out.len() + pad, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// `outer/layer`: the layer dir sits inside a dir we can check for escapes.
pub struct Sandbox {
    pub outer: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let outer = tempfile::tempdir().unwrap();
        std::fs::create_dir(outer.path().join("layer")).unwrap();
        Sandbox { outer }
    }
    pub fn layer(&self) -> std::path::PathBuf {
        self.outer.path().join("layer")
    }
    pub fn unpack(&self, blob: &[u8]) -> husk_layers::Result<husk_layers::Unpacked> {
        husk_layers::unpack(blob, None, None, Some(&self.layer()))
    }
    /// Names directly in `outer` besides `layer`: anything is an escape.
    pub fn escaped(&self) -> Vec<String> {
        std::fs::read_dir(self.outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "layer")
            .collect()
    }
}
