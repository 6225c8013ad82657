//! fleet runs commands on many hosts over SSH at once.
//!
//! Data flows one way:
//!
//! ```text
//! CLI args ─▶ Settings ─▶ Targets ─▶ Plan ─▶ Executor ─▶ Events ─▶ Outputs
//! (cli.rs)   (settings)   (hosts)    (plan)   (exec)      (event)   (report)
//! ```
//!
//! * [`hosts`] turns selectors such as `web-*`, `@db` or `web-[01-20]` into
//!   fully resolved [`hosts::Target`]s, reading ssh_config and inventories
//!   but never touching the network.
//! * [`plan`] describes the work on each host as steps and decisions
//!   (`run` is one step), and the stages a run goes through.
//! * [`exec`] connects to each target with russh, verifies its host key
//!   against known_hosts ([`known_hosts`]), logs in when the plan needs it
//!   and drives the plan. Its dispatcher owns the run: the counts, the
//!   stages and the exit code. It never prints: everything it learns
//!   becomes an [`event::Event`].
//! * [`report`] turns the event stream into what the user sees.
//!
//! A host that fails is data: an [`outcome::Outcome`] with a
//! [`cause::Cause`], never an early return.

pub mod app;
pub mod atomic_file;
pub mod cause;
pub mod cli;
pub mod duration;
pub mod error;
pub mod event;
pub mod exec;
pub mod finding;
pub mod hosts;
pub mod known_hosts;
pub mod last_run;
pub mod location;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod secret;
pub mod settings;
pub mod spool;
pub mod stable_hash;
pub mod wildcard;
