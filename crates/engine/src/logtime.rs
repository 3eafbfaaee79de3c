//! docker's `--since`/`--until` values (its `timetypes.GetTimestamp`): a
//! Go duration before now (`10m`, `1h30m`, `1.5h`), an RFC 3339 time
//! (`2024-05-01T10:00:00Z`; without a zone, and the shorter
//! `2024-05-01T10:00` or `2024-05-01` forms, it is local time), or a unix
//! timestamp (`1714557600`, `1714557600.5`).

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Nanoseconds in a Go duration (`300ms`, `-1.5h`, `2h45m`); None when it
/// is not one.
pub fn go_duration_nanos(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += value * unit;
    }
    let n = total.round() as i128;
    Some(if neg { -n } else { n })
}

/// A `--since`/`--until` value as a point in time.
pub fn parse(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let v = value.trim();
    // docker's GetTimestamp: "0" is the epoch, not a zero duration (which
    // would mean now), so `--since 0` is everything.
    if let Some(n) = go_duration_nanos(v).filter(|_| v != "0") {
        return Ok(
            now - chrono::Duration::nanoseconds(n.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        );
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return local(t, value);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return local(d.and_hms_opt(0, 0, 0).unwrap_or_default(), value);
    }
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    if !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let s: i64 = secs.parse().map_err(|_| bad(value))?;
        let ns: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().map_err(|_| bad(value))?
        };
        return DateTime::from_timestamp(s, ns).ok_or_else(|| bad(value));
    }
    Err(bad(value))
}

fn local(t: NaiveDateTime, value: &str) -> Result<DateTime<Utc>, String> {
    Local
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad(value))
}

fn bad(value: &str) -> String {
    format!(
        "{value:?} is not a time: give a duration (10m, 1h30m), an RFC 3339 time or a unix timestamp"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_nanos("10m"), Some(600_000_000_000));
        assert_eq!(go_duration_nanos("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_duration_nanos("1.5h"), Some(5_400_000_000_000));
        assert_eq!(go_duration_nanos("300ms"), Some(300_000_000));
        assert_eq!(go_duration_nanos("-2s"), Some(-2_000_000_000));
        assert_eq!(go_duration_nanos("0"), Some(0));
        assert_eq!(go_duration_nanos("10"), None);
        assert_eq!(go_duration_nanos("m"), None);
        assert_eq!(go_duration_nanos("10x"), None);
        assert_eq!(go_duration_nanos(""), None);
    }

    #[test]
    fn timestamps() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse("10m", now).unwrap().to_rfc3339(),
            "2024-05-01T11:50:00+00:00"
        );
        assert_eq!(
            parse("2024-05-01T10:00:00.5+02:00", now)
                .unwrap()
                .to_rfc3339(),
            "2024-05-01T08:00:00.500+00:00"
        );
        assert_eq!(parse("1714557600", now).unwrap().timestamp(), 1_714_557_600);
        assert_eq!(parse("0", now).unwrap().timestamp(), 0, "docker: the epoch");
        assert_eq!(parse("0s", now).unwrap(), now);
        assert_eq!(
            parse("1714557600.25", now)
                .unwrap()
                .timestamp_subsec_millis(),
            250
        );
        assert!(parse("2024-05-01", now).is_ok());
        assert!(parse("2024-05-01T10:00", now).is_ok());
        assert!(parse("yesterday", now).is_err());
        assert!(parse("12.3.4", now).is_err());
    }
}
