//! docker's `--format` and `inspect -f` over husk's rows and objects. The
//! Go text/template interpreter, and how docker's CLI runs it, is the
//! `husk-template` crate; this is the glue: which docker type each husk
//! value stands for, and the table layout.

use husk_template::docker::{self, FormatError};
use serde_json::Value;

pub use husk_template::docker::{
    Output, CONTAINER, HISTORY, IMAGE, IMAGES, NETWORK, NETWORKS, PS, VOLUME, VOLUMES,
};
pub use husk_template::Schema;

use crate::format::table::tabwrite;
use crate::{Error, Result};

/// A list's `--format`, after docker's preFormat (`table`, `\t`, `json`).
pub struct Template {
    inner: husk_template::Template,
    table: bool,
}

impl Template {
    pub fn parse(format: &str) -> Result<Template> {
        let (table, text) = docker::pre_format(format);
        let inner = husk_template::Template::parse(&text).map_err(|e| Error::Template {
            format: format.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Template { inner, table })
    }

    /// One line per row; with `table`, a header from `header_of` and
    /// aligned columns. Rows are docker's image or history rows; run
    /// [`rows`] first where an execution error must reach the user (a
    /// failing row renders empty here).
    pub fn render_all(&self, items: &[Value], header_of: impl Fn(&str) -> String) -> String {
        let schema = context_of(items);
        let lines = items
            .iter()
            .map(|v| {
                self.inner
                    .execute(v, husk_template::Mode::Typed(schema))
                    .unwrap_or_default()
            })
            .collect();
        layout(&self.inner, self.table, lines, header_of)
    }
}

/// The formatter context rows stand for: history rows have `CreatedBy`.
fn context_of(items: &[Value]) -> &'static Schema {
    match items.first().and_then(|v| v.get("CreatedBy")) {
        Some(_) => &HISTORY,
        None => &IMAGES,
    }
}

fn layout(
    t: &husk_template::Template,
    table: bool,
    rows: Vec<String>,
    header_of: impl Fn(&str) -> String,
) -> String {
    if !table {
        return rows.iter().map(|l| format!("{l}\n")).collect();
    }
    let mut lines = vec![t.header(|f| f.map(&header_of).unwrap_or_default())];
    lines.extend(rows);
    tabwrite(&lines)
}

/// `docker ps/images/history/volume ls --format FORMAT` over `rows`, in
/// docker's words when it fails (`ps` validates the format on an empty row
/// first, as docker does).
pub fn rows(
    format: &str,
    rows: &[Value],
    schema: &Schema,
    header_of: impl Fn(&str) -> String,
) -> std::result::Result<String, FormatError> {
    // Only `ps` validates (consts have no one address: compare the type).
    let validate = schema.root == PS.root;
    let r = docker::format_rows(format, rows, schema, validate)?;
    Ok(layout(&r.template, r.table, r.lines, header_of))
}

/// `docker inspect -f FORMAT` over the objects found, each with the docker
/// type it stands for.
pub fn inspect(format: &str, items: &[(Value, &Schema)]) -> Output {
    docker::inspect_all(format, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_take_headers_and_align() {
        let v = json!({"Repository": "busybox", "Tag": "latest", "ID": "abc"});
        let t = Template::parse("table {{.ID}}\\t{{.Tag}}").unwrap();
        let out = t.render_all(std::slice::from_ref(&v), |f| f.to_uppercase());
        assert_eq!(out, "ID        TAG\nabc       latest\n");
        assert_eq!(
            rows(
                "{{.Repository}}:{{.Tag}}",
                std::slice::from_ref(&v),
                &IMAGES,
                |f| f.into()
            )
            .unwrap(),
            "busybox:latest\n"
        );
    }

    #[test]
    fn docker_errors_reach_the_caller() {
        let v = json!({"Repository": "busybox", "Tag": "latest", "ID": "abc"});
        let e = rows("{{.Foo}}", &[v], &IMAGES, |f| f.into()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: \
             can't evaluate field Foo in type *formatter.imageContext"
        );
        let out = inspect("{{.State.Nope}}", &[(json!({"State": {}}), &CONTAINER)]);
        assert_eq!(out.code, 1);
        assert_eq!(
            out.stderr,
            "template parsing error: template: :1:8: executing \"\" at <.State.Nope>: \
             map has no entry for key \"Nope\"\n"
        );
    }
}
