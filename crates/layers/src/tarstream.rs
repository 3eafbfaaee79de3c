//! A streaming tar reader for layer blobs: ustar, GNU and PAX headers, GNU
//! long names, and the four ways GNU tar stores a sparse file (old GNU `S`
//! entries with extension blocks, PAX 0.0, 0.1 and 1.0), the formats Go's
//! `archive/tar` (docker's reader) understands.
//!
//! Its own reader rather than the `tar` crate's because unpacking a sparse
//! file needs its map (to leave holes instead of writing zeros), the crate
//! keeps the map private, flattens holes into zeros, ignores PAX sparse
//! files, and builds an unbounded list from a hostile map. Every length read
//! from the archive is checked before it is used, nothing is allocated in
//! proportion to a number the archive merely claims, and every loop
//! consumes input: a hostile header can make unpacking fail, never make it
//! write outside the entry's file, hold unbounded memory or spin.

use std::io::Read;

use crate::{Error, Result};

const BLOCK: usize = 512;

/// PAX headers and GNU long names larger than this are refused: Go's
/// archive/tar (docker) uses the same limit.
const MAX_SPECIAL: u64 = 1 << 20;

/// Data segments of one sparse file: 16 MiB of map at most. GNU tar writes
/// one per run of data, so only a hostile or absurdly fragmented file has more.
pub(crate) const MAX_SPARSE_SEGMENTS: usize = 1 << 20;

/// A file's apparent size may not exceed what `ftruncate` takes.
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Regular,
    HardLink,
    Symlink,
    Char,
    Block,
    Directory,
    Fifo,
    /// Any other type flag (volume labels, multi-volume parts, ...).
    Other(u8),
}

/// `len` bytes of data at `offset` of a sparse file; the rest is holes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub offset: u64,
    pub len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sparse {
    /// The file's apparent size.
    pub real_size: u64,
    /// Ordered, non-overlapping, inside `real_size`, and covering exactly
    /// the entry's data bytes (checked by [`TarReader::next`]).
    pub map: Vec<Segment>,
}

/// One entry, with its long names and PAX records folded in.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: i64,
    pub dev_major: u64,
    pub dev_minor: u64,
    /// `SCHILY.xattr.<name>` records.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Set for a sparse regular file; its data is then the segments' bytes
    /// one after the other.
    pub sparse: Option<Sparse>,
}

/// What the PAX records of one entry say.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<i64>,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    sparse_major: Option<Vec<u8>>,
    sparse_minor: Option<Vec<u8>>,
    sparse_name: Option<Vec<u8>>,
    sparse_size: Option<u64>,
    sparse_realsize: Option<u64>,
    /// GNU.sparse.map (0.1), or the GNU.sparse.offset / GNU.sparse.numbytes
    /// records (0.0) in order: offset, length, offset, length...
    sparse_map: Option<Vec<u64>>,
    sparse_pairs: Vec<u64>,
}

pub(crate) struct TarReader<R> {
    inner: R,
    /// Bytes consumed from `inner`: the offset errors name.
    pos: u64,
    /// Data bytes of the current entry not read yet.
    left: u64,
    /// Padding after the current entry's data.
    pad: u64,
    /// Headers read so far: a bad first header means "not a tar at all".
    headers: u64,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> TarReader<R> {
        TarReader {
            inner,
            pos: 0,
            left: 0,
            pad: 0,
            headers: 0,
        }
    }

