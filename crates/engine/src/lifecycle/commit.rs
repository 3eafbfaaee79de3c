//! `husk commit`: a container's changes become a new image on top of its
//! image, with the container's config (Env, Cmd, Entrypoint, WorkingDir,
//! User, Labels, ExposedPorts, StopSignal), changed by `-c INSTRUCTION`s,
//! as docker's `commit` does.

use husk_image::types::History;
use husk_image::{Image, NewImage, Reference};
use serde_json::{json, Map, Value};

use super::{reconcile, runtime_of};
use crate::store::{Paths, Status};
use crate::{Error, Result};

/// docker's empty layer, which `commit` records as an `empty_layer`
/// history entry instead of a layer.
pub use husk_layers::EMPTY_DIFF_ID as EMPTY_LAYER_DIFF_ID;

#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-c`: Dockerfile instructions applied to the config.
    pub changes: Vec<String>,
    /// `-m`: the history entry's comment.
    pub message: Option<String>,
    /// `-a`: the image's author.
    pub author: Option<String>,
    /// `-p` (default true): freeze the container while its upper dir is read.
    pub pause: bool,
    /// `REPO[:TAG]`.
    pub name: Option<String>,
}

/// Thaws a container this commit froze, whatever happens after.
struct Thaw<'a> {
    paths: &'a Paths,
    id: String,
}

impl Drop for Thaw<'_> {
    fn drop(&mut self) {
        if let Ok(Some(c)) = self.paths.load(&self.id) {
            let _ = runtime_of(self.paths, &c).resume(&self.id);
        }
    }
}

