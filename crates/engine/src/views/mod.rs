//! docker's shapes of what the store holds: `ps`, `inspect`, `images`,
//! `image inspect`, `history`. They read; they change nothing.

pub mod history;
pub mod image_inspect;
pub mod images;
pub mod inspect;
pub mod procfs;
pub mod inspect_flags;
pub mod ps;
pub mod which;
pub mod why;
pub mod xray;
