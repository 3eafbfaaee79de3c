//! `/proc/PID/stat`, parsed once for the fields husk uses. Field 2 (comm)
//! is the process name in parentheses and may itself hold spaces and ')':
//! the other fields start after the last ')'.

/// The fields of `/proc/PID/stat` that husk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 3: R, S, D, Z (zombie), X (dead), ...
    pub state: char,
    /// Field 4.
    pub ppid: i32,
    /// Field 6.
    pub session: i32,
    /// Field 22: clock ticks after boot; with the pid it names a process
    /// across pid reuse.
    pub start_time: u64,
}

impl ProcStat {
    /// The stat of `pid`, or `None` when there is no such process.
    pub fn of(pid: i32) -> Option<ProcStat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Self::parse(&text)
    }

    /// Parses the text of a stat file.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let rest = text.get(text.rfind(')')? + 1..)?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        // `f` starts at field 3 (state).
        Some(ProcStat {
            state: f.first()?.chars().next()?,
            ppid: f.get(1)?.parse().ok()?,
            session: f.get(3)?.parse().ok()?,
            start_time: f.get(19)?.parse().ok()?,
        })
    }

    /// Exited: a zombie or dead process (this host's PID 1 does not reap).
    pub fn is_gone(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_with_spaces_and_parens() {
        let mut fields = vec!["S", "7", "8", "9"];
        fields.extend(std::iter::repeat_n("0", 15));
        fields.push("4242");
        fields.extend(std::iter::repeat_n("0", 30));
        let text = format!("123 (a b) c)) {}\n", fields.join(" "));
        let s = ProcStat::parse(&text).unwrap();
        assert_eq!(
            s,
            ProcStat {
                state: 'S',
                ppid: 7,
                session: 9,
                start_time: 4242
            }
        );
        assert!(!s.is_gone());
        assert_eq!(ProcStat::parse("123 (x"), None);
    }

    #[test]
    fn own_process() {
        let me = ProcStat::of(std::process::id() as i32).unwrap();
        assert!(me.start_time > 0);
        assert!(!me.is_gone());
    }
}
