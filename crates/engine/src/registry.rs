//! config.toml's `[registry]` section and the registry client it makes:
//! mirrors for docker.io, insecure registries, docker's certs.d beside
//! the config file, and how many layers download at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use husk_registry::{Client, Endpoint, Options, PullOptions};
use serde::Deserialize;

use crate::network::{Config, DEFAULT_CONFIG};
use crate::store::Paths;
use crate::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// URLs tried in order for docker.io images, then docker.io itself.
    pub registry_mirrors: Vec<String>,
    /// `HOST[:PORT]` that may use plain http or unverified TLS.
    pub insecure_registries: Vec<String>,
    /// Layers downloaded at once (docker's max-concurrent-downloads).
    pub max_concurrent_downloads: usize,
    /// Seconds without a byte before a download fails as stalled.
    pub stall_timeout: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            registry_mirrors: Vec::new(),
            insecure_registries: Vec::new(),
            max_concurrent_downloads: husk_registry::pull::DEFAULT_JOBS,
            stall_timeout: 30,
        }
    }
}

impl RegistryConfig {
    /// The checks `Config::load` runs: each error names the key.
    pub fn check(&self) -> std::result::Result<(), String> {
        for m in &self.registry_mirrors {
            Endpoint::from_url(m).map_err(|e| format!("registry.registry_mirrors: {e}"))?;
        }
        for h in &self.insecure_registries {
            if h.is_empty() || h.contains(['/', ' ']) {
                return Err(format!(
                    "registry.insecure_registries {h:?}: use HOST[:PORT], without a scheme"
                ));
            }
        }
        if !(1..=16).contains(&self.max_concurrent_downloads) {
            return Err(format!(
                "registry.max_concurrent_downloads {}: use 1 to 16",
                self.max_concurrent_downloads
            ));
        }
        if self.stall_timeout == 0 {
            return Err("registry.stall_timeout 0: use seconds, at least 1".into());
        }
        Ok(())
    }
}

/// docker's certs.d: beside the config file in use (or the default one).
pub fn certs_dir(config: Option<&Path>) -> PathBuf {
    config
        .unwrap_or(Path::new(DEFAULT_CONFIG))
        .parent()
        .unwrap_or(Path::new("/"))
        .join("certs.d")
}

/// A client configured by config.toml, and the pull options it sets.
pub fn client(paths: &Paths) -> Result<(Client, PullOptions)> {
    let cfg = Config::load(paths.config.as_deref())?.registry;
    let mirrors = cfg
        .registry_mirrors
        .iter()
        .map(|m| Endpoint::from_url(m))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Config {
            path: paths.config.clone().unwrap_or(DEFAULT_CONFIG.into()),
            reason: e.to_string(),
        })?;
    let opts = Options {
        insecure_registries: cfg.insecure_registries.clone(),
        certs_dir: Some(certs_dir(paths.config.as_deref())),
        stall_timeout: Duration::from_secs(cfg.stall_timeout),
        ..Options::default()
    };
    // Credentials where docker keeps them (config.json, its helpers).
    let creds = husk_registry::credentials::Credentials::from_env();
    let client = Client::new(opts).with_logins(creds.into_lookup());
    Ok((
        client,
        PullOptions {
            platform: None,
            mirrors,
            jobs: cfg.max_concurrent_downloads,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_section_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[registry]\nregistry_mirrors = [\"http://127.0.0.1:5000\"]\ninsecure_registries = [\"reg.local:5000\"]\nmax_concurrent_downloads = 2\n",
        )
        .unwrap();
        let c = Config::load(Some(&p)).unwrap().registry;
        assert_eq!(c.registry_mirrors, ["http://127.0.0.1:5000"]);
        assert_eq!(c.max_concurrent_downloads, 2);
        assert_eq!(certs_dir(Some(&p)), dir.path().join("certs.d"));
        assert_eq!(certs_dir(None), Path::new("/etc/husk/certs.d"));
        for (text, want) in [
            (
                "[registry]\nregistry_mirrors = [\"mirror:5000\"]\n",
                "registry.registry_mirrors",
            ),
            (
                "[registry]\ninsecure_registries = [\"http://x\"]\n",
                "registry.insecure_registries",
            ),
            (
                "[registry]\nmax_concurrent_downloads = 0\n",
                "max_concurrent_downloads",
            ),
            ("[registry]\nstall_timeout = 0\n", "registry.stall_timeout"),
            ("[registry]\nmirrors = []\n", "unknown field"),
        ] {
            std::fs::write(&p, text).unwrap();
            let err = Config::load(Some(&p)).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
