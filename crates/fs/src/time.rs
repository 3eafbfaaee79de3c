//! Timestamps as Go's `time.RFC3339Nano` writes them (runc's `state`,
//! docker's `inspect`): UTC, `Z`, the fraction's trailing zeros trimmed
//! and no fraction at all for a whole second.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, as [`go_rfc3339_nano`] writes it.
pub fn now_rfc3339() -> String {
    go_rfc3339_nano(Utc::now())
}

/// `t` in Go's RFC 3339 with nanoseconds, trailing zeros trimmed.
pub fn go_rfc3339_nano(t: DateTime<Utc>) -> String {
    let s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    match s.split_once('.') {
        Some((secs, frac)) => {
            let frac = frac.trim_end_matches('Z').trim_end_matches('0');
            if frac.is_empty() {
                format!("{secs}Z")
            } else {
                format!("{secs}.{frac}Z")
            }
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_go() {
        let t = |s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            go_rfc3339_nano(t("2024-05-01T12:00:00.123456789Z")),
            "2024-05-01T12:00:00.123456789Z"
        );
        assert_eq!(
            go_rfc3339_nano(t("2024-05-01T12:00:00.120Z")),
            "2024-05-01T12:00:00.12Z"
        );
        assert_eq!(
            go_rfc3339_nano(t("2024-05-01T12:00:00Z")),
            "2024-05-01T12:00:00Z"
        );
    }
}
