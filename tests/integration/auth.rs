//! Client authentication end to end: an encrypted key asks its passphrase
//! once per run through SSH_ASKPASS, and a real ssh-agent signs for keys
//! fleet has no file for, or whose file is encrypted.
//!
//! Every fleet run here sets `SSH_ASKPASS_REQUIRE=force` with an askpass
//! program and has stdin from /dev/null, so fleet can never fall back to
//! prompting on the developer's terminal.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::fixture::{config_path, Lab, PASSPHRASE};
use super::invocation::invoke;

/// An SSH_ASKPASS program that answers with a fixed passphrase and writes
/// one line to a log each time it is called.
struct Askpass {
    program: PathBuf,
    calls: PathBuf,
}

impl Askpass {
    fn new(dir: &Path, passphrase: &str) -> Askpass {
        let program = dir.join("askpass");
        let calls = dir.join("askpass.calls");
        fs::write(
            &program,
            format!(
                "#!/bin/sh\necho called >> '{}'\necho '{passphrase}'\n",
                calls.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o700)).unwrap();
        Askpass { program, calls }
    }

    /// How many times fleet ran the program so far.
    fn calls(&self) -> usize {
        fs::read_to_string(&self.calls)
            .map(|log| log.lines().count())
            .unwrap_or(0)
    }

    /// `command` with this program as the only way to get a passphrase.
    fn apply<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("SSH_ASKPASS", &self.program)
            .env("SSH_ASKPASS_REQUIRE", "force")
    }
}

/// A running `ssh-agent`, killed on drop.
struct Agent {
    socket: PathBuf,
    child: Child,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting ssh-agent (Debian, Ubuntu: apt-get install openssh-client): {e}")
            });
        let mut agent = Agent { socket, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !agent.socket.exists() {
            if let Some(status) = agent.child.try_wait().expect("polling ssh-agent") {
                panic!("ssh-agent exited with {status}");
            }
            assert!(Instant::now() < deadline, "ssh-agent made no socket");
            thread::sleep(Duration::from_millis(10));
        }
        agent
    }

    /// Adds an unencrypted private key file to the agent.
    fn add(&self, key: &Path) {
        let output = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .env_remove("SSH_ASKPASS")
            .stdin(Stdio::null())
            .output()
            .expect("running ssh-add");
        assert!(
            output.status.success(),
            "ssh-add {}: {}",
            key.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn encrypted_key_asks_its_passphrase_once_per_run() {
    let lab = Lab::builder().healthy(3).build();
    let scratch = TempDir::new().unwrap();
    let encrypted = config_path(&lab.encrypted_key);
    let ssh_config = lab.ssh_config_variant("encrypted", &[("IdentityFile", Some(&encrypted))]);

    let askpass = Askpass::new(scratch.path(), PASSPHRASE);
    let run = invoke(askpass.apply(lab.fleet_with_config(&ssh_config).args([
        "run",
        "h*",
        "echo $FLEET_TEST_HOST",
    ])));
    run.assert_each_host_answered(&["h01", "h02", "h03"]);
    assert_eq!(askpass.calls(), 1, "askpass calls for 3 hosts\n{run}");

    let wrong_dir = TempDir::new().unwrap();
    let wrong = Askpass::new(wrong_dir.path(), "not-the-passphrase");
    let refused = invoke(wrong.apply(lab.fleet_with_config(&ssh_config).args([
        "run",
        "h*",
        "echo $FLEET_TEST_HOST",
    ])));
    refused.assert_exit(3).assert_stderr_mentions(&[
        &format!("identity file {}", lab.encrypted_key.display()),
        "wrong passphrase",
    ]);
    assert_eq!(refused.stdout, "", "{refused}");
    assert!(wrong.calls() >= 1, "askpass was never asked\n{refused}");
}

#[test]
fn agent_keys_log_in_and_spare_the_passphrase_of_an_encrypted_key() {
    let lab = Lab::builder().healthy(2).build();
    let scratch = TempDir::new().unwrap();
    let agent = Agent::start(scratch.path());
    let askpass = Askpass::new(scratch.path(), PASSPHRASE);

    // The encrypted key is named by IdentityFile and the agent holds it
    // (added from a decrypted copy), and nothing else: the agent signs, no
    // passphrase is asked.
    let decrypted = scratch.path().join("id_decrypted");
    fs::copy(&lab.encrypted_key, &decrypted).unwrap();
    fs::set_permissions(&decrypted, fs::Permissions::from_mode(0o600)).unwrap();
    let output = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", PASSPHRASE, "-N", ""])
        .arg("-f")
        .arg(&decrypted)
        .stdin(Stdio::null())
        .output()
        .expect("running ssh-keygen");
    assert!(
        output.status.success(),
        "decrypting a copy of the key: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    agent.add(&decrypted);
    let encrypted = config_path(&lab.encrypted_key);
    let encrypted_config =
        lab.ssh_config_variant("encrypted", &[("IdentityFile", Some(&encrypted))]);
    let run = invoke(
        askpass.apply(
            lab.fleet_with_config(&encrypted_config)
                .env("SSH_AUTH_SOCK", &agent.socket)
                .args(["run", "h*", "echo $FLEET_TEST_HOST"]),
        ),
    );
    run.assert_each_host_answered(&["h01", "h02"]);
    assert_eq!(askpass.calls(), 0, "askpass was called\n{run}");

    // No IdentityFile, and the lab's home holds no default keys: only the
    // agent has keys, and fleet offers them since IdentitiesOnly is off.
    agent.add(&lab.key);
    let agent_only = lab.ssh_config_variant(
        "agent-only",
        &[("IdentityFile", None), ("IdentitiesOnly", Some("no"))],
    );
    let run = invoke(
        askpass.apply(
            lab.fleet_with_config(&agent_only)
                .env("SSH_AUTH_SOCK", &agent.socket)
                .args(["run", "h*", "echo $FLEET_TEST_HOST"]),
        ),
    );
    run.assert_each_host_answered(&["h01", "h02"]);

    // Without the agent, the same config has no key at all.
    let without_agent = invoke(askpass.apply(lab.fleet_with_config(&agent_only).args([
        "run",
        "--json",
        "h*",
        "echo $FLEET_TEST_HOST",
    ])));
    without_agent.assert_exit(2);
    assert_eq!(without_agent.count("auth_failed"), 2, "{without_agent}");
    assert_eq!(askpass.calls(), 0, "askpass was called\n{without_agent}");
}
