//! Counts how hosts ended, for the exit code, the summary and the progress bar.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::exit;
use crate::event::{Event, Status};

/// How many hosts ended with each status, and whether the run was
/// interrupted. Small and cheap to keep however long the run.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    // Keyed by status so iteration follows the order of `Status`.
    counts: BTreeMap<Status, usize>,
    interrupted: bool,
}

impl Tally {
    /// Takes note of a finished host or of the end of the run; other events
    /// change nothing.
    pub fn record(&mut self, event: &Event) {
        match event {
            Event::HostFinished { outcome, .. } => {
                *self.counts.entry(outcome.status).or_default() += 1;
            }
            Event::RunFinished { interrupted } => self.interrupted |= interrupted,
            _ => {}
        }
    }

    /// The documented exit code for what was recorded (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            exit::INTERRUPTED
        } else if self.counts.keys().any(|s| s.is_unreached()) {
            exit::UNREACHED
        } else if self.counts.keys().any(|s| *s != Status::Ok) {
            exit::COMMAND_FAILED
        } else {
            exit::OK
        }
    }

    /// How many finished hosts ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// How many hosts finished, whatever their status.
    pub fn hosts(&self) -> usize {
        self.counts.values().sum()
    }

    /// Whether the run was interrupted.
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// The non-zero counts in status order, `45 ok, 2 failed, 3 unreachable`;
    /// empty before any host finished.
    pub(crate) fn breakdown(&self) -> String {
        let mut out = String::new();
        for (status, n) in &self.counts {
            let sep = if out.is_empty() { "" } else { ", " };
            // Writing to a String cannot fail.
            let _ = write!(out, "{sep}{n} {}", status.as_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::finished;

    fn tally(statuses: &[Status], interrupted: bool) -> Tally {
        let mut tally = Tally::default();
        for (i, status) in statuses.iter().enumerate() {
            tally.record(&finished(&format!("h{i}"), *status, None));
        }
        tally.record(&Event::RunFinished { interrupted });
        tally
    }

    #[test]
    fn all_ok_exits_zero() {
        assert_eq!(
            tally(&[Status::Ok, Status::Ok], false).exit_code(),
            exit::OK
        );
    }

    #[test]
    fn empty_run_exits_zero() {
        assert_eq!(tally(&[], false).exit_code(), exit::OK);
    }

    #[test]
    fn failed_or_timed_out_command_exits_one() {
        assert_eq!(
            tally(&[Status::Ok, Status::Failed], false).exit_code(),
            exit::COMMAND_FAILED
        );
        assert_eq!(
            tally(&[Status::Timeout, Status::Ok], false).exit_code(),
            exit::COMMAND_FAILED
        );
    }

    #[test]
    fn any_unreached_host_exits_two_even_with_failures() {
        for unreached in [
            Status::Unreachable,
            Status::HostKeyUnknown,
            Status::HostKeyChanged,
            Status::AuthFailed,
            Status::Error,
        ] {
            let t = tally(&[Status::Ok, Status::Failed, unreached], false);
            assert_eq!(t.exit_code(), exit::UNREACHED, "{unreached:?}");
        }
    }

    #[test]
    fn interruption_wins() {
        let t = tally(&[Status::Ok, Status::Unreachable, Status::Skipped], true);
        assert_eq!(t.exit_code(), exit::INTERRUPTED);
    }

    #[test]
    fn skipped_without_interruption_is_not_success() {
        assert_eq!(
            tally(&[Status::Ok, Status::Skipped], false).exit_code(),
            exit::COMMAND_FAILED
        );
    }

    #[test]
    fn counts_and_breakdown_follow_status_order() {
        let t = tally(
            &[
                Status::AuthFailed,
                Status::Ok,
                Status::Failed,
                Status::Ok,
                Status::Unreachable,
            ],
            false,
        );
        assert_eq!(t.hosts(), 5);
        assert_eq!(t.count(Status::Ok), 2);
        assert_eq!(t.count(Status::Timeout), 0);
        assert_eq!(
            t.breakdown(),
            "2 ok, 1 failed, 1 unreachable, 1 auth_failed"
        );
        assert!(!t.interrupted());
        assert_eq!(Tally::default().breakdown(), "");
    }
}
