//! Build the whole BPF program up front, so that loading it is one syscall.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::FromRawFd;

use libc::{c_ulong, sock_filter, sock_fprog};
use libseccomp::error::SeccompErrno;
use libseccomp::{ScmpFilterContext, ScmpVersion};
use oci_spec::runtime::LinuxSeccomp;

use crate::convert;
use crate::error::{invalid, Error, Result};
use crate::rules;

/// BPF_MAXINSNS: the kernel refuses longer classic BPF programs.
const MAX_INSNS: usize = 4096;

/// A seccomp filter compiled from a profile, ready to be loaded.
///
/// All the work (libseccomp, allocation, kernel flag probes) happens in [`Filter::new`]; the
/// container init can build it while it still has privileges and its full environment, and
/// call [`Filter::load`] as the last step before execve: that is a single seccomp(2) call on
/// memory owned here, with no allocation, so nothing after it needs syscalls the profile may
/// forbid.
#[derive(Clone)]
pub struct Filter {
    program: Vec<sock_filter>,
    /// The length of `program`, checked against BPF_MAXINSNS in `new`.
    len: u16,
    flags: c_ulong,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.len)
            .field("flags", &self.flags)
            .finish()
    }
}

impl Filter {
    /// Checks the whole profile and compiles it for the architecture we run on.
    pub fn new(profile: &LinuxSeccomp) -> Result<Filter> {
        let default = convert::action(
            "defaultAction",
            "defaultErrnoRet",
            profile.default_action(),
            profile.default_errno_ret(),
        )?;
        let flags = kernel_flags(profile)?;

        let mut ctx = ScmpFilterContext::new(default).map_err(|source| Error::Build {
            field: "defaultAction".into(),
            op: "create filter",
            source,
        })?;
        // libseccomp's default linear layout, as runc: since Linux 5.11 the kernel caches
        // the syscalls a filter always allows and skips the program for them, and the binary
        // tree layout (optimize level 2) made docker's profile 25% longer and 50% slower to
        // build.

        // The native architecture is in a new context already; adding it again is a no-op.
        for (i, &arch) in profile.architectures().iter().flatten().enumerate() {
            ctx.add_arch(convert::arch(arch)).map_err(|source| {
                let field = format!("architectures[{i}]");
                let name = convert::spelling(&arch);
                match source.errno() {
                    Some(SeccompErrno::EINVAL) => invalid(
                        field,
                        format!("{name} is not supported by {}", libseccomp_version()),
                    ),
                    // One BPF program reads syscall arguments in one byte order.
                    Some(SeccompErrno::EDOM) => invalid(
                        field,
                        format!("{name} has another byte order than this host's architecture"),
                    ),
                    _ => Error::Build {
                        field,
                        op: "add architecture",
                        source,
                    },
                }
            })?;
        }
        for (i, call) in profile.syscalls().iter().flatten().enumerate() {
            rules::add(&mut ctx, i, call, default)?;
        }

        Filter::with_flags(export(&ctx)?, flags)
    }

    /// Checks the program's length against BPF_MAXINSNS (an empty program
    /// is no filter at all: refused too).
    fn with_flags(program: Vec<sock_filter>, flags: c_ulong) -> Result<Filter> {
        let len = u16::try_from(program.len())
            .ok()
            .filter(|&len| len > 0 && usize::from(len) <= MAX_INSNS)
            .ok_or(Error::TooLarge {
                len: program.len(),
                max: MAX_INSNS,
            })?;
        Ok(Filter {
            program,
            len,
            flags,
        })
    }

    /// Installs the filter on the calling thread (on all threads with
    /// SECCOMP_FILTER_FLAG_TSYNC).
    ///
    /// Like runc this does not set no_new_privs, which belongs to `process.noNewPrivileges`:
    /// without it the caller needs CAP_SYS_ADMIN, so load before dropping capabilities or
    /// after setting no_new_privs, or this fails with [`Error::LoadDenied`].
    pub fn load(&self) -> Result<()> {
        let prog = sock_fprog {
            len: self.len,
            // The kernel only reads through this pointer (it copies the program).
            filter: self.program.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` describes `self.program`, `len` instructions long, which outlives
        // the call; the kernel copies the program before returning.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &prog as *const sock_fprog,
            )
        };
        match rc {
            0 => Ok(()),
            // With TSYNC the kernel returns the id of the thread it could not synchronize.
            tid if tid > 0 => Err(Error::Tsync { tid }),
            _ => {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::EACCES) {
                    Err(Error::LoadDenied)
                } else {
                    Err(Error::Load { source: err })
                }
            }
        }
    }

    /// How many BPF instructions the compiled program has.
    pub fn instructions(&self) -> usize {
        self.program.len()
    }

    pub(crate) fn program(&self) -> &[sock_filter] {
        &self.program
    }

    /// A program compiled earlier from `profile` (see the cache), with the
    /// kernel flags probed now.
    pub(crate) fn from_program(
        profile: &LinuxSeccomp,
        program: Vec<sock_filter>,
    ) -> Result<Filter> {
        Filter::with_flags(program, kernel_flags(profile)?)
    }

    #[cfg(test)]
    pub(crate) fn program_bytes(&self) -> Vec<(u16, u8, u8, u32)> {
        self.program
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect()
    }
}

fn kernel_flags(profile: &LinuxSeccomp) -> Result<c_ulong> {
    let mut bits = 0;
    for (i, &flag) in profile.flags().iter().flatten().enumerate() {
        let field = format!("flags[{i}]");
        let bit = convert::flag(&field, flag)?;
        // Checked now because otherwise the kernel refuses the load with a bare EINVAL,
        // inside the container init, long after the parent could have said why.
        if !convert::kernel_has_flag(bit) {
            let name = convert::spelling(&flag);
            return Err(invalid(
                field,
                format!("{name} is not supported by this kernel"),
            ));
        }
        bits |= bit;
    }
    Ok(bits)
}

/// Takes the program out of libseccomp. libseccomp 2.5 can only write it to a file
/// descriptor, so it goes through a memfd.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<sock_filter>> {
    let io = |op| move |source| Error::Export { op, source };
    // SAFETY: the name is a NUL-terminated literal; the returned fd is checked below.
    let fd = unsafe { libc::memfd_create(c"husk-seccomp-bpf".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io("memfd_create")(std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    let mut file = unsafe { File::from_raw_fd(fd) };
    ctx.export_bpf(&file).map_err(|source| Error::Build {
        field: "filter".into(),
        op: "export bpf",
        source,
    })?;
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(io("seek"))?;
    file.read_to_end(&mut bytes).map_err(io("read"))?;

    let chunks = bytes.chunks_exact(std::mem::size_of::<sock_filter>());
    if !chunks.remainder().is_empty() {
        let msg = format!(
            "{} bytes is not a whole number of instructions",
            bytes.len()
        );
        return Err(io("read")(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            msg,
        )));
    }
    // libseccomp writes `struct sock_filter` in host byte order: u16 code, u8 jt, u8 jf, u32 k.
    Ok(chunks
        .map(|c| sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

pub(crate) fn libseccomp_version() -> String {
    match ScmpVersion::current() {
        Ok(v) => format!("libseccomp {}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "this libseccomp".into(),
    }
}
