//! Runs the `fleet` binary once and keeps what it did: its exit code, both
//! output streams, its peak memory, and, for `--json` runs, the parsed JSON
//! Lines.
//!
//! Every assertion message prints the whole invocation, so a failing test
//! shows what fleet said without a rerun.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long fleet may run before the test gives up on it. This is a guard
/// against a hung test run, not a measurement: every run in this suite ends
/// within a few seconds, and a fleet that hangs (on a tarpit, on a prompt)
/// should fail with its output shown rather than stall `cargo test`.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// One finished run of `fleet`.
pub struct Invocation {
    /// The exit code; `None` if fleet was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The highest peak RSS (VmHWM) seen while polling it, in kB.
    pub peak_rss_kb: u64,
}

/// Runs `command` with stdin from `/dev/null`, so that nothing can ever wait
/// for a terminal.
pub fn invoke(command: &mut Command) -> Invocation {
    run(command.stdin(Stdio::null()), None)
}

/// Runs `command` with `input` as its standard input.
pub fn invoke_with_stdin(command: &mut Command, input: &[u8]) -> Invocation {
    run(command.stdin(Stdio::piped()), Some(input))
}

fn run(command: &mut Command, input: Option<&[u8]>) -> Invocation {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input)
            .unwrap_or_else(|e| panic!("writing fleet's stdin: {e}"));
        // Dropping stdin closes it: fleet reads up to EOF.
    }
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let (code, peak_rss_kb) = wait_or_kill(&mut child, &format!("{command:?}"));
    Invocation {
        code,
        stdout: collect(stdout),
        stderr: collect(stderr),
        peak_rss_kb,
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error leaves what was read so far, which is what a
        // failing test wants to show.
        let _ = stream.read_to_end(&mut bytes);
        bytes
    })
}

