//! One pass over a layer blob: hash the compressed bytes (the blob digest),
//! optionally copy them into the blob store, decompress, hash the tar stream
//! (the diff id) and write the entries. Decompression and hashing run on a
//! helper thread so they overlap with the file writes, which is how `tar -xzf`
//! (tar plus a gzip process) gets its speed; the thread is joined before
//! returning, so callers that fork later never fork a threaded process.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

use crate::apply::Applier;
use crate::compression::Compression;
use crate::digest::{Digest, HashReader};
use crate::tarstream::TarReader;
use crate::{Error, Result};

const CHUNK: usize = 1024 * 1024;

/// What one pass over a layer blob found.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// sha256 of the blob as read (compressed).
    pub digest: Digest,
    /// Bytes of the blob as read.
    pub size: u64,
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar stream.
    pub diff_size: u64,
    pub compression: Compression,
    /// Bytes of regular-file content written (docker's image SIZE).
    pub content_size: u64,
}

/// Reads the layer blob from `source`, copying it verbatim to `blob_copy`
/// when given, and unpacks it into `dest` (an empty directory) when given.
/// `dest` is synced with one `syncfs` at the end rather than a fsync per file.
pub fn unpack<R: Read + Send>(
    source: R,
    media_type: Option<&str>,
    blob_copy: Option<&mut File>,
    dest: Option<&Path>,
) -> Result<Unpacked> {
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Vec<u8>>(8);
        let producer = s.spawn(move || -> Produced {
            let mut blob = HashReader::with_tee(source, blob_copy.map(BlobTee));
            let (comp, diff_id, diff_size) = {
                let mut buffered = BufReader::with_capacity(256 * 1024, &mut blob);
                let comp = Compression::detect(&mut buffered, media_type).map_err(Stop::Failed)?;
                let mut diff = HashReader::new(comp.decoder(buffered).map_err(Stop::Failed)?);
                loop {
                    let mut chunk = vec![0u8; CHUNK];
                    let n = read_full(&mut diff, &mut chunk).map_err(|e| read_error(comp, e))?;
                    if n == 0 {
                        break;
                    }
                    chunk.truncate(n);
                    if tx.send(chunk).is_err() {
                        // The writer failed; its error is the one to report.
                        return Err(Stop::WriterGone);
                    }
                }
                let (d, n) = diff.finish();
                (comp, d, n)
            };
            // Bytes after the compressed stream's end still belong to the blob.
            blob.drain().map_err(|e| read_error(Compression::None, e))?;
            let (digest, size) = blob.finish();
            Ok((digest, size, diff_id, diff_size, comp))
        });
        let written = consume(
            ChannelReader {
                rx,
                cur: Vec::new(),
                pos: 0,
            },
            dest,
        );
        let produced = producer.join().unwrap_or_else(|_| {
            Err(Stop::Failed(Error::Stream(io::Error::other(
                "decompressor thread panicked",
            ))))
        });
        let (digest, size, diff_id, diff_size, compression) = match produced {
            Ok(p) => p,
            // The writer stopped first (disk full, a refused entry, a
            // corrupt tar): the reader only saw the pipe close, so the
            // writer's error is the cause.
            Err(Stop::WriterGone) => {
                return Err(written.err().unwrap_or_else(|| {
                    Error::Stream(io::Error::other("layer writer stopped without an error"))
                }))
            }
            // A stream error explains a short tar better than the tar reader does.
            Err(Stop::Failed(e)) => return Err(e),
        };
        let content_size = written?;
        Ok(Unpacked {
            digest,
            size,
            diff_id,
            diff_size,
            compression,
            content_size,
        })
    })
}

type Produced = std::result::Result<(Digest, u64, Digest, u64, Compression), Stop>;

/// Why the reading side stopped early.
enum Stop {
    /// The writing side dropped its end: its own error says why.
    WriterGone,
    Failed(Error),
}

/// A read error of the reading side: a failed write of the blob copy
/// (disk full, say) comes back through the reader chain and is a write
/// error, not a bad stream.
fn read_error(comp: Compression, e: io::Error) -> Stop {
    if e.get_ref().is_some_and(|i| i.is::<BlobWriteFailed>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(failed) = inner.downcast::<BlobWriteFailed>() {
                return Stop::Failed(Error::BlobWrite(failed.0));
            }
        }
        return Stop::Failed(Error::Stream(io::Error::other("write layer blob copy")));
    }
    Stop::Failed(match comp {
        Compression::None => Error::Stream(e),
        Compression::Gzip => Error::Decompress("gzip", e),
        Compression::Zstd => Error::Decompress("zstd", e),
    })
}

/// The blob copy, with its write errors marked so they are not taken for
/// errors of the stream they travel back through.
struct BlobTee<'a>(&'a mut File);

#[derive(Debug)]
struct BlobWriteFailed(io::Error);

impl std::fmt::Display for BlobWriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BlobWriteFailed {}

impl Write for BlobTee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .write(buf)
            .map_err(|e| io::Error::new(e.kind(), BlobWriteFailed(e)))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .flush()
            .map_err(|e| io::Error::new(e.kind(), BlobWriteFailed(e)))
    }
}

fn consume(mut reader: ChannelReader, dest: Option<&Path>) -> Result<u64> {
    let Some(dest) = dest else {
        io::copy(&mut reader, &mut io::sink()).map_err(Error::Stream)?;
        return Ok(0);
    };
    let mut applier = Applier::new(dest)?;
    let mut tar = TarReader::new(&mut reader);
    while let Some(entry) = tar.next()? {
        applier.apply(entry, &mut tar)?;
    }
    applier.finish()?;
    // The tar end blocks and record padding are part of the diff id.
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(Error::Stream)?;
    sync_filesystem(dest)?;
    Ok(applier.content_bytes)
}

/// One `syncfs` for the whole layer: far cheaper than a fsync per file, and
/// it runs before the rename that makes the layer visible.
pub fn sync_filesystem(path: &Path) -> Result<()> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    nix::unistd::syncfs(f.as_raw_fd()).map_err(|e| Error::nix("syncfs", path, e))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.cur = chunk;
                    self.pos = 0;
                }
                // Sender gone: end of stream (or the producer's error, reported by join).
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
