//! The progress bar on stderr: hosts finished out of all, and how they ended
//! so far. It is only shown on a terminal, and [`Terminal`] hides it while
//! anything else is printed.

use std::io;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::{Event, Status};
use crate::report::tally::Tally;
use crate::report::terminal::Terminal;
use crate::report::{Printer, RunClock};

/// `⠙ 00:00:04 [=========>          ] 18/52 hosts  15 ok, 3 unreachable, 8 running`
const TEMPLATE: &str = "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} hosts  {wide_msg}";

/// A bar with fleet's look, drawn on `target`; its length is set when the
/// run starts.
pub(crate) fn bar(target: ProgressDrawTarget) -> ProgressBar {
    // The template is a constant checked by a test; the fallback only keeps
    // a typo from costing more than looks.
    let style = ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(None, target).with_style(style)
}

/// Moves the bar along as hosts start and finish, and removes it when the
/// run is over so the summary takes its place.
#[derive(Default)]
pub(crate) struct Progress {
    tally: Tally,
    running: usize,
}

impl Progress {
    /// `15 ok, 3 unreachable, 8 running`.
    fn message(&self) -> String {
        let mut message = self.tally.breakdown();
        if self.running > 0 {
            let sep = if message.is_empty() { "" } else { ", " };
            message.push_str(&format!("{sep}{} running", self.running));
        }
        message
    }
}

impl Printer for Progress {
    fn print(&mut self, event: &Event, _: &RunClock, term: &mut Terminal) -> io::Result<()> {
        if let Event::RunFinished { .. } = event {
            term.clear_bar();
            return Ok(());
        }
        let Some(bar) = term.bar() else {
            return Ok(());
        };
        match event {
            Event::RunStarted { hosts } => bar.set_length(hosts.len() as u64),
            Event::HostStarted { .. } => self.running += 1,
            Event::HostFinished { outcome, .. } => {
                // A skipped host never started, so it was never running.
                if outcome.status != Status::Skipped {
                    self.running = self.running.saturating_sub(1);
                }
                self.tally.record(event);
                bar.inc(1);
            }
            Event::Line { .. } | Event::RunFinished { .. } => return Ok(()),
        }
        bar.set_message(self.message());
        Ok(())
    }
}
