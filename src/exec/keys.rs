//! Client identities: private key files, ssh-agent keys, and passphrases.
//!
//! Every key file a run may need is read once, before the first connection,
//! so an encrypted key costs one prompt and one decryption per run (not one
//! per host), and a missing or world-readable key stops the run before it
//! touches any host. Passphrases are dropped (and zeroed) as soon as the key
//! is decrypted; they are never stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::ssh_key::{Certificate, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::error::SetupError;
use crate::report::sanitize::sanitize;
use crate::secret;

/// OpenSSH's default identity files, in the order it tries them, for hosts
/// with no IdentityFile. Security-key (`_sk`) and DSA keys are left out:
/// fleet cannot sign with them.
const DEFAULT_IDENTITIES: [&str; 3] = [".ssh/id_rsa", ".ssh/id_ecdsa", ".ssh/id_ed25519"];

/// How many times a wrong passphrase may be entered, as OpenSSH's
/// NumberOfPasswordPrompts default.
const PASSPHRASE_TRIES: usize = 3;

/// A key file that was read (and decrypted when needed).
#[derive(Debug)]
pub struct KeyFile {
    pub public: PublicKey,
    /// `None` when the file is encrypted but the agent holds the same key:
    /// then the agent signs and no passphrase is asked.
    pub private: Option<Arc<PrivateKey>>,
}

/// Where the agent for a host lives, from IdentityAgent / SSH_AUTH_SOCK.
pub fn agent_socket(identity_agent: Option<&str>) -> Option<PathBuf> {
    match identity_agent {
        Some(v) if v.eq_ignore_ascii_case("none") => None,
        Some("SSH_AUTH_SOCK") | None => std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        Some(path) => Some(PathBuf::from(path)),
    }
}

/// The identity files a host uses: its explicit IdentityFiles, or, when
/// it has none configured (`defaults`), the default ones that exist.
pub fn identity_paths(explicit: &[PathBuf], defaults: bool, home: &Path) -> Vec<PathBuf> {
    if !defaults {
        return explicit.to_vec();
    }
    DEFAULT_IDENTITIES
        .iter()
        .map(|p| home.join(p))
        .filter(|p| p.exists())
        .collect()
}

/// Lists the keys an agent holds; an agent that can't be reached simply
/// holds nothing (OpenSSH carries on without it too).
pub async fn agent_keys(socket: &Path) -> Vec<PublicKey> {
    let Ok(mut agent) = AgentClient::connect_uds(socket).await else {
        return Vec::new();
    };
    let identities = agent.request_identities().await.unwrap_or_default();
    identities
        .into_iter()
        .filter_map(|id| match id {
            AgentIdentity::PublicKey { key, .. } => Some(key),
            AgentIdentity::Certificate { .. } => None,
        })
        .collect()
}

/// Reads every certificate a run may use, once each: the CertificateFiles
/// named (a missing one is an error, like a missing IdentityFile) and the
/// `<identity>-cert.pub` beside each identity file, when there is one (as
/// OpenSSH picks it up).
pub fn load_certificates(
    named: impl IntoIterator<Item = PathBuf>,
    identities: impl IntoIterator<Item = PathBuf>,
) -> Result<HashMap<PathBuf, Arc<Certificate>>, SetupError> {
    let mut loaded = HashMap::new();
    let beside = identities.into_iter().map(|path| certificate_beside(&path));
    let wanted = named
        .into_iter()
        .map(|p| (p, true))
        .chain(beside.map(|p| (p, false)));
    for (path, required) in wanted {
        if loaded.contains_key(&path) || (!required && !path.exists()) {
            continue;
        }
        let cert = russh::keys::load_openssh_certificate(&path).map_err(|e| SetupError::Key {
            path: path.clone(),
            reason: format!("not an OpenSSH certificate fleet can read ({e})"),
        })?;
        loaded.insert(path, Arc::new(cert));
    }
    Ok(loaded)
}

/// Where OpenSSH looks for an identity's certificate: `<identity>-cert.pub`.
pub fn certificate_beside(identity: &Path) -> PathBuf {
    let mut cert = identity.as_os_str().to_owned();
    cert.push("-cert.pub");
    PathBuf::from(cert)
}

