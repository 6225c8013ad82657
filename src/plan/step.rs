//! One step of a host plan, its result, and what the plan learns when the
//! host is reached.

use std::time::Duration;

use bytes::Bytes;
use russh::keys::ssh_key::PublicKey;

use crate::cause::Cause;
use crate::known_hosts::Verdict;

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
        }
    }
}
