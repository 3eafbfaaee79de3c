//! What /proc says of one host process, as `x-ray`, `which` and `why`
//! read it: the kernel's own files, parsed, nothing inferred.

use std::path::PathBuf;

/// `/proc/PID/status` as key → value (`NSpid`, `CapEff`, `Seccomp`, ...).
pub fn status(pid: i32) -> Option<Vec<(String, String)>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect(),
    )
}

pub fn field<'a>(status: &'a [(String, String)], key: &str) -> Option<&'a str> {
    status
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The pid in the innermost pid namespace (last of `NSpid`).
pub fn pid_inside(status: &[(String, String)]) -> Option<i32> {
    field(status, "NSpid")?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// `/proc/PID/cgroup`: (hierarchy id, controllers, path) per line.
pub fn cgroups(pid: i32) -> Option<Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    Some(
        text.lines()
            .filter_map(|l| {
                let mut it = l.splitn(3, ':');
                Some((
                    it.next()?.to_string(),
                    it.next()?.to_string(),
                    it.next()?.to_string(),
                ))
            })
            .collect(),
    )
}

/// The command line, arguments joined by spaces (the comm for kernel threads).
pub fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        format!("[{}]", comm(pid))
    } else {
        args.join(" ")
    }
}

pub fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default()
}

/// The inode of namespace `kind` of `pid` (`net:[4026531840]` → 4026531840).
pub fn ns_inode(pid: i32, kind: &str) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
    let s = link.to_str()?;
    s.rsplit_once('[')?.1.strip_suffix(']')?.parse().ok()
}

/// Every pid on the host.
pub fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The pids holding socket `inode` open (`/proc/*/fd/* -> socket:[inode]`).
pub fn socket_holders(inode: u64) -> Vec<i32> {
    let want = PathBuf::from(format!("socket:[{inode}]"));
    all_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .map(|rd| {
                    rd.flatten()
                        .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == want))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// The inode of a socket listening on TCP `port` in the calling process's
/// network namespace (`/proc/net/tcp` and `tcp6`, state 0A = LISTEN).
pub fn tcp_listener(port: u16) -> Option<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        text.lines().skip(1).find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let local = cols.get(1)?;
            let p = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (p == port && cols.get(3) == Some(&"0A"))
                .then(|| cols.get(9)?.parse().ok())
                .flatten()
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_reads_as_the_kernel_says() {
        let me = std::process::id() as i32;
        let st = super::status(me).expect("own status");
        assert_eq!(super::field(&st, "Pid"), Some(me.to_string().as_str()));
        assert!(super::pid_inside(&st).is_some());
        assert!(super::ns_inode(me, "mnt").is_some());
        assert!(!super::cgroups(me).expect("own cgroup").is_empty());
    }

    #[test]
    fn a_listener_is_found_with_its_holder() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let inode = super::tcp_listener(port).expect("listed in /proc/net/tcp");
        let me = std::process::id() as i32;
        assert!(super::socket_holders(inode).contains(&me));
    }
}
