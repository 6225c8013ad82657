//! Plans other than `run`, driven through the library against real sshd:
//! several steps over one login, and handshake-only work that logs in to
//! nothing. Each sshd's own log says how many connections and logins there
//! were.

use std::path::Path;
use std::sync::{Arc, Mutex};

use fleet::event::{Event, RunEnd};
use fleet::exec::{self, ExecOptions, Fanout, Interrupts};
use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory};
use fleet::outcome::{Outcome, Status};
use fleet::plan::{
    Access, Capture, HostKeys, HostPlan, Next, Plan, Reached, Schedule, Step, StepResult,
};
use tokio::sync::mpsc;

use super::fixture::Lab;

/// Runs `plan` on the hosts `selector` picks from `ssh_config`, as the
/// binary would, and returns how the run ended and every event.
fn execute(
    lab: &Lab,
    ssh_config: &Path,
    selector: &str,
    plan: Arc<dyn Plan>,
) -> (RunEnd, Vec<Event>) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let env = LocalEnv {
            home: lab.home.clone(),
            user: lab.user.clone(),
        };
        let config = SshConfig::load(ssh_config, &env).expect("the lab's ssh_config loads");
        let catalog = Catalog::new(config, Inventory::load(&[]).expect("no inventory"));
        let targets = catalog
            .resolve(selector, &[])
            .expect("the selector resolves");
        let opts = ExecOptions {
            connect_timeout: None,
            insecure_ignore_host_keys: false,
            home: lab.home.clone(),
            password: None,
        };
        let (hosts, _) = exec::prepare(&targets, &opts, plan.access())
            .await
            .expect("prepared");
        let (events, mut received) = mpsc::channel(1024);
        let collected = tokio::spawn(async move {
            let mut all = Vec::new();
            while let Some(event) = received.recv().await {
                all.push(event);
            }
            all
        });
        let fanout = Fanout {
            parallel: 8,
            jump_parallel: 8,
            schedule: Schedule::default(),
        };
        let end = exec::execute(plan, hosts, &fanout, events, Interrupts::default()).await;
        (end, collected.await.expect("the collector ends"))
    })
}

/// Three steps, each built from the output of the one before it, so the
/// plan must see every result before it chooses the next step.
struct Chain {
    seen: Arc<Mutex<Vec<String>>>,
}

struct ChainHost {
    done: usize,
    seen: Arc<Mutex<Vec<String>>>,
}

fn capture(command: String) -> Next {
    Next::Run(Step {
        command,
        stdin: None,
        output: Capture::Keep(4096),
        timeout: None,
        expect: None,
    })
}

impl Plan for Chain {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(ChainHost {
            done: 0,
            seen: self.seen.clone(),
        })
    }
}

impl HostPlan for ChainHost {
    fn start(&mut self, _reached: &Reached) -> Next {
        capture("echo $FLEET_TEST_HOST".into())
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        self.done += 1;
        let said = String::from_utf8_lossy(&result.stdout).trim().to_string();
        self.seen.lock().unwrap().push(said.clone());
        match (self.done, result.exit) {
            (1 | 2, Ok(0)) => capture(format!("echo {said}+")),
            (3, Ok(0)) => Next::Done(Outcome::ok()),
            (_, Ok(code)) => Next::Done(Outcome::exited(code)),
            (_, Err(cause)) => Next::Done(Outcome::failed(cause)),
        }
    }
}

#[test]
fn a_three_step_plan_uses_one_connection_per_host() {
    let lab = Lab::builder().healthy(2).build();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let plan = Arc::new(Chain { seen: seen.clone() });
    let (end, events) = execute(&lab, &lab.ssh_config, "h*", plan);
    assert_eq!(end.exit_code, 0, "{events:#?}");
    assert_eq!(end.stats.count(Status::Ok), 2);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["h01", "h01+", "h01++", "h02", "h02+", "h02++"]);
    for host in ["h01", "h02"] {
        let log = lab.host(host).sshd_log();
        assert_eq!(log.matches("Connection from").count(), 1, "{host}:\n{log}");
        assert_eq!(
            log.matches("Accepted publickey").count(),
            1,
            "{host}:\n{log}"
        );
        assert_eq!(
            log.matches("Starting session: command").count(),
            3,
            "{host}:\n{log}"
        );
    }
    // Captured output is the plan's, not the terminal's.
    assert!(!events.iter().any(|e| matches!(e, Event::Output { .. })));
}

