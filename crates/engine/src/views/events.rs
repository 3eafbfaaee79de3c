//! `husk events`: docker's filters over the journal's events, and the
//! lines docker prints for them (its default line, `{{json .}}`, templates).

use std::collections::BTreeMap;

use husk_template::{Mode, Schema, Zero};
use serde_json::{json, Value};

use crate::events::{Event, Kind};
use crate::{Error, Result};

/// docker's `events.Message` for templates (`{{.Actor.Attributes.name}}`).
pub const MESSAGE: Schema = Schema {
    root: "events.Message",
    maps: &[("Actor.Attributes", Zero::Str)],
    slices: &[],
    context: false,
    methods: &[],
    fields: &[],
};

/// The filter keys docker's `events` takes (those that can match here).
const KEYS: &[&str] = &[
    "container",
    "event",
    "image",
    "label",
    "type",
    "volume",
    "network",
    "scope",
];

/// `--filter key=value` flags: values of one key are alternatives, keys
/// must all match (docker's filters.Args).
#[derive(Debug, Default, Clone)]
pub struct Filters {
    by_key: BTreeMap<String, Vec<String>>,
}

impl Filters {
    pub fn parse(flags: &[String]) -> Result<Filters> {
        let mut f = Filters::default();
        for flag in flags {
            let Some((k, v)) = flag.split_once('=') else {
                return Err(bad_filter(flag, "give key=value"));
            };
            let k = k.trim().to_ascii_lowercase();
            if !KEYS.contains(&k.as_str()) {
                return Err(bad_filter(
                    flag,
                    "use container, event, image, label, type, volume, network or scope",
                ));
            }
            if k == "type" && !["container", "image", "volume", "network"].contains(&v) {
                return Err(bad_filter(
                    flag,
                    "husk records container, image, volume and network events",
                ));
            }
            f.by_key.entry(k).or_default().push(v.to_string());
        }
        Ok(f)
    }

    fn values(&self, key: &str) -> Option<&[String]> {
        self.by_key.get(key).map(Vec::as_slice)
    }

    /// Whether no values for `key` were given, or one equals `source`.
    fn exact(&self, key: &str, source: &str) -> bool {
        self.values(key)
            .is_none_or(|vs| vs.iter().any(|v| v == source))
    }

    /// As [`Filters::exact`], or one is a prefix of `source` (docker's FuzzyMatch).
    fn fuzzy(&self, key: &str, source: &str) -> bool {
        self.values(key)
            .is_none_or(|vs| vs.iter().any(|v| source.starts_with(v.as_str())))
    }

    /// The actor's id or name, by prefix (docker's fuzzyMatchName).
    fn name(&self, key: &str, ev: &Event) -> bool {
        let name = ev.actor.attributes.get("name").map_or("", String::as_str);
        self.values(key).is_none() || self.fuzzy(key, &ev.actor.id) || self.fuzzy(key, name)
    }

    fn event(&self, ev: &Event) -> bool {
        // `exec_start` or `health_status` alone match their `: ...` forms.
        self.values("event").is_none_or(|vs| {
            vs.iter().any(|v| {
                ev.action == *v
                    || ev
                        .action
                        .strip_prefix(v.as_str())
                        .is_some_and(|rest| rest.starts_with(':'))
            })
        })
    }

    fn image(&self, ev: &Event) -> bool {
        let attr = if ev.kind == Kind::Image {
            "name"
        } else {
            "image"
        };
        let name = ev.actor.attributes.get(attr).map_or("", String::as_str);
        self.values("image").is_none()
            || [&ev.actor.id, name, strip_tag(&ev.actor.id), strip_tag(name)]
                .iter()
                .any(|s| {
                    !s.is_empty()
                        && self
                            .values("image")
                            .is_some_and(|vs| vs.iter().any(|v| v == s))
                })
    }

    /// Every `label=k` or `label=k=v` holds (docker's MatchKVList).
    fn labels(&self, ev: &Event) -> bool {
        self.values("label").is_none_or(|vs| {
            vs.iter().all(|l| match l.split_once('=') {
                Some((k, v)) => ev.actor.attributes.get(k).is_some_and(|x| x == v),
                None => ev.actor.attributes.contains_key(l.as_str()),
            })
        })
    }

    /// docker's `events.Filter.Include`.
    pub fn include(&self, ev: &Event) -> bool {
        self.event(ev)
            && self.exact("type", ev.kind.as_str())
            && self.exact("scope", &ev.scope)
            && self.name("container", ev)
            && self.name("volume", ev)
            && self.name("network", ev)
            && self.image(ev)
            && self.labels(ev)
    }
}

fn bad_filter(flag: &str, fix: &str) -> Error {
    Error::InvalidFlag {
        flag: "--filter",
        value: flag.to_string(),
        reason: fix.to_string(),
    }
}

/// `busybox:latest` → `busybox` (not a registry's port: `host:5000/x`).
fn strip_tag(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => image,
    }
}

/// How the events are printed.
pub enum Format {
    /// docker's line: `TIME TYPE ACTION ID (k=v, ...)`.
    Line,
    /// `{{json .}}`: the journal's own JSON, docker's keys.
    Json,
    Template(husk_template::Template),
}

impl Format {
    pub fn parse(format: Option<&str>) -> Result<Format> {
        let Some(format) = format.filter(|f| !f.is_empty()) else {
            return Ok(Format::Line);
        };
        let (_, text) = husk_template::docker::pre_format(format);
        if text.trim() == "{{json .}}" {
            return Ok(Format::Json);
        }
        husk_template::Template::parse(&text)
            .map(Format::Template)
            .map_err(|e| Error::Template {
                format: format.to_string(),
                reason: e.to_string(),
            })
    }

