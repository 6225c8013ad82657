//! Setup errors and the documented exit codes.
//!
//! A setup error (bad config, a selector that matches nothing, an unusable
//! key) stops the run before any host is contacted. A host that fails is not
//! an error at all: it is an [`crate::event::Outcome`].

use std::path::PathBuf;

/// Exit codes, documented in the README and `fleet --help`.
pub mod exit {
    /// Every host ran the command and it exited 0.
    pub const OK: i32 = 0;
    /// Every host was reached, but the command failed (or timed out) on some.
    pub const COMMAND_FAILED: i32 = 1;
    /// Some host was not reached: unreachable, host key or authentication.
    pub const UNREACHED: i32 = 2;
    /// Usage or configuration error: nothing was run.
    pub const USAGE: i32 = 3;
    /// Interrupted with Ctrl-C.
    pub const INTERRUPTED: i32 = 130;
}

/// Anything that stops a run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    SshConfig(#[from] crate::hosts::ssh_config::ConfigError),
    #[error(transparent)]
    Target(#[from] crate::hosts::TargetError),
    #[error(transparent)]
    KnownHosts(#[from] crate::known_hosts::KnownHostsError),
    #[error("identity file {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("could not write output: {0}")]
    Output(std::io::Error),
    #[error("could not read stdin: {0}")]
    Stdin(std::io::Error),
}
