//! What a host plan can ask of the SSH worker besides the login it runs
//! on: steps on that login's channels, a fresh login proving the host is
//! still reachable, and a port probe from where fleet runs.

use std::time::Duration;

use super::channels::Channels;
use super::connect::{self, Connection};
use super::drive::HostActions;
use super::jumps::Jumps;
use super::ConnectSpec;
use crate::cause::Cause;
use crate::finding::describe;
use crate::plan::{FreshLogin, FreshLoginResult, PortProbe, Step, StepResult};

/// A port probe's wait for an answer: a port a firewall drops answers
/// never, so only the wait tells it from one that is open.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The actions of one host's work.
pub struct Actions<'a> {
    pub spec: &'a ConnectSpec,
    pub jumps: &'a Jumps,
    /// The logged-in connection's channels; `None` for handshake-only work.
    pub channels: Option<Channels>,
}

impl HostActions for Actions<'_> {
    async fn run_all(&mut self, steps: Vec<Step>) -> Vec<StepResult> {
        match &self.channels {
            Some(channels) => channels.run_all(steps).await,
            None => steps
                .iter()
                .map(|_| {
                    StepResult::failed(Cause::PlanError(
                        "a handshake-only plan asked to run a command".into(),
                    ))
                })
                .collect(),
        }
    }

    /// Logs in anew, keys only, on the asked-for port, while the first
    /// connection stays open; runs the asked-for step on the new one.
    async fn fresh_login(&mut self, fresh: FreshLogin) -> FreshLoginResult {
        let Some(channels) = &self.channels else {
            return FreshLoginResult {
                login: Err(Cause::PlanError(
                    "a handshake-only plan asked for a fresh login".into(),
                )),
                auth_methods: None,
                step: None,
            };
        };
        let mut spec = self.spec.clone();
        // What a fresh login proves is that a key still gets in.
        spec.password = None;
        if let Some(port) = fresh.port {
            spec.port = port;
        }
        if let Some(identity) = &fresh.identity {
            spec.identities
                .retain(|key| &describe(key.public.key_data()) == identity);
            spec.certificates.clear();
        }
        let connection = match connect::open_fresh(&spec, fresh.auth_methods, self.jumps).await {
            Ok(connection) => connection,
            Err(cause) => {
                return FreshLoginResult {
                    login: Err(cause),
                    auth_methods: None,
                    step: None,
                }
            }
        };
        let step = match fresh.step {
            Some(step) => Some(on(&connection, channels, step).await),
            None => None,
        };
        let Connection { reached, .. } = &connection;
        let result = FreshLoginResult {
            login: reached
                .login
                .clone()
                .ok_or_else(|| Cause::PlanError("the fresh login did not log in".into())),
            auth_methods: reached.auth_methods.clone(),
            step,
        };
        connection.close().await;
        result
    }

    async fn probe(&mut self, port: u16) -> PortProbe {
        let attempt = connect::open_stream(self.spec, port, self.jumps);
        match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
            Err(_) | Ok(Err(Cause::ConnectTimedOut)) => PortProbe::Filtered,
            Ok(Ok(_)) => PortProbe::Listening,
            // Through a jump host, the bastion's own connect failing at
            // once is the refusal.
            Ok(Err(Cause::Refused | Cause::TunnelConnectFailed { .. })) => PortProbe::Refused,
            Ok(Err(cause)) => PortProbe::Failed(cause),
        }
    }
}

/// Runs `step` on a channel of `connection`, reporting its output as the
/// host's, as `channels` would.
async fn on(connection: &Connection, channels: &Channels, step: Step) -> StepResult {
    channels
        .on_session(connection.session.clone())
        .run_all(vec![step])
        .await
        .pop()
        .unwrap_or_else(|| StepResult::failed(Cause::PlanError("the step got no result".into())))
}
