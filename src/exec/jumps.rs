//! Jump hosts, shared: one login to each jump host per run, carrying the
//! tunnels of every target behind it.
//!
//! Tools that spawn OpenSSH log in to the bastion once per target, which
//! trips its MaxStartups at a few dozen hosts and pays the bastion's
//! handshake every time. Here the first target that needs a jump host logs
//! in to it; the others wait for that login and reuse it, or share its
//! failure, so a broken bastion is tried once and reported for every host
//! behind it. At most `--jump-parallel` tunnels are open through one jump
//! host at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use russh::client;
use russh::ChannelStream;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use super::connect::greet_and_login;
use super::handshake::{self, Session};
use super::ConnectSpec;
use crate::cause::Cause;
use crate::plan::Access;

/// Tunnels open through one jump host at once, unless `--jump-parallel`
/// says otherwise: enough to keep a fan-out busy, few enough that the
/// bastion is not swamped with forwarding work.
pub const DEFAULT_JUMP_PARALLEL: usize = 32;

/// The jump-host logins of one run.
pub struct Jumps {
    parallel: usize,
    /// Keyed by the chain of hops leading to (and including) the jump
    /// host, since the same host reached another way is another login.
    hops: Mutex<HashMap<Vec<HopId>, Arc<Hop>>>,
}

/// What tells two hops apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct HopId {
    alias: Arc<str>,
    hostname: String,
    port: u16,
    user: String,
}

impl HopId {
    fn of(spec: &ConnectSpec) -> HopId {
        HopId {
            alias: spec.alias.clone(),
            hostname: spec.hostname.clone(),
            port: spec.port,
            user: spec.user.clone(),
        }
    }
}

/// One jump host's login, made once, and the tunnels open through it.
struct Hop {
    login: OnceCell<Result<Login, Cause>>,
    tunnels: Arc<Semaphore>,
}

/// A logged-in jump host, and the tunnel it was reached through.
#[derive(Clone)]
struct Login {
    session: Arc<Session>,
    _through: Option<Arc<Tunnel>>,
}

/// A TCP stream through a jump host, and what must live as long as it:
/// its slot among the jump host's tunnels and the jump host's login.
pub struct Tunnel {
    _slot: OwnedSemaphorePermit,
    _via: Login,
}

impl Jumps {
    pub fn new(parallel: usize) -> Jumps {
        Jumps {
            parallel: parallel.max(1),
            hops: Mutex::new(HashMap::new()),
        }
    }

    /// A stream to `to` through `chain`, first hop first, logging in to
    /// each hop the first time any target needs it. A failure is the hop's,
    /// named as such, for every target behind it.
    pub async fn tunnel(
        &self,
        chain: &[ConnectSpec],
        to: &ConnectSpec,
    ) -> Result<(ChannelStream<client::Msg>, Tunnel), Cause> {
        let mut via: Option<(Login, Arc<Semaphore>)> = None;
        for (index, hop) in chain.iter().enumerate() {
            let entry = self.hop(&chain[..=index]);
            let login = entry
                .login
                .get_or_init(|| self.login(hop, via.clone()))
                .await
                .clone()
                .map_err(|cause| Cause::Jump {
                    host: hop.alias.clone(),
                    cause: Box::new(cause),
                })?;
            via = Some((login, entry.tunnels.clone()));
        }
        let (login, tunnels) = via.ok_or_else(|| {
            Cause::PlanError("a jump tunnel was asked for without jump hosts".into())
        })?;
        open(login, tunnels, to).await
    }

    fn hop(&self, chain: &[ConnectSpec]) -> Arc<Hop> {
        let key: Vec<HopId> = chain.iter().map(HopId::of).collect();
        // A std Mutex: it is never held across an `.await`.
        let mut hops = self.hops.lock().unwrap_or_else(|p| p.into_inner());
        hops.entry(key)
            .or_insert_with(|| {
                Arc::new(Hop {
                    login: OnceCell::new(),
                    tunnels: Arc::new(Semaphore::new(self.parallel)),
                })
            })
            .clone()
    }

    /// Logs in to `hop`, directly or through the jump host before it,
    /// within the hop's own connect timeout.
    async fn login(
        &self,
        hop: &ConnectSpec,
        via: Option<(Login, Arc<Semaphore>)>,
    ) -> Result<Login, Cause> {
        let reach = async {
            match via {
                None => {
                    let stream = handshake::connect_tcp(&hop.hostname, hop.port).await?;
                    let (session, _) = greet_and_login(hop, Access::Login, stream).await?;
                    Ok(Login {
                        session: Arc::new(session),
                        _through: None,
                    })
                }
                Some((login, tunnels)) => {
                    let (stream, tunnel) = open(login, tunnels, hop).await?;
                    let (session, _) = greet_and_login(hop, Access::Login, stream).await?;
                    Ok(Login {
                        session: Arc::new(session),
                        _through: Some(Arc::new(tunnel)),
                    })
                }
            }
        };
        match tokio::time::timeout(hop.connect_timeout, reach).await {
            Ok(result) => result,
            Err(_) => Err(Cause::ConnectTimedOut),
        }
    }
}

/// Opens a tunnel to `to` through the logged-in jump host, once one of its
/// tunnel slots is free (ssh -W).
async fn open(
    login: Login,
    tunnels: Arc<Semaphore>,
    to: &ConnectSpec,
) -> Result<(ChannelStream<client::Msg>, Tunnel), Cause> {
    let slot = tunnels
        .acquire_owned()
        .await
        .map_err(|_| Cause::PlanError("the jump host's tunnels were closed".into()))?;
    let channel = login
        .session
        .channel_open_direct_tcpip(to.hostname.as_str(), u32::from(to.port), "127.0.0.1", 0)
        .await
        .map_err(|e| Cause::Tunnel {
            to: format!("{}:{}", to.hostname, to.port),
            reason: e.to_string(),
        })?;
    Ok((
        channel.into_stream(),
        Tunnel {
            _slot: slot,
            _via: login,
        },
    ))
}
