//! The channels of one logged-in connection: every step of a host's plan
//! runs on a channel of its own, several at once where the plan asks, and
//! never more than the server allows.
//!
//! OpenSSH refuses a session channel past its MaxSessions (10 by default;
//! 9.2 says "connect failed"). That is not the host failing: the refused
//! step waits for another channel of the connection to close and tries
//! again. Each step drains its channel in a task of its own, so one slow
//! reader never stalls the others.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::client::Msg;
use russh::Channel;
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::handshake::Session;
use super::step;
use crate::cause::Cause;
use crate::event::Event;
use crate::plan::{Step, StepResult};

/// Channels a plan may have open at once before the server says how many
/// it takes.
const FIRST_LIMIT: usize = 64;

/// How often a refused channel is tried again when no other is open, and
/// the first pause before that (doubled each time); twenty pauses is the
/// longest a refused step waits for another channel to close before it
/// asks again anyway.
const RETRIES: u32 = 5;
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Runs steps on channels of one session.
#[derive(Clone)]
pub struct Channels {
    session: Arc<Session>,
    host: Arc<str>,
    events: mpsc::Sender<Event>,
    slots: Arc<Slots>,
}

/// The channels a connection may have open at once: how many may still be
/// asked for, how many are open and being asked for, and whether the server
/// ever gave one. `changed` wakes steps waiting for the server to take one
/// more when a channel closes.
struct Slots {
    free: Arc<Semaphore>,
    open: AtomicUsize,
    trying: AtomicUsize,
    granted: AtomicBool,
    changed: Notify,
}

/// One open channel's place among the connection's channels.
struct Slot {
    _permit: OwnedSemaphorePermit,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open.fetch_sub(1, Ordering::SeqCst);
        self.slots.changed.notify_waiters();
    }
}

impl Channels {
    pub fn new(session: Arc<Session>, host: Arc<str>, events: mpsc::Sender<Event>) -> Channels {
        Channels {
            session,
            host,
            events,
            slots: Arc::new(Slots {
                free: Arc::new(Semaphore::new(FIRST_LIMIT)),
                open: AtomicUsize::new(0),
                trying: AtomicUsize::new(0),
                granted: AtomicBool::new(false),
                changed: Notify::new(),
            }),
        }
    }

    /// Channels of another session of the same host, whose output is the
    /// host's like this one's.
    pub fn on_session(&self, session: Arc<Session>) -> Channels {
        Channels::new(session, self.host.clone(), self.events.clone())
    }

    /// Opens a session channel once the server will take one more. A
    /// server that never answers the request is given `limit` (the step's
    /// timeout) to do so.
    async fn open(&self, limit: Option<Duration>) -> Result<(Channel<Msg>, Slot), Cause> {
        let mut idle_retries = 0;
        loop {
            let permit =
                self.slots.free.clone().acquire_owned().await.map_err(|_| {
                    Cause::PlanError("the connection's channels were closed".into())
                })?;
            // Asked for before trying, so a channel that closes meanwhile
            // is not missed.
            let changed = self.slots.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            self.slots.trying.fetch_add(1, Ordering::SeqCst);
            let opening = self.session.channel_open_session();
            let opened = match limit {
                Some(limit) => tokio::time::timeout(limit, opening).await,
                None => Ok(opening.await),
            };
            self.slots.trying.fetch_sub(1, Ordering::SeqCst);
            let opened = opened.map_err(|_| Cause::Timeout(limit.unwrap_or_default()))?;
            match opened {
                Ok(channel) => {
                    self.slots.open.fetch_add(1, Ordering::SeqCst);
                    self.slots.granted.store(true, Ordering::SeqCst);
                    let slot = Slot {
                        _permit: permit,
                        slots: self.slots.clone(),
                    };
                    return Ok((channel, slot));
                }
                Err(russh::Error::ChannelOpenFailure(_)) => {
                    drop(permit);
                    if self.slots.open.load(Ordering::SeqCst) > 0 {
                        // Over MaxSessions: wait for another channel of this
                        // connection to close.
                        let _ = tokio::time::timeout(RETRY_PAUSE * 20, changed).await;
                    } else if self.slots.trying.load(Ordering::SeqCst) > 0 {
                        // Others asked at the same time and may have been
                        // given theirs: look again in a moment.
                        tokio::time::sleep(RETRY_PAUSE).await;
                    } else if self.slots.granted.load(Ordering::SeqCst) && idle_retries < RETRIES {
                        // The last ones closed while the server said no, and
                        // it may not have counted them out yet.
                        tokio::time::sleep(RETRY_PAUSE * 2u32.pow(idle_retries)).await;
                        idle_retries += 1;
                    } else {
                        return Err(Cause::ChannelRefused(
                            "the server opens no session channel".into(),
                        ));
                    }
                }
                Err(e) => return Err(Cause::ChannelRefused(e.to_string())),
            }
        }
    }

    /// Runs one step on a channel of its own.
    async fn run(&self, step: Step) -> StepResult {
        let (channel, _slot) = match self.open(step.timeout).await {
            Ok(opened) => opened,
            Err(cause) => return StepResult::failed(cause),
        };
        let alone = || self.slots.open.load(Ordering::SeqCst) == 1;
        step::run(
            &self.session,
            channel,
            step,
            &self.host,
            &self.events,
            alone,
        )
        .await
    }
}

impl Channels {
    /// Runs `steps`, each on a channel of its own and in a task of its own
    /// when there are several, and returns their results in their order.
    pub async fn run_all(&self, mut steps: Vec<Step>) -> Vec<StepResult> {
        if steps.len() == 1 {
            let step = steps.remove(0);
            return vec![self.run(step).await];
        }
        let mut tasks = JoinSet::new();
        for (index, step) in steps.into_iter().enumerate() {
            let channels = self.clone();
            tasks.spawn(async move { (index, channels.run(step).await) });
        }
        let mut results: Vec<Option<StepResult>> = Vec::new();
        results.resize_with(tasks.len(), || None);
        while let Some(joined) = tasks.join_next().await {
            // A step's task that panicked leaves its result missing below.
            if let Ok((index, result)) = joined {
                results[index] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    StepResult::failed(Cause::Panicked("a step's task panicked".into()))
                })
            })
            .collect()
    }
}
