//! `fleet keys install`: the key plan over the selected hosts, logging in
//! with a password where the run was given one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::ssh_key::PublicKey;

use super::{block_on, execute, Context};
use crate::cli::{GlobalArgs, KeysArgs, KeysCommand, KeysInstallArgs};
use crate::error::SetupError;
use crate::plan::keys_install::{KeyToInstall, KeysInstallPlan};
use crate::report::sanitize::sanitize;
use crate::report::OutputMode;
use crate::secret;
use crate::settings::{self, Settings};

/// The public keys tried, in order, when none is named: OpenSSH's default
/// identities.
const DEFAULT_KEYS: &[&str] = &["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"];

pub(super) fn run(global: &GlobalArgs, args: &KeysArgs) -> Result<i32, SetupError> {
    match &args.command {
        KeysCommand::Install(install) => install_key(global, install),
    }
}

fn install_key(global: &GlobalArgs, args: &KeysInstallArgs) -> Result<i32, SetupError> {
    let home = crate::hosts::ssh_config::LocalEnv::from_process().home;
    let file = match &args.pubkey {
        Some(file) => file.clone(),
        None => default_key(&home)?,
    };
    let key = read_public_key(&file)?;
    let to_install = KeyToInstall::new(&key)
        .map_err(|why| SetupError::Usage(format!("{}: {why}", file.display())))?;
    // The fresh login that proves the key needs its private half: the file
    // beside it, else ssh-agent.
    let private = file.with_extension("");
    let mut extra = Vec::new();
    if file.extension().is_some_and(|e| e == "pub") && private.is_file() {
        extra.push(("IdentityFile".to_string(), identity_option(&private)));
    } else if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err(SetupError::Usage(format!(
            "{}: its private key is not beside it ({}) and no ssh-agent is running, so no \
             login could prove the key once installed",
            file.display(),
            private.display()
        )));
    }
    let context = Context::load_adding(global, extra)?;
    let targets = context.targets(&args.selection)?;
    let schedule = settings::schedule(&args.rollout, crate::plan::Schedule::default())?;
    let mut settings = Settings::new(
        global,
        &args.fanout,
        schedule,
        OutputMode::Lines,
        &context.defaults,
        context.env.home.clone(),
    );
    if args.password {
        let password = secret::ask("password of the login user on the hosts: ")
            .map_err(|why| SetupError::Usage(format!("--password: {why}")))?;
        settings.exec.password = Some(Arc::new(password));
    }
    eprintln!(
        "fleet: installing {}",
        sanitize(&format!("{} ({})", to_install.described(), file.display()))
    );
    let plan = KeysInstallPlan::new(to_install);
    block_on(execute(Arc::new(plan), &targets, &settings))
}

/// The first of OpenSSH's default public keys that exists.
fn default_key(home: &Path) -> Result<PathBuf, SetupError> {
    let dir = home.join(".ssh");
    DEFAULT_KEYS
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            SetupError::Usage(format!(
                "no public key given, and none of {} is in {}: name one, e.g. fleet keys \
                 install HOSTS ~/.ssh/ops.pub",
                DEFAULT_KEYS.join(", "),
                dir.display()
            ))
        })
}

/// The one public key `file` holds, in OpenSSH's format.
fn read_public_key(file: &Path) -> Result<PublicKey, SetupError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| SetupError::Usage(format!("{}: {e}", file.display())))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((at, line)) = lines.next() else {
        return Err(SetupError::Usage(format!(
            "{}: holds no public key",
            file.display()
        )));
    };
    if lines.next().is_some() {
        return Err(SetupError::Usage(format!(
            "{}: holds more than one key; name a file with one",
            file.display()
        )));
    }
    PublicKey::from_openssh(line.trim()).map_err(|e| {
        SetupError::Usage(format!(
            "{}:{}: not an OpenSSH public key: {e}",
            file.display(),
            at + 1
        ))
    })
}

/// `path` as an IdentityFile value: `%` would start a token, and a space
/// needs quotes.
fn identity_option(path: &Path) -> String {
    let text = path.to_string_lossy().replace('%', "%%");
    if text.contains(char::is_whitespace) {
        format!("\"{text}\"")
    } else {
        text
    }
}
