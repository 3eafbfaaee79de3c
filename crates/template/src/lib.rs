//! Go's text/template, as the docker CLI runs it for `--format` and
//! `inspect -f`, over `serde_json` values.
//!
//! Fields (`.A.B`), variables (`$`, `$x := ...`, `$x = ...`), pipelines,
//! `if`/`else if`/`else`, `range` (with `$i, $v :=`, `break`, `continue`),
//! `with`, parentheses, every literal Go has, Go's builtins (`and`, `or`,
//! `not`, `len`, `index`, `slice`, `print`, `printf`, `println`, `eq`, `ne`,
//! `lt`, `le`, `gt`, `ge`) and the functions docker adds (`json`, `split`,
//! `join`, `title`, `lower`, `upper`, `pad`, `truncate`).
//!
//! Errors carry Go's exact text: `template: :1: unclosed action` at parse,
//! `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`
//! at execution. What a value is (a Go map, a struct, a `json.Number`)
//! decides several of them, so execution takes a [`Mode`]: [`Mode::Raw`] is
//! the `map[string]interface{}` docker decodes JSON into, [`Mode::Typed`]
//! describes the Go struct docker's CLI holds (see [`docker`]).
//!
//! Written here rather than taken from a crate: the template runs over
//! serde_json values whose field order must survive (`{{json .Config}}`
//! prints docker's order), and the one Rust port of text/template converts
//! into hash maps first.

pub mod docker;
mod exec;
mod parse;
mod print;

use serde_json::Value;

/// A parse or execution error, displayed exactly as Go's text/template does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("template: :{line}: {msg}")]
    Parse { line: usize, msg: String },
    #[error("template: :{line}:{col}: executing \"\" at <{context}>: {msg}")]
    Exec {
        line: usize,
        col: usize,
        context: String,
        msg: String,
    },
}

/// How execution sees the data.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'s> {
    /// JSON decoded into `interface{}` with `UseNumber` (docker's fallback
    /// for inspect): every object a map, every number a `json.Number`.
    /// `missing_key_error` is text/template's `missingkey=error` option.
    Raw { missing_key_error: bool },
    /// The Go struct the JSON was encoded from, described by a [`Schema`].
    Typed(&'s Schema),
}

/// What of a Go type the template can tell apart: which objects are maps
/// (the rest are structs), which nulls are nil slices or maps.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The root's Go type, as `can't evaluate field X in type T` names it.
    pub root: &'static str,
    /// Paths (field names joined by `.`, `*` for any map key or slice
    /// index) whose objects are Go maps, with what `index` gives for a
    /// missing key.
    pub maps: &'static [(&'static str, Zero)],
    /// Paths whose null is a nil slice (prints `[]`).
    pub slices: &'static [&'static str],
    /// A formatter context (docker's `ps`/`images` rows): every root field
    /// is a method without arguments, `json .` marshals like a Go map.
    pub context: bool,
    /// Root methods that take one string argument (`.Label "key"`); the
    /// data holds them as an object looked up by that argument.
    pub methods: &'static [&'static str],
    /// The root's fields, for an empty context (docker validates `ps
    /// --format` on one before listing).
    pub fields: &'static [&'static str],
}

/// The zero value of a map's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zero {
    /// `""`
    Str,
    /// A nil pointer, `<nil>`.
    Nil,
    /// An empty struct, `{}`.
    Struct,
    /// A nil slice, `[]`.
    Slice,
    /// A nil map, `map[]`.
    Map,
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
    nodes: Vec<parse::Node>,
}

/// The functions a template may call: Go's builtins and docker's.
pub const FUNCS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne", "json", "split", "join", "title",
    "lower", "upper", "pad", "truncate",
];

impl Template {
    /// Parses `text` as is (docker's `\t` expansion and `table` prefix are
    /// the caller's: see [`docker`]).
    pub fn parse(text: &str) -> Result<Template, Error> {
        let nodes = parse::parse(text, &|f| FUNCS.contains(&f))?;
        Ok(Template {
            text: text.to_string(),
            nodes,
        })
    }

