//! The exit codes fleet documents, so scripts can tell "the command failed
//! somewhere" from "some host was never reached".
//!
//! A single run can hit several of these at once; the most telling wins:
//! [`INTERRUPTED`] over [`UNREACHED`] over [`FAILED`].

/// Every host ran the command and it exited 0 everywhere.
pub const OK: i32 = 0;
/// Every host was reached, but on some the command failed: it exited
/// non-zero, was killed by a signal or exceeded `--timeout`.
pub const FAILED: i32 = 1;
/// Some host was never reached: unreachable, host key unknown or changed,
/// authentication refused, or another SSH error.
pub const UNREACHED: i32 = 2;
/// The command line or the configuration is wrong; nothing was run.
pub const USAGE: i32 = 3;
/// The run was interrupted (Ctrl-C); 128 + SIGINT, as shells report it.
pub const INTERRUPTED: i32 = 130;
