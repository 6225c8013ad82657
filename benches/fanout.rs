//! The fan-out harness: the whole path (connect, handshake, host key check,
//! login, command, output) against real sshd, measured three ways.
//!
//! `cargo bench --bench fanout` starts its own local sshd hosts and prints:
//!
//! 1. **Peers**: the fleet binary and an `xargs -P` loop of OpenSSH `ssh`
//!    over the same hosts, in the same rounds: median wall time, client CPU
//!    per host, peak RSS (with GNU time installed), and ratios to fleet.
//! 2. **Round trips**: how many round trips fleet's first output costs,
//!    through a proxy of its own that delays every byte by a known time.
//! 3. **Sessions**: a plan of `FLEET_BENCH_STEPS` steps, each
//!    `FLEET_BENCH_CHANNELS` channels at once, on every host, run through
//!    the library: wall time, CPU per host and peak RSS of this process.
//!
//! Hosts and rounds: `FLEET_BENCH_HOSTS` (default 20), `FLEET_BENCH_ROUNDS`
//! (5). Part 3 can run against any fleet instead of the local hosts:
//! `FLEET_BENCH_SSH_CONFIG=FILE FLEET_BENCH_SELECT='web-*'`. Absolute
//! numbers depend on the machine; compare the ratios.

#[allow(dead_code)]
#[path = "../tests/integration/fixture.rs"]
mod fixture;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixture::Lab;
use fleet::exec::{self, ExecOptions, Fanout, Interrupts};
use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory};
use fleet::outcome::Outcome;
use fleet::plan::{Access, Capture, HostPlan, Next, Plan, Reached, Schedule, Step, StepResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs bench binaries with no arguments too; only
    // measure under `cargo bench`, which passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let hosts = env_number("FLEET_BENCH_HOSTS", 20);
    let rounds = env_number("FLEET_BENCH_ROUNDS", 5);
    let lab = Lab::builder().healthy(hosts).build();
    peers(&lab, hosts, rounds);
    round_trips(&lab);
    let steps = env_number("FLEET_BENCH_STEPS", 3);
    let channels = env_number("FLEET_BENCH_CHANNELS", 5);
    match std::env::var_os("FLEET_BENCH_SSH_CONFIG") {
        Some(config) => {
            let select = std::env::var("FLEET_BENCH_SELECT").unwrap_or_else(|_| "*".into());
            sessions(Path::new(&config), &select, &lab.home, steps, channels);
        }
        None => sessions(&lab.ssh_config, "h*", &lab.home, steps, channels),
    }
}

// ---- 1. Peers ----

/// One run of a tool: wall seconds, CPU seconds, peak RSS in MB if known.
struct Sample {
    wall: f64,
    cpu: f64,
    rss: Option<f64>,
}

/// user + system CPU seconds of this process's waited-for children so far
/// (`cutime` + `cstime` in /proc/self/stat, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("reading /proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("malformed /proc/self/stat") + 2..]
        .split(' ')
        .collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("numeric field");
    (ticks(13) + ticks(14)) / 100.0
}

