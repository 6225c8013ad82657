//! fleet's integration tests, one test binary so that it is linked once.
//!
//! `fixture` starts real OpenSSH `sshd` processes on loopback; every other
//! module uses it to test the `fleet` binary end to end, running it through
//! `invocation`.

mod auth;
mod browser;
mod checks;
mod cli;
mod config_errors;
mod default_ssh_config;
mod fixture;
mod fixture_selftest;
mod harden;
mod host_keys;
mod hostile_servers;
mod interrupt;
mod inventory;
mod invocation;
mod key_types;
mod keyscan;
mod killed_while_learning;
mod known_hosts_writes;
mod local_files;
mod ls;
mod outputs;
mod plans;
mod proxy_jump;
mod reruns;
mod run;
mod script;
mod selection;
mod shards;
mod terminal_safety;
mod trust_decisions;
mod unreached_hosts;
