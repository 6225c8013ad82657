//! The events the executor emits and the reporters consume.
//!
//! The executor never prints; it sends these to one loop which hands each to
//! every reporter in turn, so reporters need no locks.

use std::sync::Arc;
use std::time::Duration;

/// Which remote stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Everything that happens during a run, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run begins; `hosts` holds every target alias in run order.
    RunStarted { hosts: Arc<[Arc<str>]> },
    /// A host got a concurrency slot and its connection attempt began.
    HostStarted { host: Arc<str> },
    /// One line of remote output, without its line terminator. Raw remote
    /// bytes decoded lossily as UTF-8: reporters must neutralise control
    /// characters before showing it on a terminal.
    Line {
        host: Arc<str>,
        stream: Stream,
        text: String,
    },
    /// A host is done, one way or another.
    HostFinished {
        host: Arc<str>,
        outcome: Outcome,
        duration: Duration,
    },
    /// Every host is done (or was skipped after an interrupt).
    RunFinished { interrupted: bool },
}

/// How one host's run ended. A failure is data, never an early return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The remote command's exit status, when it sent one.
    pub exit_code: Option<u32>,
    /// The signal that killed the remote command (`TERM`, `KILL`…), if any.
    pub signal: Option<String>,
    /// A one-line human cause for anything but `Ok`, e.g.
    /// `connection refused` or `exit 3`. Hosts with the same status and
    /// error are grouped together in the summary.
    pub error: Option<String>,
}

/// The status of one host, as written in `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The command ran and exited 0.
    Ok,
    /// The command ran and exited non-zero or was killed by a signal.
    Failed,
    /// The command was started but did not finish within `--timeout`.
    Timeout,
    /// No SSH session: refused, no route, DNS failure, connect timeout.
    Unreachable,
    /// The host presented a key that known_hosts does not know.
    HostKeyUnknown,
    /// The host presented a key that differs from (or is revoked in) known_hosts.
    HostKeyChanged,
    /// Every authentication method was refused.
    AuthFailed,
    /// Anything else: protocol errors, a local key that can't be read…
    Error,
    /// Never started because the run was interrupted.
    Skipped,
}

impl Status {
    /// The name used in JSON output and in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Unreachable => "unreachable",
            Status::HostKeyUnknown => "host_key_unknown",
            Status::HostKeyChanged => "host_key_changed",
            Status::AuthFailed => "auth_failed",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    /// Whether this status means the host was never reached (exit code 2).
    pub fn is_unreached(self) -> bool {
        matches!(
            self,
            Status::Unreachable
                | Status::HostKeyUnknown
                | Status::HostKeyChanged
                | Status::AuthFailed
                | Status::Error
        )
    }
}

impl Outcome {
    /// A host whose command exited with `code`.
    pub fn exited(code: u32) -> Outcome {
        if code == 0 {
            Outcome {
                status: Status::Ok,
                exit_code: Some(0),
                signal: None,
                error: None,
            }
        } else {
            Outcome {
                status: Status::Failed,
                exit_code: Some(code),
                signal: None,
                error: Some(format!("exit {code}")),
            }
        }
    }

    /// A host that ended with `status` because of `error`.
    pub fn failure(status: Status, error: impl Into<String>) -> Outcome {
        Outcome {
            status,
            exit_code: None,
            signal: None,
            error: Some(error.into()),
        }
    }
}
