//! Everything the user sees of a run.
//!
//! The executor sends [`Event`]s to one loop, which hands each to
//! [`Reporter::report`]; reporters therefore need no locks. [`build`] picks
//! the output for the [`ReportOptions`] the caller decided on:
//!
//! * human (default): remote lines prefixed with their host as they arrive
//!   (`stream`), a progress bar on a terminal (`progress`), and a summary
//!   with hints on stderr at the end (`summary`);
//! * `--json`: JSON Lines on stdout (`json`), with the human summary still
//!   on stderr.
//!
//! All of them write through one [`Terminal`](terminal::Terminal), which
//! hides the progress bar while anything else is printed. [`Tally`] turns the
//! same events into the documented [exit code](exit).

pub mod exit;
mod hint;
mod json;
pub mod listing;
mod progress;
pub mod sanitize;
mod stream;
mod summary;
mod tally;
mod terminal;
#[cfg(test)]
mod testing;

use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::ProgressDrawTarget;

use crate::event::Event;
use json::JsonPrinter;
use progress::Progress;
use stream::StreamPrinter;
use summary::Summary;
pub use tally::Tally;
use terminal::Terminal;

/// Something that shows a run to the user, one event at a time.
pub trait Reporter {
    /// Shows `event`. An error means the output is gone (a closed pipe
    /// gives `BrokenPipe`, which the caller can treat as a quiet exit); the
    /// run itself is unaffected.
    fn report(&mut self, event: &Event) -> io::Result<()>;
}

/// What to show. The caller decides from the flags, `NO_COLOR` and whether
/// the streams are terminals, so reporters never look at the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    /// JSON Lines on stdout instead of prefixed lines.
    pub json: bool,
    /// ANSI colors in human output.
    pub color: bool,
    /// A progress bar on stderr (ignored with `json`).
    pub progress: bool,
}

/// Builds the reporters for `opts`, writing to `stdout` and `stderr`. Output
/// is flushed after every event, so the writers need no buffering of their
/// own.
pub fn build(
    opts: &ReportOptions,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
) -> Reporters {
    let bar = (opts.progress && !opts.json).then(|| {
        let bar = progress::bar(ProgressDrawTarget::stderr());
        // Keeps the spinner and elapsed time moving while hosts are silent.
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    Reporters::new(
        opts,
        Terminal::new(stdout, stderr, bar),
        RunClock::Wall(None),
    )
}

/// The reporters of one run, fed in turn from one [`Reporter::report`] call
/// and flushed together after it.
pub struct Reporters {
    terminal: Terminal,
    printers: Vec<Box<dyn Printer + Send>>,
    clock: RunClock,
}

impl Reporters {
    fn new(opts: &ReportOptions, terminal: Terminal, clock: RunClock) -> Reporters {
        let mut printers: Vec<Box<dyn Printer + Send>> = Vec::new();
        if opts.json {
            printers.push(Box::new(JsonPrinter::default()));
        } else {
            printers.push(Box::new(StreamPrinter::new(opts.color)));
        }
        if terminal.bar().is_some() {
            printers.push(Box::new(Progress::default()));
        }
        // Last, so the bar is already gone when the summary is printed.
        printers.push(Box::new(Summary::new(opts.color)));
        Reporters {
            terminal,
            printers,
            clock,
        }
    }
}

impl Reporter for Reporters {
    fn report(&mut self, event: &Event) -> io::Result<()> {
        self.clock.observe(event);
        for printer in &mut self.printers {
            printer.print(event, &self.clock, &mut self.terminal)?;
        }
        self.terminal.flush()
    }
}

/// One kind of output. Printers write into the shared [`Terminal`] rather
/// than owning a stream, so the bar can be hidden around all of them.
trait Printer {
    fn print(&mut self, event: &Event, clock: &RunClock, term: &mut Terminal) -> io::Result<()>;
}

/// How long the run has taken, for the summaries. Tests fix it so their
/// expected output can be written down.
#[derive(Debug, Clone, Copy)]
enum RunClock {
    /// Measured from `RunStarted`, once seen.
    Wall(Option<Instant>),
    #[cfg(test)]
    Fixed(Duration),
}

impl RunClock {
    fn observe(&mut self, event: &Event) {
        if let (RunClock::Wall(started), Event::RunStarted { .. }) = (self, event) {
            *started = Some(Instant::now());
        }
    }

    fn elapsed(&self) -> Duration {
        match self {
            RunClock::Wall(started) => started.map_or(Duration::ZERO, |s| s.elapsed()),
            #[cfg(test)]
            RunClock::Fixed(elapsed) => *elapsed,
        }
    }
}
