//! A client of the Docker Registry HTTP API v2 / OCI distribution spec:
//! `pull` streams blobs from the wire through their digest and the layer
//! unpacker into husk-image's store; `push` sends a stored image; `login`
//! checks and keeps credentials where docker keeps them.
//!
//! Layers: [`transport`] (HTTP, TLS, retries) under [`auth`] (challenges,
//! tokens) under [`client`] (the v2 calls), used by [`pull`].

pub mod auth;
pub mod client;
pub mod credentials;
mod error;
pub mod fetch;
mod login;
pub mod manifest;
pub mod progress;
pub mod pull;
pub mod push;
pub mod reference;
pub mod sources;
pub mod transport;

pub use auth::Login;
pub use client::{Client, Repository};
pub use error::{Error, Result};
pub use login::login;
pub use manifest::Platform;
pub use progress::{Event, Progress};
pub use pull::{pull, PullOptions, Pulled, Status};
pub use reference::ImageRef;
pub use transport::{Endpoint, Options};
