//! Project names as docker compose normalizes them.

use crate::Error;

/// Lowercases, keeps only `[a-z0-9_-]`, then drops leading `_` and `-` so
/// the name starts with a letter or digit (compose-go's
/// `NormalizeProjectName`). A name left empty is an error.
pub fn normalize_project_name(name: &str) -> Result<String, Error> {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    let normalized = kept.trim_start_matches(['_', '-']).to_string();
    if normalized.is_empty() {
        return Err(Error::ProjectName {
            name: name.to_string(),
        });
    }
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize_project_name("MyApp").unwrap(), "myapp");
        assert_eq!(normalize_project_name("my app.v2").unwrap(), "myappv2");
        assert_eq!(normalize_project_name("__-x_y-z").unwrap(), "x_y-z");
        assert_eq!(normalize_project_name("0day").unwrap(), "0day");
        assert_eq!(normalize_project_name("Ünïcode-1").unwrap(), "ncode-1");
    }

    #[test]
    fn empty_is_an_error() {
        for bad in ["", "___", "-", "!!!"] {
            let err = normalize_project_name(bad).unwrap_err().to_string();
            assert!(err.contains("pass -p NAME"), "{err}");
        }
    }
}