/// Reads every file in `paths` once. `agent_has` tells whether some agent
/// already holds a public key, in which case an encrypted file needs no
/// passphrase.
pub fn load_all(
    paths: impl IntoIterator<Item = PathBuf>,
    agent_has: impl Fn(&PublicKey) -> bool,
) -> Result<HashMap<PathBuf, Arc<KeyFile>>, SetupError> {
    let mut loaded = HashMap::new();
    for path in paths {
        if loaded.contains_key(&path) {
            continue;
        }
        let key = load(&path, &agent_has)?;
        loaded.insert(path, Arc::new(key));
    }
    Ok(loaded)
}

fn load(path: &Path, agent_has: &impl Fn(&PublicKey) -> bool) -> Result<KeyFile, SetupError> {
    let key_error = |reason: String| SetupError::Key {
        path: path.to_path_buf(),
        reason,
    };
    check_permissions(path)?;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| key_error(e.to_string()))?);
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => Ok(KeyFile {
            public: key.public_key().clone(),
            private: Some(Arc::new(key)),
        }),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let public = encrypted_public_key(path, &text);
            if let Some(public) = public.filter(|k| agent_has(k)) {
                return Ok(KeyFile {
                    public,
                    private: None,
                });
            }
            let key = decrypt(path, &text)?;
            Ok(KeyFile {
                public: key.public_key().clone(),
                private: Some(Arc::new(key)),
            })
        }
        Err(e) => Err(key_error(format!("not a private key fleet can read ({e})"))),
    }
}

/// Refuses a private key that group or others can read, as OpenSSH does,
/// and anything but a regular file (a device, a directory), whose mode
/// says nothing about a key.
fn check_permissions(path: &Path) -> Result<(), SetupError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| SetupError::Key {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            "no such identity file; check the IdentityFile path".to_string()
        } else {
            e.to_string()
        },
    })?;
    if !meta.is_file() {
        return Err(SetupError::Key {
            path: path.to_path_buf(),
            reason: "not a regular file; IdentityFile must name a private key file".to_string(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SetupError::Key {
            path: path.to_path_buf(),
            reason: format!(
                "permissions {mode:04o} are too open: a private key must not be readable by others; run chmod 600 {}",
                path.display()
            ),
        });
    }
    Ok(())
}

/// The public half of an encrypted key without decrypting it: OpenSSH's
/// format stores it in the clear; for older formats use the `.pub` beside it.
fn encrypted_public_key(path: &Path, text: &str) -> Option<PublicKey> {
    if let Ok(key) = PrivateKey::from_openssh(text) {
        return Some(key.public_key().clone());
    }
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    russh::keys::load_public_key(PathBuf::from(pub_path)).ok()
}

fn decrypt(path: &Path, text: &str) -> Result<PrivateKey, SetupError> {
    let shown = sanitize(&path.display().to_string()).into_owned();
    let prompt = format!("Enter passphrase for key '{shown}': ");
    for _ in 0..PASSPHRASE_TRIES {
        let passphrase = secret::ask(&prompt).map_err(|reason| SetupError::Key {
            path: path.to_path_buf(),
            reason,
        })?;
        match russh::keys::decode_secret_key(text, Some(&passphrase)) {
            Ok(key) => return Ok(key),
            Err(_) if !passphrase.is_empty() => {
                eprintln!("fleet: wrong passphrase for {shown}")
            }
            Err(_) => break,
        }
    }
    Err(SetupError::Key {
        path: path.to_path_buf(),
        reason: "could not decrypt it: wrong passphrase".into(),
    })
}

/// The identities a host offers, in OpenSSH's order: its key files (signed
/// by the agent when only the agent can), then, unless IdentitiesOnly, the
/// agent's other keys.
pub fn offered_identities(
    files: Vec<Arc<KeyFile>>,
    agent_keys: &[PublicKey],
    identities_only: bool,
) -> Vec<Arc<KeyFile>> {
    let mut offered = files;
    if !identities_only {
        for key in agent_keys {
            if !offered
                .iter()
                .any(|f| f.public.key_data() == key.key_data())
            {
                offered.push(Arc::new(KeyFile {
                    public: key.clone(),
                    private: None,
                }));
            }
        }
    }
    offered
}