    /// The stream after the end-of-archive block (its padding still counts
    /// for the diff id).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next entry, after skipping what is left of the current one;
    /// `None` at the end of the archive (a zero block, or the end of the
    /// stream between entries, as Go's reader accepts).
    pub fn next(&mut self) -> Result<Option<Header>> {
        self.skip_rest()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Pax> = None;
        loop {
            let start = self.pos;
            let Some(block) = self.read_header()? else {
                if long_name.is_some() || long_link.is_some() || pax.is_some() {
                    return Err(self.corrupt(
                        start,
                        "the archive ends after an extension header, without the entry it describes",
                    ));
                }
                return Ok(None);
            };
            let h = Raw(&block);
            let size = self.num(start, h.field(124, 12), "size")?;
            self.set_data(size);
            let flag = block[156];
            match flag {
                b'L' | b'K' => {
                    let mut v = self.read_special(start, size, "GNU long name")?;
                    if let Some(nul) = v.iter().position(|b| *b == 0) {
                        v.truncate(nul);
                    }
                    let slot = if flag == b'L' {
                        &mut long_name
                    } else {
                        &mut long_link
                    };
                    if slot.replace(v).is_some() {
                        return Err(self.corrupt(start, "two GNU long names for one entry"));
                    }
                }
                b'x' => {
                    let data = self.read_special(start, size, "PAX header")?;
                    if pax.is_some() {
                        return Err(self.corrupt(start, "two PAX headers for one entry"));
                    }
                    pax = Some(parse_pax(&data).map_err(|r| self.corrupt(start, r))?);
                }
                // Global PAX headers: docker ignores them, so do we (their
                // data is skipped, not read into memory).
                b'g' => self.skip_rest()?,
                _ => {
                    let pax = pax.take().unwrap_or_default();
                    let header = self.entry(start, &h, size, pax, long_name, long_link)?;
                    return Ok(Some(header));
                }
            }
        }
    }

