//! Reaching a host: through its jump hosts, each logged in to, then the
//! target itself, greeted ([`handshake`]) and, for work that needs it,
//! logged in to ([`auth`]).
//!
//! Every failure becomes a [`Cause`], so a host that is down, lies about
//! its key or refuses our keys is a line in the summary, never an abort of
//! the run.

use russh::client;
use russh::ChannelStream;
use tokio::io::{AsyncRead, AsyncWrite};

use super::handshake::{self, Session};
use super::{auth, ConnectSpec};
use crate::cause::Cause;
use crate::plan::{Access, HostKeys, Reached};

/// A session to the target, with the jump-host sessions it is tunnelled
/// through: they must live as long as it does.
pub struct Connection {
    pub session: Session,
    pub reached: Reached,
    jumps: Vec<Session>,
}

impl Connection {
    /// Says goodbye to the target, then to each jump host, last hop first.
    pub async fn close(self) {
        for session in std::iter::once(&self.session).chain(self.jumps.iter().rev()) {
            let _ = session
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }
}

/// Reaches `spec`'s host with the `access` the work needs, through any jump
/// hosts, all within the connect timeout (per hop): OpenSSH applies
/// ConnectTimeout to the whole login, not just the TCP connect, so a
/// tarpit costs that timeout and nothing more.
pub async fn open(spec: &ConnectSpec, access: Access) -> Result<Connection, Cause> {
    if let Some(reason) = spec.unsupported {
        return Err(Cause::Unsupported(reason));
    }
    let hops = u32::try_from(spec.jumps.len() + 1).unwrap_or(u32::MAX);
    let limit = spec.connect_timeout.saturating_mul(hops);
    match tokio::time::timeout(limit, open_chain(spec, access)).await {
        Ok(result) => result,
        Err(_) => Err(Cause::ConnectTimedOut),
    }
}

/// Logs in to each jump host through the one before it, then reaches the
/// target through the last. A failure at a jump host keeps its status and
/// says where it happened, so hosts behind the same broken bastion group
/// together.
async fn open_chain(spec: &ConnectSpec, access: Access) -> Result<Connection, Cause> {
    let mut jumps: Vec<Session> = Vec::new();
    for hop in &spec.jumps {
        let through = |cause| Cause::Jump {
            host: hop.alias.clone(),
            cause: Box::new(cause),
        };
        let (session, _) = reach(hop, Access::Login, jumps.last())
            .await
            .map_err(through)?;
        jumps.push(session);
    }
    let (session, reached) = reach(spec, access, jumps.last()).await?;
    Ok(Connection {
        session,
        reached,
        jumps,
    })
}

/// Reaches `spec`'s host directly, or through the jump host `via`.
async fn reach(
    spec: &ConnectSpec,
    access: Access,
    via: Option<&Session>,
) -> Result<(Session, Reached), Cause> {
    let (session, mut reached) = greet_and_login(spec, access, stream(spec, via).await?).await?;
    if let Access::Handshake {
        host_keys: HostKeys::AllObserved,
        ..
    } = access
    {
        let others = handshake::other_host_keys(spec, &reached, || stream(spec, via)).await?;
        reached.host_keys.extend(others);
    }
    Ok((session, reached))
}

/// A new connection to `spec`'s host, direct or through the jump host `via`.
async fn stream(
    spec: &ConnectSpec,
    via: Option<&Session>,
) -> Result<Box<dyn handshake::Stream>, Cause> {
    Ok(match via {
        None => Box::new(handshake::connect_tcp(&spec.hostname, spec.port).await?),
        Some(via) => Box::new(tunnel(via, spec).await?),
    })
}

/// A TCP connection to `to` made by the jump host `via` (ssh -W).
async fn tunnel(via: &Session, to: &ConnectSpec) -> Result<ChannelStream<client::Msg>, Cause> {
    match via
        .channel_open_direct_tcpip(to.hostname.as_str(), u32::from(to.port), "127.0.0.1", 0)
        .await
    {
        Ok(channel) => Ok(channel.into_stream()),
        Err(e) => Err(Cause::Tunnel {
            to: format!("{}:{}", to.hostname, to.port),
            reason: e.to_string(),
        }),
    }
}

async fn greet_and_login<S>(
    spec: &ConnectSpec,
    access: Access,
    stream: S,
) -> Result<(Session, Reached), Cause>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut session, greeting) = handshake::greet(spec, stream).await?;
    let auth_methods = match access {
        Access::Login => {
            auth::authenticate(&mut session, spec).await?;
            None
        }
        Access::Handshake {
            auth_methods: true, ..
        } => Some(auth::offered_methods(&mut session, &spec.user).await?),
        Access::Handshake {
            auth_methods: false,
            ..
        } => None,
    };
    let reached = Reached {
        server_version: greeting.server_version,
        host_keys: vec![greeting.host_key],
        offered: greeting.offered,
        auth_methods,
    };
    Ok((session, reached))
}
