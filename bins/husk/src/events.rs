//! `husk events`: the journal's events through docker's filters and
//! formats; without `--until` it follows new events as they are appended.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use husk_engine::events::{self, Event};
use husk_engine::store::Paths;
use husk_engine::views::events::{parse_time, Filters, Format};

use crate::cli::EventsArgs;

/// How often a following `events` looks at the journal.
const POLL: Duration = Duration::from_millis(100);

pub fn events(paths: &Paths, a: &EventsArgs) -> Result<i32> {
    let filters = Filters::parse(&a.filter)?;
    let format = Format::parse(a.format.as_deref())?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time("--since", s))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| parse_time("--until", s))
        .transpose()?;
    let out = std::io::stdout();
    let mut out = out.lock();
    let show = |out: &mut dyn Write, ev: &Event| -> Result<bool> {
        // Skipped, not an end: writers stamp an event before they take
        // the journal's lock, so lines can be a little out of order.
        let outside =
            since.is_some_and(|s| ev.time_nano < s) || until.is_some_and(|u| ev.time_nano > u);
        if outside || !filters.include(ev) {
            return Ok(true);
        }
        let line = format.render(ev)?;
        // A reader that went away (`| head`) ends the stream quietly.
        Ok(writeln!(out, "{line}").and_then(|()| out.flush()).is_ok())
    };
    // docker: past events only when asked for with --since or --until.
    let mut follower = if since.is_some() || until.is_some() {
        let (past, follower) = events::history(paths)?;
        for ev in &past {
            if !show(&mut out, ev)? {
                return Ok(0);
            }
        }
        follower
    } else {
        events::Follower::at_end(paths)?
    };
    loop {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        if until.is_some_and(|u| now > u) {
            return Ok(0);
        }
        for ev in follower.poll()? {
            if !show(&mut out, &ev)? {
                return Ok(0);
            }
        }
        std::thread::sleep(POLL);
    }
}
