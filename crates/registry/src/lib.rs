//! A client of the Docker Registry HTTP API v2 / OCI distribution spec:
//! `pull` streams blobs from the wire through their digest and the layer
//! unpacker into husk-image's store; `push` sends a stored image; `login`
//! checks and keeps credentials where docker keeps them.

pub mod credentials;
mod error;
pub mod sources;

pub use error::{Error, Result};
