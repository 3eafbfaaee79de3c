//! The image store: a content-addressed OCI image layout under the engine
//! root, with layers unpacked once by chain id (see [`Store`] for the layout
//! and the crash-safety rules), and the archive formats docker users move
//! images with: `import` (rootfs tarball), `load` and `save` (docker-archive
//! and oci-archive).
//!
//! What the engine's `run` needs:
//! ```no_run
//! # fn f() -> husk_image::Result<()> {
//! let store = husk_image::Store::open_read("/var/lib/husk".as_ref())?;
//! let image = store.resolve("busybox")?;
//! let config = store.oci_config(&image)?;     // Env, Cmd, Entrypoint, User, WorkingDir...
//! let lowers = store.lowerdirs(&image)?;      // top layer first, short l/ paths
//! # let (upper, work, merged) = (std::path::Path::new("u"), std::path::Path::new("w"), std::path::Path::new("m"));
//! husk_layers::mount_overlay(&lowers, upper, work, merged)?;
//! # Ok(()) }
//! ```

mod archive;
mod blobs;
mod error;
mod import;
mod load;
mod reference;
mod save;
mod store;
pub mod types;

pub use blobs::BlobStore;
pub use error::{printable, shown, Error, Result};
pub use husk_layers::Digest;
pub use import::import;
pub use load::{load, spool, Loaded, Spooled};
pub use reference::Reference;
pub use save::{save, Format, SaveItem};
pub use store::{Holder, Image, NewImage, Removed, Store, StoredLayer};
