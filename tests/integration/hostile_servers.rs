//! Servers that misbehave, in this process: russh servers that break the
//! protocol after login, and plain sockets that break it before. Each one
//! is a host in the same run as a real sshd host, which must end `ok` as
//! if they were not there, while each hostile host ends with a clear
//! status within the run's short timeouts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::{self, Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

use super::fixture::{config_path, Lab};
use super::invocation::{invoke_with_stdin, Invocation};

/// How each hostile host misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Behaviour {
    /// Prints a line and closes the channel without an exit status.
    NoExitStatus,
    /// Sends EOF, then goes on sending output, then exits 0.
    DataAfterEof,
    /// Gives the client a window of 0, so not a byte of stdin can be sent;
    /// prints a line and exits 0.
    ZeroWindow,
    /// Floods stderr (extended data) with 8 MiB, then exits 0.
    StderrFlood,
    /// Prints without end and never exits, so only `--timeout` ends it.
    EndlessOutput,
    /// Prints a line, then drops the TCP connection mid-stream.
    DropMidStream,
    /// Accepts the session channel's open request but never answers it.
    SilentChannel,
    /// 64 KiB of lines before the version string, then a normal session.
    LongBanner,
    /// Sends its version string one byte a second.
    SlowVersion,
    /// Sends its version and half a key exchange packet, then hangs up.
    DropMidKex,
}

const BEHAVIOURS: [Behaviour; 10] = [
    Behaviour::EndlessOutput,
    Behaviour::NoExitStatus,
    Behaviour::DataAfterEof,
    Behaviour::ZeroWindow,
    Behaviour::StderrFlood,
    Behaviour::DropMidStream,
    Behaviour::SilentChannel,
    Behaviour::LongBanner,
    Behaviour::SlowVersion,
    Behaviour::DropMidKex,
];

const FLOOD: usize = 8 << 20;

/// A russh session that logs in anyone and then misbehaves.
struct Hostile {
    behaviour: Behaviour,
    /// Open requests never answered, kept so they are not refused on drop.
    unanswered: Vec<ChannelOpenHandle>,
}

impl server::Handler for Hostile {
    type Error = russh::Error;

