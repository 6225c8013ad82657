//! Runs one [`Step`] on its own channel of an open session: the command,
//! its stdin, its output (streamed as events or captured for the plan),
//! and its exit status or signal.
//!
//! The command string goes to the server as ssh sends it, to be run by the
//! remote login shell.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use russh::ChannelMsg;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::handshake::Session;
use super::lines::LineCutter;
use crate::cause::Cause;
use crate::event::{Event, Stream, Tail};
use crate::plan::{Capture, ExpectMatcher, Step, StepResult};

/// Runs `step` on `session` for `host`, sending streamed output to `events`.
pub async fn run(
    session: &Session,
    step: Step,
    host: &Arc<str>,
    events: &mpsc::Sender<Event>,
) -> StepResult {
    let checks = step.expect.as_ref().map(|expect| expect.matcher());
    let mut output = Collected::new(step.output, checks, host, events);
    let exit = run_channel(session, &step, &mut output).await;
    output.finish(exit).await
}

async fn run_channel(
    session: &Session,
    step: &Step,
    output: &mut Collected<'_>,
) -> Result<u32, Cause> {
    let mut channel = session
        .channel_open_session()
        .await
        .map_err(|e| Cause::ChannelRefused(e.to_string()))?;
    channel
        .exec(true, step.command.as_bytes())
        .await
        .map_err(|e| Cause::ExecFailed(e.to_string()))?;
    match &step.stdin {
        Some(input) => {
            // Written from its own task: a command that prints before
            // reading its input must not deadlock against a full window.
            let writer = channel.make_writer();
            let input = input.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut writer = writer;
                let _ = writer.write_all(&input).await;
                let _ = writer.shutdown().await;
            });
        }
        None => {
            let _ = channel.eof().await;
        }
    }

    let mut exit_code = None;
    let mut signal = None;
    let deadline = step.timeout.map(|limit| Instant::now() + limit);
    loop {
        let msg = tokio::select! {
            msg = channel.wait() => msg,
            _ = sleep_until(deadline) => {
                // sshd sends nothing to a command without a terminal when
                // the channel closes: ask it to stop, or it runs on.
                let _ = channel.signal(russh::Sig::TERM).await;
                let _ = channel.close().await;
                return Err(Cause::Timeout(step.timeout.unwrap_or_default()));
            }
        };
        let Some(msg) = msg else { break };
        match msg {
            ChannelMsg::Data { data } => output.push(Stream::Stdout, data).await,
            ChannelMsg::ExtendedData { data, ext: 1 } => output.push(Stream::Stderr, data).await,
            ChannelMsg::ExitStatus { exit_status } => exit_code = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_label(&signal_name)),
            ChannelMsg::Failure => return Err(Cause::ExecRefused),
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    let _ = channel.close().await;
    match (exit_code, signal) {
        (_, Some(signal)) => Err(Cause::Killed(signal)),
        (Some(code), None) => Ok(code),
        (None, None) => Err(Cause::NoExitStatus),
    }
}

/// Where a step's output goes while it runs.
enum Collected<'a> {
    Stream {
        host: &'a Arc<str>,
        events: &'a mpsc::Sender<Event>,
        stdout: LineCutter,
        stderr: LineCutter,
        /// The step's `--expect` checks, fed every stdout piece.
        checks: Option<ExpectMatcher<'a>>,
    },
    Keep {
        limit: usize,
        stdout: BytesMut,
        stderr: BytesMut,
        truncated: bool,
    },
}

impl<'a> Collected<'a> {
    fn new(
        capture: Capture,
        checks: Option<ExpectMatcher<'a>>,
        host: &'a Arc<str>,
        events: &'a mpsc::Sender<Event>,
    ) -> Self {
        match capture {
            Capture::Stream => Collected::Stream {
                host,
                events,
                stdout: LineCutter::default(),
                stderr: LineCutter::default(),
                checks,
            },
            Capture::Keep(limit) => Collected::Keep {
                limit,
                stdout: BytesMut::new(),
                stderr: BytesMut::new(),
                truncated: false,
            },
        }
    }

    async fn push(&mut self, stream: Stream, data: Bytes) {
        match self {
            Collected::Stream {
                host,
                events,
                stdout,
                stderr,
                checks,
            } => {
                let cutter = match stream {
                    Stream::Stdout => stdout,
                    Stream::Stderr => stderr,
                };
                for (data, tail) in cutter.push(data) {
                    check(checks, stream, &data, tail);
                    send(events, host, stream, data, tail).await;
                }
            }
            Collected::Keep {
                limit,
                stdout,
                stderr,
                truncated,
            } => {
                let kept = match stream {
                    Stream::Stdout => stdout,
                    Stream::Stderr => stderr,
                };
                let room = limit.saturating_sub(kept.len());
                *truncated |= data.len() > room;
                kept.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
    }

    /// Passes on what is left and builds the result.
    async fn finish(self, exit: Result<u32, Cause>) -> StepResult {
        match self {
            Collected::Stream {
                host,
                events,
                mut stdout,
                mut stderr,
                mut checks,
            } => {
                for (stream, cutter) in
                    [(Stream::Stdout, &mut stdout), (Stream::Stderr, &mut stderr)]
                {
                    if let Some((data, tail)) = cutter.finish() {
                        check(&mut checks, stream, &data, tail);
                        send(events, host, stream, data, tail).await;
                    }
                }
                StepResult {
                    exit,
                    stdout: Bytes::new(),
                    stderr: Bytes::new(),
                    truncated: false,
                    verdict: checks.and_then(ExpectMatcher::finish),
                }
            }
            Collected::Keep {
                stdout,
                stderr,
                truncated,
                ..
            } => StepResult {
                exit,
                stdout: stdout.freeze(),
                stderr: stderr.freeze(),
                truncated,
                verdict: None,
            },
        }
    }
}

/// Feeds a stdout piece to the step's checks, if it has any.
fn check(checks: &mut Option<ExpectMatcher<'_>>, stream: Stream, data: &[u8], tail: Tail) {
    if let (Some(checks), Stream::Stdout) = (checks, stream) {
        checks.feed(data, tail);
    }
}

async fn send(
    events: &mpsc::Sender<Event>,
    host: &Arc<str>,
    stream: Stream,
    data: Bytes,
    tail: Tail,
) {
    // A closed receiver means the outputs stopped; the host still runs to
    // completion.
    let _ = events
        .send(Event::Output {
            host: host.clone(),
            stream,
            data,
            tail,
        })
        .await;
}

/// Sleeps until `deadline`, or forever when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
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