    /// Reads data of the current entry; 0 at its end. A stream that ends
    /// before the entry does is an error, not a short file.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.read_some(&mut buf[..want])?;
        if n == 0 {
            return Err(Error::Truncated(self.pos));
        }
        self.left -= n as u64;
        Ok(n)
    }

    fn set_data(&mut self, size: u64) {
        self.left = size;
        self.pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
    }

    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Stream(e)),
            }
        }
    }

    /// Fills `buf`; false if the stream ended before its first byte.
    fn read_exact_or_eof(&mut self, buf: &mut [u8]) -> Result<bool> {
        let mut n = 0;
        while n < buf.len() {
            let k = self.read_some(&mut buf[n..])?;
            if k == 0 {
                if n == 0 {
                    return Ok(false);
                }
                return Err(Error::Truncated(self.pos));
            }
            n += k;
        }
        Ok(true)
    }

    /// Skips the rest of the current entry's data and its padding.
    fn skip_rest(&mut self) -> Result<()> {
        let mut buf = [0u8; 8 * BLOCK];
        let mut rest = self.left + self.pad;
        while rest > 0 {
            let want = buf.len().min(usize::try_from(rest).unwrap_or(usize::MAX));
            let n = self.read_some(&mut buf[..want])?;
            if n == 0 {
                return Err(Error::Truncated(self.pos));
            }
            rest -= n as u64;
        }
        self.left = 0;
        self.pad = 0;
        Ok(())
    }

    /// One header block with a valid checksum; `None` at the end marker.
    fn read_header(&mut self) -> Result<Option<[u8; BLOCK]>> {
        let start = self.pos;
        let mut block = [0u8; BLOCK];
        if !self.read_exact_or_eof(&mut block)? {
            return Ok(None);
        }
        if block.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let recorded = parse_octal(Raw(&block).field(148, 8));
        let unsigned: i64 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    *b as i64
                }
            })
            .sum();
        let signed: i64 = block
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    *b as i8 as i64
                }
            })
            .sum();
        let ok = recorded.is_some_and(|r| r as i64 == unsigned || r as i64 == signed);
        if !ok {
            return Err(self.corrupt(start, "header checksum mismatch"));
        }
        self.headers += 1;
        Ok(Some(block))
    }

    /// The data of a long name or PAX header, size-checked before reading.
    fn read_special(&mut self, start: u64, size: u64, what: &str) -> Result<Vec<u8>> {
        if size > MAX_SPECIAL {
            return Err(self.corrupt(
                start,
                &format!("{what} of {size} bytes: more than the 1 MiB allowed"),
            ));
        }
        let mut v = vec![0u8; size as usize];
        let mut n = 0;
        while n < v.len() {
            let k = self.read_data(&mut v[n..])?;
            n += k;
        }
        self.skip_rest()?;
        Ok(v)
    }

    fn num(&self, start: u64, field: &[u8], name: &str) -> Result<u64> {
        let v = parse_numeric(field)
            .ok_or_else(|| self.corrupt(start, &format!("invalid number in the {name} field")))?;
        u64::try_from(v).map_err(|_| self.corrupt(start, &format!("negative {name}")))
    }

    fn corrupt(&self, offset: u64, reason: &str) -> Error {
        if self.headers == 0 && offset == 0 {
            Error::NotTar(reason.to_string())
        } else {
            Error::Corrupt {
                offset,
                reason: reason.to_string(),
            }
        }
    }

    /// Builds the entry from its header block and what preceded it.
    fn entry(
        &mut self,
        start: u64,
        h: &Raw,
        header_size: u64,
        pax: Pax,
        long_name: Option<Vec<u8>>,
        long_link: Option<Vec<u8>>,
    ) -> Result<Header> {
        let flag = h.0[156];
        let magic = h.field(257, 8);
        let gnu = magic == b"ustar  \0";
        let ustar = magic.starts_with(b"ustar\0");
        let mut path = cstr(h.field(0, 100)).to_vec();
        if ustar {
            let prefix = cstr(h.field(345, 155));
            if !prefix.is_empty() {
                let mut p = prefix.to_vec();
                p.push(b'/');
                p.extend_from_slice(&path);
                path = p;
            }
        }
        // GNU long names win over PAX, PAX over the header (as Go reads them).
        if let Some(p) = pax.path.clone() {
            path = p;
        }
        if let Some(p) = long_name {
            path = p;
        }
        let mut link = cstr(h.field(157, 100)).to_vec();
        if let Some(l) = pax.link.clone() {
            link = l;
        }
        if let Some(l) = long_link {
            link = l;
        }
        let mode = self.num(start, h.field(100, 8), "mode")?;
        let uid = match pax.uid {
            Some(v) => v,
            None => self.num(start, h.field(108, 8), "uid")?,
        };
        let gid = match pax.gid {
            Some(v) => v,
            None => self.num(start, h.field(116, 8), "gid")?,
        };
        let mtime = match pax.mtime {
            Some(v) => v,
            None => parse_numeric(h.field(136, 12))
                .ok_or_else(|| self.corrupt(start, "invalid number in the mtime field"))?,
        };
        let (dev_major, dev_minor) = if ustar || gnu {
            (
                self.num(start, h.field(329, 8), "device major")?,
                self.num(start, h.field(337, 8), "device minor")?,
            )
        } else {
            (0, 0)
        };
        let kind = match flag {
            // Old tars mark directories with a trailing slash only.
            b'\0' if path.ends_with(b"/") => Kind::Directory,
            b'0' | b'\0' | b'7' | b'S' => Kind::Regular,
            b'1' => Kind::HardLink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Directory,
            b'6' => Kind::Fifo,
            other => Kind::Other(other),
        };
        let size = pax.size.unwrap_or(header_size);
        self.set_data(size);
        let sparse = if flag == b'S' {
            if !gnu {
                return Err(self.corrupt(start, "GNU sparse entry without a GNU header"));
            }
            Some(self.old_gnu_sparse(start, h)?)
        } else {
            self.pax_sparse(start, &pax, kind, &mut path)?
        };
        if let Some(sp) = &sparse {
            if kind != Kind::Regular {
                return Err(self.corrupt(start, "sparse map on an entry that is not a file"));
            }
            self.check_sparse(start, sp)?;
        }
        Ok(Header {
            path,
            link,
            kind,
            mode: u32::try_from(mode).map_err(|_| self.corrupt(start, "mode out of range"))?,
            uid,
            gid,
            mtime,
            dev_major,
            dev_minor,
            xattrs: pax.xattrs,
            sparse,
        })
    }

    /// Old GNU format: 4 map slots in the header, then 21 per extension
    /// block for as long as each says another follows.
    fn old_gnu_sparse(&mut self, start: u64, h: &Raw) -> Result<Sparse> {
        let real_size = self.num(start, h.field(483, 12), "sparse real size")?;
        let mut map = Vec::new();
        self.take_slots(start, h.field(386, 4 * 24), &mut map)?;
        let mut extended = h.0[482] != 0;
        while extended {
            // Extension blocks sit between the header and the data, outside
            // the entry's size.
            let mut ext = [0u8; BLOCK];
            if !self.read_exact_or_eof(&mut ext)? {
                return Err(Error::Truncated(self.pos));
            }
            self.take_slots(start, &ext[..21 * 24], &mut map)?;
            extended = ext[504] != 0;
        }
        Ok(Sparse { real_size, map })
    }

    fn take_slots(&self, start: u64, slots: &[u8], map: &mut Vec<Segment>) -> Result<()> {
        for slot in slots.chunks_exact(24) {
            // GNU and BSD tar stop at the first slot with an empty offset.
            if slot[0] == 0 {
                break;
            }
            if map.len() >= MAX_SPARSE_SEGMENTS {
                return Err(self.too_many_segments(start));
            }
            map.push(Segment {
                offset: self.num(start, &slot[..12], "sparse offset")?,
                len: self.num(start, &slot[12..], "sparse length")?,
            });
        }
        Ok(())
    }

    fn too_many_segments(&self, start: u64) -> Error {
        self.corrupt(
            start,
            &format!("sparse map of more than {MAX_SPARSE_SEGMENTS} segments"),
        )
    }

    /// PAX formats, told apart as Go does: 1.0 keeps the map at the start of
    /// the data; 0.1 in GNU.sparse.map; 0.0 in repeated offset/numbytes.
    fn pax_sparse(
        &mut self,
        start: u64,
        pax: &Pax,
        kind: Kind,
        path: &mut Vec<u8>,
    ) -> Result<Option<Sparse>> {
        let major = pax.sparse_major.as_deref();
        let minor = pax.sparse_minor.as_deref();
        let has_map = pax.sparse_map.is_some() || !pax.sparse_pairs.is_empty();
        let v1 = match (major, minor) {
            (Some(b"0"), Some(b"0" | b"1")) => false,
            (Some(b"1"), Some(b"0")) => true,
            // A version we do not know: the entry stays as stored (Go too).
            (Some(_), _) | (_, Some(_)) => return Ok(None),
            (None, None) if has_map => false,
            (None, None) => return Ok(None),
        };
        if kind != Kind::Regular {
            return Err(self.corrupt(start, "sparse map on an entry that is not a file"));
        }
        if let Some(name) = &pax.sparse_name {
            path.clone_from(name);
        }
        // Without a recorded size the file ends where its data does.
        let real_size = pax.sparse_size.or(pax.sparse_realsize);
        let map = if v1 {
            self.read_v1_map(start)?
        } else {
            let numbers = match &pax.sparse_map {
                Some(m) => m.as_slice(),
                None => pax.sparse_pairs.as_slice(),
            };
            if !numbers.len().is_multiple_of(2) {
                return Err(self.corrupt(start, "sparse map with an odd number of values"));
            }
            numbers
                .chunks_exact(2)
                .map(|p| Segment {
                    offset: p[0],
                    len: p[1],
                })
                .collect()
        };
        let real_size = match real_size {
            Some(s) => s,
            None => map
                .last()
                .map_or(0, |s: &Segment| s.offset.saturating_add(s.len)),
        };
        Ok(Some(Sparse { real_size, map }))
    }

    /// PAX 1.0: decimal numbers one per line (count, then offset and length
    /// pairs) in whole blocks at the start of the entry's data.
    fn read_v1_map(&mut self, start: u64) -> Result<Vec<Segment>> {
        let mut block = [0u8; BLOCK];
        let mut at = BLOCK;
        let mut token: Vec<u8> = Vec::with_capacity(24);
        let mut next_number = |r: &mut Self| -> Result<u64> {
            token.clear();
            loop {
                if at == BLOCK {
                    if r.left < BLOCK as u64 {
                        return Err(r.corrupt(start, "sparse map runs past the entry's data"));
                    }
                    let mut n = 0;
                    while n < BLOCK {
                        n += r.read_data(&mut block[n..])?;
                    }
                    at = 0;
                }
                let b = block[at];
                at += 1;
                if b == b'\n' {
                    break;
                }
                if !b.is_ascii_digit() || token.len() >= 20 {
                    return Err(r.corrupt(start, "sparse map holds something other than numbers"));
                }
                token.push(b);
            }
            std::str::from_utf8(&token)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| r.corrupt(start, "sparse map holds an invalid number"))
        };
        let count = next_number(self)?;
        if count > MAX_SPARSE_SEGMENTS as u64 {
            return Err(self.too_many_segments(start));
        }
        // Grown as pairs actually arrive, never sized from the claimed count.
        let mut map = Vec::new();
        for _ in 0..count {
            let offset = next_number(self)?;
            let len = next_number(self)?;
            map.push(Segment { offset, len });
        }
        // The rest of the map's last block is padding.
        Ok(map)
    }

    /// Segments in order, not overlapping, inside the file, whose lengths
    /// add up to exactly the data the entry holds (BSD tar's and Go's checks).
    fn check_sparse(&self, start: u64, sp: &Sparse) -> Result<()> {
        let bad = |r: &str| Err(self.corrupt(start, &format!("invalid sparse map: {r}")));
        if sp.real_size > MAX_FILE_SIZE {
            return bad("the file size is out of range");
        }
        let mut end = 0u64;
        let mut data = 0u64;
        for s in &sp.map {
            let Some(s_end) = s.offset.checked_add(s.len) else {
                return bad("a segment's end overflows");
            };
            if s.offset < end {
                return bad("segments overlap or are out of order");
            }
            if s_end > sp.real_size {
                return bad("a segment extends past the end of the file");
            }
            end = s_end;
            data += s.len;
        }
        if data != self.left {
            return bad(&format!(
                "its segments hold {data} bytes but the entry has {}",
                self.left
            ));
        }
        Ok(())
    }
}

