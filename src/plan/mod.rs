//! Plans: the work a run does on each host, as data and decisions.
//!
//! A [`Plan`] says what kind of access its hosts need ([`Access`]) and
//! makes one [`HostPlan`] per host. The executor reaches the host, tells
//! the host plan what it found ([`Reached`]), runs each [`Step`] it asks
//! for on a channel of the same connection and hands back the result,
//! until the host plan is [`Next::Done`]. `run`, `keyscan` and the sshd
//! rollout are all plans; the executor does not know which one it runs.
//!
//! Host plans decide synchronously, from results already in hand, so they
//! are plain state machines that tests can drive without a network.

pub mod audit;
mod expect;
pub mod harden;
pub mod keys_install;
pub mod keyscan;
pub mod reference;
pub mod run;
mod schedule;
pub mod script;
mod step;

pub use expect::{ExpectMatcher, Expectations, Missed};
pub use schedule::{Schedule, Share};
#[cfg(test)]
pub(crate) use step::tests;
pub use step::{
    Capture, FreshLogin, FreshLoginResult, Input, Login, ObservedKey, Offered, PortProbe, Reached,
    Step, StepResult,
};

use crate::cause::Cause;
use crate::outcome::Outcome;

/// What a plan needs of each host's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The SSH handshake only: nobody logs in, and no key file, agent or
    /// passphrase is touched. `host_keys` says what becomes of the host's
    /// keys. With `auth_methods`, the server is asked (with the `none`
    /// method) which methods it offers.
    Handshake {
        auth_methods: bool,
        host_keys: HostKeys,
    },
    /// A full login, over which steps run.
    Login,
}

/// What a handshake does with the host's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeys {
    /// The key the host presents is checked strictly, as for a login: a
    /// host whose key is not trusted fails.
    Checked,
    /// The key the host presents is only observed: its known_hosts verdict
    /// is data for the plan, nothing is refused and nothing learned.
    Observed,
    /// Every key type the host offers is observed, each proven on a
    /// connection of its own.
    AllObserved,
}

/// The work of a whole run.
pub trait Plan: Send + Sync {
    fn access(&self) -> Access;

    /// The work for the host known as `alias`.
    fn host(&self, alias: &str) -> Box<dyn HostPlan>;
}

/// The work for one host: a state machine the executor drives.
pub trait HostPlan: Send {
    /// The host was reached (and logged in to, for [`Access::Login`]).
    fn start(&mut self, reached: &Reached) -> Next;

    /// The step asked for last has ended with `result`.
    fn step_done(&mut self, result: StepResult) -> Next;

    /// The steps asked for together have ended, with their results in the
    /// order they were asked for. Only plans that ask for several steps at
    /// once ([`Next::RunAll`]) need this.
    fn all_done(&mut self, _results: Vec<StepResult>) -> Next {
        unasked("several steps at once")
    }

    /// The fresh login asked for last ([`Next::FreshLogin`]) has ended.
    fn fresh_login_done(&mut self, _result: FreshLoginResult) -> Next {
        unasked("a fresh login")
    }

    /// The port probe asked for last ([`Next::Probe`]) has ended.
    fn probed(&mut self, _port: u16, _probe: PortProbe) -> Next {
        unasked("a port probe")
    }
}

/// How a plan ends that asked for something it takes no answer for.
fn unasked(what: &str) -> Next {
    Next::Done(Outcome::failed(Cause::PlanError(format!(
        "the plan asked for {what} but takes no result for it"
    ))))
}

/// What a handshake-only host plan answers to a step it never asked for:
/// the executor's refusal, which ends the host.
fn no_commands(result: StepResult) -> Next {
    Next::Done(Outcome::failed(result.exit.err().unwrap_or_else(|| {
        Cause::PlanError("a handshake-only plan ran a command".into())
    })))
}

/// What a host plan wants next.
#[derive(Debug)]
pub enum Next {
    /// Run this step on a new channel of the host's connection.
    Run(Step),
    /// Run these steps at once, each on its own channel of the host's one
    /// connection (as many at a time as the server's MaxSessions allows).
    RunAll(Vec<Step>),
    /// Log in to the host again on a connection of its own, while the
    /// first one stays open, to prove a change left it reachable.
    FreshLogin(FreshLogin),
    /// Try a TCP connection to this port of the host, from where fleet
    /// runs (through its jump hosts, if it has any), and see what answers.
    Probe(u16),
    /// The host is done.
    Done(Outcome),
}
