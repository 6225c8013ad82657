//! Host key verification during the SSH handshake.
//!
//! russh asks [`HostKeyCheck::check_server_key`] once the server has proved
//! it holds the key. The answer comes from our own strict known_hosts
//! checker. What the handler sees (the key, the server's version string,
//! and the cause when the key is refused) is left in a shared [`Greeting`]
//! that the connecting task reads once the handshake is over.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::ssh_key::{HashAlg, PublicKey};
use russh::keys::PublicKeyOrCertificate;

use crate::cause::Cause;
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

/// What the server showed during the handshake.
#[derive(Debug, Default)]
pub struct Greeting {
    /// The key it proved it holds (for a certificate: the certified key).
    pub host_key: Option<PublicKey>,
    /// Its version string, `SSH-2.0-…`.
    pub server_version: Option<String>,
    /// Why the key was refused, if it was.
    pub refusal: Option<Cause>,
}

/// The russh client handler: verifies the host key, nothing else.
pub struct HostKeyCheck {
    pub known: Arc<KnownHosts>,
    pub host: HostId,
    pub policy: UnknownKeyPolicy,
    pub greeting: Arc<Mutex<Greeting>>,
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

    fn greeting(&self) -> std::sync::MutexGuard<'_, Greeting> {
        // A std Mutex: it is never held across an `.await`.
        self.greeting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refuse(&self, cause: Cause) -> bool {
        self.greeting().refusal = Some(cause);
        false
    }

    /// Decides on a presented key; true means go on with the handshake.
    async fn decide(&self, key: &PublicKeyOrCertificate) -> bool {
        let (verdict, public) = self.verdict(key);
        self.greeting().host_key = Some(public.clone());
        let fingerprint = describe(&public);
        let name = self.host.lookup_name();
        match verdict {
            Verdict::Trusted(_) => true,
            _ if self.policy == UnknownKeyPolicy::AcceptAnything => true,
            Verdict::Revoked(at) => self.refuse(Cause::HostKeyRevoked { fingerprint, at }),
            Verdict::Changed(known_at) => self.refuse(Cause::HostKeyChanged {
                name,
                fingerprint,
                known_at,
            }),
            Verdict::Unknown => match &self.policy {
                // A host vouched for by an @cert-authority line must present
                // a valid certificate; pinning its plain key would downgrade it.
                UnknownKeyPolicy::Learn(_) if self.known.knows(&self.host) => {
                    self.refuse(Cause::CertificateRequired { name, fingerprint })
                }
                UnknownKeyPolicy::Learn(file) => {
                    // The append locks, writes and fsyncs: keep it off the
                    // async workers.
                    let (file, host) = (file.clone(), self.host.clone());
                    let learned = tokio::task::spawn_blocking(move || {
                        known_hosts::append(&file, &host, &public)
                    })
                    .await;
                    match learned {
                        Ok(Ok(())) => true,
                        Ok(Err(e)) => self.refuse(Cause::LearnFailed(crate::error::chain(&e))),
                        Err(e) => self.refuse(Cause::LearnFailed(e.to_string())),
                    }
                }
                _ => self.refuse(Cause::HostKeyUnknown { name, fingerprint }),
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
        Ok(self.decide(key).await)
    }

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        _names: &russh::Names,
        session: &mut russh::client::Session,
    ) -> Result<(), Self::Error> {
        let mut greeting = self.greeting();
        if greeting.server_version.is_none() {
            greeting.server_version =
                Some(String::from_utf8_lossy(session.remote_sshid()).into_owned());
        }
        Ok(())
    }
}
