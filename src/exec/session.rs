//! One SSH connection: TCP with a timeout, the handshake with strict host
//! key checking, then public key authentication.
//!
//! Every failure becomes an [`Outcome`] naming its cause, so a host that is
//! down, lies about its key or refuses our keys is a line in the summary,
//! never an abort of the run.

use std::io;
use std::sync::{Arc, Mutex};

use russh::client::{self, AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::{Certificate, PublicKey};
use russh::keys::PrivateKeyWithHashAlg;
use russh::ChannelStream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::hostkey::HostKeyCheck;
use super::keys::KeyFile;
use super::HostPlan;
use crate::event::{Outcome, Status};

/// An authenticated session, ready for channels.
pub type Session = Handle<HostKeyCheck>;

/// A session to the target, with the jump-host sessions it is tunnelled
/// through: they must live as long as it does.
pub struct Connection {
    pub session: Session,
    _jumps: Vec<Session>,
}

/// Connects and authenticates, through any jump hosts, all within the
/// connect timeout (per hop), as OpenSSH applies ConnectTimeout to the whole
/// login, not just the TCP connect: a tarpit costs that timeout and nothing
/// more.
pub async fn open(plan: &HostPlan) -> Result<Connection, Outcome> {
    let hops = u32::try_from(plan.jumps.len() + 1).unwrap_or(u32::MAX);
    match tokio::time::timeout(plan.connect_timeout.saturating_mul(hops), open_chain(plan)).await {
        Ok(result) => result,
        Err(_) => Err(Outcome::failure(
            Status::Unreachable,
            "connection timed out",
        )),
    }
}

/// Logs in to each jump host through the one before it, then to the target
/// through the last. A failure at a jump host keeps its status and says
/// where it happened, so hosts behind the same broken bastion group together.
async fn open_chain(plan: &HostPlan) -> Result<Connection, Outcome> {
    let mut jumps: Vec<Session> = Vec::new();
    for hop in &plan.jumps {
        let session = reach(hop, jumps.last())
            .await
            .map_err(|outcome| through(&hop.alias, outcome))?;
        jumps.push(session);
    }
    let session = reach(plan, jumps.last()).await?;
    Ok(Connection {
        session,
        _jumps: jumps,
    })
}

/// Logs in to `plan`'s host directly, or through the jump host `via`.
async fn reach(plan: &HostPlan, via: Option<&Session>) -> Result<Session, Outcome> {
    match via {
        None => login(plan, connect_tcp(&plan.hostname, plan.port).await?).await,
        Some(via) => login(plan, tunnel(via, plan).await?).await,
    }
}

/// A TCP connection to `to` made by the jump host `via` (ssh -W).
async fn tunnel(via: &Session, to: &HostPlan) -> Result<ChannelStream<client::Msg>, Outcome> {
    match via
        .channel_open_direct_tcpip(to.hostname.as_str(), u32::from(to.port), "127.0.0.1", 0)
        .await
    {
        Ok(channel) => Ok(channel.into_stream()),
        Err(e) => Err(Outcome::failure(
            Status::Unreachable,
            format!(
                "the jump host could not connect to {}:{}: {e}",
                to.hostname, to.port
            ),
        )),
    }
}

fn through(jump: &str, outcome: Outcome) -> Outcome {
    let error = outcome.error.as_deref().unwrap_or("failed");
    Outcome {
        error: Some(format!("jump host {jump}: {error}")),
        ..outcome
    }
}

async fn login<S>(plan: &HostPlan, stream: S) -> Result<Session, Outcome>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let refusal = Arc::new(Mutex::new(None));
    let handler = HostKeyCheck {
        known: plan.known_hosts.clone(),
        host: plan.host_id.clone(),
        policy: plan.unknown_key_policy.clone(),
        learn_lock: plan.learn_lock.clone(),
        refusal: refusal.clone(),
    };
    let mut session = match client::connect_stream(plan.ssh_config.clone(), stream, handler).await {
        Ok(session) => session,
        Err(e) => {
            let refused = refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
            return Err(refused.unwrap_or_else(|| handshake_failure(&e)));
        }
    };
    authenticate(&mut session, plan).await?;
    Ok(session)
}

