//! Why a host did not succeed, as data.
//!
//! Every failure the executor can meet is one [`Cause`] variant. The one-line
//! message comes from its `Display`, the [`Status`] from [`Cause::status`],
//! and the summary picks its hints by matching on the variant, never by
//! searching the message.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use russh::keys::ssh_key::PublicKey;

use crate::known_hosts::{HostId, KnownHosts, Verdict};
use crate::location::Location;
use crate::outcome::Status;
use crate::plan::Missed;

/// What went wrong on one host. Serialized into `--json` results, so that
/// `fleet report` can rebuild a summary, hints included, from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Cause {
    // Reaching the host.
    /// Nothing listens on the port.
    Refused,
    /// No answer within ConnectTimeout (TCP, or a login that never ends).
    ConnectTimedOut,
    /// The name does not resolve.
    Dns {
        host: String,
    },
    NoRoute,
    NetworkUnreachable,
    Reset,
    /// Another socket error, in the system's words.
    Network(String),
    /// The server hung up before the handshake was over.
    ClosedInHandshake,
    /// A jump host could not open the tunnel onwards.
    Tunnel {
        to: String,
        reason: String,
    },
    /// A jump host tried to connect onwards and could not: nothing listens
    /// there, or the way is closed (sshd does not say which).
    TunnelConnectFailed {
        to: String,
    },

    // Trusting the host.
    /// known_hosts has no key for the host, and accept-new is not on.
    HostKeyUnknown {
        name: String,
        fingerprint: String,
    },
    /// known_hosts holds other keys for the host, at these lines.
    HostKeyChanged {
        name: String,
        fingerprint: String,
        known_at: Vec<Location>,
    },
    /// The presented key is marked `@revoked`.
    HostKeyRevoked {
        fingerprint: String,
        at: Location,
    },
    /// The host is covered by `@cert-authority` but showed a plain key (or
    /// a certificate that is not valid for it), which nothing else trusts.
    CertificateRequired {
        name: String,
        fingerprint: String,
    },
    /// A marker line (`@revoked`, `@cert-authority`) for the host can't be
    /// read, so the host fails closed.
    KnownHostsUnreadable {
        at: Location,
        problem: String,
    },
    /// accept-new could not write the key down.
    LearnFailed(String),
    /// keyscan `--verify`: the host's key is not the one the fingerprints
    /// obtained out of band name.
    FingerprintMismatch {
        /// `ssh-ed25519 SHA256:…`, as collected.
        found: String,
        /// What was expected instead, with where it was read.
        expected: String,
    },

    // Logging in.
    /// The server refused every identity; it offered these methods.
    AuthDenied {
        methods: Vec<String>,
    },

    // The protocol, and what fleet itself cannot do.
    NoCommonAlgorithm(String),
    /// Anything else the SSH layer reports, in its words.
    Protocol(String),
    /// The host's configuration asks for something fleet does not do.
    Unsupported(String),

    // Running the work.
    /// The command exited non-zero.
    Exited(u32),
    /// The command ran to `exit`, but its output missed `--expect` or
    /// matched `--expect-not`.
    Mismatch {
        verdict: Missed,
        exit: u32,
    },
    /// The command was killed by this signal (`TERM`, `KILL`…).
    Killed(String),
    /// The command still ran after `--timeout`.
    Timeout(Duration),
    /// The channel closed without an exit status or signal.
    NoExitStatus,
    /// The server would not open a session channel.
    ChannelRefused(String),
    /// The server refused the exec request.
    ExecRefused,
    /// The exec request could not be sent.
    ExecFailed(String),
    /// The plan asked for something its kind of work cannot do.
    PlanError(String),
    /// audit `--expect`: what the host showed is not what was expected.
    Unexpected(Vec<String>),

    // Changing sshd.
    /// The change would lock the user out, so it was not made.
    WouldLockOut(String),
    /// Changing sshd needs root, and this login cannot get it.
    NeedsRoot(String),
    /// The change was refused before it took effect (`sshd -t`, a filtered
    /// port…); nothing was left changed.
    ChangeRefused(String),
    /// The change took effect, failed its check over a fresh login, and
    /// was undone.
    RolledBack(String),
    /// The change failed, and undoing it failed too: the host needs a look.
    UndoFailed(String),

    // The run around the host.
    /// Cut off by a second Ctrl-C while it ran.
    Interrupted,
    /// Never started.
    Skipped(SkipReason),
    /// fleet itself failed on this host (a bug); the run went on.
    Panicked(String),
    /// The jump host `host` failed with `cause`, so this host was never
    /// tried.
    Jump {
        host: Arc<str>,
        cause: Box<Cause>,
    },
}

