//! Signal names and numbers as runc and docker accept them: `KILL`,
//! `SIGKILL`, `kill`, `9`, the realtime `RTMIN+3`, `SIGRTMIN+3`,
//! `SIGRTMAX-2`, and any number 1–64 (Linux numbering: SIGRTMIN is 34,
//! glibc keeps 32 and 33). One implementation for `husk kill -s`,
//! `--stop-signal` and `husk-runtime kill`.

const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The signal number `s` names, or `None` when it names none.
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=RTMAX).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let n = base + sign * off;
        (RTMIN..=RTMAX).contains(&n).then_some(n)
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return match rest.strip_prefix('+') {
            Some(off) => rt(RTMIN, off, 1),
            None if rest.is_empty() => Some(RTMIN),
            None => None,
        };
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return match rest.strip_prefix('-') {
            Some(off) => rt(RTMAX, off, -1),
            None if rest.is_empty() => Some(RTMAX),
            None => None,
        };
    }
    // nix knows the standard names (SIGHUP..SIGSYS) for this platform.
    format!("SIG{name}")
        .parse::<nix::sys::signal::Signal>()
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_realtime_signals() {
        for (s, n) in [
            ("KILL", 9),
            ("SIGKILL", 9),
            ("sigterm", 15),
            ("usr1", 10),
            ("9", 9),
            ("64", 64),
            ("1", 1),
            ("RTMIN", 34),
            ("SIGRTMIN", 34),
            ("RTMIN+3", 37),
            ("SIGRTMIN+3", 37),
            ("sigrtmin+30", 64),
            ("SIGRTMAX", 64),
            ("RTMAX-2", 62),
            ("SIGRTMAX-30", 34),
        ] {
            assert_eq!(signal_number(s), Some(n), "{s}");
        }
        for s in [
            "NOPE", "0", "65", "-1", "999", "RTMIN+31", "RTMAX-31", "RTMIN3", "RTMAX+1", "SIG", "",
        ] {
            assert_eq!(signal_number(s), None, "{s}");
        }
    }
}
