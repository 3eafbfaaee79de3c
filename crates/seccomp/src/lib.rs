//! OCI `linux.seccomp` → a seccomp BPF filter, with runc's semantics.
//!
//! The parent calls [`validate`] before it creates anything, so a bad profile is one clear
//! line. The container init builds a [`Filter`] while it still may (before dropping
//! privileges) and calls [`Filter::load`] as close to execve as possible; [`install`] does
//! both at once.

mod cache;
mod convert;
mod error;
mod features;
mod filter;
mod parse;
mod rules;

pub use error::{Error, Result};
pub use features::{features, Features};
pub use filter::Filter;
pub use parse::parse;

use oci_spec::runtime::LinuxSeccomp;

/// Checks the whole profile by compiling it, without installing anything.
pub fn validate(profile: &LinuxSeccomp) -> Result<()> {
    Filter::new(profile).map(drop)
}

/// Compiles the profile and installs it on the calling thread (see [`Filter::load`]).
pub fn install(profile: &LinuxSeccomp) -> Result<()> {
    Filter::new(profile)?.load()
}
