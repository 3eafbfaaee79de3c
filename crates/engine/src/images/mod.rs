//! The image commands: the store does the work, these shape docker's output.

pub mod history;
pub mod inspect;
pub mod list;
pub mod remove;
