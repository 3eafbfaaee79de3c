//! Docker's ARG and ENV scoping (BuildKit's dockerfile2llb: global args,
//! dispatchArg, the env words are expanded with), so the executor only
//! feeds it instructions and asks [`StageScope::lookup`].

use std::collections::BTreeMap;

use crate::{ArgDecl, Dockerfile, Instruction, Kind, ParseError};

/// Build args docker passes to RUN without an ARG line (and keeps out of
/// the image history).
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The global scope: predefined args (TARGETPLATFORM, BUILDARCH, ... as the
/// executor gives them) then the ARGs before the first FROM, in order, each
/// default expanded with the ones before it and replaced by a `--build-arg`
/// of the same name. An ARG without a default or build arg stays unset.
pub fn meta_args(
    df: &Dockerfile,
    build_args: &BTreeMap<String, String>,
    predefined: &[(String, String)],
) -> Result<Vec<(String, String)>, ParseError> {
    let mut out: Vec<(String, String)> = predefined.to_vec();
    for ins in &df.meta_args {
        let Kind::Arg(decls) = &ins.kind else {
            continue;
        };
        for d in decls {
            let value = match (build_args.get(&d.name), &d.default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(w)) => Some(
                    w.expand(&|k| get(&out, k))
                        .map_err(|e| ParseError::new(ins.line, e.to_string()))?,
                ),
                (None, None) => None,
            };
            // An ARG with no value leaves the name unset (or predefined).
            if let Some(v) = value {
                set(&mut out, &d.name, v);
            }
        }
    }
    Ok(out)
}

fn get(list: &[(String, String)], k: &str) -> Option<String> {
    list.iter()
        .rev()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
}

fn set(list: &mut Vec<(String, String)>, k: &str, v: String) {
    match list.iter_mut().find(|(n, _)| n == k) {
        Some(e) => e.1 = v,
        None => list.push((k.to_string(), v)),
    }
}

/// The variables one stage's instructions see.
#[derive(Debug, Clone)]
pub struct StageScope {
    meta: Vec<(String, String)>,
    build_args: BTreeMap<String, String>,
    /// Declared ARGs in order; `None`: declared without any value.
    args: Vec<(String, Option<String>)>,
    env: Vec<(String, String)>,
}

impl StageScope {
    /// A stage starting from its base image's environment (`KEY=VALUE`
    /// strings as in the image config).
    pub fn new(
        meta: &[(String, String)],
        build_args: &BTreeMap<String, String>,
        base_env: &[String],
    ) -> StageScope {
        let env = base_env
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e.clone(), String::new()),
            })
            .collect();
        StageScope {
            meta: meta.to_vec(),
            build_args: build_args.clone(),
            args: Vec::new(),
            env,
        }
    }

    /// A variable as docker expands words: ENV first, then declared ARGs
    /// with a value.
    pub fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = get(&self.env, name) {
            return Some(v);
        }
        self.args
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// `ARG NAME[=DEFAULT]` in this stage: a `--build-arg` wins, else the
    /// default (expanded here), else the global value of the same name.
    pub fn declare(&mut self, decl: &ArgDecl, line: usize) -> Result<(), ParseError> {
        let value = if let Some(v) = self.build_args.get(&decl.name) {
            Some(v.clone())
        } else if let Some(d) = &decl.default {
            Some(
                d.expand(&|k| self.lookup(k))
                    .map_err(|e| ParseError::new(line, e.to_string()))?,
            )
        } else {
            get(&self.meta, &decl.name)
        };
        match self.args.iter_mut().find(|(n, _)| *n == decl.name) {
            Some(e) => e.1 = value,
            None => self.args.push((decl.name.clone(), value)),
        }
        Ok(())
    }

    /// `ENV k=v`: the value as expanded by the executor.
    pub fn set_env(&mut self, key: &str, value: &str) {
        set(&mut self.env, key, value.to_string());
    }

    /// The image's environment (`KEY=VALUE`), in docker's order.
    pub fn env(&self) -> Vec<String> {
        self.env.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// Declared ARGs with a value that no ENV shadows, in declaration
    /// order: RUN gets them in its environment, and docker records them in
    /// the RUN's history entry (`|2 A=1 B=2 /bin/sh -c ...`) and cache key.
    pub fn run_args(&self) -> Vec<(String, String)> {
        self.args
            .iter()
            .filter(|(n, _)| get(&self.env, n).is_none())
            .filter_map(|(n, v)| v.as_ref().map(|v| (n.clone(), v.clone())))
            .collect()
    }

    /// The environment RUN executes with: ENV, then [`StageScope::run_args`],
    /// then the proxy build args given on the command line.
    pub fn run_env(&self) -> Vec<String> {
        let mut out = self.env();
        for (k, v) in self.run_args() {
            out.push(format!("{k}={v}"));
        }
        for p in PROXY_ARGS {
            if let Some(v) = self.build_args.get(*p) {
                if get(&self.env, p).is_none() && !self.args.iter().any(|(n, _)| n == p) {
                    out.push(format!("{p}={v}"));
                }
            }
        }
        out
    }

    /// Applies an ARG or ENV instruction (ENV values expanded here); other
    /// instructions are left to the executor.
    pub fn apply(&mut self, ins: &Instruction) -> Result<(), ParseError> {
        match &ins.kind {
            Kind::Arg(decls) => {
                for d in decls {
                    self.declare(d, ins.line)?;
                }
            }
            Kind::Env(pairs) => {
                // Docker expands the whole line with the variables as they
                // were before it: `ENV a=1 b=$a` gives b the old a.
                let before = self.clone();
                for p in pairs {
                    let k = p
                        .key
                        .expand(&|n| before.lookup(n))
                        .map_err(|e| ParseError::new(ins.line, e.to_string()))?;
                    let v = p
                        .value
                        .expand(&|n| before.lookup(n))
                        .map_err(|e| ParseError::new(ins.line, e.to_string()))?;
                    self.set_env(&k, &v);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// `--build-arg` names no ARG of the build uses: docker warns
/// `[Warning] One or more build-args [..] were not consumed`. Proxy args
/// never count.
pub fn unused_build_args(df: &Dockerfile, build_args: &BTreeMap<String, String>) -> Vec<String> {
    let mut declared: Vec<&str> = Vec::new();
    let all = df
        .meta_args
        .iter()
        .chain(df.stages.iter().flat_map(|s| s.instructions.iter()));
    for ins in all {
        if let Kind::Arg(decls) = &ins.kind {
            declared.extend(decls.iter().map(|d| d.name.as_str()));
        }
    }
    build_args
        .keys()
        .filter(|k| !declared.contains(&k.as_str()) && !PROXY_ARGS.contains(&k.as_str()))
        .cloned()
        .collect()
}
