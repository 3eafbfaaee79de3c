//! The v2 device controller is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.
//! We emit the few instructions it needs ourselves (the shape of runc's devicefilter) rather
//! than pull in a BPF toolchain, and load/attach it with bpf(2).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::{Rule, ACC_ALL};
use crate::error::{Error, Result};

/// struct bpf_insn.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    /// dst in the low nibble, src in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_K: u8 = 0xb4;
const ALU32_MOV_X: u8 = 0xbc;
const JMP_JNE_K: u8 = 0x55;
const JMP_JNE_X: u8 = 0x5d;
const JMP_EXIT: u8 = 0x95;

const BPF_DEVCG_DEV_BLOCK: i32 = 1;
const BPF_DEVCG_DEV_CHAR: i32 = 2;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program: R2 = device type, R3 = requested access, R4 = major, R5 = minor, then one
/// block per rule, last rule first so the last matching rule decides (the v1 list's
/// semantics), and deny when none matches.
pub(crate) fn program(rules: &[Rule]) -> Vec<Insn> {
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } with
    // access_type = (access << 16) | type.
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        // Conditions that, when they fail, skip to the next block; `None` off is patched below.
        let mut block: Vec<Insn> = Vec::new();
        let mut jumps = Vec::new();
        match r.typ {
            'b' => {
                jumps.push(block.len());
                block.push(insn(JMP_JNE_K, 2, 0, 0, BPF_DEVCG_DEV_BLOCK));
            }
            'c' => {
                jumps.push(block.len());
                block.push(insn(JMP_JNE_K, 2, 0, 0, BPF_DEVCG_DEV_CHAR));
            }
            _ => {}
        }
        if r.access != ACC_ALL {
            // (access & rule) != access: the request wants something the rule lacks.
            block.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
            block.push(insn(ALU32_AND_K, 1, 0, 0, i32::from(r.access)));
            jumps.push(block.len());
            block.push(insn(JMP_JNE_X, 1, 3, 0, 0));
        }
        for (reg, v) in [(4u8, r.major), (5u8, r.minor)] {
            if let Some(v) = v {
                jumps.push(block.len());
                // Validation bounds device numbers to i32.
                block.push(insn(JMP_JNE_K, reg, 0, 0, v as i32));
            }
        }
        block.push(insn(ALU32_MOV_K, 0, 0, 0, i32::from(r.allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        let unconditional = jumps.is_empty();
        for j in jumps {
            block[j].off = (len - j - 1) as i16;
        }
        p.extend(block);
        // A rule matching everything decides alone; the verifier rejects the
        // unreachable code that would follow it.
        if unconditional {
            return p;
        }
    }
    p.push(insn(ALU32_MOV_K, 0, 0, 0, 0));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
    prog_attach_flags: u64,
}

#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<i64> {
    // SAFETY: `attr` is a live, fully initialised #[repr(C)] prefix of union bpf_attr and
    // its size is passed, so the kernel reads and writes only within it; any pointers in it
    // point to buffers the caller keeps alive across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn owned(fd: i64) -> OwnedFd {
    // SAFETY: bpf(2) just returned this fd to us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Loads the program; on failure the verifier's log is returned with the error, since
/// "invalid argument" alone says nothing about which instruction it disliked.
fn load(prog: &[Insn]) -> std::result::Result<OwnedFd, (std::io::Error, String)> {
    let license = c"Apache-2.0";
    let mut log = vec![0u8; 64 * 1024];
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    attr.prog_name[..4].copy_from_slice(b"husk");
    let mut first = bpf(BPF_PROG_LOAD, &mut attr);
    if matches!(&first, Err(e) if e.raw_os_error() == Some(libc::EPERM)) {
        // Before linux 5.11 BPF memory counted against RLIMIT_MEMLOCK, whose default is
        // too small; raise it (we are root) and retry once.
        let inf = libc::RLIM_INFINITY;
        if nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_MEMLOCK, inf, inf)
            .is_ok()
        {
            first = bpf(BPF_PROG_LOAD, &mut attr);
        }
    }
    match first {
        Ok(fd) => return Ok(owned(fd)),
        Err(e)
            if e.raw_os_error() != Some(libc::EINVAL) && e.raw_os_error() != Some(libc::EACCES) =>
        {
            return Err((e, String::new()))
        }
        Err(_) => {}
    }
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => Ok(owned(fd)),
        Err(e) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            Err((e, String::from_utf8_lossy(&log[..end]).trim().to_string()))
        }
    }
}

