//! A sparse map that never ends must be refused at a bounded size: this
//! test is alone in its binary so the process's peak memory is its own.

mod common;

use std::io::Read;

/// An old-GNU sparse header followed by `blocks` extension blocks of 21
/// empty segments each (10.5 M segments, 256 MB of stream), generated as
/// it is read so the test itself holds none of it.
struct EndlessMap {
    block: u64,
    blocks: u64,
    buf: [u8; 512],
    at: usize,
    next_offset: u64,
}

fn octal(field: &mut [u8], v: u64) {
    let s = format!("{:0width$o}\0", v, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

impl EndlessMap {
    fn fill(&mut self) {
        let mut b = [0u8; 512];
        if self.block == 0 {
            b[..3].copy_from_slice(b"big");
            octal(&mut b[100..108], 0o644);
            octal(&mut b[108..116], 0);
            octal(&mut b[116..124], 0);
            octal(&mut b[124..136], 0);
            octal(&mut b[136..148], 0);
            b[156] = b'S';
            b[257..265].copy_from_slice(b"ustar  \0");
            octal(&mut b[483..495], 1 << 32);
            b[482] = 1;
            b[148..156].copy_from_slice(b"        ");
            let sum: u32 = b.iter().map(|x| *x as u32).sum();
            b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        } else if self.block <= self.blocks {
            for i in 0..21 {
                self.next_offset += 1;
                octal(&mut b[i * 24..i * 24 + 12], self.next_offset);
                octal(&mut b[i * 24 + 12..i * 24 + 24], 0);
            }
            b[504] = u8::from(self.block < self.blocks);
        }
        self.buf = b;
        self.at = 0;
        self.block += 1;
    }
}

impl Read for EndlessMap {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.block > self.blocks + 2 {
            return Ok(0);
        }
        if self.at == 512 {
            self.fill();
        }
        let n = out.len().min(512 - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn peak_rss_kib() -> i64 {
    // SAFETY: rusage is plain integers, for which all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss
}

#[test]
fn an_endless_sparse_map_is_refused_in_bounded_memory() {
    let sb = common::Sandbox::new();
    let before = peak_rss_kib();
    let blob = EndlessMap {
        block: 0,
        blocks: 500_000,
        buf: [0; 512],
        at: 512,
        next_offset: 0,
    };
    let result = husk_layers::unpack(blob, None, None, Some(&sb.layer()));
    let grown_mib = (peak_rss_kib() - before) / 1024;
    eprintln!("peak before {before} KiB, grown by {grown_mib} MiB");
    // The map is capped at 16 MiB of segments (32 MiB while its vector
    // grows); the pipe between the threads holds 8 MiB more.
    assert!(grown_mib < 96, "peak memory grew by {grown_mib} MiB");
    let err = result.unwrap_err().to_string();
    assert!(err.contains("more than 1048576 segments"), "{err}");
    assert!(sb.escaped().is_empty());
}
