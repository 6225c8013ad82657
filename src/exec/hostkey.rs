//! Host key verification during the SSH handshake.
//!
//! russh asks [`HostKeyCheck::check_server_key`] once the server has proved
//! it holds the key. The answer comes from our own strict known_hosts
//! checker. What the handler sees (the key, its verdict, the server's
//! version string, and the cause when the key is refused) is left in a
//! shared [`Greeting`] that the connecting task reads once the handshake is
//! over.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::ssh_key::PublicKey;
use russh::keys::PublicKeyOrCertificate;

use crate::cause::{refusal, Cause};
use crate::known_hosts::{self, HostId, KnownHosts, Learned, Verdict};

/// What to do with a key known_hosts doesn't know, from StrictHostKeyChecking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownKeyPolicy {
    /// Refuse it (`yes`, and `ask`, since a fan-out can't ask).
    Refuse,
    /// Learn it into this known_hosts file (`accept-new`), hashing the
    /// name if `hash` (`HashKnownHosts yes`).
    Learn { file: PathBuf, hash: bool },
    /// Accept any key, even a changed one (`no`, only together with
    /// `--insecure-ignore-host-keys`).
    AcceptAnything,
    /// Refuse nothing and learn nothing: the key and its verdict are only
    /// recorded, for work that reports on keys (keyscan, audit) and never
    /// logs in or sends anything secret.
    Observe,
}

/// What the server showed during the handshake.
#[derive(Debug, Default)]
pub struct Greeting {
    /// The key it proved it holds (for a certificate: the certified key).
    pub host_key: Option<PublicKey>,
    /// What known_hosts says about that key.
    pub verdict: Option<Verdict>,
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

    /// Decides on a presented key; true means go on with the handshake.
    async fn decide(&self, key: &PublicKeyOrCertificate) -> bool {
        let (verdict, public) = self.verdict(key);
        {
            let mut greeting = self.greeting();
            greeting.host_key = Some(public.clone());
            greeting.verdict = Some(verdict.clone());
        }
        let refusal = match (&self.policy, verdict) {
            (_, Verdict::Trusted(_)) => None,
            (UnknownKeyPolicy::AcceptAnything | UnknownKeyPolicy::Observe, _) => None,
            (UnknownKeyPolicy::Learn { file, hash }, Verdict::Unknown) => {
                self.learn(file.clone(), *hash, public).await
            }
            (_, verdict) => refusal(&verdict, &self.host, &public, &self.known),
        };
        match refusal {
            None => true,
            Some(cause) => {
                self.greeting().refusal = Some(cause);
                false
            }
        }
    }

    /// Learns `key`; why not, if it can't be.
    async fn learn(&self, file: PathBuf, hash: bool, key: PublicKey) -> Option<Cause> {
        // The file is locked, read and written, and synced: keep that off
        // the async workers.
        let host = self.host.clone();
        let learning = key.clone();
        let learned =
            tokio::task::spawn_blocking(move || known_hosts::learn(&file, &host, &learning, hash))
                .await;
        match learned {
            Ok(Ok(Learned::Added | Learned::AlreadyKnown)) => None,
            // Under the lock the file knew better: another host of this
            // run, or another process, pinned something for this name.
            Ok(Ok(Learned::Refused(verdict))) => refusal(&verdict, &self.host, &key, &self.known),
            Ok(Err(e)) => Some(Cause::LearnFailed(crate::error::chain(&e))),
            Err(e) => Some(Cause::LearnFailed(e.to_string())),
        }
    }
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