/// A header block.
struct Raw<'a>(&'a [u8; BLOCK]);

impl Raw<'_> {
    fn field(&self, at: usize, len: usize) -> &[u8] {
        &self.0[at..at + len]
    }
}

/// A NUL-terminated string field.
fn cstr(field: &[u8]) -> &[u8] {
    match field.iter().position(|b| *b == 0) {
        Some(n) => &field[..n],
        None => field,
    }
}

/// Octal, padded with spaces or NULs on either side (as Go's reader
/// trims them); empty is 0.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let pad = |b: &u8| *b == b' ' || *b == 0;
    let start = field.iter().position(|b| !pad(b)).unwrap_or(field.len());
    let end = field.iter().rposition(|b| !pad(b)).map_or(start, |e| e + 1);
    let s = &field[start..end];
    let mut v: u64 = 0;
    for b in s {
        if !(b'0'..=b'7').contains(b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Octal, or GNU's base-256 (high bit of the first byte set, the next bit
/// the sign), decoded as Go's archive/tar does.
fn parse_numeric(field: &[u8]) -> Option<i64> {
    let first = *field.first()?;
    if first & 0x80 == 0 {
        return parse_octal(field).and_then(|v| i64::try_from(v).ok());
    }
    // -a-1 == !a: a negative number is its inverted bytes, unsigned.
    let inv = if first & 0x40 != 0 { 0xff } else { 0 };
    let mut x: u64 = 0;
    for (i, b) in field.iter().enumerate() {
        let mut c = b ^ inv;
        if i == 0 {
            c &= 0x7f;
        }
        if x >> 56 != 0 {
            return None;
        }
        x = x << 8 | u64::from(c);
    }
    let x = i64::try_from(x).ok()?;
    Some(if inv == 0xff { !x } else { x })
}

/// PAX records: `<len> <key>=<value>\n`, `len` counting the whole record.
fn parse_pax(mut data: &[u8]) -> std::result::Result<Pax, &'static str> {
    let mut pax = Pax::default();
    while !data.is_empty() {
        // Trailing NULs pad some writers' headers.
        if data.iter().all(|b| *b == 0) {
            break;
        }
        let sp = data
            .iter()
            .position(|b| *b == b' ')
            .ok_or("PAX record without a length")?;
        let len: usize = std::str::from_utf8(&data[..sp])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record with an invalid length")?;
        if len <= sp + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err("PAX record with a wrong length");
        }
        let record = &data[sp + 1..len - 1];
        data = &data[len..];
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or("PAX record without '='")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        if key.is_empty() {
            return Err("PAX record with an empty key");
        }
        pax.record(key, value)?;
    }
    Ok(pax)
}

