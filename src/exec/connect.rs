//! Reaching a host: through its jump hosts (shared, see [`Jumps`]), then
//! the target itself, greeted ([`handshake`]) and, for work that needs it,
//! logged in to ([`auth`]).
//!
//! Every failure becomes a [`Cause`], so a host that is down, lies about
//! its key or refuses our keys is a line in the summary, never an abort of
//! the run.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::handshake::{self, Session, Stream};
use super::jumps::{Jumps, Tunnel};
use super::{auth, ConnectSpec};
use crate::cause::Cause;
use crate::plan::{Access, HostKeys, Reached};

/// A logged-in (or greeted) session to the target, and what it found.
pub struct Connection {
    pub session: Arc<Session>,
    pub reached: Reached,
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
            host_keys: HostKeys::Checked,
        },
        Access::Handshake {
            auth_methods,
            host_keys,
        } => Entry {
            ask_methods: auth_methods,
            log_in: false,
            host_keys,
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
        host_keys: HostKeys::Checked,
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
    /// What becomes of the host's keys.
    host_keys: HostKeys,
}

async fn open_for(spec: &ConnectSpec, entry: Entry, jumps: &Jumps) -> Result<Connection, Cause> {
    if let Some(reason) = spec.unsupported {
        return Err(Cause::Unsupported(reason.to_string()));
    }
    let link = open_stream(spec, spec.port, jumps).await?;
    let (session, mut reached) = within(spec, greet_and_enter(spec, entry, link)).await?;
    if entry.host_keys == HostKeys::AllObserved {
        let connect = || open_stream(spec, spec.port, jumps);
        let others = within(spec, handshake::other_host_keys(spec, &reached, connect)).await?;
        reached.host_keys.extend(others);
    }
    Ok(Connection {
        session: Arc::new(session),
        reached,
    })
}

/// A byte stream to `port` of `spec`'s host, direct or through its jump
/// hosts.
pub async fn open_stream(spec: &ConnectSpec, port: u16, jumps: &Jumps) -> Result<Link, Cause> {
    if spec.jumps.is_empty() {
        let stream = within(spec, handshake::connect_tcp(&spec.hostname, port)).await?;
        Ok(Link {
            stream: Box::new(stream),
            _tunnel: None,
        })
    } else {
        let (stream, tunnel) = jumps.tunnel(&spec.jumps, spec, port).await?;
        Ok(Link {
            stream: Box::new(stream),
            _tunnel: Some(tunnel),
        })
    }
}

/// A stream to a host, holding the tunnel it goes through (if any) for as
/// long as the session over it lives.
pub struct Link {
    stream: Box<dyn Stream>,
    _tunnel: Option<Tunnel>,
}

impl AsyncRead for Link {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Link {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

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
        host_keys: HostKeys::Checked,
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
        host_keys: vec![greeting.host_key],
        offered: greeting.offered,
        auth_methods,
        login,
    };
    Ok((session, reached))
}
