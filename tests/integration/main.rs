//! fleet's integration tests, one test binary so that it is linked once.
//!
//! `fixture` starts real OpenSSH `sshd` processes on loopback; every other
//! module uses it to test the `fleet` binary end to end.

mod fixture;
mod fixture_selftest;
