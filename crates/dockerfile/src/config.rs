//! What instructions become in the image config, as docker writes it.

use crate::{Command, Healthcheck};

impl Command {
    /// The argv docker stores (CMD, ENTRYPOINT) or runs (RUN): exec form as
    /// written, shell form as `[SHELL..., text]` (`/bin/sh -c` by default).
    pub fn argv(&self, shell: &[String]) -> Vec<String> {
        match self {
            Command::Exec(v) => v.clone(),
            Command::Shell(s) => shell
                .iter()
                .cloned()
                .chain(std::iter::once(s.clone()))
                .collect(),
        }
    }
}

/// The default SHELL: `["/bin/sh", "-c"]`.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

impl Healthcheck {
    /// The config's `Healthcheck.Test`: `["NONE"]`, `["CMD-SHELL", text]` or
    /// `["CMD", argv...]`.
    pub fn test(&self) -> Vec<String> {
        match self {
            Healthcheck::None => vec!["NONE".into()],
            Healthcheck::Check {
                command: Command::Shell(s),
                ..
            } => vec!["CMD-SHELL".into(), s.clone()],
            Healthcheck::Check {
                command: Command::Exec(v),
                ..
            } => std::iter::once("CMD".to_string())
                .chain(v.iter().cloned())
                .collect(),
        }
    }
}

/// EXPOSE's expanded fields as the config's `ExposedPorts` keys (docker's
/// nat.ParsePortSpecs): `80` → `80/tcp`, `53/udp`, `8000-8002/tcp` → each
/// port; sorted, without duplicates. The error says which field is bad.
pub fn expose_ports(fields: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in fields {
        let (port, proto) = match f.split_once('/') {
            Some((p, "")) => (p, "tcp".to_string()),
            Some((p, proto)) => (p, proto.to_ascii_lowercase()),
            None => (f.as_str(), "tcp".to_string()),
        };
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(format!(
                "invalid proto \"{proto}\" in EXPOSE {f}: expected tcp, udp or sctp"
            ));
        }
        let num = |s: &str| -> Result<u16, String> {
            s.parse::<u16>()
                .map_err(|_| format!("invalid port \"{s}\" in EXPOSE {f}: expected 0-65535"))
        };
        let (lo, hi) = match port.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let p = num(port)?;
                (p, p)
            }
        };
        if hi < lo {
            return Err(format!(
                "invalid port range {port} in EXPOSE {f}: the end is before the start"
            ));
        }
        for p in lo..=hi {
            out.push(format!("{p}/{proto}"));
        }
    }
    out.sort_by(|a, b| {
        let key = |s: &str| {
            let (p, proto) = s.split_once('/').unwrap_or((s, ""));
            (p.parse::<u32>().unwrap_or(0), proto.to_string())
        };
        key(a).cmp(&key(b))
    });
    out.dedup();
    Ok(out)
}
