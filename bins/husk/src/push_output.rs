//! What `husk push` shows per layer: docker's lines when stdout is not a
//! terminal, one bar per layer when it is, nothing with `-q`.

use std::collections::HashMap;
use std::sync::Mutex;

use husk_registry::push::Event;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub enum PushOutput {
    Quiet,
    Lines,
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
}

impl PushOutput {
    pub fn new(quiet: bool, terminal: bool) -> PushOutput {
        match (quiet, terminal) {
            (true, _) => PushOutput::Quiet,
            (false, false) => PushOutput::Lines,
            (false, true) => PushOutput::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                bars: Mutex::new(HashMap::new()),
            },
        }
    }

    pub fn event(&self, e: Event) {
        match self {
            PushOutput::Quiet => {}
            PushOutput::Lines => {
                let line = match e {
                    Event::Preparing { id } => format!("{id}: Preparing"),
                    Event::Waiting { id } => format!("{id}: Waiting"),
                    Event::Pushing { id, done: 0, .. } => format!("{id}: Pushing"),
                    Event::Pushing { .. } => return,
                    Event::Pushed { id } => format!("{id}: Pushed"),
                    Event::Mounted { id, from } => format!("{id}: Mounted from {from}"),
                    Event::Exists { id } => format!("{id}: Layer already exists"),
                };
                // One println is one write under stdout's lock: lines from
                // the upload threads never mix.
                println!("{line}");
            }
            PushOutput::Bars { multi, bars } => {
                let mut bars = bars.lock().unwrap_or_else(|p| p.into_inner());
                let id = match &e {
                    Event::Preparing { id }
                    | Event::Waiting { id }
                    | Event::Pushing { id, .. }
                    | Event::Pushed { id }
                    | Event::Mounted { id, .. }
                    | Event::Exists { id } => id.clone(),
                };
                let bar = bars.entry(id.clone()).or_insert_with(|| {
                    let b = multi.add(ProgressBar::new(0));
                    b.set_style(text_style());
                    b.set_prefix(id);
                    b
                });
                match e {
                    Event::Preparing { .. } => bar.set_message("Preparing"),
                    Event::Waiting { .. } => bar.set_message("Waiting"),
                    Event::Pushing { done, total, .. } => {
                        if bar.length() != Some(total) {
                            bar.set_style(bar_style());
                            bar.set_length(total);
                            bar.set_message("Pushing");
                        }
                        bar.set_position(done);
                    }
                    Event::Pushed { .. } => finish(bar, "Pushed".into()),
                    Event::Mounted { from, .. } => finish(bar, format!("Mounted from {from}")),
                    Event::Exists { .. } => finish(bar, "Layer already exists".into()),
                }
            }
        }
    }

    /// Leaves the bars as they are (a failed push shows where it stopped).
    pub fn done(&self) {
        if let PushOutput::Bars { bars, .. } = self {
            let bars = bars.lock().unwrap_or_else(|p| p.into_inner());
            for b in bars.values().filter(|b| !b.is_finished()) {
                b.abandon();
            }
        }
    }
}

fn finish(bar: &ProgressBar, message: String) {
    bar.set_style(text_style());
    bar.finish_with_message(message);
}

fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg:<8} [{bar:40}] {bytes}/{total_bytes}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
