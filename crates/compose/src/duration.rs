//! Durations in Go's `time.ParseDuration` syntax (`1m30s`, `500ms`, `1h`),
//! which is what the Compose Specification uses, and back.

use std::time::Duration;

const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses `1m30s`, `10s`, `500ms`, `1.5h`, `0`. The error says what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const HINT: &str = "use a number with a unit (ns, us, ms, s, m, h), e.g. 1m30s or 500ms";
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(format!("empty duration: {HINT}"));
    }
    if s.starts_with('-') {
        return Err(format!("negative duration: {HINT}"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut nanos: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(format!("not a duration: {HINT}"));
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                format!("missing unit: {HINT}")
            } else {
                format!("unknown unit {unit:?}: {HINT}")
            });
        };
        nanos = nanos
            .checked_add(scaled(num, scale).ok_or_else(|| format!("duration too large: {HINT}"))?)
            .ok_or_else(|| format!("duration too large: {HINT}"))?;
        rest = next;
    }
    let secs =
        u64::try_from(nanos / 1_000_000_000).map_err(|_| format!("duration too large: {HINT}"))?;
    // The remainder is below 1e9 so it always fits.
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// `num` (digits with at most one '.') times `scale` nanoseconds, exactly:
/// Go truncates the fraction below a nanosecond, and so does this.
fn scaled(num: &str, scale: u128) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int.checked_mul(scale)?;
    let mut div = scale;
    for d in frac.bytes().take(30) {
        if div < 10 {
            break;
        }
        div /= 10;
        total = total.checked_add(u128::from(d - b'0') * div)?;
    }
    Some(total)
}

/// Formats as Go's `Duration.String` does (`1m30s`, `1h0m0s`, `500ms`), the
/// form `docker compose config` prints.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", decimal(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", decimal(nanos, 1_000_000));
    }
    let secs = d.as_secs();
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    let s = decimal(
        u128::from(secs % 60) * 1_000_000_000 + u128::from(d.subsec_nanos()),
        1_000_000_000,
    );
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `value / unit` with the fraction written out and trailing zeros dropped.
fn decimal(value: u128, unit: u128) -> String {
    let (int, frac) = (value / unit, value % unit);
    if frac == 0 {
        return int.to_string();
    }
    let width = unit.ilog10() as usize;
    let frac = format!("{frac:0width$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// Serializes `Option<Duration>` fields in Go's form.
pub(crate) mod serde_opt {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2h45m").unwrap(), Duration::from_secs(9900));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("10µs").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("7ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration(".5s").unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "",
            "10",
            "-1s",
            "1x",
            "s",
            "1..2s",
            "1.2.3s",
            "99999999999999999999h",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("e.g. 1m30s"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_like_go() {
        let f = |ms: u64| format_duration(Duration::from_millis(ms));
        assert_eq!(f(0), "0s");
        assert_eq!(f(500), "500ms");
        assert_eq!(f(1000), "1s");
        assert_eq!(f(1500), "1.5s");
        assert_eq!(f(90_000), "1m30s");
        assert_eq!(f(3_600_000), "1h0m0s");
        assert_eq!(f(3_723_500), "1h2m3.5s");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(format_duration(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(format_duration(Duration::from_nanos(15)), "15ns");
    }

    #[test]
    fn round_trips() {
        for s in ["1m30s", "500ms", "1h0m0s", "1.25s", "3h2m1s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }
}
