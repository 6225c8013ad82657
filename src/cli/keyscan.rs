//! `fleet keyscan`: output format, verification and known_hosts writing.

use std::path::PathBuf;

use clap::Args;

use super::{FanoutArgs, Selection, STATUSES};

#[derive(Debug, Args)]
#[command(after_help = STATUSES)]
pub struct KeyscanArgs {
    #[command(flatten)]
    pub selection: Selection,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    /// Hash the host names of the known_hosts lines printed (ssh-keygen -F
    /// still finds them).
    #[arg(short = 'H', long = "hash", conflicts_with_all = ["fingerprints", "json"])]
    pub hash: bool,

    /// Print fingerprints as ssh-keygen -l does, `256 SHA256:… HOST (ED25519)`,
    /// instead of known_hosts lines.
    #[arg(long, conflicts_with = "json")]
    pub fingerprints: bool,

    /// Compare the keys with fingerprints obtained out of band: ssh-keygen -l
    /// output, cloud-init console logs (BEGIN/END SSH HOST KEY FINGERPRINTS
    /// blocks), or `HOST FINGERPRINT` lines. A host whose key differs is a
    /// mismatch, and is never printed as a known_hosts line or written.
    #[arg(long, value_name = "FILE")]
    pub verify: Option<PathBuf>,

    /// Add the keys known_hosts is missing to FILE [default: each host's
    /// first UserKnownHostsFile]. Keys already there are left alone; a
    /// changed, revoked or mismatching key is never written.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub update_known_hosts: Option<Option<PathBuf>>,

    /// With --update-known-hosts: replace a host's changed keys, if --verify
    /// verified its new ones.
    #[arg(long, requires_all = ["verify", "update_known_hosts"])]
    pub replace_changed: bool,
}
