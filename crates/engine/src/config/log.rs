//! `--log-driver` and `--log-opt`: docker's json-file options, checked once
//! when the container is created.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub const DEFAULT_MAX_SIZE: &str = "20m";
pub const DEFAULT_MAX_FILE: &str = "5";

/// `HostConfig.LogConfig`, as inspect shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Config")]
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig::parse(None, &[]).unwrap_or_else(|_| LogConfig {
            kind: "json-file".into(),
            config: BTreeMap::new(),
        })
    }
}

/// The limits a [`LogConfig`] sets: bytes per file (None: never rotate)
/// and how many files in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_size: Option<u64>,
    pub max_file: u32,
}

fn bad(value: &str, reason: &str) -> Error {
    Error::InvalidFlag {
        flag: "--log-opt",
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

impl LogConfig {
    /// `--log-driver` and the `--log-opt KEY=VALUE`s, with husk's defaults
    /// filled in for what is not given.
    pub fn parse(driver: Option<&str>, opts: &[String]) -> Result<LogConfig> {
        let kind = driver.unwrap_or("json-file");
        if kind != "json-file" {
            return Err(Error::InvalidFlag {
                flag: "--log-driver",
                value: kind.to_string(),
                reason: "only json-file is supported".into(),
            });
        }
        let mut config = BTreeMap::new();
        for o in opts {
            let (k, v) = o
                .split_once('=')
                .ok_or_else(|| bad(o, "use KEY=VALUE (max-size=10m, max-file=3)"))?;
            match k {
                "max-size" | "max-file" => {}
                _ => {
                    return Err(bad(
                        o,
                        &format!(
                            "unknown log opt '{k}' for json-file log driver (max-size, max-file)"
                        ),
                    ))
                }
            }
            config.insert(k.to_string(), v.to_string());
        }
        config
            .entry("max-size".into())
            .or_insert_with(|| DEFAULT_MAX_SIZE.into());
        config
            .entry("max-file".into())
            .or_insert_with(|| DEFAULT_MAX_FILE.into());
        let c = LogConfig {
            kind: kind.to_string(),
            config,
        };
        c.limits()?;
        Ok(c)
    }

    pub fn limits(&self) -> Result<Limits> {
        let size = self
            .config
            .get("max-size")
            .map(String::as_str)
            .unwrap_or("-1");
        let max_size = if size == "-1" {
            None
        } else {
            let n = husk_spec::units::ram_in_bytes(size)
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(size, "max-size: give a size such as 10m, or -1"))?;
            Some(n as u64)
        };
        let file = self
            .config
            .get("max-file")
            .map(String::as_str)
            .unwrap_or("1");
        let max_file = file
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad(file, "max-file: give a number of at least 1"))?;
        Ok(Limits { max_size, max_file })
    }
}

/// `path.N`: the N-th most recent rotated file.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c = LogConfig::parse(None, &[]).unwrap();
        assert_eq!(c.kind, "json-file");
        assert_eq!(c.config["max-size"], "20m");
        assert_eq!(c.config["max-file"], "5");
        assert_eq!(
            c.limits().unwrap(),
            Limits {
                max_size: Some(20 << 20),
                max_file: 5
            }
        );
        let c = LogConfig::parse(None, &["max-size=10k".into(), "max-file=2".into()]).unwrap();
        assert_eq!(c.limits().unwrap().max_size, Some(10 << 10));
        let c = LogConfig::parse(Some("json-file"), &["max-size=-1".into()]).unwrap();
        assert_eq!(c.limits().unwrap().max_size, None);
        assert!(LogConfig::parse(None, &["max-size=lots".into()]).is_err());
        assert!(LogConfig::parse(None, &["max-file=0".into()]).is_err());
        assert!(LogConfig::parse(None, &["colour=blue".into()]).is_err());
        assert!(LogConfig::parse(None, &["max-size".into()]).is_err());
        assert!(LogConfig::parse(Some("syslog"), &[]).is_err());
    }
}
