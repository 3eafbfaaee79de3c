//! docker's shapes of what the store holds: `ps`, `inspect`, `images`,
//! `image inspect`, `history`. They read; they change nothing.

pub mod events;
pub mod history;
pub mod image_inspect;
pub mod images;
pub mod inspect;
pub mod ps;
pub mod stats;
pub mod system;
pub mod top;
