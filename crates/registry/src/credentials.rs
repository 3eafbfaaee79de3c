//! Registry credentials where docker keeps them: `$DOCKER_CONFIG/config.json`
//! (default `$HOME/.docker/config.json`), in its `auths` or through the
//! credential helper it names (`credsStore`, `credHelpers`). A user who ran
//! `docker login` is logged in for husk too, and `husk login` is seen by
//! docker.
//!
//! ```no_run
//! # fn f() -> husk_registry::Result<()> {
//! use husk_registry::credentials::{Credential, Credentials};
//! let creds = Credentials::from_env();
//! if let Some(c) = creds.get("127.0.0.1:5000")? {
//!     // basic auth with c.username / c.secret, or an OAuth refresh token:
//!     let _ = c.identity_token();
//! }
//! creds.store("docker.io", &Credential { username: "me".into(), secret: "pw".into() })?;
//! creds.erase("docker.io")?;
//! # Ok(()) }
//! ```

mod config_file;
mod helper;
mod server;

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use config_file::{ConfigFile, Entry};
use helper::Helper;

pub use server::{key as server_key, DOCKER_HUB_KEY};

/// What a registry is logged in with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    /// The password, or an identity token when `username` is
    /// [`Credential::TOKEN_USERNAME`].
    pub secret: String,
}

impl Credential {
    /// The user name docker's helpers keep an identity token under.
    pub const TOKEN_USERNAME: &'static str = "<token>";

    /// The identity token (an OAuth refresh token, sent to the token
    /// server as `grant_type=refresh_token`), when this is one.
    pub fn identity_token(&self) -> Option<&str> {
        (self.username == Self::TOKEN_USERNAME).then_some(self.secret.as_str())
    }
}

/// The secret never reaches a log or an error message.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &"<hidden>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] husk_fs::Error),
    #[error("docker config {}: {message}: fix the JSON or move the file away", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("docker config {}: {what} has the wrong type: fix it as docker writes it, or remove it", path.display())]
    Shape { path: PathBuf, what: String },
    #[error("docker config {}: auths[{key:?}].auth is not base64 of user:password: log in to {key} again", path.display())]
    BadAuth { path: PathBuf, key: String },
    #[error("credential helper name {name:?} ({setting}) is not a name: give the NAME of docker-credential-NAME in PATH")]
    HelperName { name: String, setting: String },
    #[error("{program} not found in PATH (named by {setting} in docker's config.json): install it or remove the setting")]
    HelperMissing { program: String, setting: String },
    #[error("{program} {op} for {server}: {message}: check the credential helper")]
    Helper {
        program: String,
        op: &'static str,
        server: String,
        message: String,
    },
    #[error("{} is busy (another login or logout holds it): retry", path.display())]
    Busy { path: PathBuf },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A docker config directory's credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    dir: PathBuf,
    /// PATH searched for credential helpers (the process's when None).
    path: Option<OsString>,
}

impl Credentials {
    /// `$DOCKER_CONFIG`, else `$HOME/.docker` (the passwd entry's home
    /// when HOME is unset), as docker finds it.
    pub fn from_env() -> Credentials {
        let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => home().join(".docker"),
        };
        Credentials::at(&dir)
    }

    pub fn at(dir: &Path) -> Credentials {
        Credentials {
            dir: dir.to_path_buf(),
            path: None,
        }
    }

    /// Looks credential helpers up in `path` (a PATH-style list) instead of
    /// the process's PATH.
    pub fn with_helper_path(mut self, path: impl Into<OsString>) -> Credentials {
        self.path = Some(path.into());
        self
    }

    /// The config file these credentials live in.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// Whether a credential helper keeps `registry`'s secret (else it is
    /// in config.json in the clear, which `login` warns about as docker does).
    pub fn uses_helper(&self, registry: &str) -> Result<bool> {
        let file = ConfigFile::load(&self.dir)?;
        Ok(file.helper_for(&server::key(registry))?.is_some())
    }

    /// The credential for `registry` ("docker.io", "127.0.0.1:5000", or a
    /// URL form docker accepts), None when not logged in.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>> {
        let file = ConfigFile::load(&self.dir)?;
        let key = server::key(registry);
        if let Some(helper) = self.helper(&file, &key)? {
            // docker asks the helper for its own key; one written by an
            // older docker is also under the variant key it left in auths.
            if let Some(c) = helper.get(&key)? {
                return Ok(Some(c));
            }
            for k in file.keys_for(registry)? {
                if k != key {
                    if let Some(c) = helper.get(&k)? {
                        return Ok(Some(c));
                    }
                }
            }
        }
        // Secrets in the file itself: also when a helper is configured but
        // has nothing, as docker's file store is its fallback.
        for k in file.keys_for(registry)? {
            if let Some(Entry::Credential(c)) = file.entry(&k)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Keeps `c` for `registry`, in the configured helper (and `{}` in
    /// auths, as docker marks where one is logged in) or in auths.
    pub fn store(&self, registry: &str, c: &Credential) -> Result<()> {
        let _lock = self.lock()?;
        let mut file = ConfigFile::load(&self.dir)?;
        let key = server::key(registry);
        match self.helper(&file, &key)? {
            Some(helper) => {
                helper.store(&key, c)?;
                file.set(&key, None)?;
            }
            None => file.set(&key, Some(c))?,
        }
        file.save()
    }

    /// Forgets `registry` under every key docker may have used for it, in
    /// the helper and in auths. False when it was not logged in.
    pub fn erase(&self, registry: &str) -> Result<bool> {
        let _lock = self.lock()?;
        let mut file = ConfigFile::load(&self.dir)?;
        let key = server::key(registry);
        let mut keys = file.keys_for(registry)?;
        if !keys.contains(&key) {
            keys.insert(0, key.clone());
        }
        let mut erased = false;
        if let Some(helper) = self.helper(&file, &key)? {
            for k in &keys {
                erased |= helper.erase(k)?;
            }
        }
        let mut changed = false;
        for k in &keys {
            changed |= file.remove(k)?;
        }
        if changed {
            file.save()?;
        }
        Ok(erased || changed)
    }

    /// The client's credential lookup: each registry's credential read
    /// once (a helper may be slow or ask the user) and kept for the
    /// client's life; a failed read is not kept, so it is reported again.
    pub fn into_lookup(self) -> Box<crate::auth::Lookup> {
        let seen: Mutex<HashMap<String, Option<crate::Login>>> = Mutex::new(HashMap::new());
        Box::new(move |registry: &str| {
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(found) = seen.get(registry) {
                return Ok(found.clone());
            }
            let found = self.get(registry)?.map(|c| crate::Login {
                username: c.username,
                secret: c.secret,
            });
            seen.insert(registry.to_string(), found.clone());
            Ok(found)
        })
    }

    fn helper(&self, file: &ConfigFile, key: &str) -> Result<Option<Helper>> {
        file.helper_for(key)?
            .map(|(name, setting)| Helper::new(&name, setting, self.path.clone()))
            .transpose()
    }

    /// Serializes read-modify-write of config.json between husk processes
    /// (docker itself does not lock; its rename keeps readers safe).
    fn lock(&self) -> Result<husk_fs::Lock> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| husk_fs::Error::io("create", &self.dir, e))?;
        let dir = std::fs::canonicalize(&self.dir)
            .map_err(|e| husk_fs::Error::io("resolve", &self.dir, e))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(l) = husk_fs::Lock::try_exclusive_dir(&dir)? {
                return Ok(l);
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Busy { path: dir });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn home() -> PathBuf {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.dir)
        .unwrap_or_else(|| PathBuf::from("/"))
}

#[cfg(test)]
mod tests;
