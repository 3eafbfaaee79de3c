//! Process scheduling settings of the spec: personality, I/O priority and
//! the CPU scheduler. Applied before capabilities are dropped, since
//! realtime policies need CAP_SYS_NICE.

use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxPersonality, LinuxPersonalityDomain, LinuxSchedulerFlag,
    LinuxSchedulerPolicy, Scheduler,
};

use crate::{Error, Result};

pub fn apply_personality(p: &LinuxPersonality) -> Result<()> {
    if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
        return Err(Error::Spec(
            "linux.personality.flags: not supported (remove them)".into(),
        ));
    }
    let persona: libc::c_ulong = match p.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    };
    // SAFETY: personality takes a plain integer.
    if unsafe { libc::personality(persona) } < 0 {
        return Err(Error::Spec(format!(
            "linux.personality: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

pub fn apply_io_priority(p: &LinuxIOPriority) -> Result<()> {
    let prio = p.priority();
    if !(0..=7).contains(&prio) {
        return Err(Error::Spec(format!(
            "process.ioPriority.priority: {prio} is outside 0..7"
        )));
    }
    let class: i64 = match p.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: ioprio_set with integer arguments; 0 is the calling process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0,
            (class << 13) | prio,
        )
    };
    if rc < 0 {
        return Err(Error::Spec(format!(
            "process.ioPriority: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

pub fn apply_scheduler(s: &Scheduler) -> Result<()> {
    let policy = match s.policy() {
        LinuxSchedulerPolicy::SchedOther => 0,
        LinuxSchedulerPolicy::SchedFifo => 1,
        LinuxSchedulerPolicy::SchedRr => 2,
        LinuxSchedulerPolicy::SchedBatch => 3,
        LinuxSchedulerPolicy::SchedIso => 4,
        LinuxSchedulerPolicy::SchedIdle => 5,
        LinuxSchedulerPolicy::SchedDeadline => 6,
    };
    let mut flags = 0u64;
    for f in s.flags().as_deref().unwrap_or(&[]) {
        flags |= match f {
            LinuxSchedulerFlag::SchedResetOnFork => 0x01,
            LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
            LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
            LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
            LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
            LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
            LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
        };
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy,
        flags,
        nice: s.nice().unwrap_or(0),
        priority: s.priority().unwrap_or(0).max(0) as u32,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
        ..Default::default()
    };
    // SAFETY: sched_setattr(0 = this thread, attr, 0) reads a sched_attr
    // whose size field matches the struct passed.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    if rc < 0 {
        return Err(Error::Spec(format!(
            "process.scheduler: {:?}: {}",
            s.policy(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
