//! Ctrl-C: the first one starts no new hosts and lets running ones finish,
//! the second abandons them; either way the run exits 130.
//!
//! The remote commands wait for a file this test creates, and the test
//! waits for fleet's own output, so each step happens in a known order
//! without guessing how long anything takes.

use std::fs;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::fixture::Lab;
use super::invocation::Running;

/// Files shared with the remote commands, which run on this machine.
/// Every remote loop also ends when the directory goes away, so a failed
/// test or an abandoned host leaves no process behind.
struct Signals {
    dir: TempDir,
}

impl Signals {
    fn new() -> Signals {
        Signals {
            dir: TempDir::new().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command that marks itself started, waits for `release`, and then
    /// prints `released`.
    fn command(&self, release: &str) -> String {
        format!(
            "touch '{dir}/started-'$FLEET_TEST_HOST; \
             while [ -d '{dir}' ] && [ ! -e '{dir}/{release}' ]; do sleep 0.1; done; \
             echo released",
            dir = self.dir.path().display()
        )
    }

    /// Waits until `host` runs the command. Polling a file is the only way
    /// to see it; the guard only turns a hang into a failure.
    fn wait_until_started(&self, host: &str) {
        let marker = self.path(&format!("started-{host}"));
        let deadline = Instant::now() + Duration::from_secs(120);
        while !marker.exists() {
            assert!(Instant::now() < deadline, "{host} never ran the command");
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn release(&self, name: &str) {
        fs::write(self.path(name), "").unwrap();
    }

    fn forget_started(&self) {
        for host in ["h01", "h02"] {
            let _ = fs::remove_file(self.path(&format!("started-{host}")));
        }
    }
}

#[test]
fn first_interrupt_drains_and_second_abandons_running_hosts() {
    let lab = Lab::builder().healthy(2).build();
    let signals = Signals::new();

    // One host at a time: h01 runs, h02 waits for a slot.
    let mut drained = Running::start(lab.fleet().args([
        "run",
        "--json",
        "-p",
        "1",
        "h01,h02",
        &signals.command("finish"),
    ]));
    signals.wait_until_started("h01");
    drained.interrupt();
    let skipped = drained.wait_for_stdout(r#""host":"h02""#);
    assert!(skipped.contains(r#""status":"skipped""#), "{skipped}");
    signals.release("finish");
    let drained = drained.finish();
    drained.assert_exit(130);
    let results = drained.results();
    assert_eq!(results["h01"]["status"], "ok", "{drained}");
    assert_eq!(results["h02"]["status"], "skipped", "{drained}");
    assert!(
        drained
            .stdout
            .contains(r#""host":"h01","stream":"stdout","text":"released""#),
        "h01 was not allowed to finish\n{drained}"
    );
    assert!(!signals.path("started-h02").exists(), "h02 was started");
    let summary = drained.summary();
    assert_eq!(summary["interrupted"], true, "{drained}");
    assert_eq!(summary["exit_code"], 130, "{drained}");

    // Both hosts run and never finish on their own.
    signals.forget_started();
    let mut abandoned =
        Running::start(
            lab.fleet()
                .args(["run", "--json", "h01,h02", &signals.command("never")]),
        );
    signals.wait_until_started("h01");
    signals.wait_until_started("h02");
    abandoned.interrupt();
    abandoned.wait_for_stderr("interrupted");
    abandoned.interrupt();
    let abandoned = abandoned.finish();
    abandoned.assert_exit(130);
    for (host, result) in abandoned.results() {
        assert_eq!(result["status"], "interrupted", "{host}\n{abandoned}");
        assert_eq!(result["error"], "interrupted", "{host}\n{abandoned}");
    }
    assert_eq!(abandoned.results().len(), 2, "{abandoned}");
    assert!(!abandoned.stdout.contains("released"), "{abandoned}");
}
