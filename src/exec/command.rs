//! Runs the command on an open session and streams its output as events.
//!
//! The command string goes to the server as ssh sends it: the user's words
//! joined with spaces, interpreted by the remote login shell.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use russh::ChannelMsg;
use tokio::sync::mpsc;

use super::lines::LineSplitter;
use super::session::Session;
use crate::event::{Event, Outcome, Status, Stream};

/// What to run on every host.
#[derive(Debug, Clone)]
pub struct Job {
    pub command: String,
    /// Sent to every host's command, then EOF (`--stdin`).
    pub stdin: Option<Arc<[u8]>>,
}

/// Runs `job` on one session, sending each output line as it completes.
/// Ends with the command's exit status or signal.
pub async fn run(
    session: &Session,
    job: &Job,
    host: &Arc<str>,
    events: &mpsc::Sender<Event>,
    limit: Option<Duration>,
) -> Outcome {
    let mut channel = match session.channel_open_session().await {
        Ok(channel) => channel,
        Err(e) => {
            return Outcome::failure(
                Status::Error,
                format!("could not open a session channel: {e}"),
            )
        }
    };
    if let Err(e) = channel.exec(true, job.command.as_bytes()).await {
        return Outcome::failure(Status::Error, format!("could not start the command: {e}"));
    }
    if let Some(input) = &job.stdin {
        // Written from its own task: a command that prints before reading
        // its input must not deadlock against a full window.
        let writer = channel.make_writer();
        let input = input.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut writer = writer;
            let _ = writer.write_all(&input).await;
            let _ = writer.shutdown().await;
        });
    } else {
        let _ = channel.eof().await;
    }

    let mut stdout = LineSplitter::default();
    let mut stderr = LineSplitter::default();
    let mut exit_code = None;
    let mut signal = None;
    let deadline = limit.map(|limit| Instant::now() + limit);
    loop {
        let msg = tokio::select! {
            msg = channel.wait() => msg,
            _ = sleep_until_deadline(deadline) => {
                // sshd sends nothing to a command without a terminal when
                // the channel closes: ask it to stop, or it runs on.
                let _ = channel.signal(russh::Sig::TERM).await;
                let _ = channel.close().await;
                let limit = humantime::format_duration(limit.unwrap_or_default());
                return Outcome::failure(Status::Timeout, format!("command still running after {limit}"));
            }
        };
        let Some(msg) = msg else { break };
        match msg {
            ChannelMsg::Data { data } => {
                send(events, host, Stream::Stdout, stdout.push(&data)).await
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                send(events, host, Stream::Stderr, stderr.push(&data)).await
            }
            ChannelMsg::ExitStatus { exit_status } => exit_code = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_label(&signal_name)),
            ChannelMsg::Failure => {
                return Outcome::failure(Status::Error, "the server refused to run the command")
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    send(
        events,
        host,
        Stream::Stdout,
        stdout.finish().into_iter().collect(),
    )
    .await;
    send(
        events,
        host,
        Stream::Stderr,
        stderr.finish().into_iter().collect(),
    )
    .await;
    let _ = channel.close().await;
    match (exit_code, signal) {
        (_, Some(signal)) => Outcome {
            status: Status::Failed,
            exit_code,
            error: Some(format!("killed by signal {signal}")),
            signal: Some(signal),
        },
        (Some(code), None) => Outcome::exited(code),
        (None, None) => Outcome::failure(Status::Error, "the command ended without an exit status"),
    }
}

/// Sleeps until `deadline`, or forever when there is none.
async fn sleep_until_deadline(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn send(events: &mpsc::Sender<Event>, host: &Arc<str>, stream: Stream, lines: Vec<String>) {
    for text in lines {
        // A closed receiver means the reporter stopped (e.g. stdout went
        // away); the host still runs to completion.
        let _ = events
            .send(Event::Line {
                host: host.clone(),
                stream,
                text,
            })
            .await;
    }
}

/// `TERM`, `KILL`…: the signal name without the `SIG` prefix, as OpenSSH
/// sends it.
fn signal_label(sig: &russh::Sig) -> String {
    match sig {
        russh::Sig::Custom(name) => name.clone(),
        other => format!("{other:?}"),
    }
}
