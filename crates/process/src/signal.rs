//! Signal names as runc accepts them: `KILL`, `SIGKILL`, `9`, `RTMIN+3`
//! (husk_fs::signal_number, shared with the engine).

use crate::{Error, Result};

/// The signal number `s` names.
pub fn parse(s: &str) -> Result<i32> {
    husk_fs::signal_number(s).ok_or_else(|| {
        Error::Spec(format!(
            "invalid signal {s:?} (use a name like TERM, KILL or RTMIN+3, or a number from 1 to 64)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("KILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse("SIGRTMIN+3").unwrap(), 37);
        assert_eq!(parse("64").unwrap(), 64);
        assert!(parse("NOPE").is_err());
        assert!(parse("999").is_err());
    }
}
