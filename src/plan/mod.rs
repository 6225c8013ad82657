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

mod expect;
pub mod run;
mod schedule;
mod step;

pub use expect::{ExpectMatcher, Expectations, Verdict};
pub use schedule::{Schedule, Share};
#[cfg(test)]
pub(crate) use step::tests;
pub use step::{Capture, Reached, Step, StepResult};

use crate::cause::Cause;
use crate::outcome::Outcome;

/// What a plan needs of each host's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The SSH handshake only: the host key is checked, nobody logs in,
    /// and no key file, agent or passphrase is touched. With
    /// `auth_methods`, the server is asked (with the `none` method) which
    /// methods it offers.
    Handshake { auth_methods: bool },
    /// A full login, over which steps run.
    Login,
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
        Next::Done(Outcome::failed(Cause::PlanError(
            "the plan ran several steps at once but takes no results for them".into(),
        )))
    }
}

/// What a host plan wants next.
#[derive(Debug)]
pub enum Next {
    /// Run this step on a new channel of the host's connection.
    Run(Step),
    /// Run these steps at once, each on its own channel of the host's one
    /// connection (as many at a time as the server's MaxSessions allows).
    RunAll(Vec<Step>),
    /// The host is done.
    Done(Outcome),
}
