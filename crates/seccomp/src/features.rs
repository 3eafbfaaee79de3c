//! What `husk-runtime features` reports under `linux.seccomp` (runtime-spec features.md).

use libseccomp::ScmpFilterContext;

use crate::convert;

/// Spec spellings of what this build, this libseccomp and this kernel support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    pub enabled: bool,
    /// e.g. "SCMP_ACT_ALLOW"; SCMP_ACT_NOTIFY is left out until it is implemented.
    pub actions: Vec<String>,
    /// e.g. "SCMP_CMP_EQ".
    pub operators: Vec<String>,
    /// e.g. "SCMP_ARCH_X86_64": those the linked libseccomp can add to a filter on this host
    /// (it knows them, and they have the native byte order).
    pub archs: Vec<String>,
    /// Every filter flag we recognise, e.g. "SECCOMP_FILTER_FLAG_TSYNC".
    pub known_flags: Vec<String>,
    /// The subset of `known_flags` that a profile may use on this kernel.
    pub supported_flags: Vec<String>,
}

pub fn features() -> Features {
    let archs = convert::ARCHES
        .iter()
        .filter(|&&arch| {
            // libseccomp gained architectures over time (loongarch64, m68k, sh in 2.6), so ask
            // the linked library rather than trusting oci-spec's list.
            ScmpFilterContext::new(libseccomp::ScmpAction::Allow)
                .is_ok_and(|mut ctx| ctx.add_arch(convert::arch(arch)).is_ok())
        })
        .map(convert::spelling)
        .collect();
    let supported_flags = convert::FLAGS
        .iter()
        .filter(|&&flag| convert::flag("", flag).is_ok_and(convert::kernel_has_flag))
        .map(convert::spelling)
        .collect();
    Features {
        enabled: true,
        actions: convert::ACTIONS.iter().map(convert::spelling).collect(),
        operators: convert::OPERATORS.iter().map(convert::spelling).collect(),
        archs,
        known_flags: convert::FLAGS.iter().map(convert::spelling).collect(),
        supported_flags,
    }
}
