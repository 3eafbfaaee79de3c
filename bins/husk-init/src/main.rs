//! `husk-init`: the init `husk run --init` bind-mounts into a container
//! and runs as its PID 1, in front of the real command (docker's
//! docker-init/tini, podman's catatonit).
//!
//! `husk-init [--] COMMAND [ARG...]` runs COMMAND as its child and then
//! only waits: every catchable signal it gets is forwarded to the child,
//! every process that dies in the container is reaped (orphans are
//! reparented to PID 1, and a zombie in a pid namespace would otherwise
//! stay forever), and when the child exits husk-init exits with its
//! status: the child's code, or 128+N when signal N killed it. The rest of
//! the namespace is then killed by the kernel as PID 1 exits.
//!
//! Built static (`make init`): it runs inside any image, with or without a
//! dynamic loader.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

/// Signals PID 1 never forwards: the child's own exit notification, and
/// the terminal job-control ones a background init must not act upon.
const NOT_FORWARDED: &[libc::c_int] = &[libc::SIGCHLD, libc::SIGTTIN, libc::SIGTTOU];

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    if args.is_empty() {
        eprintln!("husk-init: usage: husk-init [--] COMMAND [ARG...]");
        std::process::exit(2);
    }
    let argv: Vec<CString> = match args
        .into_iter()
        .map(|a| CString::new(a.into_vec()))
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(_) => {
            eprintln!("husk-init: an argument contains a NUL byte");
            std::process::exit(2);
        }
    };
    std::process::exit(run(&argv));
}

/// Every signal blocked: they are all taken synchronously with
/// sigtimedwait, so nothing runs in a handler and none is lost (a blocked
/// signal is never discarded, not even for a namespace's PID 1).
fn block_all() {
    // SAFETY: sigset_t is plain data that sigfillset initialises; the
    // mask change affects this single-threaded process only.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
    }
}

fn run(argv: &[CString]) -> i32 {
    block_all();
    // SAFETY: fork in a single-threaded process; the child only calls
    // async-signal-safe functions before exec or _exit.
    let child = unsafe { libc::fork() };
    if child < 0 {
        eprintln!("husk-init: fork: {}", std::io::Error::last_os_error());
        return 1;
    }
    if child == 0 {
        exec_child(argv);
    }
    wait_forwarding(child)
}

/// In the child: its own process group, in the terminal's foreground when
/// there is one (so the terminal's ^C reaches the command once, not PID 1
/// and then again through forwarding, as tini does); every signal at its
/// default disposition and none blocked; then the command.
fn exec_child(argv: &[CString]) -> ! {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: async-signal-safe calls only; ptrs is a NUL-terminated array
    // of pointers into `argv`, alive until exec. SIGTTOU is still blocked,
    // so tcsetpgrp from what is now a background group cannot stop us.
    unsafe {
        libc::setpgid(0, 0);
        if libc::isatty(0) == 1 {
            libc::tcsetpgrp(0, libc::getpid());
        }
        // Best effort: the child runs whatever happens (nothing to report to).
        let _ = husk_fs::reset_signals();
        libc::execvp(ptrs[0], ptrs.as_ptr());
        let errno = *libc::__errno_location();
        let msg: &[u8] = if errno == libc::ENOENT {
            b"husk-init: exec: executable file not found\n"
        } else {
            b"husk-init: exec: permission denied or not executable\n"
        };
        libc::write(2, msg.as_ptr().cast(), msg.len());
        // docker's codes for a command not found (127) or not runnable (126).
        libc::_exit(if errno == libc::ENOENT { 127 } else { 126 })
    }
}

/// Forwards signals to `child` and reaps everything until `child` exits;
/// returns its exit status in the shell's convention.
fn wait_forwarding(child: libc::pid_t) -> i32 {
    // SAFETY: plain data filled by sigfillset.
    let all = unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut s);
        s
    };
    // A second's timeout: SIGCHLDs coalesce, so reaping also runs on a
    // clock in case one was merged with another.
    let timeout = libc::timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    loop {
        if let Some(status) = reap(child) {
            return status;
        }
        // SAFETY: siginfo_t is plain data the kernel fills.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to a filled set, info and timeout.
        let sig = unsafe { libc::sigtimedwait(&all, &mut info, &timeout) };
        if sig <= 0 || NOT_FORWARDED.contains(&sig) {
            continue;
        }
        // SAFETY: kill(2) on our own child, which we have not reaped yet
        // (reap returns as soon as it is), so the pid cannot be recycled.
        unsafe { libc::kill(child, sig) };
    }
}

/// Reaps every exited process; the child's status once it is among them.
fn reap(child: libc::pid_t) -> Option<i32> {
    let mut result = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer, never blocking.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return result;
        }
        if pid == child {
            result = Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                1
            });
        }
    }
}
