//! One step of a host plan, its result, and what the plan learns when the
//! host is reached.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use russh::keys::ssh_key::PublicKey;

use super::expect::{Expectations, Verdict};
use crate::cause::Cause;

/// A command to run on its own channel.
#[derive(Debug, Clone)]
pub struct Step {
    /// Run by the remote login shell, as `ssh host command` runs it.
    pub command: String,
    /// Sent to the command's stdin, then EOF; without it stdin is closed
    /// at once.
    pub stdin: Option<Bytes>,
    /// Where the command's output goes.
    pub output: Capture,
    /// How long the command may run; on expiry it is asked to stop and the
    /// step ends with [`Cause::Timeout`].
    pub timeout: Option<Duration>,
    /// Checks on the streamed stdout (`--expect`), matched as it arrives;
    /// the result's [`StepResult::verdict`] says what they missed.
    pub expect: Option<Arc<Expectations>>,
}

/// Where a step's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// To the outputs, as events, as it arrives.
    Stream,
    /// Into the [`StepResult`], for the plan to read, keeping at most this
    /// many bytes of each stream (the rest is dropped and the result says
    /// so).
    Keep(usize),
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    /// The exit code, or why there is none (killed, timed out, refused…).
    pub exit: Result<u32, Cause>,
    /// Captured stdout, with [`Capture::Keep`]; empty otherwise.
    pub stdout: Bytes,
    /// Captured stderr, likewise.
    pub stderr: Bytes,
    /// Whether captured output was cut at the limit.
    pub truncated: bool,
    /// What the step's [`Step::expect`] checks missed; `None` when they all
    /// passed or there were none.
    pub verdict: Option<Verdict>,
}

impl StepResult {
    /// A step that could not run, or ended without an exit status.
    pub fn failed(cause: Cause) -> StepResult {
        StepResult {
            exit: Err(cause),
            stdout: Bytes::new(),
            stderr: Bytes::new(),
            truncated: false,
            verdict: None,
        }
    }
}

/// What the executor learned on its way into a host.
#[derive(Debug, Clone)]
pub struct Reached {
    /// The server's version string, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2`.
    pub server_version: String,
    /// The host key it proved it holds (the certified key, for a
    /// certificate).
    pub host_key: PublicKey,
    /// The authentication methods the server offers, when the plan asked.
    pub auth_methods: Option<Vec<String>>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What a host plan is told about a host that was reached, for tests.
    pub(crate) fn reached() -> Reached {
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAub7+/SoIeeIyjCCKeLmlcB1Ee1k5NFBbMuH8RIprLx";
        Reached {
            server_version: "SSH-2.0-OpenSSH_9.2p1".into(),
            host_key: PublicKey::from_openssh(key).expect("a valid key"),
            auth_methods: None,
        }
    }
}
