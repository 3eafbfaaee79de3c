//! Contents of a container's /etc/hosts, /etc/resolv.conf and /etc/hostname,
//! as pure functions; the engine writes and bind-mounts them.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::{Error, Result};

/// The nameservers docker falls back to when the host has only loopback ones.
pub const DEFAULT_DNS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// An `--add-host name:ip` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    pub name: String,
    pub ip: IpAddr,
}

/// Parses `name:ip` (the ip may be IPv6: only the first colon splits).
pub fn parse_add_host(spec: &str) -> Result<HostEntry> {
    let bad = || Error::InvalidHost(spec.to_string());
    let (name, ip) = spec.split_once(':').ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok(HostEntry {
        name: name.to_string(),
        ip: ip.parse().map_err(|_| bad())?,
    })
}

pub fn hostname_content(hostname: &str) -> String {
    format!("{hostname}\n")
}

/// docker's /etc/hosts: loopback and IPv6 boilerplate, `--add-host`
/// entries, then the container's own address and hostname.
pub fn hosts_content(hostname: &str, ip: Option<IpAddr>, extra: &[HostEntry]) -> String {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for e in extra {
        s.push_str(&format!("{}\t{}\n", e.ip, e.name));
    }
    if let Some(ip) = ip {
        s.push_str(&format!("{ip}\t{hostname}\n"));
    }
    s
}

/// The host's resolv.conf as a container should see it. `dns` and `search`
/// replace the host's nameservers and search domains when non-empty
/// (`--dns-search .` clears them); otherwise loopback nameservers, which
/// mean nothing inside the container's namespace, are dropped and docker's
/// public defaults stand in if none remain.
pub fn resolv_conf_content(
    host: &str,
    dns: &[IpAddr],
    search: &[String],
    options: &[String],
) -> String {
    let mut out = Vec::new();
    let mut nameservers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if !dns.is_empty() {
                    continue;
                }
                let Some(addr) = words.next() else { continue };
                let is_loopback = addr
                    .split('%')
                    .next()
                    .and_then(|a| a.parse::<IpAddr>().ok())
                    .is_some_and(|a| a.is_loopback());
                if is_loopback {
                    continue;
                }
                nameservers += 1;
                out.push(line.to_string());
            }
            Some("search") | Some("domain") if !search.is_empty() => {}
            Some("options") if !options.is_empty() => {}
            _ => out.push(line.to_string()),
        }
    }
    for ip in dns {
        out.push(format!("nameserver {ip}"));
    }
    if dns.is_empty() && nameservers == 0 {
        out.extend(DEFAULT_DNS.iter().map(|d| format!("nameserver {d}")));
    }
    let search: Vec<&str> = search
        .iter()
        .map(String::as_str)
        .filter(|s| *s != ".")
        .collect();
    if !search.is_empty() {
        out.push(format!("search {}", search.join(" ")));
    }
    if !options.is_empty() {
        out.push(format!("options {}", options.join(" ")));
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// The resolv.conf to start from: systemd-resolved's real upstream list
/// when /etc/resolv.conf only names its 127.0.0.53 stub, as docker does.
pub fn host_resolv_conf() -> Result<String> {
    let etc = Path::new("/etc/resolv.conf");
    let text = match std::fs::read_to_string(etc) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", etc, e)),
    };
    if text.contains("nameserver 127.0.0.53") {
        let upstream = Path::new("/run/systemd/resolve/resolv.conf");
        if let Ok(t) = std::fs::read_to_string(upstream) {
            return Ok(t);
        }
    }
    Ok(text)
}

/// Replaces a file's content keeping its inode: the file is bind-mounted
/// into a running container, and a rename would leave the mount on the old
/// inode.
pub fn rewrite_in_place(path: &Path, content: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    f.write_all(content.as_bytes())
        .map_err(|e| Error::io("write", path, e))?;
    f.set_len(content.len() as u64)
        .map_err(|e| Error::io("truncate", path, e))?;
    f.sync_data().map_err(|e| Error::io("fsync", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    const HOST: &str =
        "# generated\nnameserver 127.0.0.53\nnameserver ::1\nsearch corp.example\noptions edns0\n";

    #[test]
    fn loopback_nameservers_fall_back_to_docker_defaults() {
        let s = resolv_conf_content(HOST, &[], &[], &[]);
        assert_eq!(
            s,
            "# generated\nsearch corp.example\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }

    #[test]
    fn real_nameservers_are_kept() {
        let s = resolv_conf_content("nameserver 10.0.0.2\nnameserver 127.0.0.1\n", &[], &[], &[]);
        assert_eq!(s, "nameserver 10.0.0.2\n");
    }

    #[test]
    fn flags_replace_the_host_values() {
        let dns = ["1.1.1.1".parse().unwrap()];
        let search = ["a.example".to_string(), "b.example".to_string()];
        let s = resolv_conf_content(HOST, &dns, &search, &["ndots:2".to_string()]);
        assert_eq!(
            s,
            "# generated\nnameserver 1.1.1.1\nsearch a.example b.example\noptions ndots:2\n"
        );
        let s = resolv_conf_content(HOST, &[], &[".".to_string()], &[]);
        assert!(!s.contains("search"), "{s}");
    }

    #[test]
    fn hosts_and_hostname() {
        let extra = [
            parse_add_host("db:10.0.0.5").unwrap(),
            parse_add_host("v6:::1").unwrap(),
        ];
        let s = hosts_content("abc123", Some("172.17.0.2".parse().unwrap()), &extra);
        assert!(s.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(s.contains("10.0.0.5\tdb\n"));
        assert!(s.contains("::1\tv6\n"));
        assert!(s.ends_with("172.17.0.2\tabc123\n"));
        assert_eq!(hostname_content("abc123"), "abc123\n");
        assert!(parse_add_host("nocolon").is_err());
        assert!(parse_add_host("x:notanip").is_err());
    }

    #[test]
    fn rewrite_keeps_the_inode_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hosts");
        std::fs::write(&p, "a much longer original content\n").unwrap();
        let ino = std::fs::metadata(&p).unwrap().ino();
        rewrite_in_place(&p, "short\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "short\n");
        assert_eq!(std::fs::metadata(&p).unwrap().ino(), ino);
    }
}
