//! How one host ended: its [`Status`] and, unless it succeeded, the
//! [`Cause`]. A failure is data, never an early return.

use std::sync::Arc;

use crate::cause::Cause;
use crate::finding::Finding;

/// The status of one host, as written in `--json` output and the summary.
/// Documented, in this order, in the README and `fleet run --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The work succeeded: the command ran and exited 0.
    Ok,
    /// `sshd set`, `keys install`: the host was changed, and the change
    /// verified.
    Changed,
    /// `sshd set`, `keys install`: the host already was as asked, and was
    /// not touched.
    Unchanged,
    /// `sshd set`: the change failed its verification and was undone.
    RolledBack,
    /// The command ran and exited non-zero or was killed by a signal.
    Failed,
    /// The command ran, but its output did not pass `--expect` or
    /// `--expect-not`; or (keyscan `--verify`) a host key differs from
    /// its out-of-band fingerprint.
    Mismatch,
    /// The command was started but did not finish within `--timeout`.
    Timeout,
    /// No SSH session: refused, no route, DNS failure, connect timeout.
    Unreachable,
    /// The host presented a key that known_hosts does not know.
    HostKeyUnknown,
    /// The host presented a key other than the one known_hosts holds.
    HostKeyChanged,
    /// The host presented a key that known_hosts marks `@revoked`.
    HostKeyRevoked,
    /// Every authentication method was refused.
    AuthFailed,
    /// Anything else: a protocol error, a server that refused a channel…
    Error,
    /// Cut off while running by a second Ctrl-C.
    Interrupted,
    /// Never started: Ctrl-C, or an earlier stage used up the failure budget.
    Skipped,
}

impl Status {
    /// Every status, in the order of the summary's count line.
    pub const ALL: [Status; 15] = [
        Status::Ok,
        Status::Changed,
        Status::Unchanged,
        Status::RolledBack,
        Status::Failed,
        Status::Mismatch,
        Status::Timeout,
        Status::Unreachable,
        Status::HostKeyUnknown,
        Status::HostKeyChanged,
        Status::HostKeyRevoked,
        Status::AuthFailed,
        Status::Error,
        Status::Interrupted,
        Status::Skipped,
    ];

    /// The name used in JSON output and in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::RolledBack => "rolled_back",
            Status::Failed => "failed",
            Status::Mismatch => "mismatch",
            Status::Timeout => "timeout",
            Status::Unreachable => "unreachable",
            Status::HostKeyUnknown => "host_key_unknown",
            Status::HostKeyChanged => "host_key_changed",
            Status::HostKeyRevoked => "host_key_revoked",
            Status::AuthFailed => "auth_failed",
            Status::Error => "error",
            Status::Interrupted => "interrupted",
            Status::Skipped => "skipped",
        }
    }

    /// This status's place in [`Status::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether a host with this status succeeded.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Ok | Status::Changed | Status::Unchanged)
    }

    /// Parses a name as [`Status::as_str`] writes it.
    pub fn parse(name: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

/// How one host ended. Built only through its constructors, so an outcome
/// succeeded exactly when it has no cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    exit_code: Option<u32>,
    cause: Option<Cause>,
    /// Which success, when there is no cause.
    success: Status,
    finding: Option<Arc<Finding>>,
}

impl Outcome {
    /// Work that succeeded without running a command (a handshake).
    pub fn ok() -> Outcome {
        Outcome {
            exit_code: None,
            cause: None,
            success: Status::Ok,
            finding: None,
        }
    }

    /// A host that was changed as asked, and the change verified.
    pub fn changed() -> Outcome {
        Outcome {
            success: Status::Changed,
            ..Outcome::ok()
        }
    }

    /// A host that already was as asked.
    pub fn unchanged() -> Outcome {
        Outcome {
            success: Status::Unchanged,
            ..Outcome::ok()
        }
    }

    /// A command that exited with `code`: ok for 0, failed otherwise.
    pub fn exited(code: u32) -> Outcome {
        Outcome {
            exit_code: Some(code),
            cause: (code != 0).then_some(Cause::Exited(code)),
            success: Status::Ok,
            finding: None,
        }
    }

    /// A host that did not succeed because of `cause`.
    pub fn failed(cause: Cause) -> Outcome {
        Outcome {
            exit_code: match cause {
                Cause::Exited(code) | Cause::Mismatch { exit: code, .. } => Some(code),
                _ => None,
            },
            cause: Some(cause),
            success: Status::Ok,
            finding: None,
        }
    }

    /// This outcome, with what the plan found on the host.
    pub fn with_finding(mut self, finding: Finding) -> Outcome {
        self.finding = Some(Arc::new(finding));
        self
    }

    /// What the plan found on the host, if it says.
    pub fn finding(&self) -> Option<&Finding> {
        self.finding.as_deref()
    }

    pub fn status(&self) -> Status {
        self.cause.as_ref().map_or(self.success, Cause::status)
    }

    /// Why the host did not succeed; `None` exactly when it is `ok`.
    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_ref()
    }

    /// The remote command's exit status, when it sent one.
    pub fn exit_code(&self) -> Option<u32> {
        self.exit_code
    }

    /// The signal that killed the remote command (`TERM`, `KILL`…), if any.
    pub fn signal(&self) -> Option<&str> {
        match self.cause.as_ref().map(Cause::root) {
            Some(Cause::Killed(signal)) => Some(signal),
            _ => None,
        }
    }

    /// Whether the host was never reached: what makes a run exit 2.
    pub fn unreached(&self) -> bool {
        self.cause.as_ref().is_some_and(|cause| !cause.reached())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_zero_is_ok_and_has_no_cause() {
        let outcome = Outcome::exited(0);
        assert_eq!(outcome.status(), Status::Ok);
        assert_eq!(outcome.cause(), None);
        assert_eq!(outcome.exit_code(), Some(0));
    }

    #[test]
    fn a_failure_keeps_its_exit_code_and_signal() {
        let outcome = Outcome::exited(3);
        assert_eq!(outcome.status(), Status::Failed);
        assert_eq!(outcome.exit_code(), Some(3));
        assert_eq!(outcome, Outcome::failed(Cause::Exited(3)));
        let killed = Outcome::failed(Cause::Killed("TERM".into()));
        assert_eq!(killed.signal(), Some("TERM"));
        assert_eq!(killed.exit_code(), None);
    }

    #[test]
    fn statuses_are_listed_in_order_of_their_index() {
        for (i, status) in Status::ALL.iter().enumerate() {
            assert_eq!(status.index(), i, "{status:?}");
        }
    }
}
