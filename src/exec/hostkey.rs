//! Host key verification during the SSH handshake.
//!
//! russh asks [`HostKeyCheck::check_server_key`] once the server has proved
//! it holds the key. The answer comes from our own strict known_hosts
//! checker; when the key is refused, the reason is left in a slot the
//! connecting task reads to turn the failed handshake into a precise outcome.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::ssh_key::{HashAlg, PublicKey};
use russh::keys::PublicKeyOrCertificate;

use crate::event::{Outcome, Status};
use crate::known_hosts::{self, HostId, KnownHosts, Verdict};

/// What to do with a key known_hosts doesn't know, from StrictHostKeyChecking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownKeyPolicy {
    /// Refuse it (`yes`, and `ask`, since a fan-out can't ask).
    Refuse,
    /// Learn it into this known_hosts file (`accept-new`).
    Learn(PathBuf),
    /// Accept any key, even a changed one (`no`, only together with
    /// `--insecure-ignore-host-keys`).
    AcceptAnything,
}

/// Serialises appends to known_hosts files: many hosts may learn their key
/// at once, and each append rewrites the file (temp file + rename).
#[derive(Debug, Default)]
pub struct LearnLock(Mutex<()>);

/// The russh client handler: verifies the host key, nothing else.
pub struct HostKeyCheck {
    pub known: Arc<KnownHosts>,
    pub host: HostId,
    pub policy: UnknownKeyPolicy,
    pub learn_lock: Arc<LearnLock>,
    /// Why the key was refused, for the outcome.
    pub refusal: Arc<Mutex<Option<Outcome>>>,
}

impl HostKeyCheck {
    fn verdict(&self, key: &PublicKeyOrCertificate) -> (Verdict, PublicKey) {
        match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                (self.known.check(&self.host, key), key.clone())
            }
            PublicKeyOrCertificate::Certificate(cert) => (
                self.known.check_certificate(&self.host, cert),
                cert.public_key().clone().into(),
            ),
        }
    }

    fn refuse(&self, outcome: Outcome) -> bool {
        *self
            .refusal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(outcome);
        false
    }

    /// Decides on a presented key; true means go on with the handshake.
    fn decide(&self, key: &PublicKeyOrCertificate) -> bool {
        let (verdict, public) = self.verdict(key);
        let fingerprint = describe(&public);
        let name = self.host.lookup_name();
        match verdict {
            Verdict::Trusted(_) => true,
            _ if self.policy == UnknownKeyPolicy::AcceptAnything => true,
            Verdict::Revoked(at) => self.refuse(Outcome::failure(
                Status::HostKeyChanged,
                format!("host key {fingerprint} is marked @revoked in {at}; never accepted"),
            )),
            Verdict::Changed(at) => self.refuse(Outcome::failure(
                Status::HostKeyChanged,
                format!("host key for {name} changed: now {fingerprint}, known_hosts has another key ({at})"),
            )),
            Verdict::Unknown => match &self.policy {
                // A host vouched for by an @cert-authority line must present
                // a valid certificate; pinning its plain key would downgrade it.
                UnknownKeyPolicy::Learn(_) if self.known.knows(&self.host) => self.refuse(Outcome::failure(
                    Status::HostKeyChanged,
                    format!("{name} is covered by @cert-authority but presented {fingerprint} without a valid certificate"),
                )),
                UnknownKeyPolicy::Learn(file) => {
                    let _guard = self.learn_lock.0.lock().unwrap_or_else(|poison| poison.into_inner());
                    match known_hosts::append(file, &self.host, &public) {
                        Ok(()) => true,
                        Err(e) => self.refuse(Outcome::failure(Status::Error, format!("could not learn host key: {e}"))),
                    }
                }
                _ => self.refuse(Outcome::failure(
                    Status::HostKeyUnknown,
                    format!("host key for {name} is not in known_hosts"),
                )),
            },
        }
    }
}

/// `ssh-ed25519 SHA256:…`, as `ssh-keygen -l` shows a key.
fn describe(key: &PublicKey) -> String {
    format!("{} {}", key.algorithm(), key.fingerprint(HashAlg::Sha256))
}

impl russh::client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(self.decide(key))
    }
}
