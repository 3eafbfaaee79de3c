//! Image layers: one-pass unpacking of tar / tar+gzip / tar+zstd blobs with
//! both digests computed while streaming, OCI whiteouts turned into overlayfs
//! form, a store of unpacked layers keyed by chain id, and the overlay mount
//! that stacks them for a container.
//!
//! The reverse too: an overlay upper dir written as a layer tar (OCI
//! whiteouts), a rootfs as a tar (`export`), and docker's change list (`diff`).
//!
//! Everything a layer tarball names is resolved by fd inside the layer
//! directory (`openat2(RESOLVE_IN_ROOT)`), so hostile archives cannot write
//! outside it.

mod apply;
mod at;
mod changes;
mod compression;
mod copy;
mod diff;
mod digest;
mod error;
mod overlay;
mod store;
mod tarstream;
mod unpack;

pub use apply::Owner;
pub use changes::{changes, Change, ChangeKind};
pub use compression::Compression;
pub use copy::{extract, ExtractOptions};
pub use diff::{
    write_layer, write_tar, write_tar_of, HashWriter, TarWritten, Tree, WrittenLayer, EMPTY_DIFF_ID,
};
pub use digest::{Digest, HashReader};
pub use error::{Error, Result};
pub use overlay::{mount_overlay, mount_readonly, unmount};
pub use store::{LayerMeta, LayerStore, Staged};
pub use unpack::{sync_filesystem, unpack, Unpacked};
