//! fleet runs one command on many hosts over SSH at once.
//!
//! Data flows one way:
//!
//! ```text
//! CLI args ─▶ Settings ─▶ Targets ─▶ Executor ─▶ Events ─▶ Reporters
//! (cli.rs)   (settings)   (hosts)    (exec)      (event)   (report)
//! ```
//!
//! * [`hosts`] turns selectors such as `web-*`, `@db` or `web-[01-20]` into
//!   fully resolved [`hosts::Target`]s, reading ssh_config and inventories
//!   but never touching the network.
//! * [`exec`] connects to each target with russh, verifies its host key
//!   against known_hosts ([`known_hosts`]), authenticates and runs the
//!   command. It never prints: everything it learns becomes an [`event::Event`].
//! * [`report`] turns the event stream into what the user sees.

pub mod app;
pub mod cli;
pub mod duration;
pub mod error;
pub mod event;
pub mod exec;
pub mod hosts;
pub mod known_hosts;
pub mod location;
pub mod report;
pub mod settings;
pub mod wildcard;
