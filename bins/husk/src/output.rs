//! What every `inspect` prints: docker's indented JSON array, or each
//! object through `--format` as docker's CLI runs it.

use anyhow::Result;
use husk_engine::format::template::{self, Schema};
use husk_engine::views::image_inspect::to_docker_json;
use serde_json::Value;

/// Prints the objects found, each with the docker type it stands for;
/// returns docker's exit status for the template (64: it does not parse,
/// 1: it failed on an object, 0).
pub fn print_inspected(found: &[(Value, &Schema)], format: Option<&str>) -> Result<i32> {
    match format {
        None => {
            let values: Vec<&Value> = found.iter().map(|(v, _)| v).collect();
            print!("{}", to_docker_json(&values)?);
            Ok(0)
        }
        Some(f) => {
            let out = template::inspect(f, found);
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            Ok(out.code)
        }
    }
}
