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
//! All of them write through one `Terminal`, which
//! hides the progress bar while anything else is printed. [`Tally`] turns the
//! same events into the documented [exit code](crate::error::exit).

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
    /// Takes `event` in; what it prints may wait in a buffer until
    /// [`Reporter::flush`].
    fn report(&mut self, event: &Event) -> io::Result<()>;

    /// Writes out everything reported so far. The caller flushes after each
    /// batch of events, so a busy run costs one write per batch, not one per
    /// line. An error means the output is gone (a closed pipe gives
    /// `BrokenPipe`, which the caller can treat as a quiet exit); the run
    /// itself is unaffected.
    fn flush(&mut self) -> io::Result<()>;
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
/// is buffered until [`Reporter::flush`], so the writers need no buffering
/// of their own.
pub fn build(
    opts: &ReportOptions,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
) -> Reporters {
    let bar = wants_bar(opts).then(|| {
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

/// A bar would share stderr with nothing useful in JSON mode, and JSON
/// users are scripts.
fn wants_bar(opts: &ReportOptions) -> bool {
    opts.progress && !opts.json
}

/// The reporters of one run, fed in turn from one [`Reporter::report`] call
/// and flushed together.
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
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Status;
    use testing::{err, exited, finished, out, run, run_finished, started, Capture, PLAIN};

    /// A stdout whose reader went away, as with `fleet run … | head -1`.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn human_run_streams_lines_then_summarizes() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["web-1", "web-2", "web-10"]),
                out("web-10", "ready"),
                err("web-2", "df: /mnt: No such file or directory"),
                exited("web-10", 0),
                exited("web-2", 1),
                finished(
                    "web-1",
                    Status::HostKeyUnknown,
                    Some("no key in known_hosts"),
                ),
                run_finished(false),
            ],
        );
        assert_eq!(stdout, "web-10 | ready\n");
        assert_eq!(
            stderr,
            "\
web-2  ! df: /mnt: No such file or directory
3 hosts: 1 ok, 1 failed, 1 host_key_unknown (4.1s)
host_key_unknown:
  no key in known_hosts: web-1
  hint: known_hosts has no key for these hosts: verify their fingerprints out of band, then \
add them to known_hosts or run again with `-o StrictHostKeyChecking=accept-new`
failed:
  exit 1: web-2
  hint: the command ran but exited non-zero or was killed; to retry just these hosts: \
fleet run 'web-2' …
"
        );
    }

    #[test]
    fn closed_stdout_is_a_broken_pipe_error() {
        let stderr = Capture::default();
        let term = Terminal::new(Box::new(ClosedPipe), Box::new(stderr.clone()), None);
        let mut reporters = Reporters::new(&PLAIN, term, RunClock::Fixed(Duration::ZERO));
        reporters.report(&started(&["a"])).expect("buffered");
        reporters.flush().expect("nothing written yet");
        reporters.report(&out("a", "x")).expect("buffered");
        let error = reporters.flush().expect_err("stdout is closed");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        // stderr still works, and the lost line is not retried.
        reporters.report(&err("a", "y")).expect("buffered");
        reporters.flush().expect("stderr is open");
        assert_eq!(stderr.text(), "a ! y\n");
    }

    #[test]
    fn stderr_is_written_even_when_stdout_fails() {
        let stderr = Capture::default();
        let mut term = Terminal::new(Box::new(ClosedPipe), Box::new(stderr.clone()), None);
        term.stdout().extend_from_slice(b"lost\n");
        term.stderr().extend_from_slice(b"kept\n");
        assert!(term.flush().is_err());
        assert_eq!(stderr.text(), "kept\n");
        assert!(term.flush().is_ok(), "nothing left to write");
    }

    #[test]
    fn bar_only_for_human_output_when_asked() {
        let bar = |json, progress| {
            wants_bar(&ReportOptions {
                json,
                color: false,
                progress,
            })
        };
        assert!(bar(false, true));
        assert!(!bar(false, false));
        assert!(!bar(true, true));
    }

    #[test]
    fn wall_clock_starts_at_run_started() {
        let mut clock = RunClock::Wall(None);
        assert_eq!(clock.elapsed(), Duration::ZERO);
        clock.observe(&started(&[]));
        assert!(matches!(clock, RunClock::Wall(Some(_))));
    }
}