/// Why a host was never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The first Ctrl-C: no new hosts.
    Interrupted,
    /// An earlier stage used up `--max-failures`.
    FailureBudget,
}

impl Cause {
    /// The status a host with this cause ends with.
    pub fn status(&self) -> Status {
        use Cause::*;
        match self {
            Refused
            | ConnectTimedOut
            | Dns { .. }
            | NoRoute
            | NetworkUnreachable
            | Reset
            | Network(_)
            | ClosedInHandshake
            | Tunnel { .. }
            | TunnelConnectFailed { .. } => Status::Unreachable,
            HostKeyUnknown { .. } | CertificateRequired { .. } => Status::HostKeyUnknown,
            HostKeyChanged { .. } => Status::HostKeyChanged,
            HostKeyRevoked { .. } => Status::HostKeyRevoked,
            FingerprintMismatch { .. } => Status::Mismatch,
            AuthDenied { .. } => Status::AuthFailed,
            Exited(_) | Killed(_) | Unexpected(_) | WouldLockOut(_) | NeedsRoot(_)
            | ChangeRefused(_) | UndoFailed(_) => Status::Failed,
            RolledBack(_) => Status::RolledBack,
            Mismatch { .. } => Status::Mismatch,
            Timeout(_) => Status::Timeout,
            LearnFailed(_)
            | KnownHostsUnreadable { .. }
            | NoCommonAlgorithm(_)
            | Protocol(_)
            | Unsupported(_)
            | NoExitStatus
            | ChannelRefused(_)
            | ExecRefused
            | ExecFailed(_)
            | PlanError(_)
            | Panicked(_) => Status::Error,
            Interrupted => Status::Interrupted,
            Skipped(_) => Status::Skipped,
            Jump { cause, .. } => cause.status(),
        }
    }

    /// Whether the host was logged in to before this went wrong. A failure
    /// on a host that was never reached makes the run exit 2, one on a
    /// reached host exit 1.
    pub fn reached(&self) -> bool {
        use Cause::*;
        match self {
            Exited(_)
            | Mismatch { .. }
            | Killed(_)
            | Timeout(_)
            | NoExitStatus
            | ChannelRefused(_)
            | ExecRefused
            | ExecFailed(_)
            | PlanError(_)
            | Unexpected(_)
            | WouldLockOut(_)
            | NeedsRoot(_)
            | ChangeRefused(_)
            | RolledBack(_)
            | UndoFailed(_) => true,
            // Never started, or cut off by the user: neither says the host
            // is unreachable, and the run exits 130 or for other hosts.
            Skipped(_) | Interrupted => true,
            _ => false,
        }
    }

    /// The cause at the end of a jump chain.
    pub fn root(&self) -> &Cause {
        match self {
            Cause::Jump { cause, .. } => cause.root(),
            other => other,
        }
    }
}

