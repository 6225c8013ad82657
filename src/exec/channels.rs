//! The channels of one logged-in connection: every step of a host's plan
//! runs on a channel of its own, several at once where the plan asks, and
//! never more than the server allows.
//!
//! OpenSSH refuses a session channel past its MaxSessions (10 by default;
//! 9.2 says "connect failed"). That is not the host failing: the
//! refused step waits for another channel of the connection to close and
//! tries again, and the connection remembers the lower limit. Each step
//! drains its channel in a task of its own, so one slow reader never
//! stalls the others.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::client::Msg;
use russh::Channel;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::drive::StepRunner;
use super::handshake::Session;
use super::step;
use crate::cause::Cause;
use crate::event::Event;
use crate::plan::{Step, StepResult};

/// Channels a plan may have open at once before the server says how many
/// it takes.
const FIRST_LIMIT: usize = 64;

/// How often a refused channel is tried again when no other is open, and
/// the first pause before that (doubled each time).
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

/// The channels a connection may still open, how many are open, and
/// whether the server ever gave one.
struct Slots {
    free: Arc<Semaphore>,
    open: AtomicUsize,
    opened: AtomicBool,
}

/// One open channel's place among the connection's channels.
struct Slot {
    _permit: OwnedSemaphorePermit,
    slots: Arc<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open.fetch_sub(1, Ordering::SeqCst);
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
                opened: AtomicBool::new(false),
            }),
        }
    }

    /// Opens a session channel once the server will take one more.
    async fn open(&self) -> Result<(Channel<Msg>, Slot), Cause> {
        let mut retries = 0;
        loop {
            let permit =
                self.slots.free.clone().acquire_owned().await.map_err(|_| {
                    Cause::PlanError("the connection's channels were closed".into())
                })?;
            match self.session.channel_open_session().await {
                Ok(channel) => {
                    self.slots.open.fetch_add(1, Ordering::SeqCst);
                    self.slots.opened.store(true, Ordering::SeqCst);
                    let slot = Slot {
                        _permit: permit,
                        slots: self.slots.clone(),
                    };
                    return Ok((channel, slot));
                }
                // Over MaxSessions while others are open: the connection
                // takes no more channels than are open now, and the step
                // waits for one of them to close.
                Err(russh::Error::ChannelOpenFailure(_))
                    if self.slots.open.load(Ordering::SeqCst) > 0 =>
                {
                    permit.forget();
                    let spare = self.slots.free.available_permits();
                    self.slots.free.forget_permits(spare);
                }
                // The others closed while the server said no, and it may
                // not have counted them out yet: try again shortly.
                Err(russh::Error::ChannelOpenFailure(_))
                    if self.slots.opened.load(Ordering::SeqCst) && retries < RETRIES =>
                {
                    drop(permit);
                    tokio::time::sleep(RETRY_PAUSE * 2u32.pow(retries)).await;
                    retries += 1;
                }
                Err(e) => return Err(Cause::ChannelRefused(e.to_string())),
            }
        }
    }

    /// Runs one step on a channel of its own.
    async fn run(&self, step: Step) -> StepResult {
        let (channel, _slot) = match self.open().await {
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

impl StepRunner for Channels {
    async fn run_all(&mut self, mut steps: Vec<Step>) -> Vec<StepResult> {
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
