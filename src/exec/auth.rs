//! Logging in once the handshake is done: certificates, key files and
//! agent keys, in OpenSSH's order; or, for work that only looks, asking
//! the server which methods it offers without trying any.

use russh::client::AuthResult;
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::Certificate;
use russh::keys::PrivateKeyWithHashAlg;
use russh::MethodSet;

use super::handshake::Session;
use super::ConnectSpec;
use crate::cause::Cause;

/// Tries each identity in order until the server accepts one. Rejections by
/// the server are [`Cause::AuthDenied`]; a broken local agent is not fatal,
/// the next identity is tried.
pub async fn authenticate(session: &mut Session, spec: &ConnectSpec) -> Result<(), Cause> {
    let user = spec.user.as_str();
    let rsa_hash = session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let mut agent = match &spec.agent {
        Some(socket) if spec.identities.iter().any(|id| id.private.is_none()) => {
            AgentClient::connect_uds(socket).await.ok()
        }
        _ => None,
    };
    let mut methods = vec!["publickey".to_string()];
    for (key, cert) in &spec.certificates {
        let result = session
            .authenticate_openssh_cert(user, key.clone(), Certificate::clone(cert))
            .await
            .map_err(protocol_error)?;
        if result.success() {
            return Ok(());
        }
    }
    for identity in spec.identities.iter() {
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
                let names = method_names(&remaining_methods);
                if !names.is_empty() {
                    methods = names;
                }
            }
        }
    }
    Err(Cause::AuthDenied { methods })
}

/// The methods the server offers `user`, from its answer to the `none`
/// method (RFC 4252 §5.2), which tries no credential at all.
pub async fn offered_methods(session: &mut Session, user: &str) -> Result<Vec<String>, Cause> {
    match session
        .authenticate_none(user)
        .await
        .map_err(protocol_error)?
    {
        // A server that lets anyone in without credentials.
        AuthResult::Success => Ok(vec!["none".to_string()]),
        AuthResult::Failure {
            remaining_methods, ..
        } => Ok(method_names(&remaining_methods)),
    }
}

fn method_names(methods: &MethodSet) -> Vec<String> {
    methods
        .iter()
        .map(|m| <&str>::from(m).to_string())
        .collect()
}

fn protocol_error(e: russh::Error) -> Cause {
    Cause::Protocol(format!("authentication failed: {e}"))
}