pub fn commit(paths: &Paths, name: &str, opts: &CommitOptions) -> Result<Image> {
    // Checked before anything is written or frozen.
    let reference = opts.name.as_deref().map(Reference::parse).transpose()?;
    let c = reconcile(paths, &paths.resolve(name)?)?;
    let mut config = container_config(&c);
    for change in &opts.changes {
        apply_change(&mut config, change)?;
    }
    let mut store = husk_image::Store::open_write(&paths.root)?;
    store.set_holders(crate::store::holders(&paths.root));
    let parent = store.resolve(&c.image_id).map_err(|_| Error::Conflict {
        id: c.id.clone(),
        reason: format!(
            "its image {} is no longer in the store: cannot commit on top of it",
            c.image_id
        ),
    })?;
    if let Some(base) = store.runtime_config(&parent)?.as_object() {
        // What the container does not carry (Shell, Healthcheck, OnBuild,
        // Volumes...) stays as the image had it.
        if let Value::Object(cfg) = &mut config {
            for (k, v) in base {
                cfg.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    let _thaw = if opts.pause && c.state.status == Status::Running {
        runtime_of(paths, &c).pause(&c.id)?;
        Some(Thaw {
            paths,
            id: c.id.clone(),
        })
    } else {
        None
    };
    let upper = paths.dir(&c.id).join("upper");
    let top = store.top_chain_id(&parent)?;
    let layer = store.put_layer_from_dir(top.as_ref(), &upper)?;
    drop(_thaw);
    let empty = layer.diff_id.as_str() == EMPTY_LAYER_DIFF_ID;
    let history = History {
        created_by: Some(c.config.cmd.join(" ")),
        author: opts.author.clone(),
        comment: opts.message.clone(),
        empty_layer: empty,
        ..Default::default()
    };
    let image = store.commit_image(&NewImage {
        parent: Some(parent),
        layers: if empty { Vec::new() } else { vec![layer] },
        config,
        history: vec![history],
        author: opts.author.clone(),
        created: None,
        names: reference.into_iter().collect(),
    })?;
    if empty {
        // The empty layer written to find out is referenced by nothing.
        let _ = store.gc();
    }
    let image_id = image.id.to_string();
    let attrs = [
        ("comment", opts.message.as_deref().unwrap_or("")),
        ("imageID", image_id.as_str()),
        ("imageRef", opts.name.as_deref().unwrap_or("")),
    ];
    crate::events::container(paths, &c, "commit", &attrs);
    Ok(image)
}

/// The container's config in the image config's (docker's) shape.
fn container_config(c: &crate::store::Container) -> Value {
    let cc = &c.config;
    let list = |v: &Vec<String>| {
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    let ports: Map<String, Value> = cc
        .exposed_ports
        .iter()
        .map(|p| (p.clone(), json!({})))
        .collect();
    let mut m = Map::new();
    m.insert("Env".into(), list(&cc.env));
    m.insert("Cmd".into(), list(&cc.cmd));
    m.insert("Entrypoint".into(), list(&cc.entrypoint));
    m.insert("WorkingDir".into(), json!(cc.working_dir));
    m.insert("User".into(), json!(cc.user));
    if !cc.labels.is_empty() {
        m.insert("Labels".into(), json!(cc.labels));
    }
    if !ports.is_empty() {
        m.insert("ExposedPorts".into(), Value::Object(ports));
    }
    if !cc.stop_signal.is_empty() {
        m.insert("StopSignal".into(), json!(cc.stop_signal));
    }
    Value::Object(m)
}

fn bad(change: &str, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag: "--change",
        value: change.to_string(),
        reason: reason.into(),
    }
}

/// Applies one `-c` instruction. A minimal reader of the instructions
/// docker's commit accepts (JSON and shell forms, docker's quoting);
/// the lead may switch it to husk-dockerfile's parser once merged.
pub fn apply_change(config: &mut Value, change: &str) -> Result<()> {
    let change = change.trim();
    let (word, rest) = match change.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (change, ""),
    };
    let cfg = config
        .as_object_mut()
        .ok_or_else(|| bad(change, "config is not an object"))?;
    let instr = word.to_ascii_uppercase();
    if rest.is_empty() {
        return Err(bad(change, format!("{instr} needs an argument")));
    }
    match instr.as_str() {
        "CMD" | "ENTRYPOINT" => {
            let key = if instr == "CMD" { "Cmd" } else { "Entrypoint" };
            let argv = match json_array(rest) {
                Some(a) => a,
                None => vec!["/bin/sh".into(), "-c".into(), rest.into()],
            };
            cfg.insert(key.into(), json!(argv));
            if instr == "ENTRYPOINT" {
                // docker: a new entrypoint resets the inherited CMD.
                cfg.insert("Cmd".into(), Value::Null);
            }
        }
        "ENV" => {
            let pairs = key_values(change, rest)?;
            let mut env: Vec<String> = cfg
                .get("Env")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            for (k, v) in pairs {
                let entry = format!("{k}={v}");
                match env.iter_mut().find(|e| e.split('=').next() == Some(k.as_str())) {
                    Some(e) => *e = entry,
                    None => env.push(entry),
                }
            }
            cfg.insert("Env".into(), json!(env));
        }
        "LABEL" => {
            let pairs = key_values(change, rest)?;
            let labels = cfg
                .entry("Labels")
                .or_insert_with(|| json!({}));
            if !labels.is_object() {
                *labels = json!({});
            }
            if let Some(l) = labels.as_object_mut() {
                for (k, v) in pairs {
                    l.insert(k, json!(v));
                }
            }
        }
        "EXPOSE" => {
            let ports = cfg
                .entry("ExposedPorts")
                .or_insert_with(|| json!({}));
            if !ports.is_object() {
                *ports = json!({});
            }
            for p in words(change, rest)? {
                let (num, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
                let ok = !num.is_empty()
                    && num.split('-').all(|n| n.parse::<u16>().is_ok())
                    && matches!(proto, "tcp" | "udp" | "sctp");
                if !ok {
                    return Err(bad(change, format!("invalid port {p:?}: want PORT[/tcp|udp|sctp]")));
                }
                if let Some(m) = ports.as_object_mut() {
                    m.insert(format!("{num}/{proto}"), json!({}));
                }
            }
        }
        "USER" => {
            cfg.insert("User".into(), json!(single(change, rest)?));
        }
        "WORKDIR" => {
            let dir = single(change, rest)?;
            let cur = cfg.get("WorkingDir").and_then(Value::as_str).unwrap_or("");
            let joined = if dir.starts_with('/') {
                dir
            } else {
                let base = if cur.is_empty() { "/" } else { cur };
                format!("{}/{}", base.trim_end_matches('/'), dir)
            };
            cfg.insert("WorkingDir".into(), json!(joined));
        }
        "STOPSIGNAL" => {
            let sig = single(change, rest)?;
            if husk_fs::signal_number(&sig).is_none() {
                return Err(bad(change, format!("invalid signal {sig:?}")));
            }
            cfg.insert("StopSignal".into(), json!(sig));
        }
        "VOLUME" => {
            let vols = match json_array(rest) {
                Some(a) => a,
                None => words(change, rest)?,
            };
            let m = cfg.entry("Volumes").or_insert_with(|| json!({}));
            if !m.is_object() {
                *m = json!({});
            }
            for v in vols {
                if v.is_empty() {
                    return Err(bad(change, "VOLUME with an empty path"));
                }
                if let Some(m) = m.as_object_mut() {
                    m.insert(v, json!({}));
                }
            }
        }
        other => {
            return Err(bad(
                change,
                format!("{other} is not a commit change: use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR or STOPSIGNAL"),
            ))
        }
    }
    Ok(())
}

/// `["a", "b"]`: the JSON (exec) form, when `s` is one.
fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s).ok()
}

/// Words with docker's quoting: '...' literal, "..." with `\` escapes,
/// `\` escaping the next character outside quotes.
fn words(change: &str, s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        match ch {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(bad(change, "unterminated single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err(bad(change, "unterminated double quote")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(bad(change, "unterminated double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

fn single(change: &str, rest: &str) -> Result<String> {
    let w = words(change, rest)?;
    match w.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(bad(change, "takes exactly one argument")),
    }
}

/// `K=V K2="V 2"`, or the legacy `K V with spaces` form.
fn key_values(change: &str, rest: &str) -> Result<Vec<(String, String)>> {
    let w = words(change, rest)?;
    if w.first().is_some_and(|f| !f.contains('=')) {
        let (k, v) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad(change, "want KEY=VALUE (or KEY VALUE)"))?;
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    w.into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(bad(change, format!("{kv:?} is not KEY=VALUE"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(changes: &[&str]) -> Value {
        let mut v = json!({"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "WorkingDir": "/srv"});
        for c in changes {
            apply_change(&mut v, c).unwrap();
        }
        v
    }

    #[test]
    fn json_and_shell_forms() {
        let v = applied(&[r#"CMD ["echo", "hi there"]"#]);
        assert_eq!(v["Cmd"], json!(["echo", "hi there"]));
        let v = applied(&["CMD echo $HOME"]);
        assert_eq!(v["Cmd"], json!(["/bin/sh", "-c", "echo $HOME"]));
        let v = applied(&[r#"ENTRYPOINT ["/bin/top"]"#]);
        assert_eq!(v["Entrypoint"], json!(["/bin/top"]));
        assert_eq!(v["Cmd"], Value::Null);
    }

    #[test]
    fn env_label_expose_user_workdir_volume_stopsignal() {
        let v = applied(&[
            r#"ENV A=2 B="two words""#,
            "env C legacy form",
            r#"LABEL "com.x"=y z='q r'"#,
            "EXPOSE 80 53/udp",
            "USER 1000:1000",
            "WORKDIR app",
            r#"VOLUME ["/data", "/logs"]"#,
            "STOPSIGNAL SIGUSR1",
        ]);
        assert_eq!(
            v["Env"],
            json!(["PATH=/bin", "A=2", "B=two words", "C=legacy form"])
        );
        assert_eq!(v["Labels"], json!({"com.x": "y", "z": "q r"}));
        assert_eq!(v["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(v["User"], json!("1000:1000"));
        assert_eq!(v["WorkingDir"], json!("/srv/app"));
        assert_eq!(v["Volumes"], json!({"/data": {}, "/logs": {}}));
        assert_eq!(v["StopSignal"], json!("SIGUSR1"));
    }

    #[test]
    fn bad_changes_name_the_instruction() {
        let mut v = json!({});
        for (c, want) in [
            ("RUN rm -rf /", "not a commit change"),
            ("EXPOSE http", "invalid port"),
            ("CMD", "needs an argument"),
            ("ENV A=\"x", "unterminated"),
            ("STOPSIGNAL SIGNOPE", "invalid signal"),
        ] {
            let e = apply_change(&mut v, c).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("--change"), "{c}: {e}");
        }
    }
}
