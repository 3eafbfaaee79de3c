//! `husk ps`: docker's columns, durations and tabwriter layout.

use chrono::{DateTime, Utc};

use super::{Container, Status};
use crate::format::{ellipsis, human_duration, tabwrite};

pub struct PsOptions {
    pub all: bool,
    pub quiet: bool,
    pub no_trunc: bool,
}

fn elapsed(since: &str, now: DateTime<Utc>) -> std::time::Duration {
    DateTime::parse_from_rfc3339(since)
        .ok()
        .and_then(|t| (now - t.with_timezone(&Utc)).to_std().ok())
        .unwrap_or_default()
}

/// docker's `State.String()`.
pub fn status_text(c: &Container, now: DateTime<Utc>) -> String {
    match c.state.status {
        Status::Running => format!("Up {}", human_duration(elapsed(&c.state.started_at, now))),
        Status::Paused => format!(
            "Up {} (Paused)",
            human_duration(elapsed(&c.state.started_at, now))
        ),
        Status::Created => "Created".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            c.state.exit_code,
            human_duration(elapsed(&c.state.finished_at, now))
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            c.state.exit_code,
            human_duration(elapsed(&c.state.finished_at, now))
        ),
    }
}

/// Go's `strconv.Quote` for the strings a command line holds.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

pub fn render(containers: &[Container], o: &PsOptions, now: DateTime<Utc>) -> String {
    let shown: Vec<&Container> = containers
        .iter()
        .filter(|c| o.all || c.is_running())
        .rev()
        .collect();
    let id = |c: &Container| {
        if o.no_trunc {
            c.id.clone()
        } else {
            c.short_id().to_string()
        }
    };
    if o.quiet {
        return shown.iter().map(|c| format!("{}\n", id(c))).collect();
    }
    let mut lines = vec!["CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES".to_string()];
    for c in shown {
        let cmd = if o.no_trunc {
            c.command_line()
        } else {
            ellipsis(&c.command_line(), 20)
        };
        let image = if c.config.image.is_empty() {
            "<no image>".to_string()
        } else {
            c.config.image.clone()
        };
        lines.push(format!(
            "{}\t{}\t{}\t{} ago\t{}\t\t{}",
            id(c),
            image,
            go_quote(&cmd),
            human_duration(elapsed(&c.created, now)),
            status_text(c, now),
            c.name
        ));
    }
    tabwrite(&lines)
}
