use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use crate::{Error, Result};

/// Loads `<bundle>/config.json` and makes `root.path` absolute (it may be
/// relative to the bundle, as podman and containerd write it).
pub fn load_bundle(bundle: &Path) -> Result<(PathBuf, Spec)> {
    let bundle = std::fs::canonicalize(bundle).map_err(|e| Error::Bundle {
        path: bundle.to_path_buf(),
        reason: format!("{e} (pass --bundle DIR, a directory with config.json and a rootfs)"),
    })?;
    let config = bundle.join("config.json");
    let mut spec = load_config(&config)?;
    let root = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .ok_or_else(|| Error::Config {
            path: config.clone(),
            reason: "root: missing (set root.path to the rootfs directory)".into(),
        })?;
    let abs = if root.is_absolute() {
        root
    } else {
        bundle.join(root)
    };
    if !abs.is_dir() {
        return Err(Error::Config {
            path: config,
            reason: format!("root.path: {} is not a directory", abs.display()),
        });
    }
    if let Some(r) = spec.root_mut().as_mut() {
        r.set_path(abs);
    }
    Ok((bundle, spec))
}

/// Parses a config.json. serde's message carries the line and column and,
/// for unknown enum values, the value; prefix it with the file.
pub fn load_config(path: &Path) -> Result<Spec> {
    let data = std::fs::read(path).map_err(|e| Error::Io {
        op: "read",
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut de = serde_json::Deserializer::from_slice(&data);
    let spec: Spec = serde_path(&mut de).map_err(|reason| Error::Config {
        path: path.to_path_buf(),
        reason,
    })?;
    if spec.process().is_none() {
        return Err(Error::Config {
            path: path.to_path_buf(),
            reason: "process: missing (a container needs process.args)".into(),
        });
    }
    if spec
        .process()
        .as_ref()
        .and_then(|p| p.args().as_ref())
        .is_none_or(|a| a.is_empty())
    {
        return Err(Error::Config {
            path: path.to_path_buf(),
            reason: "process.args: empty (name the program to run)".into(),
        });
    }
    Ok(spec)
}

fn serde_path(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
) -> std::result::Result<Spec, String> {
    use serde::Deserialize;
    Spec::deserialize(de).map_err(|e| format!("invalid config: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_specs() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/client-specs")
    }

    #[test]
    fn parses_what_real_clients_write() {
        let dir = client_specs();
        for name in [
            "docker-run-config.json",
            "podman-run-config.json",
            "ctr-run-config.json",
        ] {
            let spec = load_config(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(spec.process().is_some(), "{name}");
        }
    }

    #[test]
    fn malformed_config_names_file_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(&p, r#"{"ociVersion":"1.2.0","process":{"args":"sh"}}"#).unwrap();
        let err = load_config(&p).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn empty_args_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"ociVersion":"1.2.0","process":{"cwd":"/","user":{"uid":0,"gid":0},"args":[]}}"#,
        )
        .unwrap();
        let err = load_config(&p).unwrap_err().to_string();
        assert!(err.contains("process.args"), "{err}");
    }
}
