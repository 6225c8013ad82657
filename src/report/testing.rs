//! Helpers for the output tests: captured streams and scripted events.
//!
//! [`run`] keeps the counts the way the dispatcher does and writes them
//! into each lifecycle event, so a test lists only what happened.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::cause::Cause;
use crate::event::{Event, RunEnd, Stats, Stream, Tail};
use crate::outcome::{Outcome, Status};
use crate::report::{Files, OutputMode, Prefix, ReportOptions, Reporters, Terminal};

/// The run duration every scripted run reports.
pub(crate) const RUN_TIME: Duration = Duration::from_millis(4_130);

/// A writer whose bytes the test can read back; clones share the buffer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stream whose reader went away, as stdout with `fleet run … | head -1`.
pub(crate) struct ClosedPipe;

impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reporters for `opts` writing to fresh captures, without a progress bar.
pub(crate) fn reporters(opts: ReportOptions) -> (Reporters, Capture, Capture) {
    let (stdout, stderr) = (Capture::default(), Capture::default());
    let terminal = Terminal::new(Box::new(stdout.clone()), Box::new(stderr.clone()), None);
    (Reporters::new(&opts, terminal), stdout, stderr)
}

/// Feeds `events` to `reporters`, each with the counts so far.
pub(crate) fn feed(reporters: &mut Reporters, counter: &mut Counter, events: &[Event]) {
    for event in events {
        reporters.report(&counter.count(event.clone()));
        reporters.flush();
    }
}

/// Feeds `events` to reporters for `opts`; returns (stdout, stderr).
pub(crate) fn run(opts: ReportOptions, events: &[Event]) -> (String, String) {
    let (mut reporters, stdout, stderr) = reporters(opts);
    feed(&mut reporters, &mut Counter::default(), events);
    (stdout.text(), stderr.text())
}

/// Keeps the counts the dispatcher would keep.
#[derive(Default)]
pub(crate) struct Counter {
    stats: Stats,
    unreached: bool,
}

impl Counter {
    /// `event` with the counts as they are after it.
    pub(crate) fn count(&mut self, event: Event) -> Event {
        match event {
            Event::RunStarted { hosts } => {
                self.stats.total = hosts.len();
                Event::RunStarted { hosts }
            }
            Event::HostStarted { host, .. } => {
                self.stats.running += 1;
                Event::HostStarted {
                    host,
                    stats: self.stats,
                }
            }
            Event::HostFinished {
                host,
                outcome,
                duration,
                ..
            } => {
                if outcome.status() != Status::Skipped {
                    self.stats.running = self.stats.running.saturating_sub(1);
                }
                self.stats.counts[outcome.status().index()] += 1;
                self.unreached |= outcome.unreached();
                Event::HostFinished {
                    host,
                    outcome,
                    duration,
                    stats: self.stats,
                }
            }
            Event::RunFinished(end) => {
                self.stats.interrupted |= end.stats.interrupted;
                Event::RunFinished(RunEnd::new(self.stats, RUN_TIME, self.unreached))
            }
            other => other,
        }
    }
}

pub(crate) const PLAIN: ReportOptions = ReportOptions {
    mode: OutputMode::Lines,
    color: false,
    progress: false,
    prefix: Prefix::Alias,
    checks: false,
    files: Files::NONE,
    addresses: None,
};

pub(crate) fn started(hosts: &[&str]) -> Event {
    Event::RunStarted {
        hosts: hosts.iter().map(|h| Arc::from(*h)).collect(),
    }
}

pub(crate) fn host_started(host: &str) -> Event {
    Event::HostStarted {
        host: host.into(),
        stats: Stats::default(),
    }
}

/// One stdout line, `text` plus its newline.
pub(crate) fn out(host: &str, text: &str) -> Event {
    raw(host, Stream::Stdout, &format!("{text}\n"), Tail::Newline)
}

/// One stderr line, `text` plus its newline.
pub(crate) fn err(host: &str, text: &str) -> Event {
    raw(host, Stream::Stderr, &format!("{text}\n"), Tail::Newline)
}

/// Output exactly as given.
pub(crate) fn raw(host: &str, stream: Stream, data: &str, tail: Tail) -> Event {
    Event::Output {
        host: host.into(),
        stream,
        data: Bytes::copy_from_slice(data.as_bytes()),
        tail,
    }
}

/// A host whose command exited with `code` after 250ms.
pub(crate) fn exited(host: &str, code: u32) -> Event {
    ended(host, Outcome::exited(code))
}

/// A host that failed because of `cause` after 250ms.
pub(crate) fn finished(host: &str, cause: Cause) -> Event {
    ended(host, Outcome::failed(cause))
}

pub(crate) fn ended(host: &str, outcome: Outcome) -> Event {
    Event::HostFinished {
        host: host.into(),
        outcome,
        duration: Duration::from_millis(250),
        stats: Stats::default(),
    }
}

/// The end of a run; its counts are filled in by [`run`].
pub(crate) fn run_finished() -> Event {
    Event::RunFinished(RunEnd::new(Stats::default(), RUN_TIME, false))
}

/// The end of a run cut short by Ctrl-C.
pub(crate) fn interrupted() -> Event {
    let stats = Stats {
        interrupted: true,
        ..Stats::default()
    };
    Event::RunFinished(RunEnd::new(stats, RUN_TIME, false))
}
