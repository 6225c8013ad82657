//! `fleet keys install`: step zero of hardening, a key on every host.
//!
//! Appends the public key to the login user's `~/.ssh/authorized_keys`
//! (creating the directory and file with the right modes, as the user), or
//! leaves it as it is when the key is there, then proves it: a fresh login
//! that offers that key and nothing else must get in. A fresh instance may
//! take only a password at first, so this is the one job that may log in
//! with one (`--password`).

use std::sync::Arc;

use russh::keys::ssh_key::PublicKey;

use super::harden::remote;
use super::{
    Access, FreshLogin, FreshLoginResult, HostPlan, Login, Next, Plan, Reached, StepResult,
};
use crate::cause::Cause;
use crate::finding::describe;
use crate::outcome::Outcome;

/// The key to install, checked to need no quoting on its way to a host.
#[derive(Debug, Clone)]
pub struct KeyToInstall {
    kind: String,
    blob: String,
    comment: String,
    /// `TYPE SHA256:…`, what a login with it reports.
    described: String,
}

impl KeyToInstall {
    /// The public key `key`, with its comment kept where it is made of
    /// plain characters (and left out otherwise).
    pub fn new(key: &PublicKey) -> Result<KeyToInstall, String> {
        let line = key
            .to_openssh()
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        let mut words = line.split_whitespace();
        let (Some(kind), Some(blob)) = (words.next(), words.next()) else {
            return Err("cannot encode the key".into());
        };
        let comment: &[u8] = key.comment().as_ref();
        let comment = if comment
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"@._-+:".contains(b))
        {
            String::from_utf8_lossy(comment).into_owned()
        } else {
            String::new()
        };
        Ok(KeyToInstall {
            kind: kind.to_string(),
            blob: blob.to_string(),
            comment,
            described: describe(key.key_data()),
        })
    }

    /// `TYPE SHA256:…`.
    pub fn described(&self) -> &str {
        &self.described
    }
}

/// The same key on every host.
pub struct KeysInstallPlan {
    key: Arc<KeyToInstall>,
}

impl KeysInstallPlan {
    pub fn new(key: KeyToInstall) -> KeysInstallPlan {
        KeysInstallPlan { key: Arc::new(key) }
    }
}

impl Plan for KeysInstallPlan {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(InstallHost {
            key: self.key.clone(),
            added: None,
        })
    }
}

struct InstallHost {
    key: Arc<KeyToInstall>,
    /// Whether the key was added (`None` until the step answered).
    added: Option<bool>,
}

impl HostPlan for InstallHost {
    fn start(&mut self, _reached: &Reached) -> Next {
        let key = &self.key;
        Next::Run(remote::authorize_key_step(
            &key.kind,
            &key.blob,
            &key.comment,
        ))
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        let said = String::from_utf8_lossy(&result.stdout).trim().to_string();
        self.added = match (&result.exit, said.as_str()) {
            (Ok(0), "added") => Some(true),
            (Ok(0), "present") => Some(false),
            (Ok(code), _) => {
                return Next::Done(Outcome::failed(Cause::ChangeRefused(format!(
                    "could not write ~/.ssh/authorized_keys (exit {code}): {}",
                    String::from_utf8_lossy(&result.stderr).trim()
                ))))
            }
            (Err(cause), _) => return Next::Done(Outcome::failed(cause.clone())),
        };
        Next::FreshLogin(FreshLogin {
            port: None,
            auth_methods: false,
            step: None,
            identity: Some(self.key.described.clone()),
        })
    }

    fn fresh_login_done(&mut self, result: FreshLoginResult) -> Next {
        let outcome = match result.login {
            Ok(Login::Key(used)) if used == self.key.described => match self.added {
                Some(true) => Outcome::changed(),
                _ => Outcome::unchanged(),
            },
            Ok(other) => Outcome::failed(Cause::ChangeRefused(format!(
                "the key is in authorized_keys, but the fresh login got in another way ({other:?})"
            ))),
            Err(Cause::AuthDenied { .. }) if self.added == Some(true) => {
                Outcome::failed(Cause::ChangeRefused(
                    "the key was added, but sshd does not take it: check AuthorizedKeysFile, \
                     the modes of the home directory, and PubkeyAuthentication"
                        .into(),
                ))
            }
            Err(cause) => Outcome::failed(cause),
        };
        Next::Done(outcome)
    }
}
