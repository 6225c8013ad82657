//! The executor: turns resolved targets into concurrent SSH sessions.
//!
//! [`prepare`] does everything that can fail before the first connection
//! (reading known_hosts and key files, asking passphrases) and yields one
//! [`HostPlan`] per target. [`run`] then connects to the hosts with at most
//! `parallel` at a time, one tokio task per host, and reports everything as
//! [`Event`]s. It never prints.

mod command;
mod hostkey;
mod keys;
mod lines;
mod plan;
mod session;

pub use command::Job;
pub use plan::{load_known_hosts, prepare, HostPlan, Warnings};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, Outcome, Status};

/// Used when neither `--connect-timeout` nor ConnectTimeout says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Run-wide choices that are not per host.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub parallel: usize,
    /// Overrides every host's ConnectTimeout.
    pub connect_timeout: Option<Duration>,
    /// Limit on each command, once the host is logged in.
    pub command_timeout: Option<Duration>,
    /// Accept any host key (and no key is learned). Off unless asked for.
    pub insecure_ignore_host_keys: bool,
    /// Where default keys are looked for (`~`).
    pub home: PathBuf,
}

/// Ctrl-C, as seen by the executor: `drain` starts no new hosts, `kill`
/// abandons the running ones.
#[derive(Debug, Clone, Default)]
pub struct Interrupts {
    pub drain: CancellationToken,
    pub kill: CancellationToken,
}

/// Runs `job` on every planned host, at most `opts.parallel` at once, and
/// sends every event to `events`. Returns when every host is done, or at
/// once after `interrupts.kill`.
pub async fn run(
    plans: Vec<HostPlan>,
    job: Job,
    opts: &ExecOptions,
    events: mpsc::Sender<Event>,
    interrupts: Interrupts,
) {
    let hosts: Arc<[Arc<str>]> = plans.iter().map(|p| p.alias.clone()).collect();
    let _ = events.send(Event::RunStarted { hosts }).await;
    let job = Arc::new(job);
    let slots = Arc::new(Semaphore::new(opts.parallel.max(1)));
    let mut tasks = JoinSet::new();
    let mut plans = plans.into_iter();
    // One task per host, spawned only once a slot is free, so a run over
    // 10,000 hosts holds `parallel` tasks and sessions, not 10,000.
    while let Some(plan) = plans.next() {
        let permit = tokio::select! {
            biased;
            _ = interrupts.drain.cancelled() => {
                skip(std::iter::once(plan).chain(plans.by_ref()), &events).await;
                break;
            }
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (job, events, kill, timeout) = (
            job.clone(),
            events.clone(),
            interrupts.kill.clone(),
            opts.command_timeout,
        );
        tasks.spawn(async move {
            host(plan, &job, &events, &kill, timeout).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let _ = events
        .send(Event::RunFinished {
            interrupted: interrupts.drain.is_cancelled(),
        })
        .await;
}

/// Reports hosts that were never started because of Ctrl-C.
async fn skip(plans: impl Iterator<Item = HostPlan>, events: &mpsc::Sender<Event>) {
    for plan in plans {
        let outcome = Outcome::failure(Status::Skipped, "not started: interrupted");
        let _ = events
            .send(Event::HostFinished {
                host: plan.alias,
                outcome,
                duration: Duration::ZERO,
            })
            .await;
    }
}

/// One host, start to finish.
async fn host(
    plan: HostPlan,
    job: &Job,
    events: &mpsc::Sender<Event>,
    kill: &CancellationToken,
    timeout: Option<Duration>,
) {
    let started = Instant::now();
    let _ = events
        .send(Event::HostStarted {
            host: plan.alias.clone(),
        })
        .await;
    let outcome = tokio::select! {
        biased;
        _ = kill.cancelled() => Outcome::failure(Status::Error, "interrupted"),
        outcome = connect_and_run(&plan, job, events, timeout) => outcome,
    };
    let _ = events
        .send(Event::HostFinished {
            host: plan.alias,
            outcome,
            duration: started.elapsed(),
        })
        .await;
}

async fn connect_and_run(
    plan: &HostPlan,
    job: &Job,
    events: &mpsc::Sender<Event>,
    timeout: Option<Duration>,
) -> Outcome {
    if let Some(reason) = plan.unsupported {
        return Outcome::failure(Status::Error, reason);
    }
    let connection = match session::open(plan).await {
        Ok(connection) => connection,
        Err(outcome) => return outcome,
    };
    let session = &connection.session;
    let outcome = command::run(session, job, &plan.alias, events, timeout).await;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    outcome
}
