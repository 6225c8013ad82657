//! Runs one [`Step`] on its own channel of an open session: the command,
//! its stdin, its output (streamed as events or captured for the plan),
//! and its exit status or signal.
//!
//! The command string goes to the server as ssh sends it, to be run by the
//! remote login shell. The channel is opened by the caller, which knows the
//! connection's channel limit (`channels`).

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelWriteHalf};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::handshake::Session;
use super::lines::LineCutter;
use crate::cause::Cause;
use crate::event::{Event, Stream, Tail};
use crate::plan::{Capture, ExpectMatcher, Input, Step, StepResult};

/// How long the process-group kill after a timeout may take before the
/// step gives up on it.
const KILL_LIMIT: Duration = Duration::from_secs(5);

/// Kills, after a timeout, the process groups of every other channel of
/// this connection: each is a session leader that sshd started with
/// setsid, a child of the same sshd process as this script. It runs
/// through the login shell as `exec sh -c '…'`, so it holds no single
/// quote and no `!`, and it uses shell builtins to read `/proc`.
const KILL_SIBLINGS: &str = "exec sh -c 'me=$$; read -r s < /proc/$me/stat; s=${s##*) }; \
set -- $s; p=$2; g=; for d in /proc/[0-9]*; do c=${d#/proc/}; [ \"$c\" = \"$me\" ] && continue; \
read -r s 2>/dev/null < $d/stat || continue; s=${s##*) }; set -- $s; [ \"$2\" = \"$p\" ] && \
g=\"$g $c\"; done; for c in $g; do kill -s TERM -- -$c 2>/dev/null; done; [ -n \"$g\" ] && \
sleep 1; for c in $g; do kill -s KILL -- -$c 2>/dev/null; done; exit 0'";

/// Runs `step` on `channel` of `session` for `host`, sending streamed
/// output to `events`. `alone` says, at the time of asking, whether this
/// is the connection's only channel, the condition for killing its
/// processes after a timeout.
pub async fn run(
    session: &Session,
    channel: Channel<Msg>,
    step: Step,
    host: &Arc<str>,
    events: &mpsc::Sender<Event>,
    alone: impl Fn() -> bool,
) -> StepResult {
    let checks = step.expect.as_ref().map(|expect| expect.matcher());
    let mut output = Collected::new(step.output, checks, host, events);
    let exit = run_channel(session, channel, &step, &mut output, alone).await;
    output.finish(exit).await
}

async fn run_channel(
    session: &Session,
    channel: Channel<Msg>,
    step: &Step,
    output: &mut Collected<'_>,
    alone: impl Fn() -> bool,
) -> Result<u32, Cause> {
    let (mut read, write) = channel.split();
    let write = CloseOnDrop::new(write);
    write
        .exec(true, step.command.as_bytes())
        .await
        .map_err(|e| Cause::ExecFailed(e.to_string()))?;
    match &step.stdin {
        Some(input) => {
            // Written from its own task: a command that prints before
            // reading its input must not deadlock against a full window.
            tokio::spawn(feed(input.clone(), write.make_writer()));
        }
        None => {
            let _ = write.eof().await;
        }
    }

    let mut exit_code = None;
    let mut signal = None;
    let deadline = step.timeout.map(|limit| Instant::now() + limit);
    loop {
        let msg = tokio::select! {
            msg = read.wait() => msg,
            _ = sleep_until(deadline) => {
                stop(session, write, alone()).await;
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
    write.close().await;
    match (exit_code, signal) {
        (_, Some(signal)) => Err(Cause::Killed(signal)),
        (Some(code), None) => Ok(code),
        (None, None) => Err(Cause::NoExitStatus),
    }
}

/// Writes `input` to a command's stdin, then EOF. The channel's window
/// paces it: a host that reads slowly is sent no faster than it reads.
async fn feed(input: Input, mut writer: impl tokio::io::AsyncWrite + Unpin) {
    use tokio::io::AsyncWriteExt;
    match input {
        Input::Bytes(bytes) => {
            let _ = writer.write_all(&bytes).await;
        }
        Input::Secret { secret, then } => {
            let line = [secret.as_bytes(), b"\n"];
            for piece in line.into_iter().chain([&then[..]]) {
                if writer.write_all(piece).await.is_err() {
                    return;
                }
            }
        }
        Input::Spool(spool) => {
            let mut reader = spool.reader();
            while let Ok(Some(piece)) = reader.next().await {
                if writer.write_all(&piece).await.is_err() {
                    // The command stopped reading (`head -1`): no more.
                    return;
                }
            }
        }
    }
    let _ = writer.shutdown().await;
}

/// Stops a command that ran too long. sshd sends nothing to a command
/// without a terminal when its channel closes, and refuses signal requests
/// for root, so asking it to stop (TERM) is not enough: when the command
/// is the connection's only one, its whole process group is killed from a
/// second channel, then its own channel is closed.
async fn stop(session: &Session, write: CloseOnDrop, alone: bool) {
    let _ = write.signal(russh::Sig::TERM).await;
    if alone {
        let _ = tokio::time::timeout(KILL_LIMIT, kill_siblings(session)).await;
    }
    write.close().await;
}

/// Runs [`KILL_SIBLINGS`] on a channel of its own and waits for it to end.
async fn kill_siblings(session: &Session) {
    let Ok(mut channel) = session.channel_open_session().await else {
        return;
    };
    if channel.exec(true, KILL_SIBLINGS).await.is_err() {
        return;
    }
    let _ = channel.eof().await;
    while let Some(msg) = channel.wait().await {
        if let ChannelMsg::Close = msg {
            break;
        }
    }
    let _ = channel.close().await;
}

/// A channel's write half that closes the channel when dropped, so a step
/// that is abandoned (Ctrl-C, a cancelled host) never leaves it open on a
/// connection that lives on, as a shared one may.
struct CloseOnDrop {
    write: Option<ChannelWriteHalf<Msg>>,
}

impl CloseOnDrop {
    fn new(write: ChannelWriteHalf<Msg>) -> CloseOnDrop {
        CloseOnDrop { write: Some(write) }
    }

    /// Closes the channel now; nothing is left for the drop.
    async fn close(mut self) {
        if let Some(write) = self.write.take() {
            let _ = write.close().await;
        }
    }
}

impl std::ops::Deref for CloseOnDrop {
    type Target = ChannelWriteHalf<Msg>;

    fn deref(&self) -> &Self::Target {
        // Only `drop` takes the write half out.
        self.write
            .as_ref()
            .expect("the write half lives until drop")
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        let (Some(write), Ok(runtime)) = (self.write.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(async move {
            let _ = write.close().await;
        });
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
