//! Image layers: one-pass unpacking of tar / tar+gzip / tar+zstd blobs with
//! both digests computed while streaming, OCI whiteouts turned into overlayfs
//! form, a store of unpacked layers keyed by chain id, and the overlay mount
//! that stacks them for a container.
//!
//! Everything a layer tarball names is resolved by fd inside the layer
//! directory (`openat2(RESOLVE_IN_ROOT)`), so hostile archives cannot write
//! outside it.

mod apply;
mod at;
mod compression;
mod digest;
mod error;
mod overlay;
mod store;
mod tarstream;
mod unpack;

pub use compression::Compression;
pub use digest::{Digest, HashReader};
pub use error::{Error, Result};
pub use overlay::{mount_overlay, unmount};
pub use store::{LayerMeta, LayerStore, Staged};
pub use unpack::{sync_filesystem, unpack, Unpacked};
