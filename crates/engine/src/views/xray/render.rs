//! `husk x-ray`'s one screen: each fact beside the file it came from.

use std::fmt::Write;

use super::rootfs::CHANGES_SHOWN;
use super::{CgroupFile, XRay};
use crate::format::human_size;
use crate::views::why::mib;

pub fn text(x: &XRay) -> String {
    let mut o = String::new();
    let pid = x.init.host_pid;
    let _ = writeln!(
        o,
        "{} ({}) is {}: process {pid} on this host, PID {} inside\n",
        x.name,
        &x.id[..12.min(x.id.len())],
        x.status,
        x.init
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into()),
    );

    let _ = writeln!(o, "PROCESSES   /proc/PID/status NSpid");
    let last = x.ancestry.len().saturating_sub(1);
    let chain: Vec<String> = x
        .ancestry
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let what = if n == last && n > 0 && p.command.contains("__monitor") {
                "husk __monitor".to_string()
            } else {
                first_word(&p.command).to_string()
            };
            format!("{} {what}", p.host_pid)
        })
        .collect();
    let _ = writeln!(o, "  parents   {}", chain.join("  <-  "));
    let _ = writeln!(o, "  {:>9} {:>6} {:>9}  COMMAND", "HOST PID", "PID", "PPID");
    for p in &x.processes {
        let _ = writeln!(
            o,
            "  {:>9} {:>6} {:>9}  {}",
            p.host_pid,
            p.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            p.ppid,
            p.command
        );
    }

    let _ = writeln!(
        o,
        "\nNAMESPACES  /proc/{pid}/ns/*   beside the host's (/proc/self/ns/*)"
    );
    for n in &x.namespaces {
        let how = if n.shared_with_host {
            "shared with the host".to_string()
        } else {
            format!("its own   (host {})", n.host_inode)
        };
        let _ = writeln!(o, "  {:<7} {:<12} {how}", n.kind, n.inode);
    }

    let _ = writeln!(o, "\nCGROUPS     /proc/{pid}/cgroup");
    // One line per place in the hierarchies (they are all /husk/<id>
    // unless --cgroup-parent says otherwise).
    let mut places: Vec<(String, Vec<String>)> = Vec::new();
    for d in &x.cgroups {
        let rel = d.dir.strip_prefix(&d.mount).unwrap_or(&d.dir);
        let place = format!("/{}", rel.display());
        let name = match d.version.as_str() {
            "v2" => "unified (v2)".to_string(),
            _ => d.controllers.join(","),
        };
        match places.iter_mut().find(|(p, _)| *p == place) {
            Some((_, names)) => names.push(name),
            None => places.push((place, vec![name])),
        }
    }
    for (place, names) in &places {
        let _ = writeln!(o, "  {place}");
        let _ = writeln!(o, "    in {}", names.join(" "));
    }
    let (limits, usage): (Vec<&CgroupFile>, Vec<&CgroupFile>) =
        x.resources.iter().partition(|f| f.limit);
    for (title, files) in [("limits in force", limits), ("usage now", usage)] {
        let _ = writeln!(o, "  {title}:");
        for f in files {
            let name = f.file.file_name().map(|n| n.to_string_lossy().into_owned());
            let _ = writeln!(o, "    {:<28} {}", name.unwrap_or_default(), annotate(f));
        }
    }

    let r = &x.rootfs;
    let _ = writeln!(o, "\nROOT FS     /proc/self/mountinfo");
    let _ = writeln!(o, "  {}", r.mount);
    for (n, l) in r.lower.iter().enumerate() {
        let _ = writeln!(o, "  lower {n:<2} {} -> {}", l.dir, l.target.display());
        let _ = writeln!(
            o,
            "           layer {}  {}  {}",
            short_digest(&l.diff_id),
            human_size(l.size),
            crate::format::ellipsis(&l.created_by, 60)
        );
    }
    let _ = writeln!(o, "  upper    {}", r.upper.display());
    let _ = writeln!(o, "  changes  {} so far", r.changes.len());
    for c in r.changes.iter().take(CHANGES_SHOWN) {
        let _ = writeln!(o, "           {c}");
    }
    if r.changes.len() > CHANGES_SHOWN {
        let _ = writeln!(
            o,
            "           ... and {} more (husk diff {})",
            r.changes.len() - CHANGES_SHOWN,
            x.name
        );
    }

    match &x.network {
        None => {
            let _ = writeln!(
                o,
                "\nNETWORK     no endpoint of its own (host, none or container:)"
            );
        }
        Some(n) => {
            let _ = writeln!(
                o,
                "\nNETWORK     netlink: the host's links, then /proc/{pid}/ns/net's"
            );
            let _ = writeln!(
                o,
                "  {} (ifindex {})  {}  mac {}  gateway {}",
                n.ifname,
                opt(n.ifindex),
                n.addresses.join(", "),
                n.mac,
                n.gateway
            );
            let _ = writeln!(
                o,
                "  veth     host end {} (ifindex {}), peer ifindex {}",
                n.host_veth,
                opt(n.host_ifindex),
                opt(n.peer_ifindex)
            );
            let _ = writeln!(
                o,
                "  bridge   {} (network {})",
                n.bridge.as_deref().unwrap_or("-"),
                n.network
            );
            for rule in &n.nft_rules {
                // husk's bookkeeping comment is in the JSON.
                let rule = rule.split(" comment \"").next().unwrap_or(rule);
                let _ = writeln!(o, "  nft      {rule}");
            }
            for e in &n.errors {
                let _ = writeln!(o, "  cannot read {e}");
            }
        }
    }

    let s = &x.security;
    let _ = writeln!(o, "\nSECURITY    /proc/{pid}/status, uid_map");
    let _ = writeln!(
        o,
        "  user     uid {}  gid {}  groups {}",
        s.uid,
        s.gid,
        if s.groups.is_empty() { "-" } else { &s.groups }
    );
    let _ = writeln!(o, "  uid_map  {}", s.uid_map);
    let _ = writeln!(
        o,
        "  caps     effective ({}): {}",
        s.cap_effective.len(),
        caps(&s.cap_effective)
    );
    let _ = writeln!(
        o,
        "           bounding ({}): {}",
        s.cap_bounding.len(),
        if s.cap_bounding == s.cap_effective {
            "the same".to_string()
        } else {
            caps(&s.cap_bounding)
        }
    );
    let _ = writeln!(
        o,
        "  seccomp  {} ({} filters)   no_new_privs {}",
        s.seccomp,
        s.seccomp_filters,
        if s.no_new_privs { "on" } else { "off" }
    );

    let _ = writeln!(o, "\nTRY");
    for c in &x.commands {
        let _ = writeln!(o, "  {c}");
    }
    o
}

/// A cgroup value with what it means (`8388608  = 8MiB`).
fn annotate(f: &CgroupFile) -> String {
    let v = &f.value;
    let bytes = f.controller == "memory" && !f.file.ends_with("memory.failcnt");
    let meaning = match v.parse::<u64>() {
        Ok(n) if bytes && n >= 1 << 62 => Some("unlimited".to_string()),
        Ok(n) if bytes => Some(mib(n)),
        _ if v == "max" || v == "-1" => Some("unlimited".to_string()),
        _ => None,
    };
    match meaning {
        Some(m) => format!("{v:<20} = {m}"),
        None => v.clone(),
    }
}

fn caps(c: &[String]) -> String {
    if c.is_empty() {
        return "none".into();
    }
    c.iter()
        .map(|c| c.strip_prefix("CAP_").unwrap_or(c).to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt(v: Option<u32>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

fn first_word(s: &str) -> &str {
    let w = s.split_whitespace().next().unwrap_or(s);
    w.rsplit('/').next().unwrap_or(w)
}

fn short_digest(d: &str) -> &str {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    &hex[..12.min(hex.len())]
}
