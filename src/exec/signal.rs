//! Ctrl-C: the first drains (no new hosts start, running ones finish), the
//! second aborts the running ones. This only flips the tokens; the
//! dispatcher tells the user, through events, what it does about them.
//!
//! SIGTERM and SIGHUP end fleet at once, as they end ssh, but not before
//! the temporary files of known_hosts writes in progress are removed.

use tokio::signal::unix::{signal, SignalKind};

use super::Interrupts;
use crate::known_hosts;

/// Waits for SIGTERM or SIGHUP, then removes temporary files and exits
/// with 128 + the signal's number, as the signal itself would have.
pub async fn terminate() {
    let (Ok(mut term), Ok(mut hangup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let number = tokio::select! {
        _ = term.recv() => libc::SIGTERM,
        _ = hangup.recv() => libc::SIGHUP,
    };
    // Held until the process is gone, so no new temporary file appears.
    let _no_new_files = known_hosts::remove_temporary_files();
    std::process::exit(128 + number);
}

/// Listens for Ctrl-C for the rest of the process's life.
pub async fn listen(interrupts: Interrupts) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    interrupts.drain.cancel();
    if tokio::signal::ctrl_c().await.is_ok() {
        interrupts.kill.cancel();
    }
}
