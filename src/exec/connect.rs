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
    let entry = match access {
        Access::Login => Entry {
            ask_methods: false,
            log_in: true,
        },
        Access::Handshake { auth_methods } => Entry {
            ask_methods: auth_methods,
            log_in: false,
        },
    };
    open_for(spec, entry, jumps).await
}

/// A second login to a host already logged in to: asking first, when
/// `ask_methods`, which methods the server offers.
pub async fn open_fresh(
    spec: &ConnectSpec,
    ask_methods: bool,
    jumps: &Jumps,
) -> Result<Connection, Cause> {
    let entry = Entry {
        ask_methods,
        log_in: true,
    };
    open_for(spec, entry, jumps).await
}

/// What to do once the handshake is done.
#[derive(Clone, Copy)]
struct Entry {
    /// Ask the server which methods it offers (`none`).
    ask_methods: bool,
    /// Then log in.
    log_in: bool,
}

async fn open_for(spec: &ConnectSpec, entry: Entry, jumps: &Jumps) -> Result<Connection, Cause> {
    if let Some(reason) = spec.unsupported {
        return Err(Cause::Unsupported(reason.to_string()));
    }
    let (stream, tunnel) = open_stream(spec, spec.port, jumps).await?;
    let (session, reached) = within(spec, greet_and_enter(spec, entry, stream)).await?;
    Ok(Connection {
        session: Arc::new(session),
        reached,
        _tunnel: tunnel,
    })
}

/// A byte stream to `port` of `spec`'s host, direct or through its jump
/// hosts, with the tunnel it goes through, if any.
pub async fn open_stream(
    spec: &ConnectSpec,
    port: u16,
    jumps: &Jumps,
) -> Result<(Box<dyn Stream>, Option<Tunnel>), Cause> {
    if spec.jumps.is_empty() {
        let stream = within(spec, handshake::connect_tcp(&spec.hostname, port)).await?;
        Ok((Box::new(stream), None))
    } else {
        let (stream, tunnel) = jumps.tunnel(&spec.jumps, spec, port).await?;
        Ok((Box::new(stream), Some(tunnel)))
    }
}

/// A byte stream an SSH session can run over: TCP, or a tunnel.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

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

/// The handshake over `stream`, then the login a jump host needs.
pub async fn greet_and_login<S>(spec: &ConnectSpec, stream: S) -> Result<(Session, Reached), Cause>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let entry = Entry {
        ask_methods: false,
        log_in: true,
    };
    greet_and_enter(spec, entry, stream).await
}

/// The handshake over `stream`, then the question and the login `entry`
/// asks for.
async fn greet_and_enter<S>(
    spec: &ConnectSpec,
    entry: Entry,
    stream: S,
) -> Result<(Session, Reached), Cause>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut session, greeting) = handshake::greet(spec, stream).await?;
    let auth_methods = if entry.ask_methods {
        Some(auth::offered_methods(&mut session, &spec.user).await?)
    } else {
        None
    };
    let login = if entry.log_in {
        Some(auth::authenticate(&mut session, spec).await?)
    } else {
        None
    };
    let reached = Reached {
        server_version: greeting.server_version,
        host_key: greeting.host_key,
        auth_methods,
        login,
    };
    Ok((session, reached))
}