/// Ids of the device programs attached to the cgroup now.
fn attached(cgroup: &OwnedFd) -> std::io::Result<Vec<u32>> {
    let mut ids = [0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr)?;
    Ok(ids[..(attr.prog_cnt as usize).min(ids.len())].to_vec())
}

/// Attaches a program built from `rules` to the cgroup at `dir`, then detaches the ones that
/// were there before. Attaching first (with ALLOW_MULTI, where all programs must allow)
/// means there is no instant without a filter during an update.
pub(crate) fn apply(dir: &Path, rules: &[Rule]) -> Result<()> {
    let err = |op, source| Error::Bpf {
        op,
        path: dir.to_path_buf(),
        source,
    };
    let cgroup: OwnedFd = std::fs::File::open(dir)
        .map_err(|e| Error::io("open", dir, e))?
        .into();
    let old = attached(&cgroup).map_err(|e| err("query", e))?;
    let prog = load(&program(rules)).map_err(|(source, log)| Error::BpfLoad {
        path: dir.to_path_buf(),
        source,
        log,
    })?;
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map_err(|e| err("attach", e))?;
    for id in old {
        let mut get = GetFdAttr {
            prog_id: id,
            ..Default::default()
        };
        let old_fd = match bpf(BPF_PROG_GET_FD_BY_ID, &mut get) {
            Ok(fd) => owned(fd),
            // Detached and freed by someone else meanwhile.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(err("get program by id", e)),
        };
        let mut attr = AttachAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_bpf_fd: old_fd.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..Default::default()
        };
        match bpf(BPF_PROG_DETACH, &mut attr) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(err("detach old program", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_shape() {
        let rules = [
            Rule {
                allow: true,
                typ: 'c',
                major: Some(1),
                minor: Some(3),
                access: ACC_ALL,
            },
            Rule {
                allow: false,
                typ: 'a',
                major: None,
                minor: None,
                access: 2,
            },
        ];
        let p = program(&rules);
        // prologue 6 + deny-read block (mov, and, jne, mov, exit = 5)
        // + char 1:3 block (jne type, jne maj, jne min, mov, exit = 5) + default 2.
        assert_eq!(p.len(), 18);
        // Last rule first: the access check of the wildcard deny.
        assert_eq!(p[6], insn(ALU32_MOV_X, 1, 3, 0, 0));
        assert_eq!(p[8], insn(JMP_JNE_X, 1, 3, 2, 0));
        assert_eq!(p[9], insn(ALU32_MOV_K, 0, 0, 0, 0));
        assert_eq!(p[11], insn(JMP_JNE_K, 2, 0, 4, BPF_DEVCG_DEV_CHAR));
        assert_eq!(p[12], insn(JMP_JNE_K, 4, 0, 3, 1));
        assert_eq!(p[13], insn(JMP_JNE_K, 5, 0, 2, 3));
        assert_eq!(p[14], insn(ALU32_MOV_K, 0, 0, 0, 1));
        assert_eq!(p[17].code, JMP_EXIT);
    }

    #[test]
    fn a_match_all_rule_ends_the_program() {
        let all = Rule {
            allow: true,
            typ: 'a',
            major: None,
            minor: None,
            access: ACC_ALL,
        };
        let null = Rule {
            allow: false,
            typ: 'c',
            major: Some(1),
            minor: Some(3),
            access: ACC_ALL,
        };
        let p = program(&[all.clone(), null]);
        // prologue + the /dev/null block (5) + the allow-all block (2), no default.
        assert_eq!(p.len(), 6 + 5 + 2);
        assert_eq!(p[11], insn(ALU32_MOV_K, 0, 0, 0, 1));
        assert_eq!(p[12].code, JMP_EXIT);
        // Empty rules: deny everything.
        assert_eq!(program(&[]).len(), 8);
        assert_eq!(program(&[all]).len(), 8);
    }
}