fn decimal(v: &[u8]) -> std::result::Result<u64, &'static str> {
    std::str::from_utf8(v)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or("PAX record with an invalid number")
}

impl Pax {
    fn record(&mut self, key: &[u8], value: &[u8]) -> std::result::Result<(), &'static str> {
        if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
            self.xattrs.push((name.to_vec(), value.to_vec()));
            return Ok(());
        }
        match key {
            b"path" => self.path = Some(value.to_vec()),
            b"linkpath" => self.link = Some(value.to_vec()),
            b"size" => self.size = Some(decimal(value)?),
            b"uid" => self.uid = Some(decimal(value)?),
            b"gid" => self.gid = Some(decimal(value)?),
            b"mtime" => self.mtime = Some(pax_time(value)?),
            b"GNU.sparse.major" => self.sparse_major = Some(value.to_vec()),
            b"GNU.sparse.minor" => self.sparse_minor = Some(value.to_vec()),
            b"GNU.sparse.name" => self.sparse_name = Some(value.to_vec()),
            b"GNU.sparse.size" => self.sparse_size = Some(decimal(value)?),
            b"GNU.sparse.realsize" => self.sparse_realsize = Some(decimal(value)?),
            b"GNU.sparse.map" => {
                let mut numbers = Vec::new();
                if !value.is_empty() {
                    for v in value.split(|b| *b == b',') {
                        numbers.push(decimal(v)?);
                    }
                }
                self.sparse_map = Some(numbers);
            }
            b"GNU.sparse.offset" | b"GNU.sparse.numbytes" => {
                // 0.0 repeats the pair in order: offset first.
                let want_offset = self.sparse_pairs.len().is_multiple_of(2);
                if want_offset != (key == b"GNU.sparse.offset") {
                    return Err("GNU.sparse.offset and numbytes records out of order");
                }
                if self.sparse_pairs.len() >= 2 * MAX_SPARSE_SEGMENTS {
                    return Err("sparse map with too many segments");
                }
                self.sparse_pairs.push(decimal(value)?);
            }
            // uname, gname, atime, ctime, charset, comments...: not needed.
            _ => {}
        }
        Ok(())
    }
}

