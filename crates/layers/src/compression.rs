//! Layer compression, decided by the magic bytes (a docker-archive's
//! `layer.tar` may be gzip whatever its name says) and checked against the
//! media type when there is one.

use std::io::{BufRead, Read};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
const BZIP2: &[u8] = b"BZh";

impl Compression {
    pub fn from_magic(head: &[u8]) -> Result<Compression> {
        if head.starts_with(GZIP) {
            Ok(Compression::Gzip)
        } else if head.starts_with(ZSTD) {
            Ok(Compression::Zstd)
        } else if head.starts_with(XZ) || head.starts_with(BZIP2) {
            Err(Error::Compression(
                "xz and bzip2 layers are not supported: recompress with gzip or zstd".into(),
            ))
        } else {
            Ok(Compression::None)
        }
    }

    /// What an OCI or docker layer media type declares; `None` when it says nothing.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
            Some(Compression::Gzip)
        } else if media_type.ends_with("+zstd") {
            Some(Compression::Zstd)
        } else if media_type.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// Reads the magic from `r` without consuming it and checks it against
    /// `media_type`. A plain-tar media type over compressed bytes is tolerated
    /// (docker-archive layers), a compressed one over other bytes is not.
    pub fn detect<R: BufRead>(r: &mut R, media_type: Option<&str>) -> Result<Compression> {
        let head = r.fill_buf().map_err(Error::Stream)?;
        let found = Compression::from_magic(head)?;
        if let Some(mt) = media_type {
            if let Some(declared) = Compression::from_media_type(mt) {
                if declared != Compression::None && declared != found {
                    return Err(Error::Compression(format!(
                        "media type {mt} declares {declared:?} but the content is {found:?}"
                    )));
                }
            }
        }
        Ok(found)
    }

    /// The decompressed stream. One thread: gzip is inherently serial, and
    /// zstd's decoder is fast enough that tar writing dominates.
    pub fn decoder<'a, R: BufRead + Send + 'a>(self, r: R) -> Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            // Multi-member gzip is valid (pigz, concatenated streams); docker reads it all.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(r)
                    .map_err(|e| Error::Compression(format!("zstd: {e}")))?,
            ),
        })
    }

    pub fn media_type_suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "+gzip",
            Compression::Zstd => "+zstd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut r = std::io::BufReader::new(data);
        assert_eq!(Compression::detect(&mut r, None).unwrap(), c);
        let mut out = Vec::new();
        c.decoder(r).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn detects_gzip_zstd_and_plain() {
        let plain = vec![7u8; 4096];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&plain[..], 1).unwrap();
        assert_eq!(roundtrip(Compression::Gzip, &gz), plain);
        assert_eq!(roundtrip(Compression::Zstd, &zs), plain);
        assert_eq!(roundtrip(Compression::None, &plain), plain);
    }

    #[test]
    fn media_type_must_agree_with_magic() {
        let zs = zstd::encode_all(&b"x"[..], 1).unwrap();
        let mut r = std::io::BufReader::new(&zs[..]);
        let mt = "application/vnd.oci.image.layer.v1.tar+gzip";
        assert!(Compression::detect(&mut r, Some(mt)).is_err());
        let mt = "application/vnd.oci.image.layer.v1.tar+zstd";
        assert_eq!(
            Compression::detect(&mut r, Some(mt)).unwrap(),
            Compression::Zstd
        );
    }

    #[test]
    fn xz_is_refused_with_a_hint() {
        let err = Compression::from_magic(&[0xfd, b'7', b'z', b'X', b'Z', 0]).unwrap_err();
        assert!(err.to_string().contains("gzip or zstd"), "{err}");
    }
}
