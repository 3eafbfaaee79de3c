//! docker's output conventions: tabwriter tables, Go-template `--format`,
//! human durations and sizes.

pub mod human;
pub mod table;
pub mod template;

pub use human::{bytes_size, human_size_precision};
pub use human::{human_duration, human_size};
pub use table::tabwrite;
pub use template::Template;

/// "3 weeks ago" for an RFC 3339 timestamp; "N/A" when it is missing.
pub fn since(rfc3339: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> String {
    match rfc3339.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => {
            let d = (now - t.with_timezone(&chrono::Utc))
                .to_std()
                .unwrap_or_default();
            format!("{} ago", human_duration(d))
        }
        None => "N/A".into(),
    }
}

/// Go's `time.Time.String()` in UTC, as docker's `CreatedAt` shows it.
pub fn go_time(rfc3339: Option<&str>) -> String {
    rfc3339
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S +0000 UTC")
                .to_string()
        })
        .unwrap_or_default()
}

/// `strconv.Quote`-free ellipsis docker uses for long cells: `n-1` chars and `…`.
pub fn ellipsis(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}
