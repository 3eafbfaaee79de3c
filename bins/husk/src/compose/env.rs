//! `-e` of `compose exec` and `compose run`.

/// `-e NAME` takes the caller's value, as docker compose does (or is
/// dropped when the caller has none).
pub(super) fn env_values(env: &[String]) -> Vec<String> {
    env.iter()
        .filter_map(|e| {
            if e.contains('=') {
                Some(e.clone())
            } else {
                std::env::var(e).ok().map(|v| format!("{e}={v}"))
            }
        })
        .collect()
}
