//! What a host plan found on a host, beyond how it ended, for the outputs
//! of its kind of work: the host keys keyscan collected, the answers of an
//! audit. It travels in the host's [`Outcome`](crate::outcome::Outcome).

use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::{HashAlg, PublicKey};

use crate::known_hosts::Verdict;

/// What a plan found on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    HostKeys(ScannedHost),
    Audit(crate::plan::audit::AuditReport),
    Sshd(SshdFinding),
}

/// What `fleet sshd` found or did on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshdFinding {
    /// `sshd get`: the effective values of the keywords asked for, each
    /// as `sshd -T` prints it (`passwordauthentication no`).
    Effective(Vec<String>),
    /// `sshd set --check`: the change as a unified diff, and how sshd
    /// would be reloaded.
    Planned { diff: String, reload: String },
    /// `sshd set`: the files written, and, when the change moved sshd,
    /// its new port with the host key proven on both ports.
    Changed {
        files: Vec<String>,
        moved: Option<(u16, PublicKey)>,
    },
}

/// The host keys collected from one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedHost {
    /// The names a known_hosts line for it gets (`alias,address`, with
    /// `[…]:port` for another port than 22).
    pub names: Vec<String>,
    /// One key of each type the host offers.
    pub keys: Vec<ScannedKey>,
    /// How the keys compare with the fingerprints given out of band.
    pub verification: Verification,
}

/// One collected key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedKey {
    pub key: PublicKey,
    /// What known_hosts says about it.
    pub verdict: Verdict,
    pub verification: Verification,
}

/// How keys compare with fingerprints obtained out of band (`--verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// No fingerprints were given at all.
    NotAsked,
    /// None was given for this host (or this key type).
    Unverified,
    Verified,
    /// A fingerprint was given and the key differs.
    Mismatch,
}

impl Verification {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Verification::NotAsked => None,
            Verification::Unverified => Some("unverified"),
            Verification::Verified => Some("verified"),
            Verification::Mismatch => Some("mismatch"),
        }
    }
}

/// `ED25519`, `ECDSA`, `RSA`…: the key type as `ssh-keygen -l` names it.
pub fn key_type_label(key: &PublicKey) -> &'static str {
    match key.key_data() {
        KeyData::Ed25519(_) => "ED25519",
        KeyData::Ecdsa(_) => "ECDSA",
        KeyData::Rsa(_) => "RSA",
        KeyData::Dsa(_) => "DSA",
        _ => "UNKNOWN",
    }
}

/// The key's size in bits, as `ssh-keygen -l` prints it.
pub fn key_bits(key: &PublicKey) -> u32 {
    match key.key_data() {
        KeyData::Rsa(rsa) => rsa.key_size(),
        KeyData::Ecdsa(ecdsa) => match ecdsa.curve() {
            russh::keys::ssh_key::EcdsaCurve::NistP256 => 256,
            russh::keys::ssh_key::EcdsaCurve::NistP384 => 384,
            russh::keys::ssh_key::EcdsaCurve::NistP521 => 521,
        },
        KeyData::Dsa(_) => 1024,
        _ => 256,
    }
}

/// `SHA256:…`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// `ssh-ed25519 SHA256:…`: a key's type and fingerprint, as `ssh-keygen
/// -l` shows it and as fleet names a key everywhere.
pub fn describe(key: &KeyData) -> String {
    format!("{} {}", key.algorithm(), key.fingerprint(HashAlg::Sha256))
}

/// `trusted`, `unknown`, `changed`, `revoked`, `unreadable`: a verdict in
/// one word, for reports.
pub fn verdict_label(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Trusted(_) => "trusted",
        Verdict::Unknown => "unknown",
        Verdict::Changed(_) => "changed",
        Verdict::Revoked(_) => "revoked",
        Verdict::Unreadable(..) => "unreadable",
    }
}
