//! `fleet keys install`: step zero of hardening, a key on every host.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{FanoutArgs, RolloutArgs, Selection, STATUSES};

const INSTALL_EXAMPLES: &str = "\
Examples:
  fleet keys install 'web-*'                       ~/.ssh/id_ed25519.pub (or id_ecdsa, id_rsa)
  fleet -o User=deploy keys install new-* --password
  fleet keys install @db ~/.ssh/ops.pub

The key is appended to the login user's ~/.ssh/authorized_keys (created
with mode 700/600 when missing) unless it is there already, and proven by
a fresh login that offers that key and nothing else. Its private key must
be beside it, or in ssh-agent.";

/// The statuses after the examples.
fn after_help() -> String {
    format!("{INSTALL_EXAMPLES}\n\n{STATUSES}")
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a public key to authorized_keys on every host and prove it.
    #[command(after_help = after_help())]
    Install(Box<KeysInstallArgs>),
}

#[derive(Debug, Args)]
pub struct KeysInstallArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// The public key to install [default: ~/.ssh/id_ed25519.pub, else
    /// id_ecdsa.pub, else id_rsa.pub].
    #[arg(value_name = "PUBKEY_FILE")]
    pub pubkey: Option<PathBuf>,

    /// Log in with a password where the keys are refused (a fresh
    /// instance): asked once, on the terminal or through SSH_ASKPASS, used
    /// for every host, answered to keyboard-interactive too, never stored.
    #[arg(long)]
    pub password: bool,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub rollout: RolloutArgs,
}
