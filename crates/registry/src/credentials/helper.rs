//! docker's credential-helper protocol: `docker-credential-NAME get|store|erase`
//! found in PATH, the server URL (get, erase) or a JSON object
//! `{"ServerURL","Username","Secret"}` (store) on stdin, the JSON object
//! (get) or an error message on stdout. A helper that has nothing for the
//! server says "credentials not found in native keychain".

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::{Credential, Error, Result};

const PREFIX: &str = "docker-credential-";
const NOT_FOUND: &str = "credentials not found in native keychain";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
}

/// A helper named in config.json (`credsStore` or `credHelpers`).
pub struct Helper {
    name: String,
    /// Where the name came from, for error messages.
    setting: String,
    /// PATH to search (the process's own unless told otherwise).
    path: Option<OsString>,
}

impl Helper {
    pub fn new(name: &str, setting: String, path: Option<OsString>) -> Result<Helper> {
        // The name is a suffix, not a path: a config file must not make us
        // run an arbitrary program by naming "../x".
        if name.is_empty() || name.contains('/') || name.contains('\0') {
            return Err(Error::HelperName {
                name: name.to_string(),
                setting,
            });
        }
        Ok(Helper {
            name: name.to_string(),
            setting,
            path,
        })
    }

    pub fn get(&self, server: &str) -> Result<Option<Credential>> {
        match self.run("get", server.as_bytes(), server)? {
            Reply::NotFound => Ok(None),
            Reply::Out(out) => {
                let wire: Wire = serde_json::from_slice(&out).map_err(|e| Error::Helper {
                    program: self.program(),
                    op: "get",
                    server: server.to_string(),
                    message: format!("its answer is not docker's credentials JSON ({e})"),
                })?;
                if wire.username.is_empty() && wire.secret.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Credential {
                    username: wire.username,
                    secret: wire.secret,
                }))
            }
        }
    }

    pub fn store(&self, server: &str, c: &Credential) -> Result<()> {
        let wire = Wire {
            server_url: server.to_string(),
            username: c.username.clone(),
            secret: c.secret.clone(),
        };
        let mut input = serde_json::to_vec(&wire).map_err(|e| Error::Helper {
            program: self.program(),
            op: "store",
            server: server.to_string(),
            message: e.to_string(),
        })?;
        input.push(b'\n');
        match self.run("store", &input, server)? {
            Reply::Out(_) => Ok(()),
            Reply::NotFound => Err(self.failed("store", server, NOT_FOUND)),
        }
    }

    /// Erases what the helper keeps for `server`; false when it had nothing.
    pub fn erase(&self, server: &str) -> Result<bool> {
        match self.run("erase", server.as_bytes(), server)? {
            Reply::Out(_) => Ok(true),
            Reply::NotFound => Ok(false),
        }
    }

    fn program(&self) -> String {
        format!("{PREFIX}{}", self.name)
    }

    fn failed(&self, op: &'static str, server: &str, message: &str) -> Error {
        Error::Helper {
            program: self.program(),
            op,
            server: server.to_string(),
            message: husk_fs::printable(message, 300),
        }
    }

    fn resolve(&self) -> Result<PathBuf> {
        let program = self.program();
        let path = self
            .path
            .clone()
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        std::env::split_paths(&path)
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| d.join(&program))
            .find(|p| is_executable(p))
            .ok_or_else(|| Error::HelperMissing {
                program,
                setting: self.setting.clone(),
            })
    }

    fn run(&self, op: &'static str, input: &[u8], server: &str) -> Result<Reply> {
        let exe = self.resolve()?;
        let mut child = Command::new(&exe)
            .arg(op)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.failed(op, server, &format!("run {}: {e}", exe.display())))?;
        // The input is a few hundred bytes: it fits the pipe, so writing it
        // all before reading cannot deadlock against the helper's output.
        if let Some(mut stdin) = child.stdin.take() {
            if let Err(e) = stdin.write_all(input) {
                // A helper may exit without reading (EPIPE); its exit
                // status and output below say what happened.
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failed(op, server, &format!("write its input: {e}")));
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| self.failed(op, server, &format!("wait: {e}")))?;
        if out.status.success() {
            return Ok(Reply::Out(out.stdout));
        }
        // Helpers print their error on stdout (docker reads it there);
        // stderr is the fallback for one that does not.
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let said = if said.is_empty() {
            String::from_utf8_lossy(&out.stderr).trim().to_string()
        } else {
            said
        };
        if said == NOT_FOUND {
            return Ok(Reply::NotFound);
        }
        let said = if said.is_empty() {
            out.status.to_string()
        } else {
            said
        };
        Err(self.failed(op, server, &said))
    }
}

enum Reply {
    Out(Vec<u8>),
    NotFound,
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
