//! Reaching a host: through its jump hosts (shared, see [`Jumps`]), then
//! the target itself, greeted ([`handshake`]) and, for work that needs it,
//! logged in to ([`auth`]).
//!
//! Every failure becomes a [`Cause`], so a host that is down, lies about
//! its key or refuses our keys is a line in the summary, never an abort of
//! the run.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::handshake::{self, Session};
use super::jumps::{Jumps, Tunnel};
use super::{auth, ConnectSpec};
use crate::cause::Cause;
use crate::plan::{Access, Reached};

/// A session to the target, with the tunnel through its jump hosts, which
/// must live as long as it does.
pub struct Connection {
    pub session: Arc<Session>,
    pub reached: Reached,
    _tunnel: Option<Tunnel>,
}

impl Connection {
    /// Says goodbye to the target; jump hosts stay logged in for the other
    /// targets behind them.
    pub async fn close(self) {
        let _ = self
            .session
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Reaches `spec`'s host with the `access` the work needs, through its jump
/// hosts if it has any (logged in to once per run, in `jumps`). The connect
/// timeout covers the target's TCP connect, handshake and login, as
/// OpenSSH's ConnectTimeout covers the whole login, so a tarpit costs that
/// timeout and nothing more; each jump host has its own.
pub async fn open(spec: &ConnectSpec, access: Access, jumps: &Jumps) -> Result<Connection, Cause> {
    if let Some(reason) = spec.unsupported {
        return Err(Cause::Unsupported(reason.to_string()));
    }
    let (stream, tunnel): (Box<dyn Stream>, _) = if spec.jumps.is_empty() {
        let stream = within(spec, handshake::connect_tcp(&spec.hostname, spec.port)).await?;
        (Box::new(stream), None)
    } else {
        let (stream, tunnel) = jumps.tunnel(&spec.jumps, spec).await?;
        (Box::new(stream), Some(tunnel))
    };
    let (session, reached) = within(spec, greet_and_login(spec, access, stream)).await?;
    Ok(Connection {
        session: Arc::new(session),
        reached,
        _tunnel: tunnel,
    })
}

/// A byte stream an SSH session can run over: TCP, or a tunnel.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for S {}

/// `work` within `spec`'s connect timeout.
async fn within<T>(
    spec: &ConnectSpec,
    work: impl std::future::Future<Output = Result<T, Cause>>,
) -> Result<T, Cause> {
    tokio::time::timeout(spec.connect_timeout, work)
        .await
        .unwrap_or(Err(Cause::ConnectTimedOut))
}

/// The handshake over `stream`, then the login or the question the work
/// needs.
pub async fn greet_and_login<S>(
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
        Access::Handshake { auth_methods: true } => {
            Some(auth::offered_methods(&mut session, &spec.user).await?)
        }
        Access::Handshake {
            auth_methods: false,
        } => None,
    };
    let reached = Reached {
        server_version: greeting.server_version,
        host_key: greeting.host_key,
        auth_methods,
    };
    Ok((session, reached))
}
