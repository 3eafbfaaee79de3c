//! A plain download over the registry HTTP stack (the same TLS setup,
//! system roots plus certs.d, redirects, stall timeout and retries):
//! what `ADD <url>` of a build fetches. No credentials are sent: the
//! server is not a registry.

use std::io::Read;

use ureq::http::Method;

use crate::client::Client;
use crate::transport::{Body, Endpoint};
use crate::{Error, Result};

/// A response being read.
pub struct Download {
    pub reader: Box<dyn Read + Send>,
    /// The `Last-Modified` header as sent, if any.
    pub last_modified: Option<String>,
}

/// `GET url` (http or https), following redirects; a status other than
/// 200 is an error naming it.
pub fn fetch(client: &Client, url: &str) -> Result<Download> {
    let ep = Endpoint::from_url(url).map_err(|_| Error::BadUrl {
        url: url.to_string(),
    })?;
    let resp = client
        .transport()
        .send(&ep, Method::GET, url, &[], Body::Empty, url)?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(Error::FetchStatus {
            url: url.to_string(),
            status,
        });
    }
    let last_modified = resp
        .headers()
        .get("last-modified")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let reader = resp.into_body().into_reader();
    Ok(Download {
        reader: Box::new(reader),
        last_modified,
    })
}
