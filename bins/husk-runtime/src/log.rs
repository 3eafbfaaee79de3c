//! runc's `--log` / `--log-format`: containerd reads the last line whose
//! level is "error" and shows its "msg". Errors always go to stderr too.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

pub struct Logger {
    file: Option<std::fs::File>,
    json: bool,
    debug: bool,
}

impl Logger {
    pub fn new(path: Option<&Path>, format: &str, debug: bool) -> Logger {
        let file = path.and_then(|p| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| eprintln!("husk-runtime: cannot open log {}: {e}", p.display()))
                .ok()
        });
        Logger {
            file,
            json: format == "json",
            debug,
        }
    }

    pub fn error(&self, msg: &str) {
        eprintln!("husk-runtime: {msg}");
        self.write("error", msg);
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.write("debug", msg);
        }
    }

    fn write(&self, level: &str, msg: &str) {
        let Some(mut f) = self.file.as_ref() else {
            return;
        };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let line = if self.json {
            serde_json::json!({"level": level, "msg": msg, "time": time}).to_string()
        } else {
            format!("time={time:?} level={level} msg={msg:?}")
        };
        let _ = writeln!(f, "{line}");
    }
}
