//! The SSH handshake: a TCP connection, the key exchange and the host key
//! check, and nothing more. What the server showed comes back as data
//! ([`Greeted`]): its version, its key and known_hosts' verdict on it, and
//! the algorithms its key exchange init lists (read off the wire by
//! [`KexInitTap`], since russh keeps them to itself); nobody logs in here.
//!
//! To collect every key type a host offers ([`other_host_keys`]), each
//! other type gets a connection of its own that asks for that type only.
//! OpenSSH's sshd would present another host key on a re-key of the same
//! connection, but russh re-keys with the algorithms the session was made
//! with and does not show the handler the key of a re-key, so a re-key
//! can't be used here.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::try_join_all;
use russh::client::{self, Handle};
use russh::keys::ssh_key::{Algorithm, EcdsaCurve, HashAlg};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::hostkey::{Greeting, HostKeyCheck, UnknownKeyPolicy};
use super::ConnectSpec;
use crate::cause::Cause;
use crate::plan::{ObservedKey, Offered, Reached};

/// An SSH session past the handshake, ready for authentication or channels.
pub type Session = Handle<HostKeyCheck>;

/// What the server showed on the way in.
pub struct Greeted {
    pub server_version: String,
    pub host_key: ObservedKey,
    pub offered: Option<Offered>,
}

/// A byte stream to a host: TCP, or a tunnel through a jump host.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for S {}

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
pub async fn greet<S: Stream>(spec: &ConnectSpec, stream: S) -> Result<(Session, Greeted), Cause> {
    greet_with(spec, spec.ssh_config.clone(), stream).await
}

/// [`greet`] with another russh config.
async fn greet_with<S: Stream>(
    spec: &ConnectSpec,
    config: Arc<client::Config>,
    stream: S,
) -> Result<(Session, Greeted), Cause> {
    let greeting = Arc::new(Mutex::new(Greeting::default()));
    let handler = HostKeyCheck {
        known: spec.known_hosts.clone(),
        host: spec.host_id.clone(),
        policy: spec.unknown_key_policy.clone(),
        greeting: greeting.clone(),
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stream = KexInitTap {
        inner: stream,
        seen: Some(seen.clone()),
    };
    let result = client::connect_stream(config, stream, handler).await;
    let mut greeting = std::mem::take(&mut *greeting.lock().unwrap_or_else(|p| p.into_inner()));
    let offered = offered(&seen.lock().unwrap_or_else(|p| p.into_inner()));
    match result {
        Ok(session) => match (greeting.host_key.take(), greeting.verdict.take()) {
            (Some(key), Some(verdict)) => Ok((
                session,
                Greeted {
                    server_version: greeting.server_version.unwrap_or_default(),
                    host_key: ObservedKey { key, verdict },
                    offered,
                },
            )),
            _ => Err(Cause::Protocol(
                "the handshake ended without a host key".into(),
            )),
        },
        Err(e) => Err(greeting.refusal.unwrap_or_else(|| handshake_cause(&e))),
    }
}

/// The host's keys of every type it offers besides `first`, one connection
/// per type, all at once; `connect` opens each connection's stream. Used
/// only to observe keys: `spec`'s policy must be
/// [`UnknownKeyPolicy::Observe`].
pub async fn other_host_keys<S, F>(
    spec: &ConnectSpec,
    first: &Reached,
    connect: impl Fn() -> F,
) -> Result<Vec<ObservedKey>, Cause>
where
    S: Stream,
    F: Future<Output = Result<S, Cause>>,
{
    debug_assert_eq!(spec.unknown_key_policy, UnknownKeyPolicy::Observe);
    let offered = first
        .offered
        .as_ref()
        .map(|o| o.host_key.as_slice())
        .unwrap_or_default();
    let have = KeyType::of(&first.host_key().algorithm());
    let wanted: Vec<Vec<Algorithm>> = KeyType::ALL
        .iter()
        .filter(|kind| Some(**kind) != have)
        .map(|kind| kind.algorithms(offered))
        .filter(|algorithms| !algorithms.is_empty())
        .collect();
    let connections = wanted.into_iter().map(|algorithms| {
        let config = Arc::new(only_key_types(&spec.ssh_config, algorithms));
        let stream = connect();
        async move {
            let (session, greeted) = greet_with(spec, config, stream.await?).await?;
            let _ = session
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
            Ok::<_, Cause>(greeted.host_key)
        }
    });
    try_join_all(connections).await
}

/// The kinds of host key that known_hosts holds one line each for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Ed25519,
    Ecdsa(EcdsaCurve),
    Rsa,
}

