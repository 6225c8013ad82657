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
mod session;

pub use command::Job;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::keys::ssh_key::{Algorithm, HashAlg, PublicKey};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::SetupError;
use crate::event::{Event, Outcome, Status};
use crate::known_hosts::{HostId, KnownHosts, KnownHostsError};
use crate::target::ssh_config::StrictHostKeyChecking;
use crate::target::Target;
use hostkey::{LearnLock, UnknownKeyPolicy};
use keys::KeyFile;

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

/// Everything needed to reach one host, decided before the run starts.
pub struct HostPlan {
    pub alias: Arc<str>,
    hostname: String,
    port: u16,
    user: String,
    host_id: HostId,
    known_hosts: Arc<KnownHosts>,
    unknown_key_policy: UnknownKeyPolicy,
    learn_lock: Arc<LearnLock>,
    identities: Vec<Arc<KeyFile>>,
    agent: Option<PathBuf>,
    connect_timeout: Duration,
    ssh_config: Arc<russh::client::Config>,
    /// Why this host can't be reached the way its config asks, if so: it
    /// is then reported as an error rather than reached some other way.
    unsupported: Option<&'static str>,
}

/// What [`prepare`] has to say besides the plans: settings it would not
/// honour, for the user to see once.
pub type Warnings = Vec<String>;

