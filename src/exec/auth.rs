//! Logging in once the handshake is done: certificates, key files and
//! agent keys, in OpenSSH's order, then a password where the run was given
//! one; or, for work that only looks, asking the server which methods it
//! offers without trying any.

use russh::client::{AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::{Algorithm, Certificate};
use russh::keys::PrivateKeyWithHashAlg;
use russh::MethodSet;

use super::handshake::Session;
use super::ConnectSpec;
use crate::cause::Cause;
use crate::finding::describe;
use crate::plan::Login;
use crate::secret::Secret;

/// Tries each identity in order until the server accepts one, then, only
/// where the run was given a password (`--password`), the password and
/// keyboard-interactive answered with it. Rejections by the server are
/// [`Cause::AuthDenied`]; a broken local agent is not fatal, the next
/// identity is tried.
pub async fn authenticate(session: &mut Session, spec: &ConnectSpec) -> Result<Login, Cause> {
    let mut methods = vec!["publickey".to_string()];
    if let Some(login) = with_keys(session, spec, &mut methods).await? {
        return Ok(login);
    }
    if let Some(password) = &spec.password {
        if let Some(login) = with_password(session, &spec.user, password, &mut methods).await? {
            return Ok(login);
        }
    }
    Err(Cause::AuthDenied { methods })
}

/// Certificates, then key files and agent keys. `methods` learns what the
/// server still offers after each refusal.
async fn with_keys(
    session: &mut Session,
    spec: &ConnectSpec,
    methods: &mut Vec<String>,
) -> Result<Option<Login>, Cause> {
    let user = spec.user.as_str();
    let mut agent = match &spec.agent {
        Some(socket) if spec.identities.iter().any(|id| id.private.is_none()) => {
            AgentClient::connect_uds(socket).await.ok()
        }
        _ => None,
    };
    for (key, cert) in &spec.certificates {
        let result = session
            .authenticate_openssh_cert(user, key.clone(), Certificate::clone(cert))
            .await
            .map_err(protocol_error)?;
        if result.success() {
            return Ok(Some(Login::Certificate(describe(cert.public_key()))));
        }
    }
    // Only RSA keys need to know which signature hash the server takes, and
    // asking may wait for the server's extension list.
    let rsa_hash = if spec
        .identities
        .iter()
        .any(|id| matches!(id.public.algorithm(), Algorithm::Rsa { .. }))
    {
        session
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten()
    } else {
        None
    };
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
            AuthResult::Success => {
                return Ok(Some(Login::Key(describe(identity.public.key_data()))))
            }
            AuthResult::Failure {
                remaining_methods, ..
            } => learn(methods, &remaining_methods),
        }
    }
    Ok(None)
}

/// The password, where the server offers `password`, else keyboard-
/// interactive with every hidden prompt answered with it, as OpenSSH's
/// client does with `PreferredAuthentications keyboard-interactive`.
async fn with_password(
    session: &mut Session,
    user: &str,
    password: &Secret,
    methods: &mut Vec<String>,
) -> Result<Option<Login>, Cause> {
    if methods.iter().any(|m| m == "password") {
        match session
            .authenticate_password(user, password.as_str())
            .await
            .map_err(protocol_error)?
        {
            AuthResult::Success => return Ok(Some(Login::Password)),
            AuthResult::Failure {
                remaining_methods, ..
            } => learn(methods, &remaining_methods),
        }
    }
    if !methods.iter().any(|m| m == "keyboard-interactive") {
        return Ok(None);
    }
    let mut reply = session
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .map_err(protocol_error)?;
    // A server that keeps asking is given up on after a few rounds.
    for _ in 0..KBD_ROUNDS {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(Some(Login::Password)),
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods, ..
            } => {
                learn(methods, &remaining_methods);
                return Ok(None);
            }
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts
                    .iter()
                    .map(|p| {
                        if p.echo {
                            String::new()
                        } else {
                            password.to_string()
                        }
                    })
                    .collect();
                reply = session
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                    .map_err(protocol_error)?;
            }
        }
    }
    Ok(None)
}

/// Rounds of keyboard-interactive questions answered before giving up.
const KBD_ROUNDS: usize = 4;

/// Keeps what the server still offers, when it says.
fn learn(methods: &mut Vec<String>, remaining: &MethodSet) {
    let names = method_names(remaining);
    if !names.is_empty() {
        *methods = names;
    }
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