fn collect(reader: JoinHandle<Vec<u8>>) -> String {
    let bytes = reader.join().expect("the output reader panicked");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn wait_or_kill(child: &mut Child, command: &str) -> (Option<i32>, u64) {
    let deadline = Instant::now() + HANG_GUARD;
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_kb(child.id()).unwrap_or(peak));
        if let Some(status) = child.try_wait().expect("polling fleet") {
            return (status.code(), peak);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command} still ran after {HANG_GUARD:?}; killed it");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The peak RSS of a running process, in kB, as far as it got.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A `fleet` still running, whose output a test can wait for line by line
/// and which it can interrupt, as a user at a terminal would.
pub struct Running {
    command: String,
    child: Child,
    stdout: Lines,
    stderr: Lines,
}

/// One output stream, read on its own thread: the lines seen so far, and
/// the channel bringing the next ones.
struct Lines {
    seen: Vec<String>,
    next: mpsc::Receiver<String>,
}

impl Lines {
    fn read(stream: impl Read + Send + 'static) -> Lines {
        let (send, next) = mpsc::channel();
        thread::spawn(move || {
            // Stops at the end of the stream, at a read error, or when
            // nobody listens any more.
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            seen: Vec::new(),
            next,
        }
    }

    /// Waits for a line that satisfies `wanted`; `None` if the stream ended
    /// (or the hang guard ran out) first.
    fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
    }

    /// Every line, once the stream has ended.
    fn into_text(mut self) -> String {
        self.seen.extend(self.next.iter());
        self.seen.iter().map(|line| format!("{line}\n")).collect()
    }
}

impl Running {
    /// Starts `command` with stdin from `/dev/null`.
    pub fn start(command: &mut Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let stdout = Lines::read(child.stdout.take().expect("stdout is piped"));
        let stderr = Lines::read(child.stderr.take().expect("stderr is piped"));
        Running {
            command: format!("{command:?}"),
            child,
            stdout,
            stderr,
        }
    }

    /// Waits for a stdout line containing `needle` and returns it.
    pub fn wait_for_stdout(&mut self, needle: &str) -> String {
        match self.stdout.wait_for(|line| line.contains(needle)) {
            Some(line) => line,
            None => panic!("{} printed no {needle:?} on stdout", self.command),
        }
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_for_stderr(&mut self, needle: &str) -> String {
        match self.stderr.wait_for(|line| line.contains(needle)) {
            Some(line) => line,
            None => panic!("{} printed no {needle:?} on stderr", self.command),
        }
    }

    /// Sends SIGINT, as Ctrl-C at a terminal does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -INT {} failed", self.child.id());
    }

    /// Waits for fleet to exit and returns what it did.
    pub fn finish(mut self) -> Invocation {
        let (code, peak_rss_kb) = wait_or_kill(&mut self.child, &self.command);
        Invocation {
            code,
            stdout: self.stdout.into_text(),
            stderr: self.stderr.into_text(),
            peak_rss_kb,
        }
    }
}

impl Invocation {
    /// Panics unless fleet exited with `code`; returns `self` for chaining.
    pub fn assert_exit(&self, code: i32) -> &Invocation {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        assert!(!self.stderr.contains("panicked"), "fleet panicked\n{self}");
        self
    }

    /// Panics unless fleet exited 0 and its stdout is exactly one line per
    /// host of `hosts`, `NAME | NAME`: what `echo $FLEET_TEST_HOST` prints
    /// when every host's output comes back under its own prefix.
    pub fn assert_each_host_answered(&self, hosts: &[&str]) -> &Invocation {
        self.assert_exit(0);
        let expected: Vec<String> = hosts.iter().map(|h| format!("{h} | {h}")).collect();
        assert_eq!(self.sorted_stdout_lines(), expected, "{self}");
        self
    }

    /// Panics unless stderr contains every one of `needles`.
    pub fn assert_stderr_mentions(&self, needles: &[&str]) -> &Invocation {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}\n{self}"
            );
        }
        self
    }

    /// stdout's lines, sorted: hosts run concurrently, so only the set of
    /// lines is fixed, not their order.
    pub fn sorted_stdout_lines(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.stdout.lines().collect();
        lines.sort_unstable();
        lines
    }

    /// Every stdout line parsed as JSON; panics on a line that is not.
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON ({e})\n{self}"))
            })
            .collect()
    }

    /// The `result` record of each host, by host; panics if a host has two.
    pub fn results(&self) -> BTreeMap<String, Value> {
        let mut results = BTreeMap::new();
        for record in self.records() {
            if record["type"] != "result" {
                continue;
            }
            let host = record["host"]
                .as_str()
                .unwrap_or_else(|| panic!("a result without a host: {record}\n{self}"))
                .to_owned();
            if let Some(earlier) = results.insert(host.clone(), record) {
                panic!("two results for {host}, the first {earlier}\n{self}");
            }
        }
        results
    }

    /// The status of each host, by host, as `--json` results name it.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        self.results()
            .into_iter()
            .map(|(host, result)| {
                let status = result["status"].as_str().unwrap_or_default().to_owned();
                (host, status)
            })
            .collect()
    }

    /// The `summary` record, which must be the last line of stdout.
    pub fn summary(&self) -> Value {
        let last = self.records().pop();
        match last {
            Some(summary) if summary["type"] == "summary" => summary,
            _ => panic!("stdout does not end with a summary record\n{self}"),
        }
    }

    /// How many hosts the `--json` summary counts with `status`.
    pub fn count(&self, status: &str) -> u64 {
        let summary = self.summary();
        summary["statuses"][status]
            .as_u64()
            .unwrap_or_else(|| panic!("the summary has no status {status}\n{self}"))
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code: {:?}\n--- stdout ---\n{}--- stderr ---\n{}--- end ---",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `(host, status)` pairs as a map, to compare with [`Invocation::statuses`].
pub fn expected_statuses(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(host, status)| (host.to_string(), status.to_string()))
        .collect()
}