/// Why a key with this verdict is refused; `None` for a trusted key.
pub fn refusal(
    verdict: &Verdict,
    host: &HostId,
    key: &PublicKey,
    known: &KnownHosts,
) -> Option<Cause> {
    let fingerprint = crate::finding::describe(key.key_data());
    let name = host.lookup_name().to_owned();
    Some(match verdict {
        Verdict::Trusted(_) => return None,
        Verdict::Revoked(at) => Cause::HostKeyRevoked {
            fingerprint,
            at: at.clone(),
        },
        Verdict::Unreadable(at, problem) => Cause::KnownHostsUnreadable {
            at: at.clone(),
            problem: problem.to_string(),
        },
        Verdict::Changed(known_at) => Cause::HostKeyChanged {
            name,
            fingerprint,
            known_at: known_at.clone(),
        },
        // A host under @cert-authority that shows no valid certificate is
        // as unknown as any other, but the user should hear about the CA.
        Verdict::Unknown if known.has_authority(host) => {
            Cause::CertificateRequired { name, fingerprint }
        }
        Verdict::Unknown => Cause::HostKeyUnknown { name, fingerprint },
    })
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Cause::*;
        match self {
            Refused => f.write_str("connection refused"),
            ConnectTimedOut => f.write_str("connection timed out"),
            Dns { host } => write!(f, "could not resolve hostname {host}"),
            NoRoute => f.write_str("no route to host"),
            NetworkUnreachable => f.write_str("network is unreachable"),
            Reset => f.write_str("connection reset by peer"),
            Network(text) => f.write_str(text),
            ClosedInHandshake => f.write_str("connection closed by the server during the handshake"),
            Tunnel { to, reason } => write!(f, "the jump host could not connect to {to}: {reason}"),
            TunnelConnectFailed { to } => write!(f, "the jump host could not connect to {to}"),
            HostKeyUnknown { name, fingerprint } => {
                write!(f, "host key for {name} is not in known_hosts ({fingerprint})")
            }
            HostKeyChanged {
                name,
                fingerprint,
                known_at,
            } => {
                write!(f, "host key for {name} changed: now {fingerprint}, known_hosts has another key (")?;
                for (i, at) in known_at.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{at}")?;
                }
                f.write_str(")")
            }
            HostKeyRevoked { fingerprint, at } => {
                write!(f, "host key {fingerprint} is revoked by {at}")
            }
            CertificateRequired { name, fingerprint } => write!(
                f,
                "{name} is covered by @cert-authority but presented {fingerprint} without a valid certificate"
            ),
            LearnFailed(reason) => write!(f, "could not learn the host key: {reason}"),
            FingerprintMismatch { found, expected } => {
                write!(f, "the host presented {found}, but {expected}")
            }
            KnownHostsUnreadable { at, problem } => write!(
                f,
                "{at}: this @revoked or @cert-authority line for the host cannot be read \
                 ({problem}), so the host is refused until it is fixed"
            ),
            AuthDenied { methods } => write!(f, "Permission denied ({})", methods.join(",")),
            NoCommonAlgorithm(kind) => write!(f, "no {kind} algorithm in common with the server"),
            Protocol(text) => f.write_str(text),
            Unsupported(what) => f.write_str(what),
            Exited(code) => write!(f, "exit {code}"),
            Mismatch { verdict, exit: 0 } => write!(f, "{verdict}"),
            Mismatch { verdict, exit } => write!(f, "{verdict} (exit {exit})"),
            Killed(signal) => write!(f, "killed by signal {signal}"),
            Timeout(limit) => write!(
                f,
                "command still running after {}",
                humantime::format_duration(*limit)
            ),
            NoExitStatus => f.write_str("the command ended without an exit status"),
            ChannelRefused(reason) => write!(f, "could not open a session channel: {reason}"),
            ExecRefused => f.write_str("the server refused to run the command"),
            ExecFailed(reason) => write!(f, "could not start the command: {reason}"),
            PlanError(what) => f.write_str(what),
            Unexpected(unmet) => write!(f, "not as expected: {}", unmet.join("; ")),
            WouldLockOut(why) => write!(f, "not changed, it would lock you out: {why}"),
            NeedsRoot(why) => write!(f, "changing sshd needs root: {why}"),
            ChangeRefused(why) => write!(f, "not changed: {why}"),
            RolledBack(why) => write!(f, "rolled back: {why}"),
            UndoFailed(why) => write!(f, "the change failed and undoing it failed too: {why}"),
            Interrupted => f.write_str("interrupted"),
            Skipped(SkipReason::Interrupted) => f.write_str("not started: interrupted"),
            Skipped(SkipReason::FailureBudget) => {
                f.write_str("not started: the failure budget was used up")
            }
            Panicked(what) => write!(f, "internal error: {what}"),
            Jump { host, cause } => write!(f, "jump host {host}: {cause}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_failure_keeps_the_status_of_its_cause() {
        let cause = Cause::Jump {
            host: "bastion".into(),
            cause: Box::new(Cause::Refused),
        };
        assert_eq!(cause.status(), Status::Unreachable);
        assert_eq!(cause.to_string(), "jump host bastion: connection refused");
        assert_eq!(cause.root(), &Cause::Refused);
        assert!(!cause.reached());
    }

    #[test]
    fn errors_after_login_count_as_reached() {
        assert!(Cause::NoExitStatus.reached());
        assert_eq!(Cause::NoExitStatus.status(), Status::Error);
        assert!(!Cause::Protocol("bad packet".into()).reached());
        assert_eq!(Cause::Protocol("x".into()).status(), Status::Error);
    }

    #[test]
    fn a_changed_key_names_every_line() {
        let at = |line| Location::new("kh", line);
        let cause = Cause::HostKeyChanged {
            name: "web".into(),
            fingerprint: "ssh-ed25519 SHA256:x".into(),
            known_at: vec![at(3), at(9)],
        };
        assert_eq!(
            cause.to_string(),
            "host key for web changed: now ssh-ed25519 SHA256:x, known_hosts has another key (kh:3, kh:9)"
        );
    }
}
