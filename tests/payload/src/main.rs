//! The test payload: a static binary copied into test rootfs as /bin/payload.
//! Each sub-command reports one fact from inside the container on stdout, so
//! tests check settings from where they matter. Exit status 0 on success,
//! 2 on bad usage, 1 when the probed operation failed (with the errno).

use std::io::Write;
use std::sync::OnceLock;

/// /proc/self/status as it was before Rust's start-up code ran (it sets
/// SIGPIPE to ignored): the signal state the container process was
/// exec'd with, for `signals`.
static AT_EXEC: OnceLock<String> = OnceLock::new();

extern "C" fn record_at_exec() {
    let _ = AT_EXEC.set(std::fs::read_to_string("/proc/self/status").unwrap_or_default());
}

/// Run by the C runtime before main, so before std's SIGPIPE change.
#[used]
#[link_section = ".init_array"]
static RECORD_AT_EXEC: extern "C" fn() = record_at_exec;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("payload: {e}");
            1
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

fn run(args: &[String]) -> Result<(), String> {
    let cmd = args.first().map(String::as_str).unwrap_or("");
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match cmd {
        // pid, ppid and ids of this process.
        "pid" => println!("{}", std::process::id()),
        "ppid" => println!("{}", unsafe_call(|| unsafe { libc::getppid() })),
        "id" => {
            let groups = getgroups();
            println!(
                "uid={} gid={} euid={} egid={} groups={}",
                unsafe_call(|| unsafe { libc::getuid() }),
                unsafe_call(|| unsafe { libc::getgid() }),
                unsafe_call(|| unsafe { libc::geteuid() }),
                unsafe_call(|| unsafe { libc::getegid() }),
                groups
                    .iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        "cwd" => println!(
            "{}",
            std::env::current_dir()
                .map_err(|e| e.to_string())?
                .display()
        ),
        "env" => {
            for (k, v) in std::env::vars() {
                println!("{k}={v}");
            }
        }
        "hostname" => print!("{}", read("/proc/sys/kernel/hostname")?),
        "domainname" => print!("{}", read("/proc/sys/kernel/domainname")?),
        // /proc/self/status lines: Cap*, NoNewPrivs, Seccomp, Umask.
        "status" => {
            for line in read("/proc/self/status")?.lines() {
                if line.starts_with("Cap")
                    || line.starts_with("NoNewPrivs")
                    || line.starts_with("Seccomp")
                    || line.starts_with("Umask")
                {
                    println!("{line}");
                }
            }
        }
        // SigBlk and SigIgn as exec'd: every container process must start
        // with no signal blocked or ignored, as runc and crun give it.
        "signals" => {
            let status = AT_EXEC
                .get()
                .ok_or("signals: status at exec not recorded")?;
            for line in status.lines() {
                if line.starts_with("SigBlk") || line.starts_with("SigIgn") {
                    println!("{line}");
                }
            }
        }
        "cat" => print!("{}", read(&arg(1))?),
        "exists" => println!("{}", std::path::Path::new(&arg(1)).exists()),
        "write" => std::fs::write(arg(1), arg(2)).map_err(|e| format!("write {}: {e}", arg(1)))?,
        "readlink" => println!(
            "{}",
            std::fs::read_link(arg(1))
                .map_err(|e| e.to_string())?
                .display()
        ),
        // Every open fd and what it points at: leaked runtime fds show here.
        "fds" => {
            for e in std::fs::read_dir("/proc/self/fd").map_err(|e| e.to_string())? {
                let e = e.map_err(|e| e.to_string())?;
                let target = std::fs::read_link(e.path()).unwrap_or_default();
                println!("{} {}", e.file_name().to_string_lossy(), target.display());
            }
        }
        "rlimit" => {
            let (soft, hard) = rlimit(&arg(1))?;
            println!("{soft} {hard}");
        }
        "exit" => std::process::exit(arg(1).parse().map_err(|_| "exit: need a number")?),
        "sleep" => std::thread::sleep(std::time::Duration::from_secs_f64(
            arg(1).parse().map_err(|_| "sleep: need seconds")?,
        )),
        // Prints a line every 100ms: pause/resume tests watch it stop and go.
        "count" => {
            for i in 0.. {
                println!("{i}");
                let _ = std::io::stdout().flush();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        // Allocates and touches N MiB, to trip a memory limit.
        "memhog" => {
            let mb: usize = arg(1).parse().map_err(|_| "memhog: need MiB")?;
            let mut v: Vec<Vec<u8>> = Vec::new();
            for _ in 0..mb {
                v.push(vec![1u8; 1 << 20]);
            }
            println!("allocated {mb} MiB");
        }
        // Forks N children that sleep; reports how many forks succeeded.
        "forks" => {
            let n: usize = arg(1).parse().map_err(|_| "forks: need a count")?;
            let mut ok = 0;
            let mut last_err = String::new();
            for _ in 0..n {
                match std::process::Command::new("/bin/sleep").arg("5").spawn() {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        last_err = e.to_string();
                        break;
                    }
                }
            }
            println!("forked {ok} {last_err}");
        }
        // Burns CPU for N seconds (cpu quota tests).
        "spin" => {
            let secs: f64 = arg(1).parse().map_err(|_| "spin: need seconds")?;
            let start = std::time::Instant::now();
            let mut x = 0u64;
            while start.elapsed().as_secs_f64() < secs {
                x = x.wrapping_add(1);
            }
            println!("{}", x > 0);
        }
        // Reports the disposition of signal handling: waits for a signal and
        // prints its number.
        "wait-signal" => {
            let mut set: libc::sigset_t = unsafe_zeroed();
            // SAFETY: set is a valid sigset_t owned by this frame.
            unsafe {
                libc::sigfillset(&mut set);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            println!("ready");
            let _ = std::io::stdout().flush();
            let mut sig: libc::c_int = 0;
            // SAFETY: set and sig are valid for the call.
            unsafe { libc::sigwait(&set, &mut sig) };
            println!("signal {sig}");
        }
        // Tries a syscall that a seccomp profile may deny and prints the errno.
        "syscall" => {
            let r = match arg(1).as_str() {
                // SAFETY: plain syscalls with harmless arguments.
                "chroot" => unsafe { libc::chroot(c"/".as_ptr()) },
                "unshare-user" => unsafe { libc::unshare(libc::CLONE_NEWUSER) },
                "mount" => unsafe {
                    libc::mount(
                        c"none".as_ptr(),
                        c"/tmp".as_ptr(),
                        c"tmpfs".as_ptr(),
                        0,
                        std::ptr::null(),
                    )
                },
                "getpid" => unsafe { libc::getpid() },
                other => return Err(format!("syscall: unknown {other}")),
            };
            if r < 0 {
                println!(
                    "errno {}",
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
                );
            } else {
                println!("ok");
            }
        }
        // CVE-2019-5736 from inside: hold /proc/PID/exe by an O_PATH fd,
        // then for up to S seconds try to reopen it for writing (the runtime
        // leaves once the container starts) and write to it. The write puts
        // back the byte already there, so a success proves the hole without
        // breaking the host binary. With "unlock" (needs CAP_SYS_ADMIN) it
        // first tries to clear a read-only mount attribute on the held file
        // (mount_setattr, or on an open_tree clone of it).
        // Prints "link <target>", then "wrote" (exit 3) or why it could not.
        "overwrite-exe" => {
            use std::os::fd::AsRawFd;
            use std::os::unix::fs::{FileExt, OpenOptionsExt};
            let secs: f64 = arg(2).parse().map_err(|_| "overwrite-exe: need seconds")?;
            let held = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH)
                .open(arg(1))
                .map_err(|e| format!("open O_PATH {}: {e}", arg(1)))?;
            let link = std::fs::read_link(arg(1)).map_err(|e| e.to_string())?;
            println!("link {}", link.display());
            let _ = std::io::stdout().flush();
            let mut targets = vec![format!("/proc/self/fd/{}", held.as_raw_fd())];
            if arg(3) == "unlock" {
                println!("mount_setattr: {}", clear_ro(held.as_raw_fd()));
                // SAFETY: open_tree with a valid fd and an empty C path.
                let clone = unsafe {
                    libc::syscall(
                        libc::SYS_open_tree,
                        held.as_raw_fd(),
                        c"".as_ptr(),
                        1 | libc::AT_EMPTY_PATH | libc::O_CLOEXEC,
                    )
                };
                if clone < 0 {
                    println!("open_tree: {}", std::io::Error::last_os_error());
                } else {
                    println!(
                        "open_tree: ok; mount_setattr on clone: {}",
                        clear_ro(clone as i32)
                    );
                    targets.push(format!("/proc/self/fd/{clone}"));
                }
                let _ = std::io::stdout().flush();
            }
            let start = std::time::Instant::now();
            let mut last = String::new();
            while start.elapsed().as_secs_f64() < secs {
                for via in &targets {
                    let mut first = [0u8; 1];
                    if let Ok(r) = std::fs::File::open(via) {
                        let _ = r.read_at(&mut first, 0);
                    }
                    match std::fs::OpenOptions::new().write(true).open(via) {
                        Ok(f) => match f.write_at(&first, 0) {
                            Ok(_) => {
                                println!("wrote through {via}");
                                let _ = std::io::stdout().flush();
                                std::process::exit(3);
                            }
                            Err(e) => {
                                println!("opened {via} for writing; write refused: {e}");
                                return Ok(());
                            }
                        },
                        Err(e) => {
                            let msg = format!("open for writing refused: {e}");
                            if msg != last {
                                println!("{msg}");
                                let _ = std::io::stdout().flush();
                                last = msg;
                            }
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            println!("gave up");
        }
        "umask" => {
            // SAFETY: umask is always safe; set it back right away.
            let m = unsafe { libc::umask(0) };
            unsafe { libc::umask(m) };
            println!("{m:04o}");
        }
        _ => {
            eprintln!("usage: payload pid|ppid|id|cwd|env|hostname|domainname|status|signals|cat F|exists F|write F DATA|readlink F|fds|rlimit NAME|exit N|sleep S|count|memhog MB|forks N|spin S|wait-signal|syscall NAME|umask|overwrite-exe PATH S [unlock]");
            std::process::exit(2);
        }
    }
    Ok(())
}

/// mount_setattr(fd, "", AT_EMPTY_PATH) clearing MOUNT_ATTR_RDONLY.
fn clear_ro(fd: i32) -> String {
    #[repr(C)]
    struct MountAttr {
        set: u64,
        clr: u64,
        propagation: u64,
        userns: u64,
    }
    let attr = MountAttr {
        set: 0,
        clr: 1,
        propagation: 0,
        userns: 0,
    };
    // SAFETY: attr outlives the call and its size is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        std::io::Error::last_os_error().to_string()
    } else {
        "ok".to_string()
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("read {path}: {e}"))
}

fn unsafe_call<T>(f: impl FnOnce() -> T) -> T {
    f()
}

fn unsafe_zeroed<T>() -> T {
    // SAFETY: only used for plain C structs (sigset_t) where all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn getgroups() -> Vec<libc::gid_t> {
    let mut buf = vec![0 as libc::gid_t; 256];
    // SAFETY: buf has room for 256 entries, the size passed.
    let n = unsafe { libc::getgroups(buf.len() as libc::c_int, buf.as_mut_ptr()) };
    buf.truncate(n.max(0) as usize);
    buf
}

fn rlimit(name: &str) -> Result<(String, String), String> {
    let res = match name {
        "RLIMIT_NOFILE" | "nofile" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" | "nproc" => libc::RLIMIT_NPROC,
        "RLIMIT_CORE" | "core" => libc::RLIMIT_CORE,
        "RLIMIT_STACK" | "stack" => libc::RLIMIT_STACK,
        "RLIMIT_MEMLOCK" | "memlock" => libc::RLIMIT_MEMLOCK,
        other => return Err(format!("rlimit: unknown {other}")),
    };
    let mut r: libc::rlimit = unsafe_zeroed();
    // SAFETY: r is a valid rlimit struct.
    if unsafe { libc::getrlimit(res, &mut r) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let show = |v: libc::rlim_t| {
        if v == libc::RLIM_INFINITY {
            "unlimited".to_string()
        } else {
            v.to_string()
        }
    };
    Ok((show(r.rlim_cur), show(r.rlim_max)))
}
