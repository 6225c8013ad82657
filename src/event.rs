//! The events a run produces and its outputs consume.
//!
//! The executor never prints. Host tasks send their output here and the
//! dispatcher sends everything else, all into one queue that a single loop
//! hands to every output in turn, so outputs need no locks. Lifecycle events
//! carry the dispatcher's current [`Stats`], so no output keeps a tally of
//! its own.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::exit;
use crate::outcome::{Outcome, Status};

/// Which remote stream output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How the last line of an [`Event::Output`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Every line in the data ends with `\n`.
    Newline,
    /// The last line was longer than the line cap: it goes on in the next
    /// output event of the same stream.
    Cut,
    /// The stream ended without a final newline.
    Eof,
}

/// Everything that happens during a run, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run begins; `hosts` holds every target alias in run order.
    RunStarted { hosts: Arc<[Arc<str>]> },
    /// A stage of a staged rollout begins (`--canary`, `--batch`).
    StageStarted { stage: Stage },
    /// A host got a concurrency slot and its connection attempt began.
    HostStarted { host: Arc<str>, stats: Stats },
    /// Remote output: the exact bytes, one or more whole lines (see
    /// [`Tail`] for the last). Untrusted: terminal outputs must neutralise
    /// control characters before showing it.
    Output {
        host: Arc<str>,
        stream: Stream,
        data: Bytes,
        tail: Tail,
    },
    /// A host is done, one way or another.
    HostFinished {
        host: Arc<str>,
        outcome: Outcome,
        duration: Duration,
        stats: Stats,
    },
    /// Something the user should know while the run goes on.
    Notice(Notice),
    /// Every host is done, skipped or abandoned.
    RunFinished(RunEnd),
}

/// How a run ended, as the dispatcher counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    pub stats: Stats,
    pub elapsed: Duration,
    /// The documented exit code (see [`exit`]).
    pub exit_code: i32,
}

impl RunEnd {
    /// The end of a run with these counts; `unreached` says whether some
    /// host was never reached.
    pub fn new(stats: Stats, elapsed: Duration, unreached: bool) -> RunEnd {
        let exit_code = if stats.interrupted {
            exit::INTERRUPTED
        } else if unreached {
            exit::UNREACHED
        } else if stats.failures() > 0 {
            exit::COMMAND_FAILED
        } else {
            exit::OK
        };
        RunEnd {
            stats,
            elapsed,
            exit_code,
        }
    }
}

/// One stage of a run: the canary, or one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 1-based.
    pub number: usize,
    /// How many stages the run has, if it goes through all of them.
    pub of: usize,
    pub canary: bool,
    pub hosts: usize,
}

/// Run-level news for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// First Ctrl-C: no new hosts start, running ones finish.
    Draining,
    /// Second Ctrl-C: running hosts are abandoned.
    Aborting,
    /// `failures` hosts failed, more than `--max-failures` allows, so no
    /// further stage starts.
    BudgetExhausted { failures: usize, allowed: usize },
}

/// The run's counts at the moment of an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Hosts in the run.
    pub total: usize,
    /// Hosts started and not yet finished.
    pub running: usize,
    /// Finished hosts, by [`Status::index`].
    pub counts: [usize; Status::ALL.len()],
    /// Whether Ctrl-C was pressed.
    pub interrupted: bool,
}

impl Stats {
    /// How many finished hosts ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts[status.index()]
    }

    /// How many hosts finished, whatever their status.
    pub fn finished(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Finished hosts that did not succeed.
    pub fn failures(&self) -> usize {
        let succeeded: usize = Status::ALL
            .iter()
            .filter(|status| status.is_success())
            .map(|status| self.count(*status))
            .sum();
        self.finished() - succeeded
    }

    /// The non-zero counts in status order, `45 ok, 2 failed, 3 unreachable`;
    /// empty before any host finished.
    pub fn breakdown(&self) -> String {
        let parts: Vec<String> = Status::ALL
            .iter()
            .filter(|status| self.count(**status) > 0)
            .map(|status| format!("{} {}", self.count(*status), status.as_str()))
            .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(statuses: &[Status], interrupted: bool) -> Stats {
        let mut stats = Stats {
            total: statuses.len(),
            interrupted,
            ..Stats::default()
        };
        for status in statuses {
            stats.counts[status.index()] += 1;
        }
        stats
    }

    fn exit_code(statuses: &[Status], unreached: bool, interrupted: bool) -> i32 {
        RunEnd::new(stats(statuses, interrupted), Duration::ZERO, unreached).exit_code
    }

    #[test]
    fn exit_codes_rank_interrupted_then_unreached_then_failed() {
        assert_eq!(exit_code(&[Status::Ok, Status::Ok], false, false), exit::OK);
        assert_eq!(exit_code(&[], false, false), exit::OK);
        for failed in [
            Status::Failed,
            Status::Timeout,
            Status::Error,
            Status::Skipped,
        ] {
            assert_eq!(
                exit_code(&[Status::Ok, failed], false, false),
                exit::COMMAND_FAILED,
                "{failed:?}"
            );
        }
        assert_eq!(
            exit_code(&[Status::Ok, Status::Failed, Status::Error], true, false),
            exit::UNREACHED
        );
        assert_eq!(
            exit_code(&[Status::Ok, Status::Unreachable], true, true),
            exit::INTERRUPTED
        );
    }

    #[test]
    fn breakdown_follows_status_order() {
        let mut stats = Stats::default();
        for status in [Status::AuthFailed, Status::Ok, Status::Failed, Status::Ok] {
            stats.counts[status.index()] += 1;
        }
        assert_eq!(stats.breakdown(), "2 ok, 1 failed, 1 auth_failed");
        assert_eq!((stats.finished(), stats.failures()), (4, 2));
        assert_eq!(Stats::default().breakdown(), "");
    }
}