/// Reads every known_hosts file and key file the targets need, once each,
/// and builds their plans. Fails only on local problems: a malformed
/// known_hosts, a missing or unprotected key, a passphrase that can't be had.
pub async fn prepare(
    targets: &[Target],
    opts: &ExecOptions,
) -> Result<(Vec<HostPlan>, Warnings), SetupError> {
    let mut warnings = Warnings::new();
    let mut agent_cache: HashMap<PathBuf, Vec<PublicKey>> = HashMap::new();
    for target in targets {
        if let Some(socket) = keys::agent_socket(target.options.identity_agent.as_deref()) {
            if let Entry::Vacant(slot) = agent_cache.entry(socket) {
                let held = keys::agent_keys(slot.key()).await;
                slot.insert(held);
            }
        }
    }
    let key_paths = targets
        .iter()
        .flat_map(|t| keys::identity_paths(&t.options.identity_files, &opts.home));
    let key_files = keys::load_all(key_paths, |key| {
        agent_cache
            .values()
            .flatten()
            .any(|held| held.key_data() == key.key_data())
    })?;

    let known_hosts = load_known_hosts(targets)?;
    let learn_lock = Arc::new(LearnLock::default());
    let mut configs = ConfigCache::default();
    let mut plans = Vec::with_capacity(targets.len());
    for (index, target) in targets.iter().enumerate() {
        let o = &target.options;
        let known = known_hosts[index].clone();
        let host_id = target.host_id();
        let policy = unknown_key_policy(target, opts.insecure_ignore_host_keys, &mut warnings);
        let agent = keys::agent_socket(o.identity_agent.as_deref());
        let agent_keys = agent
            .as_ref()
            .and_then(|s| agent_cache.get(s))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let files = keys::identity_paths(&o.identity_files, &opts.home)
            .iter()
            .filter_map(|p| key_files.get(p).cloned())
            .collect();
        let identities = session::offered_identities(files, agent_keys, o.identities_only);
        let unsupported = if o.proxy_command {
            Some("ProxyCommand is not supported: fleet does not run local commands to reach hosts")
        } else if o.proxy_jump.is_some() {
            Some("ProxyJump is not supported yet")
        } else {
            None
        };
        plans.push(HostPlan {
            unsupported,
            alias: Arc::from(target.alias.as_str()),
            hostname: o.hostname.clone(),
            port: o.port,
            user: o.user.clone(),
            ssh_config: configs.get(
                known.known_algorithms(&host_id),
                o.server_alive_interval,
                o.server_alive_count_max,
            ),
            host_id,
            known_hosts: known,
            unknown_key_policy: policy,
            learn_lock: learn_lock.clone(),
            identities,
            agent,
            connect_timeout: opts
                .connect_timeout
                .or(o.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        });
    }
    warnings.sort();
    warnings.dedup();
    Ok((plans, warnings))
}

/// The known_hosts entries for each target, in order; each distinct set of
/// files is read once and shared.
pub fn load_known_hosts(targets: &[Target]) -> Result<Vec<Arc<KnownHosts>>, KnownHostsError> {
    let mut loaded: HashMap<Vec<PathBuf>, Arc<KnownHosts>> = HashMap::new();
    targets
        .iter()
        .map(|target| {
            let files = target.known_hosts_files();
            if let Some(known) = loaded.get(&files) {
                return Ok(known.clone());
            }
            let known = Arc::new(KnownHosts::load(&files)?);
            loaded.insert(files, known.clone());
            Ok(known)
        })
        .collect()
}

/// StrictHostKeyChecking, made strict: `no` is only honoured together with
/// `--insecure-ignore-host-keys`, and `ask` refuses (a fan-out can't ask).
fn unknown_key_policy(
    target: &Target,
    insecure: bool,
    warnings: &mut Warnings,
) -> UnknownKeyPolicy {
    if insecure {
        return UnknownKeyPolicy::AcceptAnything;
    }
    let o = &target.options;
    match o.strict_host_key_checking {
        StrictHostKeyChecking::AcceptNew => match o.user_known_hosts_files.first() {
            Some(file) => UnknownKeyPolicy::Learn(file.clone()),
            None => UnknownKeyPolicy::Refuse,
        },
        StrictHostKeyChecking::No => {
            warnings.push(
                "ssh_config sets StrictHostKeyChecking no; fleet checks host keys strictly anyway \
                 (pass --insecure-ignore-host-keys to really skip the check)"
                    .into(),
            );
            UnknownKeyPolicy::Refuse
        }
        StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => UnknownKeyPolicy::Refuse,
    }
}

/// Shares one russh config among hosts with the same host key preferences
/// and keepalive settings.
#[derive(Default)]
struct ConfigCache(HashMap<(Vec<Algorithm>, Option<Duration>, u32), Arc<russh::client::Config>>);

impl ConfigCache {
    fn get(
        &mut self,
        known: Vec<Algorithm>,
        alive: Option<Duration>,
        alive_max: u32,
    ) -> Arc<russh::client::Config> {
        let alive = alive.filter(|d| !d.is_zero());
        self.0
            .entry((known, alive, alive_max))
            .or_insert_with_key(|(known, alive, alive_max)| {
                let preferred = russh::Preferred {
                    key: host_key_order(known).into(),
                    ..Default::default()
                };
                Arc::new(russh::client::Config {
                    preferred,
                    keepalive_interval: *alive,
                    keepalive_max: *alive_max as usize,
                    nodelay: true,
                    ..Default::default()
                })
            })
            .clone()
    }
}

/// Offers the key types known_hosts already has for the host first, as
/// OpenSSH does; otherwise a host known only by its ECDSA key would present
/// its Ed25519 key and look unknown.
fn host_key_order(known: &[Algorithm]) -> Vec<Algorithm> {
    let mut order: Vec<Algorithm> = Vec::new();
    for alg in known {
        let wanted = if matches!(alg, Algorithm::Rsa { .. }) {
            vec![
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
            ]
        } else {
            vec![alg.clone()]
        };
        for alg in wanted {
            if !order.contains(&alg) {
                order.push(alg);
            }
        }
    }
    for alg in russh::Preferred::DEFAULT.key.iter() {
        if !order.contains(alg) {
            order.push(alg.clone());
        }
    }
    order
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
    let session = match session::open(plan).await {
        Ok(session) => session,
        Err(outcome) => return outcome,
    };
    let outcome = command::run(&session, job, &plan.alias, events, timeout).await;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    outcome
}
