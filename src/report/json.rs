//! `--json`: one JSON object per line on stdout and nothing else there, for
//! scripts and `jq`.
//!
//! ```text
//! {"type":"line","host":"web-01","stream":"stdout","text":" 10:02:11 up 41 days"}
//! {"type":"result","host":"web-01","status":"ok","exit_code":0,"signal":null,"error":null,"duration_ms":312}
//! {"type":"summary","hosts":1,"ok":1,"failed":0,…,"interrupted":false,"exit_code":0,"duration_ms":340}
//! ```
//!
//! Text is written as received: JSON escaping already turns control
//! characters into `\u001b` and friends, and a script may want the bytes.

use std::io;
use std::time::Duration;

use serde::Serialize;

use crate::event::{Event, Status, Stream};
use crate::report::tally::Tally;
use crate::report::terminal::Terminal;
use crate::report::{Printer, RunClock};

/// One line of output; `type` says which.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record<'a> {
    Line {
        host: &'a str,
        stream: &'static str,
        text: &'a str,
    },
    Result {
        host: &'a str,
        status: &'static str,
        exit_code: Option<u32>,
        signal: Option<&'a str>,
        error: Option<&'a str>,
        duration_ms: u64,
    },
    Summary(SummaryRecord),
}

/// The last line: a count per status, named as in `result` lines.
#[derive(Serialize)]
struct SummaryRecord {
    hosts: usize,
    ok: usize,
    failed: usize,
    timeout: usize,
    unreachable: usize,
    host_key_unknown: usize,
    host_key_changed: usize,
    auth_failed: usize,
    error: usize,
    skipped: usize,
    interrupted: bool,
    exit_code: i32,
    duration_ms: u64,
}

impl SummaryRecord {
    fn new(tally: &Tally, elapsed: Duration) -> SummaryRecord {
        SummaryRecord {
            hosts: tally.hosts(),
            ok: tally.count(Status::Ok),
            failed: tally.count(Status::Failed),
            timeout: tally.count(Status::Timeout),
            unreachable: tally.count(Status::Unreachable),
            host_key_unknown: tally.count(Status::HostKeyUnknown),
            host_key_changed: tally.count(Status::HostKeyChanged),
            auth_failed: tally.count(Status::AuthFailed),
            error: tally.count(Status::Error),
            skipped: tally.count(Status::Skipped),
            interrupted: tally.interrupted(),
            exit_code: tally.exit_code(),
            duration_ms: millis(elapsed),
        }
    }
}

/// Writes every line, every host result and the summary as JSON Lines.
#[derive(Default)]
pub(crate) struct JsonPrinter {
    tally: Tally,
}

impl Printer for JsonPrinter {
    fn print(&mut self, event: &Event, clock: &RunClock, term: &mut Terminal) -> io::Result<()> {
        self.tally.record(event);
        let record = match event {
            Event::Line { host, stream, text } => Record::Line {
                host,
                stream: match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                },
                text,
            },
            Event::HostFinished {
                host,
                outcome,
                duration,
            } => Record::Result {
                host,
                status: outcome.status.as_str(),
                exit_code: outcome.exit_code,
                signal: outcome.signal.as_deref(),
                error: outcome.error.as_deref(),
                duration_ms: millis(*duration),
            },
            Event::RunFinished { .. } => {
                Record::Summary(SummaryRecord::new(&self.tally, clock.elapsed()))
            }
            Event::RunStarted { .. } | Event::HostStarted { .. } => return Ok(()),
        };
        let out = term.stdout();
        serde_json::to_writer(&mut *out, &record)?;
        out.push(b'\n');
        Ok(())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
