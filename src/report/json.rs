//! `--json`: one JSON object per line on stdout and nothing else there, for
//! scripts and `jq`.
//!
//! ```text
//! {"type":"line","host":"web-01","stream":"stdout","text":" 10:02:11 up 41 days"}
//! {"type":"result","host":"web-01","status":"ok","exit_code":0,"signal":null,"error":null,"cause":null,"duration_ms":312}
//! {"type":"summary","hosts":1,"statuses":{"ok":1,"failed":0,…},"interrupted":false,"exit_code":0,"duration_ms":340}
//! ```
//!
//! Text is written as received, decoded as UTF-8 with invalid bytes
//! replaced: JSON escaping already turns control characters into `\u001b`
//! and friends, and a script may want them.

use std::io;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::cause::Cause;
use crate::event::{Event, Notice, RunEnd, Stage, Stats, Stream};
use crate::outcome::Status;
use crate::report::lines::lines;
use crate::report::{Output, Terminal};

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
        error: Option<String>,
        /// The cause as data, for `fleet report` and other tools.
        cause: Option<&'a Cause>,
        duration_ms: u64,
    },
    Stage {
        number: usize,
        of: usize,
        canary: bool,
        hosts: usize,
    },
    Notice {
        notice: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        failures: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        allowed: Option<usize>,
    },
    Summary {
        hosts: usize,
        statuses: Counts,
        interrupted: bool,
        exit_code: i32,
        duration_ms: u64,
    },
}

/// Every status with its count, in the documented order.
pub(crate) struct Counts(pub(crate) Stats);

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Status::ALL.len()))?;
        for status in Status::ALL {
            map.serialize_entry(status.as_str(), &self.0.count(status))?;
        }
        map.end()
    }
}

/// Writes every line, every host result, stages, notices and the summary
/// as JSON Lines.
pub(crate) struct JsonPrinter;

impl Output for JsonPrinter {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        match event {
            Event::Output {
                host,
                stream,
                data,
                tail,
            } => {
                let stream = match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                for line in lines(data, *tail) {
                    let text = String::from_utf8_lossy(line);
                    write(
                        term,
                        &Record::Line {
                            host,
                            stream,
                            text: &text,
                        },
                    )?;
                }
                Ok(())
            }
            Event::HostFinished {
                host,
                outcome,
                duration,
                ..
            } => write(
                term,
                &Record::Result {
                    host,
                    status: outcome.status().as_str(),
                    exit_code: outcome.exit_code(),
                    signal: outcome.signal(),
                    error: outcome.cause().map(ToString::to_string),
                    cause: outcome.cause(),
                    duration_ms: millis(*duration),
                },
            ),
            Event::StageStarted { stage } => {
                let Stage {
                    number,
                    of,
                    canary,
                    hosts,
                } = *stage;
                write(
                    term,
                    &Record::Stage {
                        number,
                        of,
                        canary,
                        hosts,
                    },
                )
            }
            Event::Notice(notice) => {
                let (notice, failures, allowed) = match notice {
                    Notice::Draining => ("draining", None, None),
                    Notice::Aborting => ("aborting", None, None),
                    Notice::BudgetExhausted { failures, allowed } => {
                        ("budget_exhausted", Some(*failures), Some(*allowed))
                    }
                };
                write(
                    term,
                    &Record::Notice {
                        notice,
                        failures,
                        allowed,
                    },
                )
            }
            Event::RunStarted { .. } | Event::HostStarted { .. } | Event::RunFinished(_) => Ok(()),
        }
    }

    fn finish(&mut self, end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        write(
            term,
            &Record::Summary {
                hosts: end.stats.total,
                statuses: Counts(end.stats),
                interrupted: end.stats.interrupted,
                exit_code: end.exit_code,
                duration_ms: millis(end.elapsed),
            },
        )
    }
}

fn write(term: &mut Terminal, record: &Record<'_>) -> io::Result<()> {
    let out = term.stdout();
    serde_json::to_writer(&mut *out, record)?;
    out.push(b'\n');
    Ok(())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::cause::{Cause, SkipReason};
    use crate::outcome::Outcome;
    use crate::report::testing::{
        ended, err, exited, finished, host_started, interrupted, out, run, run_finished, started,
        PLAIN,
    };
    use crate::report::{OutputMode, ReportOptions};

    const JSON: ReportOptions = ReportOptions {
        mode: OutputMode::Json,
        color: true,
        progress: true,
        prefix: crate::report::Prefix::Alias,
        checks: false,
        files: crate::report::Files::NONE,
        addresses: None,
    };

    fn parse(stdout: &str) -> Vec<Value> {
        stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
            .collect()
    }

    #[test]
    fn every_event_kind_becomes_one_json_line() {
        let (stdout, stderr) = run(
            JSON,
            &[
                started(&["web-01", "web-02", "web-03"]),
                host_started("web-01"),
                out("web-01", "\x1b[31mred\x1b[0m\ttab"),
                err("web-01", "warn"),
                exited("web-01", 0),
                finished("web-02", Cause::Refused),
                ended("web-03", Outcome::failed(Cause::Killed("TERM".into()))),
                run_finished(),
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
                       "signal": null, "error": null, "cause": null, "duration_ms": 250}),
                json!({"type": "result", "host": "web-02", "status": "unreachable",
                       "exit_code": null, "signal": null, "error": "connection refused",
                       "cause": {"kind": "refused"}, "duration_ms": 250}),
                json!({"type": "result", "host": "web-03", "status": "failed",
                       "exit_code": null, "signal": "TERM", "error": "killed by signal TERM",
                       "cause": {"kind": "killed", "detail": "TERM"}, "duration_ms": 250}),
                json!({"type": "summary", "hosts": 3, "statuses": {"ok": 1, "changed": 0,
                       "unchanged": 0, "rolled_back": 0, "failed": 1,
                       "mismatch": 0, "timeout": 0, "unreachable": 1, "host_key_unknown": 0,
                       "host_key_changed": 0, "host_key_revoked": 0, "auth_failed": 0,
                       "error": 0, "interrupted": 0, "skipped": 0}, "interrupted": false,
                       "exit_code": 2, "duration_ms": 4130}),
            ]
        );
        // Control characters are JSON-escaped, never raw, and nothing but
        // JSON reaches stdout even with color and progress asked for.
        assert!(stdout.starts_with(
            r#"{"type":"line","host":"web-01","stream":"stdout","text":"\u001b[31mred\u001b[0m\ttab"}"#
        ));
        assert!(!stdout.contains('\x1b'));
        // Statuses come in the documented order.
        assert!(
            stdout.contains(
                r#""statuses":{"ok":1,"changed":0,"unchanged":0,"rolled_back":0,"failed":1,"#
            ),
            "{stdout}"
        );
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
                finished("b", Cause::Skipped(SkipReason::Interrupted)),
                interrupted(),
            ],
        );
        let summary = parse(&stdout).pop().expect("a summary line");
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["statuses"]["skipped"], 1);
        assert_eq!(summary["interrupted"], true);
        assert_eq!(summary["exit_code"], 130);
    }

    #[test]
    fn human_mode_prints_no_json() {
        let (stdout, _) = run(PLAIN, &[started(&["a"]), out("a", "{}"), exited("a", 0)]);
        assert_eq!(stdout, "a | {}\n");
    }
}
