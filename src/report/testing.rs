//! Helpers for the reporter tests: captured output and scripted events.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::event::{Event, Outcome, Status, Stream};
use crate::report::terminal::Terminal;
use crate::report::{ReportOptions, Reporter, Reporters, RunClock};

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

/// Reporters for `opts` writing to fresh captures, with [`RUN_TIME`] as the
/// run duration and no progress bar.
pub(crate) fn reporters(opts: ReportOptions) -> (Reporters, Capture, Capture) {
    let (stdout, stderr) = (Capture::default(), Capture::default());
    let terminal = Terminal::new(Box::new(stdout.clone()), Box::new(stderr.clone()), None);
    let reporters = Reporters::new(&opts, terminal, RunClock::Fixed(RUN_TIME));
    (reporters, stdout, stderr)
}

/// Feeds `events` to reporters for `opts`; returns (stdout, stderr).
pub(crate) fn run(opts: ReportOptions, events: &[Event]) -> (String, String) {
    let (mut reporters, stdout, stderr) = reporters(opts);
    for event in events {
        reporters.report(event).expect("captures never fail");
        reporters.flush().expect("captures never fail");
    }
    (stdout.text(), stderr.text())
}

pub(crate) const PLAIN: ReportOptions = ReportOptions {
    json: false,
    color: false,
    progress: false,
};

pub(crate) fn started(hosts: &[&str]) -> Event {
    Event::RunStarted {
        hosts: hosts.iter().map(|h| Arc::from(*h)).collect(),
    }
}

pub(crate) fn host_started(host: &str) -> Event {
    Event::HostStarted { host: host.into() }
}

pub(crate) fn out(host: &str, text: &str) -> Event {
    line(host, Stream::Stdout, text)
}

pub(crate) fn err(host: &str, text: &str) -> Event {
    line(host, Stream::Stderr, text)
}

fn line(host: &str, stream: Stream, text: &str) -> Event {
    Event::Line {
        host: host.into(),
        stream,
        text: text.to_string(),
    }
}

/// A host whose command exited with `code` after 250ms.
pub(crate) fn exited(host: &str, code: u32) -> Event {
    ended(host, Outcome::exited(code))
}

/// A host that ended with `status` (and `error`) after 250ms.
pub(crate) fn finished(host: &str, status: Status, error: Option<&str>) -> Event {
    ended(
        host,
        Outcome {
            status,
            exit_code: None,
            signal: None,
            error: error.map(str::to_string),
        },
    )
}

pub(crate) fn ended(host: &str, outcome: Outcome) -> Event {
    Event::HostFinished {
        host: host.into(),
        outcome,
        duration: Duration::from_millis(250),
    }
}

pub(crate) fn run_finished(interrupted: bool) -> Event {
    Event::RunFinished { interrupted }
}
