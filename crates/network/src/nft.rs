//! Talking to nftables through `nft -j`: listing one table and applying a
//! batch of JSON commands to it atomically (nft applies a whole `-f` input
//! as one transaction, so a failed batch leaves nothing behind).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::{Error, Result};

/// The family of our main table (published ports, masquerade, isolation).
pub(crate) const FAMILY: &str = "ip";
/// The family of the table for networks with IPv6 (`firewall6`).
pub(crate) const FAMILY6: &str = "ip6";

/// One rule as listed back from the kernel.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub chain: String,
    pub handle: u64,
    pub comment: String,
}

/// Chains and rules of our table; empty when the table does not exist.
#[derive(Clone, Debug, Default)]
pub(crate) struct Listing {
    pub chains: Vec<String>,
    pub rules: Vec<Rule>,
    /// Named sets and their elements (strings: husk's sets hold names).
    pub sets: std::collections::BTreeMap<String, Vec<String>>,
}

impl Listing {
    pub fn has_comment(&self, comment: &str) -> bool {
        self.rules.iter().any(|r| r.comment == comment)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Nft {
    pub family: &'static str,
    pub table: String,
}

impl Nft {
    pub fn list(&self) -> Result<Listing> {
        let args = ["-j", "list", "table", self.family, &self.table];
        let out = match self.run("list table", &args, None) {
            Ok(out) => out,
            Err(Error::Nft { stderr, .. }) if stderr.contains("No such file or directory") => {
                return Ok(Listing::default())
            }
            Err(e) => return Err(e),
        };
        let v: Value = serde_json::from_str(&out).map_err(|e| Error::Nft {
            op: "list table",
            table: self.table.clone(),
            stderr: format!("unreadable json: {e}"),
        })?;
        let mut listing = Listing::default();
        let objects = v.get("nftables").and_then(Value::as_array);
        for o in objects.into_iter().flatten() {
            if let Some(name) = o.get("chain").and_then(|c| c.get("name")?.as_str()) {
                listing.chains.push(name.to_string());
            }
            if let Some(r) = o.get("rule").and_then(parse_rule) {
                listing.rules.push(r);
            }
            if let Some((name, elems)) = o.get("set").and_then(parse_set) {
                listing.sets.insert(name, elems);
            }
        }
        Ok(listing)
    }

    pub fn apply(&self, op: &'static str, batch: Vec<Value>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let input = json!({ "nftables": batch }).to_string();
        self.run(op, &["-j", "-f", "-"], Some(&input)).map(drop)
    }

    pub fn add_rule(&self, chain: &str, comment: &str, expr: Vec<Value>) -> Value {
        json!({"add": {"rule": {
            "family": self.family, "table": self.table, "chain": chain,
            "comment": comment, "expr": expr
        }}})
    }

    pub fn delete_rule(&self, r: &Rule) -> Value {
        json!({"delete": {"rule": {
            "family": self.family, "table": self.table, "chain": r.chain, "handle": r.handle
        }}})
    }

    /// Runs nft in the calling thread's network namespace (a child inherits
    /// the namespaces of the thread that forks it).
    pub fn run(&self, op: &'static str, args: &[&str], input: Option<&str>) -> Result<String> {
        let nft_err = |stderr: String| Error::Nft {
            op,
            table: self.table.clone(),
            stderr,
        };
        let mut child = Command::new(nft_binary())
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::NoNftables("nft is not installed".into()),
                _ => nft_err(format!("spawn nft: {e}")),
            })?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| nft_err(format!("write to nft: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| nft_err(format!("wait for nft: {e}")))?;
        // nft follows an error with the offending input and a caret line:
        // the first line says it all, and errors stay one line.
        let stderr = String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string();
        if !out.status.success() {
            return Err(if kernel_lacks_nftables(&stderr) {
                Error::NoNftables(stderr)
            } else {
                nft_err(stderr)
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn parse_rule(r: &Value) -> Option<Rule> {
    Some(Rule {
        chain: r.get("chain")?.as_str()?.to_string(),
        handle: r.get("handle")?.as_u64()?,
        comment: r
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
    })
}

/// A set's name and elements; nft prints one element as a bare value.
fn parse_set(s: &Value) -> Option<(String, Vec<String>)> {
    let name = s.get("name")?.as_str()?.to_string();
    let elems = match s.get("elem") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    Some((name, elems))
}

/// What nft prints when the kernel has no nf_tables (EPROTONOSUPPORT from
/// the netlink socket, or EOPNOTSUPP from a missing family or expression).
fn kernel_lacks_nftables(stderr: &str) -> bool {
    stderr.contains("Protocol not supported") || stderr.contains("Operation not supported")
}

fn nft_binary() -> &'static str {
    // cargo and sudo often run with a PATH lacking /usr/sbin.
    if Path::new("/usr/sbin/nft").exists() {
        "/usr/sbin/nft"
    } else {
        "nft"
    }
}

pub(crate) fn payload(protocol: &str, field: &str) -> Value {
    json!({"payload": {"protocol": protocol, "field": field}})
}

pub(crate) fn prefix(addr: impl Into<std::net::IpAddr>, len: u8) -> Value {
    let addr: std::net::IpAddr = addr.into();
    json!({"prefix": {"addr": addr.to_string(), "len": len}})
}

pub(crate) fn matches(op: &str, left: Value, right: Value) -> Value {
    json!({"match": {"op": op, "left": left, "right": right}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_nf_tables_is_recognised() {
        assert!(kernel_lacks_nftables(
            "internal:0:0-0: Error: Could not receive tables from kernel: Protocol not supported"
        ));
        assert!(!kernel_lacks_nftables("Error: No such file or directory"));
    }

    #[test]
    fn rules_are_read_back_with_their_comments() {
        let v = json!({"family": "ip", "table": "husk", "chain": "dnat", "handle": 7,
                       "comment": "husk-ctr abc", "expr": []});
        let r = parse_rule(&v).unwrap();
        assert_eq!(
            (r.chain.as_str(), r.handle, r.comment.as_str()),
            ("dnat", 7, "husk-ctr abc")
        );
        let bare = json!({"chain": "c", "handle": 1});
        assert_eq!(parse_rule(&bare).unwrap().comment, "");
    }

    #[test]
    fn sets_are_read_back_with_their_elements() {
        let two = json!({"name": "bridges", "elem": ["br-a", "husk0"]});
        assert_eq!(
            parse_set(&two).unwrap(),
            (
                "bridges".to_string(),
                vec!["br-a".to_string(), "husk0".to_string()]
            )
        );
        let one = json!({"name": "bridges", "elem": "husk0"});
        assert_eq!(parse_set(&one).unwrap().1, vec!["husk0".to_string()]);
        let none = json!({"name": "bridges", "type": "ifname"});
        assert!(parse_set(&none).unwrap().1.is_empty());
    }
}