    pub fn execute(&self, data: &Value, mode: Mode) -> Result<String, Error> {
        exec::execute(&self.text, &self.nodes, data, mode)
    }

    /// The field each column of a `table` format shows, in order
    /// (`.ID`, `json .Labels`, `.Names | upper`), for its header.
    pub fn columns(&self) -> Vec<Option<String>> {
        self.nodes
            .iter()
            .filter_map(|n| match n {
                parse::Node::Action(p) if p.decl.is_empty() => Some(exec::header_field(p)),
                _ => None,
            })
            .collect()
    }

    /// The template's text nodes and actions, for a header row: text is
    /// kept, each action is replaced by `header(field)`.
    pub fn header(&self, header: impl Fn(Option<&str>) -> String) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                parse::Node::Text(t) => out.push_str(t),
                parse::Node::Action(p) if p.decl.is_empty() => {
                    out.push_str(&header(exec::header_field(p).as_deref()))
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container() -> Value {
        json!({
            "Name": "/web",
            "State": {"Pid": 4242, "Running": true, "ExitCode": 0},
            "Config": {
                "Env": ["PATH=/bin", "A=1"],
                "Labels": {"tier": "front", "app": "shop"},
                "Cmd": ["sh", "-c", "true"],
                "Entrypoint": null,
            },
            "Mounts": [{"Source": "/a", "Destination": "/x"}, {"Source": "/b", "Destination": "/y"}],
            "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
        })
    }

    /// What `inspect -f` prints, or its error.
    fn r(t: &str) -> String {
        let t = Template::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        docker::inspect(&t, &container(), &docker::CONTAINER).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn what_people_write_for_inspect() {
        assert_eq!(r("{{.State.Pid}}"), "4242");
        assert_eq!(r("{{json .Config.Cmd}}"), r#"["sh","-c","true"]"#);
        assert_eq!(r("{{range .Config.Env}}{{.}};{{end}}"), "PATH=/bin;A=1;");
        assert_eq!(r(r#"{{index .Config.Labels "tier"}}"#), "front");
        assert_eq!(r("{{index .Config.Cmd 2}}"), "true");
        assert_eq!(
            r("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}"),
            "app=shop tier=front "
        );
        assert_eq!(
            r("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"),
            "172.17.0.2"
        );
        assert_eq!(
            r("{{range $i, $m := .Mounts}}{{$i}}:{{$m.Source}}->{{.Destination}} {{end}}"),
            "0:/a->/x 1:/b->/y "
        );
        assert_eq!(r("{{if .State.Running}}up{{else}}down{{end}}"), "up");
        assert_eq!(
            r("{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{end}}"),
            "zero"
        );
        assert_eq!(r("{{.Name | upper}} {{len .Config.Env}}"), "/WEB 2");
        assert_eq!(r(r#"{{join .Config.Cmd " "}}"#), "sh -c true");
        assert_eq!(
            r("{{with .State}}{{.Pid}}{{end}}{{with .Config.Labels.nope}}x{{else}}none{{end}}"),
            "4242none"
        );
        assert_eq!(
            r(r#"{{printf "%-6s|%5d" .Name .State.Pid}}"#),
            "/web  | 4242"
        );
        assert_eq!(r("{{$p := .State.Pid}}{{$p}}"), "4242");
        assert_eq!(r("{{(index .Mounts 1).Source}}"), "/b");
        assert_eq!(
            r("{{range .Config.Entrypoint}}x{{else}}empty{{end}}"),
            "empty"
        );
        assert_eq!(r("{{.Config.Labels}}"), "map[app:shop tier:front]");
        assert_eq!(
            r("{{.Config.Entrypoint}} {{.Config.Labels.nope}}"),
            "[] <no value>"
        );
        assert_eq!(r("{{- .Name -}}  \n"), "/web");
        assert_eq!(r("a {{- /* note */ -}} b"), "ab");
        assert_eq!(
            r("{{if and .State.Running (not .State.ExitCode)}}ok{{end}}"),
            "ok"
        );
        assert_eq!(r("{{range $.Config.Cmd}}{{$.Name}}{{end}}"), "/web/web/web");
    }

    #[test]
    fn missing_keys_are_errors_as_in_docker() {
        assert_eq!(
            r("{{.Missing}}"),
            "template: :1:2: executing \"\" at <.Missing>: map has no entry for key \"Missing\""
        );
        // The position is line:column, counted from the line's start.
        assert_eq!(
            r("{{.Name}}\n  {{.State.Nope}}"),
            "template: :2:10: executing \"\" at <.State.Nope>: map has no entry for key \"Nope\""
        );
    }

    #[test]
    fn control_flow_and_functions_beyond_the_goldens() {
        assert_eq!(
            r("{{range .Config.Cmd}}{{if eq . \"-c\"}}{{continue}}{{end}}{{if eq . \"true\"}}{{break}}{{end}}{{.}}{{end}}"),
            "sh"
        );
        assert_eq!(
            r("{{with .Config.Labels.nope}}a{{else with .Name}}{{.}}{{end}}"),
            "/web"
        );
        assert_eq!(r("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
        assert_eq!(
            r(r#"{{slice .Name 1 3}} {{slice .Config.Cmd 1}}"#),
            "we [-c true]"
        );
        assert_eq!(
            r(r#"[{{pad .Name 1 2}}] {{truncate .Name 2}}"#),
            "[ /web  ] /w"
        );
        assert_eq!(r(r#"{{printf "%d %s" 1}}"#), "1 %!s(MISSING)");
        assert_eq!(
            r(r#"{{print 1 2 "a" "b"}} {{println "x" 3}}"#),
            "1 2ab x 3\n"
        );
        assert_eq!(r("{{0x10}} {{1e3}} {{'a'}} {{-2}}"), "16 1000 97 -2");
        // Each checked against docker 28.2.2's CLI.
        assert_eq!(
            r(r#"{{printf "%v %s %d" .Config.Labels .Config.Cmd .Name}}"#),
            "map[app:shop tier:front] [sh -c true] %!d(string=/web)"
        );
        assert_eq!(
            r(r#"{{1.5}} {{printf "%t %x %X %05d %+d %e %g" true 255 "hi" 42 5 1234.5 0.000012}}"#),
            "1.5 true ff 6869 00042 +5 1.234500e+03 1.2e-05"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{{{{}.{}}}}}", "(".repeat(5000), ")".repeat(5000));
        let e = Template::parse(&deep).map(|_| ()).unwrap_err().to_string();
        assert_eq!(e, "template: :1: max expression depth exceeded");
        let ifs = "{{if 1}}".repeat(5000);
        assert!(Template::parse(&ifs).is_err());
    }

    #[test]
    fn inspect_json_is_one_array() {
        let out = docker::inspect_all(
            "json",
            &[
                (json!({"Id": "a"}), &docker::CONTAINER),
                (json!({"Id": "b"}), &docker::IMAGE),
            ],
        );
        assert_eq!(out.stdout, "[{\"Id\":\"a\"},{\"Id\":\"b\"}]\n");
        assert_eq!(out.code, 0);
    }

    #[test]
    fn bad_templates_are_refused_at_parse() {
        for (bad, msg) in [
            ("{{range .}}", "template: :1: unexpected EOF"),
            ("{{if .A}}x", "template: :1: unexpected EOF"),
            ("{{end}}", "template: :1: unexpected {{end}}"),
            ("{{else}}", "template: :1: unexpected {{else}}"),
            (
                "{{nosuchfunc .A}}",
                "template: :1: function \"nosuchfunc\" not defined",
            ),
            ("{{.A", "template: :1: unclosed action"),
            (
                r#"{{printf "x}}"#,
                "template: :1: unterminated quoted string",
            ),
            ("{{$x}}", "template: :1: undefined variable \"$x\""),
            ("{{break}}", "template: :1: {{break}} outside {{range}}"),
            ("a\n{{if}}", "template: :2: missing value for if"),
        ] {
            assert_eq!(
                Template::parse(bad).map(|_| ()).unwrap_err().to_string(),
                msg,
                "{bad}"
            );
        }
    }
}
