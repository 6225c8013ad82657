//! Setup errors and the documented exit codes.
//!
//! A setup error (bad config, a selector that matches nothing, an unusable
//! key) stops the run before any host is contacted. A host that fails is not
//! an error at all: it is an [`crate::outcome::Outcome`].

use std::error::Error;
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
    #[error(transparent)]
    Reference(#[from] crate::plan::reference::ReferenceError),
    #[error(transparent)]
    Script(#[from] crate::plan::script::ScriptError),
    #[error("{0}")]
    Usage(String),
    #[error("could not write output")]
    Output(#[source] std::io::Error),
    #[error("could not read stdin")]
    Stdin(#[source] std::io::Error),
    #[error(transparent)]
    Replay(#[from] crate::report::replay::ReplayError),
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `error` and each of its causes ([`Error::source`]), joined by `: `, as
/// the binary prints a setup error: `cannot read ssh config ~/.ssh/config:
/// Permission denied (os error 13)`. So that no cause shows twice, a
/// variant with a `source` leaves it out of its own message.
pub fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::{chain, SetupError};
    use crate::hosts::TargetError;

    #[test]
    fn chain_joins_every_cause_once() {
        let denied = || io::Error::from_raw_os_error(13);
        assert_eq!(
            chain(&SetupError::Output(denied())),
            "could not write output: Permission denied (os error 13)"
        );
        let read = TargetError::InventoryRead {
            path: "fleet.toml".into(),
            source: denied(),
        };
        // A transparent wrapper adds nothing, and repeats nothing.
        assert_eq!(
            chain(&SetupError::from(read)),
            "cannot read inventory fleet.toml: Permission denied (os error 13)"
        );
        assert_eq!(chain(&SetupError::Usage("bad".into())), "bad");
    }
}
