//! Which namespace owns a sysctl: the one fact both the runtime (`linux.sysctl`) and the
//! engine (`--sysctl`) check before writing one, since a key outside the container's own
//! namespaces would change the host.

/// The IPC namespace's keys besides `fs.mqueue.*` (runc's and docker's list).
const IPC: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace (its OCI type: "ipc", "network", "uts") whose copy of `key` a container
/// may set, or None for a key the kernel keeps once for the whole host.
pub fn sysctl_namespace(key: &str) -> Option<&'static str> {
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key.starts_with("net.") {
        Some("network")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_their_namespaces() {
        assert_eq!(sysctl_namespace("kernel.shmmax"), Some("ipc"));
        assert_eq!(sysctl_namespace("fs.mqueue.msg_max"), Some("ipc"));
        assert_eq!(sysctl_namespace("net.ipv4.ip_forward"), Some("network"));
        assert_eq!(sysctl_namespace("kernel.domainname"), Some("uts"));
        assert_eq!(sysctl_namespace("kernel.pid_max"), None);
        assert_eq!(sysctl_namespace("vm.swappiness"), None);
    }
}