async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, Outcome> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| {
            Outcome::failure(
                Status::Unreachable,
                format!("could not resolve hostname {host}"),
            )
        })?
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
    Err(match last_error {
        Some(e) => Outcome::failure(Status::Unreachable, describe_io(&e)),
        None => Outcome::failure(
            Status::Unreachable,
            format!("could not resolve hostname {host}"),
        ),
    })
}

/// OpenSSH's wording for the usual socket errors, without the errno noise.
fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::TimedOut => "connection timed out".into(),
        io::ErrorKind::HostUnreachable => "no route to host".into(),
        io::ErrorKind::NetworkUnreachable => "network is unreachable".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        _ => e.to_string(),
    }
}

fn handshake_failure(e: &russh::Error) -> Outcome {
    match e {
        russh::Error::IO(io) => Outcome::failure(Status::Unreachable, describe_io(io)),
        russh::Error::Disconnect | russh::Error::HUP => Outcome::failure(
            Status::Unreachable,
            "connection closed by the server during the handshake",
        ),
        russh::Error::NoCommonAlgo { kind, .. } => Outcome::failure(
            Status::Error,
            format!("no {kind:?} algorithm in common with the server"),
        ),
        other => Outcome::failure(Status::Error, format!("SSH handshake failed: {other}")),
    }
}

/// Tries each identity in order until the server accepts one. Rejections by
/// the server are `auth_failed`; a broken local agent is not fatal, the
/// next identity is tried.
async fn authenticate(session: &mut Session, plan: &HostPlan) -> Result<(), Outcome> {
    let user = plan.user.as_str();
    let rsa_hash = session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let mut agent = match &plan.agent {
        Some(socket) if plan.identities.iter().any(|id| id.private.is_none()) => {
            AgentClient::connect_uds(socket).await.ok()
        }
        _ => None,
    };
    let mut methods = String::from("publickey");
    for (key, cert) in &plan.certificates {
        let result = session
            .authenticate_openssh_cert(user, key.clone(), Certificate::clone(cert))
            .await
            .map_err(protocol_error)?;
        if result.success() {
            return Ok(());
        }
    }
    for identity in plan.identities.iter() {
        let result = match (&identity.private, agent.as_mut()) {
            (Some(key), _) => {
                let key = PrivateKeyWithHashAlg::new(key.clone(), rsa_hash);
                session
                    .authenticate_publickey(user, key)
                    .await
                    .map_err(protocol_error)?
            }
            (None, Some(agent)) => {
                // An agent that can't sign this key is no reason to stop:
                // the next identity is tried.
                match session
                    .authenticate_publickey_with(user, identity.public.clone(), rsa_hash, agent)
                    .await
                {
                    Ok(result) => result,
                    Err(_) => continue,
                }
            }
            (None, None) => continue,
        };
        match result {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                let names: Vec<&str> = remaining_methods.iter().map(<&str>::from).collect();
                if !names.is_empty() {
                    methods = names.join(",");
                }
            }
        }
    }
    Err(Outcome::failure(
        Status::AuthFailed,
        format!("Permission denied ({methods})"),
    ))
}

fn protocol_error(e: russh::Error) -> Outcome {
    Outcome::failure(Status::Error, format!("authentication failed: {e}"))
}

/// The identities a host offers, in OpenSSH's order: its key files (signed
/// by the agent when only the agent can), then, unless IdentitiesOnly, the
/// agent's other keys.
pub fn offered_identities(
    files: Vec<Arc<KeyFile>>,
    agent_keys: &[PublicKey],
    identities_only: bool,
) -> Vec<Arc<KeyFile>> {
    let mut offered = files;
    if !identities_only {
        for key in agent_keys {
            if !offered
                .iter()
                .any(|f| f.public.key_data() == key.key_data())
            {
                offered.push(Arc::new(KeyFile {
                    public: key.clone(),
                    private: None,
                }));
            }
        }
    }
    offered
}
