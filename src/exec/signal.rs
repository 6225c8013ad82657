//! Ctrl-C: the first drains (no new hosts start, running ones finish), the
//! second aborts the running ones. This only flips the tokens; the
//! dispatcher tells the user, through events, what it does about them.

use super::Interrupts;

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
