//! `ADD <url>`: the builder downloads the file (docker fetches it itself,
//! whatever `--network` the RUN steps get) through the registry client's
//! HTTP stack, digests it for the cache key and `--checksum`, and leaves it
//! in a work dir for COPY's by-fd writer: mode 0600, mtime from
//! `Last-Modified`, never extracted.

use std::io::{Read, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::{build_error, Build};
use crate::{Error, Result};

/// A downloaded file: `dir/name`, and `sha256:<hex>` of its content.
pub(crate) struct Downloaded {
    pub dir: PathBuf,
    pub name: String,
    pub digest: String,
}

pub(crate) fn download(
    b: &Build<'_>,
    url: &str,
    checksum: Option<&str>,
    line: usize,
) -> Result<Downloaded> {
    let fail = |cause: String| build_error(format!("line {line}: ADD {url}: {cause}"));
    if let Some(c) = checksum {
        let ok = c
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|x| x.is_ascii_hexdigit()));
        if !ok {
            return Err(fail(format!("--checksum={c}: give sha256:<64 hex digits>")));
        }
    }
    let (client, _) = crate::registry::client(b.paths)?;
    let dl = husk_registry::fetch::fetch(&client, url).map_err(|e| match e {
        husk_registry::Error::FetchStatus { status, .. } => {
            fail(format!("the server answered HTTP {status}: check the URL"))
        }
        husk_registry::Error::BadUrl { .. } => fail(format!("{e}: check the URL")),
        // The transport's words are a registry's: say them for a download.
        husk_registry::Error::Connect { host, source } => fail(format!(
            "cannot connect to {host}: {}: the build needs network access to fetch it",
            husk_fs::Chain(&source)
        )),
        husk_registry::Error::Stalled { host, secs, .. } => fail(format!(
            "no data from {host} for {secs} s: the build needs network access to fetch it"
        )),
        e => fail(format!(
            "{}: the build needs network access to fetch it",
            husk_fs::Chain(&e)
        )),
    })?;
    let name = name_of(url);
    let dir = b.work.fresh("url")?;
    let path = dir.join(&name);
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?
    };
    let mut hasher = Sha256::new();
    let mut reader = dl.reader;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if super::interrupt::requested() {
            return Err(Error::Interrupted);
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(fail(format!(
                    "reading the download: {e}: the build needs network access to fetch it"
                )))
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| Error::io("write", &path, e))?;
    }
    let digest = format!("sha256:{:x}", hasher.finalize());
    if let Some(want) = checksum {
        if !want.eq_ignore_ascii_case(&digest) {
            return Err(fail(format!(
                "checksum mismatch: --checksum={want} but the download is {digest}"
            )));
        }
    }
    if let Some(t) = dl.last_modified.as_deref().and_then(http_date) {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
        file.set_times(
            std::fs::FileTimes::new()
                .set_modified(when)
                .set_accessed(when),
        )
        .map_err(|e| Error::io("set times", &path, e))?;
    }
    Ok(Downloaded { dir, name, digest })
}

/// The URL path's last segment (docker's name for `ADD url dir/`).
fn name_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let path = path.split_once('/').map_or("", |(_, p)| p);
    match path.rsplit('/').next() {
        Some(n) if !n.is_empty() && n != "." && n != ".." => n.to_string(),
        _ => "__unnamed__".to_string(),
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as seconds since the
/// epoch; None for anything else (the file then keeps the download time).
fn http_date(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|x| x.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    u64::try_from(days * 86400 + (h * 3600 + m * 60 + sec) as i64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names() {
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(http_date("Tue, 01 Jan 2030 00:00:00 GMT"), Some(1893456000));
        assert_eq!(http_date("yesterday"), None);
        assert_eq!(name_of("http://h:1/a/b.tar?x=1"), "b.tar");
        assert_eq!(name_of("http://h:1/"), "__unnamed__");
        assert_eq!(name_of("http://h:1"), "__unnamed__");
    }
}
