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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::event::{Outcome, Status};
    use crate::report::testing::{
        ended, err, exited, finished, host_started, out, run, run_finished, started, PLAIN,
    };
    use crate::report::ReportOptions;

    const JSON: ReportOptions = ReportOptions {
        json: true,
        color: true,
        progress: true,
    };

    fn parse(stdout: &str) -> Vec<Value> {
        stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
            .collect()
    }

    #[test]
    fn every_event_kind_becomes_one_json_line() {
        let killed = Outcome {
            status: Status::Failed,
            exit_code: None,
            signal: Some("TERM".to_string()),
            error: Some("killed by TERM".to_string()),
        };
        let (stdout, stderr) = run(
            JSON,
            &[
                started(&["web-01", "web-02", "web-03"]),
                host_started("web-01"),
                out("web-01", "\x1b[31mred\x1b[0m\ttab"),
                err("web-01", "warn"),
                exited("web-01", 0),
                finished("web-02", Status::Unreachable, Some("connection refused")),
                ended("web-03", killed),
                run_finished(false),
            ],
        );
        let records = parse(&stdout);
        assert_eq!(
            records,
            [
                json!({"type": "line", "host": "web-01", "stream": "stdout",
                       "text": "\x1b[31mred\x1b[0m\ttab"}),
                json!({"type": "line", "host": "web-01", "stream": "stderr", "text": "warn"}),
                json!({"type": "result", "host": "web-01", "status": "ok", "exit_code": 0,
                       "signal": null, "error": null, "duration_ms": 250}),
                json!({"type": "result", "host": "web-02", "status": "unreachable",
                       "exit_code": null, "signal": null, "error": "connection refused",
                       "duration_ms": 250}),
                json!({"type": "result", "host": "web-03", "status": "failed",
                       "exit_code": null, "signal": "TERM", "error": "killed by TERM",
                       "duration_ms": 250}),
                json!({"type": "summary", "hosts": 3, "ok": 1, "failed": 1, "timeout": 0,
                       "unreachable": 1, "host_key_unknown": 0, "host_key_changed": 0,
                       "auth_failed": 0, "error": 0, "skipped": 0, "interrupted": false,
                       "exit_code": 2, "duration_ms": 4130}),
            ]
        );
        // Control characters are JSON-escaped, never raw, and nothing but
        // JSON reaches stdout even with color and progress asked for.
        assert!(stdout.starts_with(
            r#"{"type":"line","host":"web-01","stream":"stdout","text":"\u001b[31mred\u001b[0m\ttab"}"#
        ));
        assert!(!stdout.contains('\x1b'));
        // The human summary still goes to stderr.
        assert!(
            stderr.starts_with("3 hosts: 1 ok, 1 failed, 1 unreachable (4.1s)\n"),
            "{stderr}"
        );
    }

    #[test]
    fn interrupted_summary() {
        let (stdout, _) = run(
            JSON,
            &[
                started(&["a", "b"]),
                exited("a", 0),
                finished("b", Status::Skipped, None),
                run_finished(true),
            ],
        );
        let summary = parse(&stdout).pop().expect("a summary line");
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["skipped"], 1);
        assert_eq!(summary["interrupted"], true);
        assert_eq!(summary["exit_code"], 130);
    }

    #[test]
    fn human_mode_prints_no_json() {
        let (stdout, _) = run(PLAIN, &[started(&["a"]), out("a", "{}"), exited("a", 0)]);
        assert_eq!(stdout, "a | {}\n");
    }
}