/// Runs `command` (under GNU time when it is installed, for the peak RSS)
/// and checks it answered for every host.
fn measure(command: Command, hosts: usize) -> Sample {
    let time = Path::new("/usr/bin/time");
    let rss_file = tempfile::NamedTempFile::new().expect("a temporary file");
    let mut command = if time.exists() {
        let mut timed = Command::new(time);
        timed
            .args(["-f", "%M", "-o"])
            .arg(rss_file.path())
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => timed.env(key, value),
                None => timed.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            timed.current_dir(dir);
        }
        timed
    } else {
        command
    };
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("running the tool");
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu_before;
    let lines = String::from_utf8_lossy(&output.stdout).lines().count();
    assert!(
        output.status.success() && lines >= hosts,
        "{command:?} failed ({}), {lines} lines: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let rss = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|text| text.trim().lines().last()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    Sample { wall, cpu, rss }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn peers(lab: &Lab, hosts: usize, rounds: usize) {
    let names: Vec<String> = (1..=hosts).map(|i| format!("h{i:02}")).collect();
    let fleet = || {
        let mut command = lab.fleet();
        command.args(["run", "-p", "64", "h*", "echo", "$FLEET_TEST_HOST"]);
        command
    };
    let ssh_loop = || {
        let mut command = Command::new("sh");
        let script = "printf '%s\\n' \"$@\" | xargs -P 64 -I{} ssh -F \"$CFG\" -o BatchMode=yes {} 'echo $FLEET_TEST_HOST'";
        command
            .arg("-c")
            .arg(script)
            .arg("sh")
            .args(&names)
            .env("CFG", &lab.ssh_config)
            .env_remove("SSH_AUTH_SOCK");
        command
    };
    let tools: [(&str, &dyn Fn() -> Command); 2] = [("fleet", &fleet), ("ssh-loop", &ssh_loop)];
    let mut results: Vec<(&str, Vec<Sample>)> =
        tools.iter().map(|(name, _)| (*name, Vec::new())).collect();
    for _ in 0..rounds {
        for ((_, make), (_, samples)) in tools.iter().zip(results.iter_mut()) {
            samples.push(measure(make(), hosts));
        }
    }
    let summary: Vec<(&str, f64, f64, Option<f64>)> = results
        .into_iter()
        .map(|(name, samples)| {
            let wall = median(samples.iter().map(|s| s.wall).collect());
            let cpu = median(samples.iter().map(|s| s.cpu).collect());
            let rss = samples.iter().filter_map(|s| s.rss).reduce(f64::max);
            (name, wall, cpu, rss)
        })
        .collect();
    let (_, base_wall, base_cpu, _) = summary[0];
    println!("1. fan-out over {hosts} local sshd hosts, {rounds} rounds (medians)");
    println!(
        "{:9} {:>8} {:>8} {:>12} {:>8} {:>10} {:>9}",
        "tool", "wall s", "cpu s", "cpu ms/host", "rss MB", "wall/fleet", "cpu/fleet"
    );
    for (name, wall, cpu, rss) in summary {
        let rss = rss.map_or("-".to_string(), |mb| format!("{mb:.1}"));
        println!(
            "{name:9} {wall:8.3} {cpu:8.3} {:12.2} {rss:>8} {:10.2} {:9.2}",
            1000.0 * cpu / hosts as f64,
            wall / base_wall,
            cpu / base_cpu.max(0.001)
        );
    }
}

// ---- 2. Round trips ----

/// What each direction of the proxy adds: a round trip costs twice this.
const ONE_WAY: Duration = Duration::from_millis(50);

/// Listens on a free local port and forwards every connection to `to`,
/// holding each chunk for [`ONE_WAY`] in each direction, as a far-away
/// network would. Returns the port.
fn delaying_proxy(runtime: &tokio::runtime::Runtime, to: std::net::SocketAddr) -> u16 {
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a local port");
    let port = listener.local_addr().expect("its address").port();
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(to).await else {
                    return;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(delayed(client_read, server_write));
                tokio::spawn(delayed(server_read, client_write));
            });
        }
    });
    port
}