    async fn auth_publickey(
        &mut self,
        _: &str,
        _: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _: Channel<Msg>,
        reply: ChannelOpenHandle,
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.behaviour == Behaviour::SilentChannel {
            self.unanswered.push(reply);
        } else {
            reply.accept().await;
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let handle = session.handle();
        let behaviour = self.behaviour;
        tokio::spawn(async move {
            // Errors mean the client went away, which ends the act anyway.
            let _ = handle.data(channel, &b"hostile\n"[..]).await;
            match behaviour {
                Behaviour::NoExitStatus => {
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                }
                Behaviour::DataAfterEof => {
                    let _ = handle.eof(channel).await;
                    for _ in 0..1000 {
                        let _ = handle.data(channel, &b"after eof\n"[..]).await;
                    }
                    let _ = handle.exit_status_request(channel, 0).await;
                    let _ = handle.close(channel).await;
                }
                Behaviour::StderrFlood => {
                    let chunk = vec![b'e'; 32 * 1024];
                    for _ in 0..FLOOD / chunk.len() {
                        if handle
                            .extended_data(channel, 1, chunk.clone())
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    let _ = handle.exit_status_request(channel, 0).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                }
                Behaviour::EndlessOutput => {
                    while handle.data(channel, &b"more\n"[..]).await.is_ok() {}
                }
                Behaviour::DropMidStream => {
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            String::new(),
                            String::new(),
                        )
                        .await;
                }
                _ => {
                    let _ = handle.exit_status_request(channel, 0).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                }
            }
        });
        Ok(())
    }
}

/// Serves one behaviour on a loopback port until the runtime is dropped.
async fn serve(behaviour: Behaviour, listener: TcpListener, key: PrivateKey) {
    let mut config = server::Config {
        keys: vec![key],
        auth_rejection_time: Duration::ZERO,
        inactivity_timeout: None,
        ..Default::default()
    };
    if behaviour == Behaviour::ZeroWindow {
        config.window_size = 0;
    }
    let config = Arc::new(config);
    while let Ok((mut stream, _)) = listener.accept().await {
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            match behaviour {
                Behaviour::SlowVersion => {
                    for &b in b"SSH-2.0-slow\r\n" {
                        if stream.write_all(&[b]).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    return;
                }
                Behaviour::DropMidKex => {
                    let _ = stream.write_all(b"SSH-2.0-dropper\r\n").await;
                    let mut buf = [0u8; 256];
                    let _ = stream.read(&mut buf).await;
                    // A packet length and the start of a KEXINIT, no more.
                    let _ = stream.write_all(&[0, 0, 1, 0, 8, 20, 1, 2, 3]).await;
                    return;
                }
                Behaviour::LongBanner => {
                    let line = format!("{}\r\n", "x".repeat(62));
                    if stream
                        .write_all(line.repeat(1000).as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                _ => {}
            }
            let handler = Hostile {
                behaviour,
                unanswered: Vec::new(),
            };
            if let Ok(session) = server::run_stream(config, stream, handler).await {
                let _ = session.await;
            }
        });
    }
}

/// The hostile servers, one port each, on a runtime of their own.
struct HostileServers {
    _runtime: Runtime,
    ports: Vec<(Behaviour, u16)>,
}

impl HostileServers {
    fn start(host_key: &Path) -> HostileServers {
        let key = russh::keys::load_secret_key(host_key, None).expect("the lab's ed25519 key");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the servers");
        let ports = BEHAVIOURS
            .iter()
            .map(|&behaviour| {
                let listener = runtime
                    .block_on(TcpListener::bind("127.0.0.1:0"))
                    .expect("a loopback port");
                let port = listener.local_addr().expect("its address").port();
                runtime.spawn(serve(behaviour, listener, key.clone()));
                (behaviour, port)
            })
            .collect();
        HostileServers {
            _runtime: runtime,
            ports,
        }
    }
}

fn alias(behaviour: Behaviour) -> String {
    format!("hostile-{behaviour:?}").to_lowercase()
}

/// A lab of two healthy sshd hosts, the hostile servers, and an ssh_config
/// naming all of them (the hostile ones learned with accept-new).
fn lab_with_hostile_servers() -> (Lab, HostileServers, std::path::PathBuf) {
    let lab = Lab::builder().healthy(2).build();
    let servers = HostileServers::start(&lab.key);
    let learned = lab.path("hostile-known-hosts");
    let hosts: String = servers
        .ports
        .iter()
        .map(|&(behaviour, port)| {
            format!(
                "Host {}\n    HostName 127.0.0.1\n    Port {port}\n    UserKnownHostsFile {}\n    \
                 StrictHostKeyChecking accept-new\n",
                alias(behaviour),
                config_path(&learned)
            )
        })
        .collect();
    let config = lab.ssh_config_with_hosts("hostile", &hosts, &[]);
    (lab, servers, config)
}

/// Runs `selector` with short timeouts, stdin and JSON results.
fn run_short(lab: &Lab, config: &Path, selector: &str) -> Invocation {
    invoke_with_stdin(
        lab.fleet_with_config(config).args([
            "run",
            "--json",
            "--stdin",
            "--connect-timeout",
            "3s",
            "--timeout",
            "6s",
            selector,
            "cat >/dev/null; echo $FLEET_TEST_HOST",
        ]),
        &vec![b'x'; 256 * 1024],
    )
}

#[test]
fn hostile_servers_get_a_clear_status_and_leave_the_other_hosts_alone() {
    let (lab, _servers, config) = lab_with_hostile_servers();
    let run = run_short(&lab, &config, "h*");
    let statuses = run.statuses();
    // The real hosts: as if the hostile ones were not in the run.
    for host in ["h01", "h02"] {
        assert_eq!(statuses.get(host).map(String::as_str), Some("ok"), "{run}");
    }
    let results = run.results();
    let status_of = |behaviour| {
        let result = &results[&alias(behaviour)];
        (
            result["status"].as_str().unwrap_or_default().to_string(),
            result.to_string(),
        )
    };
    let expected: BTreeMap<Behaviour, &[&str]> = BTreeMap::from([
        // `the command ended without an exit status`.
        (Behaviour::NoExitStatus, &["error"][..]),
        // Output after EOF is still output; the exit status counts.
        (Behaviour::DataAfterEof, &["ok"][..]),
        // stdin is never sent; the command ends anyway.
        (Behaviour::ZeroWindow, &["ok"][..]),
        // All 8 MiB arrive, unless they take longer than --timeout.
        (Behaviour::StderrFlood, &["ok", "timeout"][..]),
        // Still sending when the timeout stops it: the connection must not
        // stall on output nobody reads any more.
        (Behaviour::EndlessOutput, &["timeout"][..]),
        // The channel that never opens is bounded by --timeout.
        (Behaviour::SilentChannel, &["timeout"][..]),
        (Behaviour::DropMidStream, &["error", "unreachable"][..]),
        // russh refuses lines before the version string, where OpenSSH
        // reads up to 1024 of them: a protocol error, at once.
        (Behaviour::LongBanner, &["error", "ok"][..]),
        // `connection timed out` at --connect-timeout.
        (Behaviour::SlowVersion, &["unreachable"][..]),
        (Behaviour::DropMidKex, &["unreachable"][..]),
    ]);
    for (behaviour, allowed) in expected {
        let (status, result) = status_of(behaviour);
        assert!(
            allowed.contains(&status.as_str()),
            "{behaviour:?} ended {status}, not one of {allowed:?}: {result}\n{run}"
        );
    }
    // The stderr flood and the endless output are streamed, never held:
    // memory stays bounded whatever the hostile hosts send.
    assert!(
        run.peak_rss_kb < 100_000,
        "peak RSS {} kB\n{run}",
        run.peak_rss_kb
    );
}
