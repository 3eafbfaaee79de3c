//! What every `inspect` prints: docker's indented JSON array, or each
//! object through `--format`.

use anyhow::Result;
use husk_engine::format::Template;
use husk_engine::images::inspect::to_docker_json;
use serde::Serialize;

pub fn print_inspected<T: Serialize>(found: &[T], format: Option<&str>) -> Result<()> {
    match format {
        None => print!("{}", to_docker_json(found)?),
        Some(f) => {
            let t = Template::parse(f)?;
            for item in found {
                println!("{}", t.render(&serde_json::to_value(item)?));
            }
        }
    }
    Ok(())
}
