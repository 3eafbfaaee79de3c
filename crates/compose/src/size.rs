//! Byte sizes as docker writes them (`512m`, `1g`, `1.5GiB`, `1024`), with
//! go-units' `RAMInBytes` rules: binary multiples, case-insensitive units,
//! an optional `i` and `b`.

/// Parses a size into bytes. The error says what is wrong.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    const HINT: &str = "use a number of bytes or a number with a unit (k, m, g, t, p), e.g. 512m";
    let s = text.trim();
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(num_len);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(format!("not a size: {HINT}"));
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return Err(format!("unknown unit: {HINT}")),
    };
    let value: f64 = num.parse().map_err(|_| format!("not a size: {HINT}"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size too large: {HINT}"));
    }
    // go-units truncates a fractional byte count too.
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_bytes("1024").unwrap(), 1024);
        assert_eq!(parse_bytes("512m").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("64k").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("1.5g").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("10 mb").unwrap(), 10 << 20);
        assert_eq!(parse_bytes("2b").unwrap(), 2);
    }

    #[test]
    fn rejects_bad_sizes() {
        for bad in ["", "m", "12x", "-1m", "1.2.3m", ".5m", "99999999999p"] {
            let err = parse_bytes(bad).unwrap_err();
            assert!(err.contains("e.g. 512m"), "{bad}: {err}");
        }
    }
}