/// `mtime` as seconds, fraction dropped: `1700000000.123`, `-5`.
fn pax_time(v: &[u8]) -> std::result::Result<i64, &'static str> {
    let (neg, digits) = match v.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let secs = match digits.iter().position(|b| *b == b'.') {
        Some(dot) => &digits[..dot],
        None => digits,
    };
    let secs = i64::try_from(decimal(secs)?).map_err(|_| "PAX time out of range")?;
    Ok(if neg { -secs } else { secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_octal_and_base_256() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"  644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0\0"), Some(0));
        assert_eq!(parse_numeric(b"\0 0644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"06\x0044\0"), None);
        assert_eq!(parse_numeric(b"0009\0"), None);
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[8..].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        assert_eq!(parse_numeric(&f), Some(0x1234_5678));
        let f = [0xffu8; 12];
        assert_eq!(parse_numeric(&f), Some(-1));
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[1] = 0x7f;
        assert_eq!(parse_numeric(&f), None, "beyond i64");
    }

    #[test]
    fn pax_records() {
        let p = parse_pax(b"11 path=ab\n19 GNU.sparse.map=\n").unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"ab"[..]));
        assert_eq!(p.sparse_map, Some(vec![]));
        assert!(parse_pax(b"99 path=ab\n").is_err());
        assert!(parse_pax(b"x path=ab\n").is_err());
        assert!(parse_pax(b"10 path=ab").is_err());
        let p = parse_pax(b"29 GNU.sparse.map=1,2,30,400\n").unwrap();
        assert_eq!(p.sparse_map, Some(vec![1, 2, 30, 400]));
        assert_eq!(pax_time(b"1700000000.5").unwrap(), 1_700_000_000);
        assert_eq!(pax_time(b"-3").unwrap(), -3);
    }
}
