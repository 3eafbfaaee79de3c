//! docker's shapes of what the store holds: `ps`, `inspect`, `images`,
//! `image inspect`, `history`. They read; they change nothing.

pub mod events;
pub mod history;
pub mod image_inspect;
pub mod images;
pub mod inspect;
pub mod inspect_flags;
pub mod procfs;
pub mod ps;
pub mod stats;
pub mod system;
pub mod top;
pub mod which;
pub mod why;
pub mod xray;
