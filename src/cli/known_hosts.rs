//! `fleet known-hosts`: forget hosts, or check what known_hosts knows.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Selection;

#[derive(Debug, Args)]
pub struct KnownHostsArgs {
    #[command(subcommand)]
    pub command: KnownHostsCommand,
}

#[derive(Debug, Subcommand)]
pub enum KnownHostsCommand {
    /// Remove hosts from known_hosts, as ssh-keygen -R does: by alias,
    /// address or [host]:port, hashed entries included; other names on the
    /// same line stay, @revoked and @cert-authority lines are never
    /// touched, and the old file is kept as FILE.old.
    Forget {
        /// Aliases, host names, addresses, or `[host]:port`.
        #[arg(required = true, value_name = "HOST")]
        hosts: Vec<String>,
        /// The known_hosts file to change [default: each host's
        /// UserKnownHostsFile].
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Show, without connecting, what known_hosts says about each host:
    /// known (with its key types and fingerprints), certificate authority,
    /// revoked, or unknown. Exits 2 if some host is not known.
    Check {
        #[command(flatten)]
        selection: Selection,
    },
}
