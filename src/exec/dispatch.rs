//! The dispatcher: the one loop that owns a run.
//!
//! It starts hosts stage by stage ([`Schedule`]), at most `parallel` at
//! once, one task per host; keeps the counts, the elapsed time and the exit
//! code; stops before the next stage once the failure budget is spent; and
//! reports every host, including those it never started, exactly once. Its
//! lifecycle events carry the current [`Stats`], so outputs keep no tally.
//!
//! What a host task does is up to its [`Worker`], so tests drive the
//! dispatcher with scripted workers and paused time.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use super::Interrupts;
use crate::cause::{Cause, SkipReason};
use crate::event::{Event, Notice, RunEnd, Stage, Stats};
use crate::outcome::Outcome;
use crate::plan::Schedule;

/// Does the work on one host.
pub trait Worker: Send + Sync + 'static {
    type Host: Send + 'static;

    /// The name events use for `host`.
    fn alias(&self, host: &Self::Host) -> Arc<str>;

    /// Works on `host` to its outcome, sending its output to `events`.
    fn work(
        self: Arc<Self>,
        host: Self::Host,
        events: mpsc::Sender<Event>,
    ) -> impl Future<Output = Outcome> + Send + 'static;
}

/// Runs every host through `worker`, stage by stage, and sends every event
/// to `events`. Returns once every host is accounted for.
pub async fn dispatch<W: Worker>(
    worker: Arc<W>,
    hosts: Vec<W::Host>,
    schedule: &Schedule,
    parallel: usize,
    events: mpsc::Sender<Event>,
    interrupts: Interrupts,
) -> RunEnd {
    let aliases: Arc<[Arc<str>]> = hosts.iter().map(|h| worker.alias(h)).collect();
    let stages = schedule.stages(hosts.len());
    let mut run = Run {
        worker,
        parallel: parallel.max(1),
        events,
        interrupts,
        started: Instant::now(),
        stats: Stats {
            total: hosts.len(),
            ..Stats::default()
        },
        unreached: false,
    };
    run.send(Event::RunStarted { hosts: aliases }).await;
    let allowed = schedule.allowed_failures(hosts.len());
    let mut hosts: VecDeque<W::Host> = hosts.into();
    let mut stopped = None;
    for (index, range) in stages.iter().enumerate() {
        if run.drain_started().await {
            stopped = Some(SkipReason::Interrupted);
            break;
        }
        if stages.len() > 1 {
            let stage = Stage {
                number: index + 1,
                of: stages.len(),
                canary: index == 0 && schedule.canary > 0,
                hosts: range.len(),
            };
            run.send(Event::StageStarted { stage }).await;
        }
        let stage_hosts: VecDeque<W::Host> = hosts.drain(..range.len()).collect();
        if let Some(reason) = run.stage(stage_hosts).await {
            stopped = Some(reason);
            break;
        }
        let failures = run.stats.failures();
        match allowed {
            Some(allowed) if failures > allowed && !hosts.is_empty() => {
                run.send(Event::Notice(Notice::BudgetExhausted { failures, allowed }))
                    .await;
                stopped = Some(SkipReason::FailureBudget);
                break;
            }
            _ => {}
        }
    }
    let reason = stopped.unwrap_or(SkipReason::Interrupted);
    run.skip(hosts, reason).await;
    let end = RunEnd::new(run.stats, run.started.elapsed(), run.unreached);
    run.send(Event::RunFinished(end)).await;
    end
}

/// The state of one run while it goes.
struct Run<W: Worker> {
    worker: Arc<W>,
    parallel: usize,
    events: mpsc::Sender<Event>,
    interrupts: Interrupts,
    started: Instant,
    stats: Stats,
    /// Whether some host was never reached, which makes the run exit 2.
    unreached: bool,
}

/// A running host: its name and when it started.
type Running = (Arc<str>, Instant);

impl<W: Worker> Run<W> {
    /// Runs one stage to its end. Returns why the rest of the run must be
    /// skipped, if Ctrl-C said so.
    async fn stage(&mut self, mut pending: VecDeque<W::Host>) -> Option<SkipReason> {
        let mut tasks = JoinSet::new();
        let mut running: HashMap<Id, Running> = HashMap::new();
        let mut draining = self.stats.interrupted;
        let mut aborting = false;
        loop {
            while !draining && tasks.len() < self.parallel {
                let Some(host) = pending.pop_front() else {
                    break;
                };
                let alias = self.worker.alias(&host);
                self.stats.running += 1;
                self.send(Event::HostStarted {
                    host: alias.clone(),
                    stats: self.stats,
                })
                .await;
                let work = self.worker.clone().work(host, self.events.clone());
                let kill = self.interrupts.kill.clone();
                let handle = tasks.spawn(async move {
                    tokio::select! {
                        biased;
                        _ = kill.cancelled() => Outcome::failed(Cause::Interrupted),
                        outcome = work => outcome,
                    }
                });
                running.insert(handle.id(), (alias, Instant::now()));
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                _ = self.interrupts.drain.cancelled(), if !draining => {
                    draining = self.drain_started().await;
                    let never_started = std::mem::take(&mut pending);
                    self.skip(never_started, SkipReason::Interrupted).await;
                }
                _ = self.interrupts.kill.cancelled(), if !aborting => {
                    aborting = true;
                    self.stats.interrupted = true;
                    self.send(Event::Notice(Notice::Aborting)).await;
                }
                Some(joined) = tasks.join_next_with_id() => {
                    let (id, outcome) = match joined {
                        Ok((id, outcome)) => (id, outcome),
                        Err(e) => (e.id(), Outcome::failed(Cause::Panicked(panic_message(e)))),
                    };
                    if let Some((host, started)) = running.remove(&id) {
                        self.stats.running -= 1;
                        self.finish(host, outcome, started.elapsed()).await;
                    }
                }
            }
        }
        // Hosts of this stage still waiting when Ctrl-C came.
        self.skip(pending, SkipReason::Interrupted).await;
        draining.then_some(SkipReason::Interrupted)
    }

    /// Whether the first Ctrl-C has come; the first time it is seen, the
    /// run is marked interrupted and the user told.
    async fn drain_started(&mut self) -> bool {
        if self.interrupts.drain.is_cancelled() && !self.stats.interrupted {
            self.stats.interrupted = true;
            self.send(Event::Notice(Notice::Draining)).await;
        }
        self.stats.interrupted
    }

    /// Reports hosts that were never started.
    async fn skip(&mut self, hosts: impl IntoIterator<Item = W::Host>, reason: SkipReason) {
        for host in hosts {
            let alias = self.worker.alias(&host);
            let outcome = Outcome::failed(Cause::Skipped(reason));
            self.finish(alias, outcome, Duration::ZERO).await;
        }
    }

    async fn finish(&mut self, host: Arc<str>, outcome: Outcome, duration: Duration) {
        self.stats.counts[outcome.status().index()] += 1;
        self.unreached |= outcome.unreached();
        self.send(Event::HostFinished {
            host,
            outcome,
            duration,
            stats: self.stats,
        })
        .await;
    }

    async fn send(&self, event: Event) {
        // Without a receiver the outputs are gone; the run goes on.
        let _ = self.events.send(event).await;
    }
}

/// What a panicking host task said, for its outcome.
fn panic_message(e: tokio::task::JoinError) -> String {
    if e.is_cancelled() {
        return "the host's task was cancelled".into();
    }
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the host's task panicked".into())
}

#[cfg(test)]
mod tests;