    /// One event's line, without its newline.
    pub fn render(&self, ev: &Event) -> Result<String> {
        match self {
            Format::Line => Ok(line(ev)),
            Format::Json => serde_json::to_string(ev).map_err(|source| Error::Json {
                what: "event",
                source,
            }),
            Format::Template(t) => t
                .execute(&go_value(ev), Mode::Typed(&MESSAGE))
                .map_err(|e| Error::Template {
                    format: String::new(),
                    reason: e.to_string(),
                }),
        }
    }
}

/// docker's prettyPrintEvent: the time in RFC3339NanoFixed (local time),
/// type, action, actor id and the attributes sorted by key.
pub fn line(ev: &Event) -> String {
    let mut out = format!(
        "{} {} {} {}",
        fixed_time(ev.time_nano),
        ev.kind.as_str(),
        ev.action,
        ev.actor.id
    );
    if !ev.actor.attributes.is_empty() {
        let attrs: Vec<String> = ev
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push_str(&format!(" ({})", attrs.join(", ")));
    }
    out
}

/// Go's `2006-01-02T15:04:05.000000000Z07:00` in local time.
fn fixed_time(nanos: i64) -> String {
    let t = chrono::DateTime::from_timestamp(
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000) as u32,
    )
    .unwrap_or_default()
    .with_timezone(&chrono::Local);
    let zone = if t.offset().local_minus_utc() == 0 {
        "Z".to_string()
    } else {
        t.format("%:z").to_string()
    };
    format!("{}{zone}", t.format("%Y-%m-%dT%H:%M:%S%.9f"))
}

/// The event as the Go struct's fields (`.Status`, `.ID`, `.TimeNano`)
/// for templates; `{{json .}}` prints the journal's JSON instead.
fn go_value(ev: &Event) -> Value {
    json!({
        "Status": ev.status,
        "ID": ev.id,
        "From": ev.from,
        "Type": ev.kind.as_str(),
        "Action": ev.action,
        "Actor": {"ID": ev.actor.id, "Attributes": ev.actor.attributes},
        "Scope": ev.scope,
        "Time": ev.time,
        "TimeNano": ev.time_nano,
    })
}

/// `--since`/`--until` as nanoseconds since the epoch.
pub fn parse_time(flag: &'static str, value: &str) -> Result<i64> {
    let t =
        crate::logtime::parse(value, chrono::Utc::now()).map_err(|reason| Error::InvalidFlag {
            flag,
            value: value.to_string(),
            reason,
        })?;
    Ok(t.timestamp_nanos_opt().unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: Kind, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
        let mut e = Event::new(kind, action, id, attrs);
        e.time_nano = 1_765_101_600_000_000_007;
        e.time = 1_765_101_600;
        e
    }

    fn f(flags: &[&str]) -> Filters {
        Filters::parse(&flags.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn filters_as_docker() {
        let start = ev(
            Kind::Container,
            "start",
            "abcdef",
            &[
                ("name", "web"),
                ("image", "busybox:latest"),
                ("tier", "front"),
            ],
        );
        let exec = ev(Kind::Container, "exec_start: sh -c ls", "abcdef", &[]);
        let pull = ev(
            Kind::Image,
            "pull",
            "busybox:latest",
            &[("name", "busybox:latest")],
        );
        assert!(f(&[]).include(&start));
        assert!(f(&["container=web"]).include(&start));
        assert!(f(&["container=abc"]).include(&start));
        assert!(!f(&["container=other"]).include(&start));
        assert!(!f(&["container=web"]).include(&pull));
        assert!(f(&["event=start", "event=die"]).include(&start));
        assert!(!f(&["event=stop"]).include(&start));
        assert!(f(&["event=exec_start"]).include(&exec));
        assert!(f(&["type=image"]).include(&pull));
        assert!(!f(&["type=image"]).include(&start));
        assert!(f(&["image=busybox"]).include(&start));
        assert!(f(&["image=busybox"]).include(&pull));
        assert!(f(&["label=tier"]).include(&start));
        assert!(f(&["label=tier=front"]).include(&start));
        assert!(!f(&["label=tier=back"]).include(&start));
        assert!(!f(&["type=container", "container=nope"]).include(&start));
        assert!(Filters::parse(&["bogus=1".into()]).is_err());
        assert!(Filters::parse(&["type=plugin".into()]).is_err());
        assert!(Filters::parse(&["container".into()]).is_err());
    }

    #[test]
    fn lines_and_templates() {
        let e = ev(
            Kind::Container,
            "die",
            "abc",
            &[("name", "web"), ("exitCode", "3"), ("image", "busybox")],
        );
        let l = line(&e);
        assert!(
            l.ends_with(".000000007Z container die abc (exitCode=3, image=busybox, name=web)")
                || l.contains(".000000007+")
                || l.contains(".000000007-"),
            "{l}"
        );
        let t = Format::parse(Some(
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.ID}} {{.TimeNano}}",
        ))
        .unwrap();
        assert_eq!(
            t.render(&e).unwrap(),
            "container die web abc 1765101600000000007"
        );
        let j = Format::parse(Some("{{json .}}"))
            .unwrap()
            .render(&e)
            .unwrap();
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["status"], "die");
        assert_eq!(v["Actor"]["Attributes"]["exitCode"], "3");
        assert!(matches!(Format::parse(Some("json")).unwrap(), Format::Json));
        assert!(Format::parse(Some("{{.Nope")).is_err());
    }
}
