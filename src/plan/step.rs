//! One step of a host plan, its result, and what the plan learns when the
//! host is reached.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use russh::keys::ssh_key::PublicKey;

use super::expect::{Expectations, Missed};
use crate::cause::Cause;
use crate::known_hosts::Verdict;
use crate::secret::Secret;
use crate::spool::Spool;

/// A command to run on its own channel.
#[derive(Debug, Clone)]
pub struct Step {
    /// Run by the remote login shell, as `ssh host command` runs it.
    pub command: String,
    /// Sent to the command's stdin, then EOF; without it stdin is closed
    /// at once.
    pub stdin: Option<Input>,
    /// Where the command's output goes.
    pub output: Capture,
    /// How long the command may run; on expiry it is asked to stop and the
    /// step ends with [`Cause::Timeout`].
    pub timeout: Option<Duration>,
    /// Checks on the streamed stdout (`--expect`), matched as it arrives;
    /// the result's [`StepResult::verdict`] says what they missed.
    pub expect: Option<Arc<Expectations>>,
}

/// What a step sends to its command's stdin.
#[derive(Debug, Clone)]
pub enum Input {
    /// These bytes, which the plan wrote itself.
    Bytes(Bytes),
    /// Everything fleet's stdin holds.
    Spool(Arc<Spool>),
    /// A secret and a newline (for `sudo -S`), then these bytes. The
    /// secret is written from where it is kept, never copied into a plan.
    Secret { secret: Secret, then: Bytes },
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
    pub verdict: Option<Missed>,
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

/// A new connection to a host that is already logged in to.
#[derive(Debug, Clone)]
pub struct FreshLogin {
    /// Another port than the host's usual one.
    pub port: Option<u16>,
    /// Ask the server which methods it offers (`none`) before logging in.
    pub auth_methods: bool,
    /// A step to run on the fresh connection once logged in.
    pub step: Option<Step>,
    /// Log in with this key only (its `TYPE SHA256:…`), to prove that key.
    pub identity: Option<String>,
}

/// How a fresh login went. It logs in with keys only, never a password:
/// what it proves is that a key still gets in.
#[derive(Debug, Clone)]
pub struct FreshLoginResult {
    /// Whether it got in, or why not.
    pub login: Result<Login, Cause>,
    /// The methods the server offered, when asked.
    pub auth_methods: Option<Vec<String>>,
    /// The result of the step, when one was asked for and the login worked.
    pub step: Option<StepResult>,
}

/// What answered a TCP connection to a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortProbe {
    /// Something listens there.
    Listening,
    /// The host said nothing listens: the path to the port is open.
    Refused,
    /// No answer in time: a firewall or security group drops it.
    Filtered,
    /// Something else went wrong on the way.
    Failed(Cause),
}

/// How fleet logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// With a key (from a file or the agent), shown as `TYPE SHA256:…`.
    Key(String),
    /// With a user certificate.
    Certificate(String),
    /// With the password (or keyboard-interactive answered with it).
    Password,
}

/// What the executor learned on its way into a host.
#[derive(Debug, Clone)]
pub struct Reached {
    /// The server's version string, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2`.
    pub server_version: String,
    /// The host keys it proved it holds (the certified key, for a
    /// certificate), never empty: first the one its connection was made
    /// with, then, with [`HostKeys::AllObserved`](super::HostKeys), one of
    /// each other type it offers.
    pub host_keys: Vec<ObservedKey>,
    /// What the server offered in its key exchange, if it could be read.
    pub offered: Option<Offered>,
    /// The authentication methods the server offers, when the plan asked.
    pub auth_methods: Option<Vec<String>>,
    /// How fleet logged in, for [`crate::plan::Access::Login`].
    pub login: Option<Login>,
}

impl Reached {
    /// The key the host's connection was made with.
    pub fn host_key(&self) -> &PublicKey {
        &self.host_keys[0].key
    }
}

/// A host key and what known_hosts says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedKey {
    pub key: PublicKey,
    pub verdict: Verdict,
}

/// The algorithms a server lists in its key exchange init (RFC 4253
/// section 7.1), in its order of preference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offered {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    /// Server to client and client to server, merged.
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
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
            host_keys: vec![ObservedKey {
                key: PublicKey::from_openssh(key).expect("a valid key"),
                verdict: Verdict::Unknown,
            }],
            offered: None,
            auth_methods: None,
            login: None,
        }
    }
}
