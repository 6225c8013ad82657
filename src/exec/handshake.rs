//! The SSH handshake: a TCP connection, the key exchange and the strict
//! host key check, and nothing more. What the server showed comes back as
//! data ([`Greeted`]); nobody logs in here.

use std::io;
use std::sync::{Arc, Mutex};

use russh::client::{self, Handle};
use russh::keys::ssh_key::PublicKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::hostkey::{Greeting, HostKeyCheck};
use super::ConnectSpec;
use crate::cause::Cause;

/// An SSH session past the handshake, ready for authentication or channels.
pub type Session = Handle<HostKeyCheck>;

/// What the server showed on the way in.
pub struct Greeted {
    pub server_version: String,
    pub host_key: PublicKey,
}

/// Connects to `host:port`, trying each address it resolves to.
pub async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, Cause> {
    let unresolved = || Cause::Dns {
        host: host.to_string(),
    };
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| unresolved())?
        .collect();
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Small request/response packets: Nagle would only add latency.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or_else(unresolved, |e| socket_cause(&e)))
}

/// Runs the key exchange over `stream` and checks the host key.
pub async fn greet<S>(spec: &ConnectSpec, stream: S) -> Result<(Session, Greeted), Cause>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let greeting = Arc::new(Mutex::new(Greeting::default()));
    let handler = HostKeyCheck {
        known: spec.known_hosts.clone(),
        host: spec.host_id.clone(),
        policy: spec.unknown_key_policy.clone(),
        greeting: greeting.clone(),
    };
    let result = client::connect_stream(spec.ssh_config.clone(), stream, handler).await;
    let mut greeting = std::mem::take(&mut *greeting.lock().unwrap_or_else(|p| p.into_inner()));
    match result {
        Ok(session) => match greeting.host_key.take() {
            Some(host_key) => Ok((
                session,
                Greeted {
                    server_version: greeting.server_version.unwrap_or_default(),
                    host_key,
                },
            )),
            None => Err(Cause::Protocol(
                "the handshake ended without a host key".into(),
            )),
        },
        Err(e) => Err(greeting.refusal.unwrap_or_else(|| handshake_cause(&e))),
    }
}

/// The cause for a socket error, in OpenSSH's words for the usual ones.
pub fn socket_cause(e: &io::Error) -> Cause {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Cause::Refused,
        io::ErrorKind::TimedOut => Cause::ConnectTimedOut,
        io::ErrorKind::HostUnreachable => Cause::NoRoute,
        io::ErrorKind::NetworkUnreachable => Cause::NetworkUnreachable,
        io::ErrorKind::ConnectionReset => Cause::Reset,
        _ => Cause::Network(e.to_string()),
    }
}

fn handshake_cause(e: &russh::Error) -> Cause {
    match e {
        russh::Error::IO(io) => socket_cause(io),
        russh::Error::Disconnect | russh::Error::HUP => Cause::ClosedInHandshake,
        russh::Error::NoCommonAlgo { kind, .. } => Cause::NoCommonAlgorithm(format!("{kind:?}")),
        other => Cause::Protocol(format!("SSH handshake failed: {other}")),
    }
}
