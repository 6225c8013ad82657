//! Reads `--json` output back: the `result` and `summary` records of one or
//! more runs (the JSON Lines of several shards, concatenated), turned into
//! the events a run would have produced, so the usual outputs can summarise
//! them (`fleet report`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::cause::Cause;
use crate::event::{Event, RunEnd, Stats};
use crate::location::Location;
use crate::outcome::Outcome;

/// What can be wrong with a record.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct ReplayError {
    pub at: Location,
    pub problem: String,
}

/// The hosts' results gathered from records, the last one of each host
/// winning, and what the summaries said.
#[derive(Default)]
pub struct Replay {
    order: Vec<Arc<str>>,
    results: HashMap<Arc<str>, (Outcome, Duration)>,
    /// Hosts that had a result in more than one record.
    pub repeated: usize,
    interrupted: bool,
    elapsed: Duration,
}

/// The fields of a record that a replay needs; others are ignored.
#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: String,
    host: Option<String>,
    exit_code: Option<u32>,
    cause: Option<Cause>,
    status: Option<String>,
    duration_ms: Option<u64>,
    interrupted: Option<bool>,
}

impl Replay {
    /// Takes in one line of `--json` output, read from `at`.
    pub fn read_line(&mut self, line: &str, at: impl Fn() -> Location) -> Result<(), ReplayError> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let bad = |problem: String| ReplayError { at: at(), problem };
        let record: Record = serde_json::from_str(line)
            .map_err(|e| bad(format!("not a fleet --json record ({e})")))?;
        let duration = Duration::from_millis(record.duration_ms.unwrap_or(0));
        match record.kind.as_str() {
            "result" => {
                let host: Arc<str> = record
                    .host
                    .ok_or_else(|| bad("a result without a host".into()))?
                    .into();
                let outcome = match (record.cause, record.exit_code) {
                    (Some(cause), _) => Outcome::failed(cause),
                    (None, Some(code)) => Outcome::exited(code),
                    (None, None) if record.status.as_deref() == Some("ok") => Outcome::ok(),
                    (None, None) => {
                        return Err(bad(format!(
                            "the result of {host} has no cause (written by an older fleet?)"
                        )))
                    }
                };
                if self
                    .results
                    .insert(host.clone(), (outcome, duration))
                    .is_some()
                {
                    self.repeated += 1;
                } else {
                    self.order.push(host);
                }
            }
            "summary" => {
                self.interrupted |= record.interrupted.unwrap_or(false);
                self.elapsed = self.elapsed.max(duration);
            }
            _ => {}
        }
        Ok(())
    }

    /// The events of a run that ended as the records say: the hosts, each
    /// host's result, and the end with its counts and exit code. The run's
    /// time is the longest of the summaries', as the shards ran side by
    /// side.
    pub fn events(self) -> Vec<Event> {
        let mut stats = Stats {
            total: self.order.len(),
            interrupted: self.interrupted,
            ..Stats::default()
        };
        let mut unreached = false;
        let mut events = vec![Event::RunStarted {
            hosts: self.order.iter().cloned().collect(),
        }];
        let mut results = self.results;
        for host in self.order {
            let Some((outcome, duration)) = results.remove(&host) else {
                continue;
            };
            stats.counts[outcome.status().index()] += 1;
            unreached |= outcome.unreached();
            events.push(Event::HostFinished {
                host,
                outcome,
                duration,
                stats,
            });
        }
        events.push(Event::RunFinished(RunEnd::new(
            stats,
            self.elapsed,
            unreached,
        )));
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;
    use crate::outcome::Status;

    fn replay(lines: &[&str]) -> Result<Replay, ReplayError> {
        let mut replay = Replay::default();
        for (i, line) in lines.iter().enumerate() {
            replay.read_line(line, || Location::new("runs.jsonl", i + 1))?;
        }
        Ok(replay)
    }

    fn end(events: &[Event]) -> RunEnd {
        match events.last() {
            Some(Event::RunFinished(end)) => *end,
            other => panic!("no end: {other:?}"),
        }
    }

    #[test]
    fn results_of_several_runs_make_one_summary() {
        let replay = replay(&[
            r#"{"type":"line","host":"a","stream":"stdout","text":"x"}"#,
            r#"{"type":"result","host":"a","status":"ok","exit_code":0,"cause":null,"duration_ms":5}"#,
            r#"{"type":"summary","hosts":1,"interrupted":false,"exit_code":0,"duration_ms":900}"#,
            "",
            r#"{"type":"result","host":"b","status":"unreachable","exit_code":null,"cause":{"kind":"refused"},"duration_ms":3}"#,
            r#"{"type":"summary","hosts":1,"interrupted":false,"exit_code":2,"duration_ms":1200}"#,
        ])
        .unwrap();
        let events = replay.events();
        let end = end(&events);
        assert_eq!(end.stats.count(Status::Ok), 1);
        assert_eq!(end.stats.count(Status::Unreachable), 1);
        assert_eq!(end.exit_code, exit::UNREACHED);
        assert_eq!(end.elapsed, Duration::from_millis(1200));
        assert!(matches!(&events[0], Event::RunStarted { hosts } if hosts.len() == 2));
    }

    #[test]
    fn a_repeated_host_counts_once_with_its_last_result() {
        let replay = replay(&[
            r#"{"type":"result","host":"a","status":"failed","exit_code":1,"cause":{"kind":"exited","detail":1}}"#,
            r#"{"type":"result","host":"a","status":"ok","exit_code":0,"cause":null}"#,
        ])
        .unwrap();
        assert_eq!(replay.repeated, 1);
        let end = end(&replay.events());
        assert_eq!((end.stats.finished(), end.exit_code), (1, exit::OK));
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = replay(&[r#"{"type":"summary"}"#, "not json"])
            .err()
            .expect("an error");
        assert!(
            error
                .to_string()
                .starts_with("runs.jsonl:2: not a fleet --json record"),
            "{error}"
        );
        let error = replay(&[r#"{"type":"result","host":"a","status":"failed"}"#])
            .err()
            .expect("an error");
        assert_eq!(
            error.to_string(),
            "runs.jsonl:1: the result of a has no cause (written by an older fleet?)"
        );
    }
}
