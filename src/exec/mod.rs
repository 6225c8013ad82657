//! The executor: runs a [`Plan`] on many hosts over SSH at once.
//!
//! [`prepare`] does everything that can fail locally before the first
//! connection (reading known_hosts and key files, asking passphrases) and
//! yields one [`ConnectSpec`] per target. [`execute`] then hands the hosts
//! to the dispatcher (`dispatch`), which starts them stage by stage; each
//! host task reaches its host (`connect`) and drives its host plan,
//! running each step on a channel of that one connection. It never prints:
//! everything it learns becomes an [`Event`].

mod actions;
mod auth;
mod channels;
mod connect;
mod dispatch;
mod drive;
mod handshake;
mod hostkey;
mod jumps;
mod keys;
mod limits;
pub mod lines;
mod prepare;
pub mod signal;
mod step;

pub use jumps::DEFAULT_JUMP_PARALLEL;
pub use limits::ensure_open_files;
pub use lines::MAX_LINE;
pub use prepare::{load_known_hosts, prepare, ConnectSpec, Warnings};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, RunEnd};
use crate::outcome::Outcome;
use crate::plan::{Access, Plan, Schedule};
use actions::Actions;
use channels::Channels;
use dispatch::Worker;
use jumps::Jumps;

/// Used when neither `--connect-timeout` nor ConnectTimeout says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Run-wide choices about connecting that are not per host.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Overrides every host's ConnectTimeout.
    pub connect_timeout: Option<Duration>,
    /// Accept any host key (and no key is learned). Off unless asked for.
    pub insecure_ignore_host_keys: bool,
    /// Where default keys are looked for (`~`).
    pub home: PathBuf,
    /// A password to log in with where the keys are refused: only for work
    /// that binds a first key (`fleet keys install --password`).
    pub password: Option<crate::secret::Secret>,
}

/// Ctrl-C, as seen by the executor: `drain` starts no new hosts, `kill`
/// abandons the running ones.
#[derive(Debug, Clone, Default)]
pub struct Interrupts {
    pub drain: CancellationToken,
    pub kill: CancellationToken,
}

/// How a run spreads over its hosts.
#[derive(Debug, Clone, Default)]
pub struct Fanout {
    /// Hosts worked on at once.
    pub parallel: usize,
    /// Tunnels open through one jump host at once.
    pub jump_parallel: usize,
    /// The stages hosts go through.
    pub schedule: Schedule,
}

/// Runs `plan` on every prepared host as `fanout` says, and sends every
/// event to `events`.
pub async fn execute(
    plan: Arc<dyn Plan>,
    hosts: Vec<ConnectSpec>,
    fanout: &Fanout,
    events: mpsc::Sender<Event>,
    interrupts: Interrupts,
) -> RunEnd {
    let worker = Arc::new(SshWorker {
        plan,
        jumps: Jumps::new(fanout.jump_parallel),
    });
    dispatch::dispatch(
        worker,
        hosts,
        &fanout.schedule,
        fanout.parallel,
        events,
        interrupts,
    )
    .await
}

/// Works on a host over SSH: reach it, then drive its host plan over the
/// one connection.
struct SshWorker {
    plan: Arc<dyn Plan>,
    /// Jump-host logins, shared by every host behind them.
    jumps: Jumps,
}

impl Worker for SshWorker {
    type Host = ConnectSpec;

    fn alias(&self, host: &ConnectSpec) -> Arc<str> {
        host.alias.clone()
    }

    async fn work(self: Arc<Self>, spec: ConnectSpec, events: mpsc::Sender<Event>) -> Outcome {
        let access = self.plan.access();
        let mut host_plan = self.plan.host(&spec.alias);
        let connection = match connect::open(&spec, access, &self.jumps).await {
            Ok(connection) => connection,
            Err(cause) => return Outcome::failed(cause),
        };
        let channels = (access == Access::Login)
            .then(|| Channels::new(connection.session.clone(), spec.alias.clone(), events));
        let mut actions = Actions {
            spec: &spec,
            jumps: &self.jumps,
            channels,
        };
        let outcome = drive::drive(host_plan.as_mut(), &connection.reached, &mut actions).await;
        connection.close().await;
        outcome
    }
}