/// Copies `from` to `to`, each chunk [`ONE_WAY`] after it arrived.
async fn delayed(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
) {
    let (chunks, mut delivered) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    tokio::spawn(async move {
        while let Some((due, chunk)) = delivered.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        if chunks
            .send((Instant::now() + ONE_WAY, buf[..n].to_vec()))
            .is_err()
        {
            return;
        }
    }
}

/// How long fleet takes to print its first line, with the given config.
fn first_output(lab: &Lab, config: &Path) -> Duration {
    let started = Instant::now();
    let mut child = lab
        .fleet_with_config(config)
        .args(["run", "h01", "echo", "$FLEET_TEST_HOST"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fleet starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("a line");
    let elapsed = started.elapsed();
    let _ = child.wait();
    assert!(line.contains("h01"), "unexpected first line {line:?}");
    elapsed
}

fn round_trips(lab: &Lab) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let host = lab.host("h01");
    let port = delaying_proxy(&runtime, host.addr);
    // The proxy is another port: known_hosts must know the host there too.
    let known_hosts = lab.home.join("known_hosts.proxied");
    let entries: String = host
        .host_keys
        .iter()
        .map(|key| format!("[127.0.0.1]:{port} {}\n", key.public))
        .collect();
    std::fs::write(&known_hosts, entries).expect("write known_hosts");
    let proxied = lab.home.join("ssh_config.proxied");
    std::fs::write(
        &proxied,
        format!(
            "Host h01\n    HostName 127.0.0.1\n    Port {port}\n    UserKnownHostsFile {}\n{}",
            known_hosts.display(),
            std::fs::read_to_string(&lab.ssh_config).expect("the lab's ssh_config")
        ),
    )
    .expect("write ssh_config");
    let direct = median(
        (0..5)
            .map(|_| first_output(lab, &lab.ssh_config).as_secs_f64())
            .collect(),
    );
    let far = median(
        (0..5)
            .map(|_| first_output(lab, &proxied).as_secs_f64())
            .collect(),
    );
    let rtt = 2.0 * ONE_WAY.as_secs_f64();
    println!(
        "\n2. first output at {:.0} ms round trip: {:.3} s, {:.3} s without the delay: {:.1} round trips",
        rtt * 1000.0,
        far,
        direct,
        (far - direct) / rtt
    );
}

// ---- 3. Sessions ----

/// `steps` steps, each `channels` commands at once.
struct Sessions {
    steps: usize,
    channels: usize,
}

struct SessionsHost {
    left: usize,
    channels: usize,
    failed: Option<String>,
}

impl SessionsHost {
    fn next(&mut self) -> Next {
        if let Some(failure) = self.failed.take() {
            return Next::Done(Outcome::failed(fleet::cause::Cause::PlanError(failure)));
        }
        if self.left == 0 {
            return Next::Done(Outcome::ok());
        }
        self.left -= 1;
        let step = Step {
            command: "sleep 1; echo $$".into(),
            stdin: None,
            output: Capture::Keep(64),
            timeout: None,
            expect: None,
        };
        Next::RunAll(vec![step; self.channels])
    }
}

impl Plan for Sessions {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(SessionsHost {
            left: self.steps,
            channels: self.channels,
            failed: None,
        })
    }
}

impl HostPlan for SessionsHost {
    fn start(&mut self, _reached: &Reached) -> Next {
        self.next()
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        self.all_done(vec![result])
    }

    fn all_done(&mut self, results: Vec<StepResult>) -> Next {
        if let Some(bad) = results.iter().find(|r| r.exit != Ok(0)) {
            self.failed = Some(format!("a step ended {:?}", bad.exit));
        }
        self.next()
    }
}

/// This process's CPU seconds and peak RSS in MB so far.
fn own_usage() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("reading /proc/self/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("malformed /proc/self/stat") + 2..]
        .split(' ')
        .collect();
    let cpu = (fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0))
        / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, peak_kb / 1024.0)
}

fn sessions(config: &Path, select: &str, home: &Path, steps: usize, channels: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let env = LocalEnv::from_process();
    let catalog = Catalog::new(
        SshConfig::load(config, &env).expect("the ssh_config loads"),
        Inventory::default(),
    );
    let targets = catalog.resolve(select, &[]).expect("the selector resolves");
    let hosts = targets.len();
    let opts = ExecOptions {
        connect_timeout: None,
        insecure_ignore_host_keys: false,
        home: home.to_path_buf(),
        password: None,
    };
    let (cpu_before, _) = own_usage();
    let started = Instant::now();
    let end = runtime.block_on(async {
        let plan = Arc::new(Sessions { steps, channels });
        let (specs, _) = exec::prepare(&targets, &opts, plan.access())
            .await
            .expect("prepared");
        exec::ensure_open_files(hosts + 64).expect("enough open files");
        let (events, mut received) = mpsc::channel(4096);
        tokio::spawn(async move { while received.recv().await.is_some() {} });
        let fanout = Fanout {
            parallel: hosts.max(1),
            jump_parallel: 32,
            schedule: Schedule::default(),
        };
        exec::execute(plan, specs, &fanout, events, Interrupts::default()).await
    });
    let wall = started.elapsed().as_secs_f64();
    let (cpu_after, peak) = own_usage();
    println!(
        "\n3. {hosts} hosts x {channels} channels at once x {steps} steps ({} sessions open at once): \
         exit {}, {wall:.2} s wall, {:.2} ms CPU per host, peak RSS {peak:.1} MB",
        hosts * channels,
        end.exit_code,
        1000.0 * (cpu_after - cpu_before) / hosts.max(1) as f64,
    );
}
