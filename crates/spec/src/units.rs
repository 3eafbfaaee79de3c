//! Sizes as docker and runc write them on the command line (go-units'
//! RAMInBytes): a number with an optional binary unit b, k, m, g, t, p,
//! optionally followed by "b" or "ib", in any case ("400m", "1.5g",
//! "400MB", "512KiB").

/// Bytes for `s`, or None when it is not a size.
pub fn ram_in_bytes(s: &str) -> Option<i64> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return None,
    };
    if n < 0.0 {
        return None;
    }
    Some((n * (1u64 << shift) as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::ram_in_bytes;

    #[test]
    fn docker_forms() {
        assert_eq!(ram_in_bytes("400m"), Some(419_430_400));
        assert_eq!(ram_in_bytes("400MB"), Some(419_430_400));
        assert_eq!(ram_in_bytes("512KiB"), Some(524_288));
        assert_eq!(ram_in_bytes("1.5g"), Some(1_610_612_736));
        assert_eq!(ram_in_bytes("8388608"), Some(8_388_608));
        assert_eq!(ram_in_bytes("2b"), Some(2));
        assert_eq!(ram_in_bytes("12x"), None);
        assert_eq!(ram_in_bytes("m"), None);
        assert_eq!(ram_in_bytes("lots"), None);
    }
}
