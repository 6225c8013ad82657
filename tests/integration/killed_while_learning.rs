//! SIGKILL at any moment while fleet learns host keys (accept-new) must
//! leave known_hosts whole: every line it held before, and nothing that
//! does not parse. A killed process can clean nothing up, so only the way
//! the file is written can make this hold.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::fixture::{config_path, Lab};
use super::invocation::invoke;

const ROUNDS: usize = 200;
const HOSTS: usize = 50;

/// A small xorshift generator: the rounds differ, and the seed in a failure
/// message replays them.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// How many times each line occurs.
fn line_counts(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for line in text.lines() {
        *counts.entry(line).or_insert(0) += 1;
    }
    counts
}

/// How many keys `ssh-keygen -l` reads from `file`; it skips what it cannot
/// parse, so a torn line shows as a missing key.
fn keys_openssh_reads(file: &Path) -> usize {
    let output = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(file)
        .output()
        .expect("running ssh-keygen -l");
    String::from_utf8_lossy(&output.stdout).lines().count()
}

#[test]
fn sigkill_while_learning_keys_never_loses_or_tears_a_line() {
    // Hosts that refuse every key: fleet learns each key, then is turned
    // away without a session, which keeps a run short.
    let mut builder = Lab::builder();
    for i in 1..=5 {
        builder = builder.bad_auth(&format!("h{i:02}"));
    }
    let lab = builder.build();
    // A kill is a crash of the process, not of the machine: what the file
    // holds then does not depend on fsync, only on how it is replaced. So
    // it lives in memory where Linux offers that, which makes each of the
    // run's fifty learned keys (a lock, a rewrite, three fsyncs) cheap.
    let scratch = tempfile::Builder::new()
        .prefix("fleet-killed-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("a directory for known_hosts");
    let file = scratch.path().join("known_hosts");
    fs::copy(&lab.known_hosts, &file).expect("copying known_hosts");
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |t| t.as_nanos() as u64)
        | 1;
    let mut random = Random(seed);
    // Fifty names a round, each its own HostKeyAlias, so every round has
    // keys to learn however many the rounds before it learned.
    let round_config = |round: &str| {
        let hosts: String = (0..HOSTS)
            .map(|i| {
                let port = lab.host(&format!("h{:02}", i % 5 + 1)).addr.port();
                format!(
                    "Host r{round}-h{i}\n    HostName 127.0.0.1\n    Port {port}\n    \
                     HostKeyAlias r{round}-h{i}\n"
                )
            })
            .collect();
        lab.ssh_config_with_hosts(
            &format!("killed-{round}"),
            &hosts,
            &[
                ("UserKnownHostsFile", Some(&config_path(&file))),
                ("StrictHostKeyChecking", Some("accept-new")),
            ],
        )
    };
    // One whole round first: it shows learning works, and how long a run
    // takes here. The kills are spread over the first half of that span,
    // where the handshakes end and the keys are learned one by one (the
    // second half adds little but logins to wait for).
    let started = Instant::now();
    let whole = invoke(
        lab.fleet_with_config(&round_config("whole"))
            .args(["run", "rwhole-*", "true"]),
    );
    let span = started.elapsed();
    whole.assert_exit(2);
    let initial = fs::read_to_string(&file).unwrap().lines().count();
    let (mut killed, mut learning_killed) = (0, 0);
    for round in 0..ROUNDS {
        let config = round_config(&round.to_string());
        let before = fs::read_to_string(&file).expect("reading known_hosts");
        let mut fleet = lab
            .fleet_with_config(&config)
            .args(["run", &format!("r{round}-*"), "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting fleet");
        let span_ms = u64::try_from(span.as_millis() / 2).unwrap_or(u64::MAX);
        thread::sleep(Duration::from_millis(random.below(span_ms + 1)));
        if fleet.try_wait().expect("polling fleet").is_none() {
            killed += 1;
        }
        // SIGKILL; an error only means fleet has already exited.
        let _ = fleet.kill();
        fleet.wait().expect("waiting for fleet");

        let after = fs::read_to_string(&file).expect("reading known_hosts");
        let learned = after.lines().count() - before.lines().count();
        if learned > 0 && learned < HOSTS {
            learning_killed += 1;
        }
        let (old, new) = (line_counts(&before), line_counts(&after));
        for (line, count) in &old {
            assert!(
                new.get(line).copied().unwrap_or(0) >= *count,
                "round {round} (seed {seed}) lost {line:?}:\n{after}"
            );
        }
        let lines = after.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(
            keys_openssh_reads(&file),
            lines,
            "round {round} (seed {seed}) left a line OpenSSH cannot read:\n{after}"
        );
    }
    // The kills landed while fleet ran, and keys were learned between them:
    // otherwise the rounds above proved nothing.
    assert!(killed > 0, "fleet always finished before the kill");
    let learned = fs::read_to_string(&file).unwrap().lines().count();
    assert!(
        learned > initial,
        "no round learned a key before it was killed"
    );
    assert!(
        learning_killed > 0,
        "no kill landed between the first and the last key of a round"
    );
}
