//! go-units' HumanDuration and HumanSizeWithPrecision, which docker prints.

use std::time::Duration;

/// "3 weeks", "About an hour", "Less than a second".
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 1 {
        return "Less than a second".into();
    }
    if secs == 1 {
        return "1 second".into();
    }
    if secs < 60 {
        return format!("{secs} seconds");
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours_f = d.as_secs_f64() / 3600.0;
    let hours = (hours_f + 0.5) as u64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    let hours = hours_f as u64;
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", hours / 24 / 365)
}

/// Base-1000 size with 3 significant digits: "4.26MB", "975kB", "0B".
pub fn human_size(bytes: u64) -> String {
    human_size_precision(bytes, 3)
}

/// go-units' HumanSizeWithPrecision (base 1000): `system df` shows 4 digits.
pub fn human_size_precision(bytes: u64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    custom_size(bytes, 1000.0, &UNITS, precision)
}

/// go-units' BytesSize (binary units, 4 significant digits), which
/// `docker stats` shows memory in: "1.5MiB", "7.667GiB", "0B".
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    custom_size(bytes, 1024.0, &UNITS, 4)
}

/// go-units' CustomSize: `bytes` in the largest unit below `base` steps.
fn custom_size(bytes: u64, base: f64, units: &[&str], precision: usize) -> String {
    let mut size = bytes as f64;
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    format!("{}{}", go_g(size, precision), units[i])
}

/// Go's `%.{prec}g`: shortest of fixed and exponent form, trailing zeros
/// dropped (so 999.9 kB really prints as "1e+03kB", as docker does).
fn go_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_go_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(4_260_000), "4.26MB");
        assert_eq!(human_size(975_000), "975kB");
        assert_eq!(human_size(1_200_000_000), "1.2GB");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(999_900), "1e+03kB");
        assert_eq!(human_size(12_345), "12.3kB");
    }

    #[test]
    fn durations_match_go_units() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(90)), "About a minute");
        assert_eq!(human_duration(s(60 * 60 + 29 * 60)), "About an hour");
        assert_eq!(human_duration(s(91 * 60)), "2 hours");
        assert_eq!(human_duration(s(30 * 86400)), "4 weeks");
        assert_eq!(human_duration(s(44 * 86400)), "6 weeks");
        assert_eq!(human_duration(s(720 * 86400)), "24 months");
        assert_eq!(human_duration(s(3 * 365 * 86400)), "3 years");
    }
}