/// Greets each host and keeps what it showed.
struct Greet {
    seen: Arc<Mutex<Vec<Reached>>>,
}

impl Plan for Greet {
    fn access(&self) -> Access {
        Access::Handshake {
            auth_methods: true,
            host_keys: HostKeys::Checked,
        }
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(GreetHost {
            seen: self.seen.clone(),
        })
    }
}

struct GreetHost {
    seen: Arc<Mutex<Vec<Reached>>>,
}

impl HostPlan for GreetHost {
    fn start(&mut self, reached: &Reached) -> Next {
        self.seen.lock().unwrap().push(reached.clone());
        Next::Done(Outcome::ok())
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        Next::Done(Outcome::failed(result.exit.expect_err("no step ran")))
    }
}

#[test]
fn handshake_only_work_logs_in_to_nothing_and_reads_no_key() {
    let lab = Lab::builder().healthy(1).bad_auth("locked").build();
    // A key file that does not exist would stop any run that logs in.
    let no_key = lab.ssh_config_variant(
        "no-key",
        &[("IdentityFile", Some("/nonexistent/fleet-test-key"))],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let plan = Arc::new(Greet { seen: seen.clone() });
    let (end, events) = execute(&lab, &no_key, "h01,locked", plan);
    assert_eq!(end.exit_code, 0, "{events:#?}");
    assert_eq!(end.stats.count(Status::Ok), 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for reached in seen.iter() {
        assert!(
            reached.server_version.starts_with("SSH-2.0-OpenSSH_"),
            "{}",
            reached.server_version
        );
        assert_eq!(
            reached.auth_methods.as_deref(),
            Some(&["publickey".to_string()][..])
        );
    }
    let keys: Vec<String> = seen
        .iter()
        .map(|r| r.host_key().fingerprint(Default::default()).to_string())
        .collect();
    assert!(keys.contains(&lab.host("h01").fingerprint("ssh-ed25519").to_string()));
    for host in ["h01", "locked"] {
        let log = lab.host(host).sshd_log();
        assert_eq!(log.matches("Connection from").count(), 1, "{host}:\n{log}");
        for login in ["Accepted", "Failed", "Postponed", "Starting session"] {
            assert!(!log.contains(login), "{host} saw {login}:\n{log}");
        }
    }
}

/// Six steps at once, each telling which step it is after a moment, so
/// several are open together.
struct AllAtOnce {
    results: Arc<Mutex<Vec<String>>>,
}

struct AllAtOnceHost {
    results: Arc<Mutex<Vec<String>>>,
}

impl Plan for AllAtOnce {
    fn access(&self) -> Access {
        Access::Login
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(AllAtOnceHost {
            results: self.results.clone(),
        })
    }
}

impl HostPlan for AllAtOnceHost {
    fn start(&mut self, _reached: &Reached) -> Next {
        let steps = (1..=6)
            .map(|i| Step {
                command: format!("sleep 0.3; echo step-{i}"),
                stdin: None,
                output: Capture::Keep(64),
                timeout: None,
                expect: None,
            })
            .collect();
        Next::RunAll(steps)
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        Next::Done(Outcome::failed(
            result.exit.expect_err("one step at a time"),
        ))
    }

    fn all_done(&mut self, results: Vec<StepResult>) -> Next {
        let mut seen = self.results.lock().unwrap();
        for result in &results {
            match &result.exit {
                Ok(0) => seen.push(String::from_utf8_lossy(&result.stdout).trim().to_string()),
                other => seen.push(format!("{other:?}")),
            }
        }
        Next::Done(Outcome::ok())
    }
}

#[test]
fn steps_at_once_wait_for_a_free_channel_past_max_sessions() {
    let lab = Lab::builder()
        .healthy(1)
        .sshd_option("MaxSessions", "2")
        .build();
    let results = Arc::new(Mutex::new(Vec::new()));
    let plan = Arc::new(AllAtOnce {
        results: results.clone(),
    });
    let (end, events) = execute(&lab, &lab.ssh_config, "h01", plan);
    assert_eq!(end.exit_code, 0, "{events:#?}");
    // Every step ran, in the order asked for, although the server took
    // only two channels at a time.
    let expected: Vec<String> = (1..=6).map(|i| format!("step-{i}")).collect();
    assert_eq!(*results.lock().unwrap(), expected);
    let log = lab.host("h01").sshd_log();
    assert_eq!(log.matches("Connection from").count(), 1, "{log}");
    assert_eq!(log.matches("Starting session: command").count(), 6, "{log}");
}