impl KeyType {
    const ALL: [KeyType; 5] = [
        KeyType::Ed25519,
        KeyType::Ecdsa(EcdsaCurve::NistP256),
        KeyType::Ecdsa(EcdsaCurve::NistP384),
        KeyType::Ecdsa(EcdsaCurve::NistP521),
        KeyType::Rsa,
    ];

    fn of(algorithm: &Algorithm) -> Option<KeyType> {
        match algorithm {
            Algorithm::Ed25519 => Some(KeyType::Ed25519),
            Algorithm::Ecdsa { curve } => Some(KeyType::Ecdsa(*curve)),
            Algorithm::Rsa { .. } => Some(KeyType::Rsa),
            _ => None,
        }
    }

    /// The signature algorithms of this kind that `offered` (the server's
    /// host key algorithm names) lists, best first.
    fn algorithms(self, offered: &[String]) -> Vec<Algorithm> {
        let candidates = match self {
            KeyType::Ed25519 => vec![Algorithm::Ed25519],
            KeyType::Ecdsa(curve) => vec![Algorithm::Ecdsa { curve }],
            KeyType::Rsa => vec![
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
                Algorithm::Rsa { hash: None },
            ],
        };
        candidates
            .into_iter()
            .filter(|a| offered.iter().any(|name| name == a.as_str()))
            .collect()
    }
}

/// A config like `base` that asks for plain host keys of `algorithms` only.
fn only_key_types(base: &client::Config, algorithms: Vec<Algorithm>) -> client::Config {
    client::Config {
        preferred: russh::Preferred {
            key: algorithms.into(),
            host_key_certificates: Vec::new().into(),
            ..base.preferred.clone()
        },
        window_size: base.window_size,
        channel_buffer_size: base.channel_buffer_size,
        nodelay: base.nodelay,
        ..Default::default()
    }
}

/// How much of the server's first bytes [`KexInitTap`] keeps at most: its
/// version line, any banner lines before it, and its key exchange init,
/// which is a few KiB. A server that sends more before its key exchange
/// init just has no [`Offered`].
const TAP_LIMIT: usize = 64 * 1024;

/// A stream that keeps a copy of what the server sends first, so its key
/// exchange init can be read after the handshake.
struct KexInitTap<S> {
    inner: S,
    /// `None` once enough has been kept.
    seen: Option<Arc<Mutex<Vec<u8>>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for KexInitTap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(seen)) = (&polled, &self.seen) {
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.extend_from_slice(&buf.filled()[before..]);
            let enough = seen.len() >= TAP_LIMIT || offered(&seen).is_some();
            drop(seen);
            if enough {
                self.seen = None;
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KexInitTap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// SSH_MSG_KEXINIT.
const KEXINIT: u8 = 20;

/// The algorithms in the key exchange init that follows the version line
/// in `bytes` (what the server sent first), if it is all there.
fn offered(bytes: &[u8]) -> Option<Offered> {
    // Lines before the version line are a banner (RFC 4253 4.2).
    let mut rest = bytes;
    loop {
        let end = memchr::memchr(b'\n', rest)?;
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.starts_with(b"SSH-") {
            break;
        }
    }
    let length = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let packet = rest.get(4..4 + length)?;
    let (&padding, payload) = packet.split_first()?;
    let payload = payload.get(..payload.len().checked_sub(padding as usize)?)?;
    let (&kind, payload) = payload.split_first()?;
    if kind != KEXINIT {
        return None;
    }
    // A 16-byte cookie, then name-lists.
    let mut lists = payload.get(16..)?;
    let mut next = || -> Option<Vec<String>> {
        let length = u32::from_be_bytes(lists.get(..4)?.try_into().ok()?) as usize;
        let list = std::str::from_utf8(lists.get(4..4 + length)?).ok()?;
        lists = &lists[4 + length..];
        Some(
            list.split(',')
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    let kex = next()?;
    let host_key = next()?;
    let mut ciphers = next()?;
    let ciphers_back = next()?;
    let mut macs = next()?;
    let macs_back = next()?;
    merge(&mut ciphers, ciphers_back);
    merge(&mut macs, macs_back);
    Some(Offered {
        kex,
        host_key,
        ciphers,
        macs,
    })
}

fn merge(into: &mut Vec<String>, more: Vec<String>) {
    for name in more {
        if !into.contains(&name) {
            into.push(name);
        }
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
