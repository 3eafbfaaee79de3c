//! docker's `config.json`, read and written as docker does: `auths` maps a
//! server key to `{"auth": base64("user:password")}` (or an
//! `identitytoken`, or `{}` when a helper keeps the secret), `credsStore`
//! names the helper for every server, `credHelpers` one per server. Every
//! other key (psFormat, proxies, plugins, ...) belongs to docker or the user
//! and is written back untouched, in its order; the file is indented with
//! tabs like docker's.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::{server, Credential, Error, Result};

pub struct ConfigFile {
    /// The file itself (a symlinked config.json is written through).
    path: PathBuf,
    root: Map<String, Value>,
    /// Owner of the file as found, kept on rewrite (root running a login
    /// for a user whose HOME it has must not take the file from them).
    owner: Option<(u32, u32)>,
}

/// What `auths` holds for a server.
pub enum Entry {
    Credential(Credential),
    /// An entry with no secret: a helper keeps it (docker leaves `{}`).
    Empty,
}

impl ConfigFile {
    /// Reads `dir/config.json`; a missing file is an empty config.
    pub fn load(dir: &Path) -> Result<ConfigFile> {
        let path = resolve(&dir.join("config.json"));
        let (root, owner) = match std::fs::read(&path) {
            Ok(data) => {
                let owner = std::fs::metadata(&path).ok().map(|m| (m.uid(), m.gid()));
                (parse(&path, &data)?, owner)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Map::new(), None),
            Err(e) => return Err(Error::Io(husk_fs::Error::io("read", &path, e))),
        };
        Ok(ConfigFile { path, root, owner })
    }

    /// The helper for `key`: `credHelpers` by key or host, else `credsStore`.
    /// Returns the helper's name and the setting that named it.
    pub fn helper_for(&self, key: &str) -> Result<Option<(String, String)>> {
        if let Some(helpers) = self.root.get("credHelpers") {
            let helpers = helpers
                .as_object()
                .ok_or_else(|| self.shape("credHelpers"))?;
            for (k, v) in helpers {
                if k == key || server::same(k, key) {
                    let name = v.as_str().ok_or_else(|| self.shape("credHelpers"))?;
                    return Ok(Some((name.to_string(), format!("credHelpers[{k:?}]"))));
                }
            }
        }
        match self.root.get("credsStore") {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some((s.clone(), "credsStore".to_string()))),
            Some(_) => Err(self.shape("credsStore")),
        }
    }

    /// The keys in `auths` that name `registry`: the exact key docker
    /// writes first, then the variants docker's lookup accepts.
    pub fn keys_for(&self, registry: &str) -> Result<Vec<String>> {
        let exact = server::key(registry);
        let mut keys = Vec::new();
        if let Some(auths) = self.auths()? {
            if auths.contains_key(&exact) {
                keys.push(exact.clone());
            }
            keys.extend(
                auths
                    .keys()
                    .filter(|k| **k != exact && server::same(k, registry))
                    .cloned(),
            );
        }
        Ok(keys)
    }

    pub fn entry(&self, key: &str) -> Result<Option<Entry>> {
        let Some(v) = self.auths()?.and_then(|a| a.get(key)) else {
            return Ok(None);
        };
        let obj = v
            .as_object()
            .ok_or_else(|| self.shape(&format!("auths[{key:?}]")))?;
        let text = |name: &str| obj.get(name).and_then(Value::as_str).unwrap_or("");
        // docker prefers an identity token (an OAuth refresh token) to the
        // password when both are there.
        if !text("identitytoken").is_empty() {
            return Ok(Some(Entry::Credential(Credential {
                username: Credential::TOKEN_USERNAME.to_string(),
                secret: text("identitytoken").to_string(),
            })));
        }
        let (username, secret) = if !text("auth").is_empty() {
            decode_auth(text("auth")).ok_or_else(|| Error::BadAuth {
                path: self.path.clone(),
                key: key.to_string(),
            })?
        } else {
            (text("username").to_string(), text("password").to_string())
        };
        if username.is_empty() && secret.is_empty() {
            return Ok(Some(Entry::Empty));
        }
        Ok(Some(Entry::Credential(Credential { username, secret })))
    }

    /// Sets `auths[key]` to exactly `c` (an identity token as docker writes
    /// one), or to `{}` when a helper keeps the secret. The whole entry is
    /// replaced, as docker does: an old identity token must not outlive a
    /// new password.
    pub fn set(&mut self, key: &str, c: Option<&Credential>) -> Result<()> {
        let mut entry = Map::new();
        match c {
            Some(c) if c.identity_token().is_some() => {
                entry.insert("identitytoken".into(), c.secret.clone().into());
            }
            Some(c) => {
                let auth = STANDARD.encode(format!("{}:{}", c.username, c.secret));
                entry.insert("auth".into(), auth.into());
            }
            None => {}
        }
        self.auths_mut()?
            .insert(key.to_string(), Value::Object(entry));
        Ok(())
    }

    /// Removes `auths[key]`; true when it was there.
    pub fn remove(&mut self, key: &str) -> Result<bool> {
        Ok(self.auths_mut()?.shift_remove(key).is_some())
    }

    /// Writes the file atomically (temp, fsync, rename), 0600, its
    /// directory created 0700 when missing.
    pub fn save(&self) -> Result<()> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        create_private_dir(dir)?;
        let mut data = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut data, fmt);
        serde::Serialize::serialize(&self.root, &mut ser).map_err(|e| {
            Error::Io(husk_fs::Error::Json {
                path: self.path.clone(),
                source: e,
            })
        })?;
        husk_fs::write_atomic(&self.path, &data, 0o600)?;
        if let Some((uid, gid)) = self.owner {
            let me = (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw(),
            );
            if (uid, gid) != me {
                std::os::unix::fs::chown(&self.path, Some(uid), Some(gid))
                    .map_err(|e| Error::Io(husk_fs::Error::io("chown", &self.path, e)))?;
            }
        }
        Ok(())
    }

    fn auths(&self) -> Result<Option<&Map<String, Value>>> {
        match self.root.get("auths") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.shape("auths")),
        }
    }

    fn auths_mut(&mut self) -> Result<&mut Map<String, Value>> {
        if matches!(self.root.get("auths"), None | Some(Value::Null)) {
            self.root.insert("auths".into(), Value::Object(Map::new()));
        }
        let path = self.path.clone();
        match self.root.get_mut("auths") {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(Error::Shape {
                path,
                what: "auths".into(),
            }),
        }
    }

    fn shape(&self, what: &str) -> Error {
        Error::Shape {
            path: self.path.clone(),
            what: what.to_string(),
        }
    }
}

/// Where config.json really is: docker writes through a symlink (dangling
/// too) rather than replacing it, so a config kept elsewhere stays there.
fn resolve(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    // Bounded: a symlink loop must not hang us; ELOOP is then the file's.
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(target) => {
                p = match p.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                }
            }
            Err(_) => break,
        }
    }
    p
}

fn parse(path: &Path, data: &[u8]) -> Result<Map<String, Value>> {
    // docker reads an empty file as an empty config.
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Parse {
            path: path.to_path_buf(),
            message: "not a JSON object".into(),
        }),
        Err(e) => Err(Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// docker's `auth`: base64 of "user:password" (the password may hold ':').
fn decode_auth(auth: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(auth.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    // docker trims NULs a fixed-size decode buffer may leave.
    Some((user.to_string(), pass.trim_matches('\0').to_string()))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::Io(husk_fs::Error::io("create", dir, e))),
    }
}
