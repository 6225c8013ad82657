//! Proves the lab is what it claims to be, using the OpenSSH client instead
//! of fleet: healthy hosts run commands as the current user, and each faulty
//! host fails the way OpenSSH reports that fault. If these fail, fleet's own
//! end-to-end tests cannot be trusted either way.

use std::collections::BTreeSet;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::fixture::{Lab, PASSPHRASE};

/// Runs `command` on `host` with `ssh -F <lab ssh_config>`, never prompting.
fn ssh(lab: &Lab, host: &str, command: &str) -> Output {
    run_ssh(Command::new("ssh").arg("-F").arg(&lab.ssh_config).args([
        "-o",
        "BatchMode=yes",
        host,
        command,
    ]))
}

fn run_ssh(command: &mut Command) -> Output {
    command
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("running ssh (Debian, Ubuntu: apt-get install openssh-client): {e}")
        })
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that ssh failed and said `expected` on stderr.
fn assert_ssh_fails_with(output: &Output, expected: &str) {
    assert_eq!(
        output.status.code(),
        Some(255),
        "ssh should fail: {}",
        stderr(output)
    );
    assert!(
        stderr(output).contains(expected),
        "ssh stderr lacks {expected:?}:\n{}",
        stderr(output)
    );
}

/// The `SHA256:` fingerprint of a key file as `ssh-keygen -l` prints it.
fn fingerprint_of(path: &std::path::Path) -> String {
    let output = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("running ssh-keygen");
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .split_whitespace()
        .nth(1)
        .expect("a fingerprint")
        .to_owned()
}

#[test]
fn healthy_hosts_run_commands_as_the_current_user_under_their_own_name() {
    let lab = Lab::builder().healthy(2).build();
    for name in ["h01", "h02"] {
        let output = ssh(&lab, name, "echo $FLEET_TEST_HOST; id -un");
        assert!(
            output.status.success(),
            "ssh {name} failed: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), format!("{name}\n{}\n", lab.user));
    }
    let log = lab.host("h01").sshd_log();
    let accepted = format!("Accepted publickey for {} from 127.0.0.1", lab.user);
    assert!(
        log.contains(&accepted),
        "sshd log lacks {accepted:?}:\n{log}"
    );
    assert!(
        log.contains(&fingerprint_of(&lab.key)),
        "sshd log names another key:\n{log}"
    );
}

#[test]
fn host_keys_are_what_sshd_presents_and_what_known_hosts_holds() {
    let lab = Lab::builder().healthy(1).build();
    let host = lab.host("h01");
    let scan = Command::new("ssh-keyscan")
        .args([
            "-t",
            "ed25519,ecdsa,rsa",
            "-p",
            &host.addr.port().to_string(),
            "127.0.0.1",
        ])
        .output()
        .expect("running ssh-keyscan");
    let scanned: BTreeSet<_> = stdout(&scan)
        .lines()
        .map(|line| line.split_once(' ').expect("host and key").1.to_owned())
        .collect();
    let recorded: BTreeSet<_> = host
        .host_keys
        .iter()
        .map(|key| key.public.clone())
        .collect();
    assert_eq!(scanned.len(), 3, "ssh-keyscan found {scanned:?}");
    assert_eq!(scanned, recorded);

    let known_hosts = fs::read_to_string(&lab.known_hosts).unwrap();
    for key in &host.host_keys {
        let line = format!("[127.0.0.1]:{} {}", host.addr.port(), key.public);
        assert!(known_hosts.contains(&line), "known_hosts lacks {line}");
    }

    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running ssh-keygen");
    keygen
        .stdin
        .take()
        .unwrap()
        .write_all(&scan.stdout)
        .unwrap();
    let listing = String::from_utf8(keygen.wait_with_output().unwrap().stdout).unwrap();
    for algorithm in ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"] {
        let fingerprint = host.fingerprint(algorithm);
        assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
        assert!(
            listing.contains(fingerprint),
            "{fingerprint} is not among\n{listing}"
        );
    }
}

#[test]
fn changed_key_host_is_refused_as_a_changed_host_key() {
    let lab = Lab::builder().changed_key("moved").build();
    let output = ssh(&lab, "moved", "true");
    assert_ssh_fails_with(&output, "REMOTE HOST IDENTIFICATION HAS CHANGED");
    assert!(stderr(&output).contains(lab.host("moved").fingerprint("ssh-ed25519")));
}

#[test]
fn unknown_key_host_is_refused_under_strict_checking() {
    let lab = Lab::builder().unknown_key("stranger").build();
    let output = ssh(&lab, "stranger", "true");
    assert_ssh_fails_with(&output, "host key is known for");
    assert_ssh_fails_with(&output, "Host key verification failed.");
}

#[test]
fn bad_auth_host_denies_the_client_key() {
    let lab = Lab::builder().bad_auth("locked").build();
    assert_ssh_fails_with(
        &ssh(&lab, "locked", "true"),
        "Permission denied (publickey)",
    );
}

#[test]
fn refused_host_refuses_connections() {
    let lab = Lab::builder().refused("down").build();
    assert_ssh_fails_with(&ssh(&lab, "down", "true"), "Connection refused");
}

#[test]
fn tarpit_host_times_out_within_connect_timeout() {
    let lab = Lab::builder().tarpit("slow").build();
    let started = Instant::now();
    let output = ssh(&lab, "slow", "true");
    let elapsed = started.elapsed();
    assert_ssh_fails_with(&output, "Connection timed out during banner exchange");
    // ssh_config says ConnectTimeout 3.
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(6)).contains(&elapsed),
        "ssh gave up after {elapsed:?}"
    );
}

#[test]
fn hashed_known_hosts_hide_names_and_still_verify() {
    let lab = Lab::builder().healthy(1).hashed_known_hosts(true).build();
    let known_hosts = fs::read_to_string(&lab.known_hosts).unwrap();
    assert_eq!(known_hosts.lines().count(), 3, "{known_hosts}");
    assert!(
        known_hosts.lines().all(|line| line.starts_with("|1|")),
        "{known_hosts}"
    );
    let output = ssh(&lab, "h01", "echo $FLEET_TEST_HOST");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "h01\n");
}

#[test]
fn encrypted_key_logs_in_with_the_passphrase() {
    let lab = Lab::builder().healthy(1).build();
    let scratch = tempfile::tempdir().unwrap();
    let askpass = scratch.path().join("askpass");
    fs::write(&askpass, format!("#!/bin/sh\necho '{PASSPHRASE}'\n")).unwrap();
    fs::set_permissions(&askpass, fs::Permissions::from_mode(0o700)).unwrap();

    // Without the lab's ssh_config, so that the unencrypted key cannot be
    // what logs in.
    let host = lab.host("h01");
    let output = run_ssh(
        Command::new("ssh")
            .args([
                "-F",
                "none",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", lab.known_hosts.display()))
            .arg("-i")
            .arg(&lab.encrypted_key)
            .args([
                "-p",
                &host.addr.port().to_string(),
                "-l",
                &lab.user,
                "127.0.0.1",
            ])
            .arg("echo $FLEET_TEST_HOST")
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "h01\n");
    assert!(host
        .sshd_log()
        .contains(&fingerprint_of(&lab.encrypted_key)));

    let without_passphrase = Command::new("ssh-keygen")
        .args(["-y", "-P", ""])
        .arg("-f")
        .arg(&lab.encrypted_key)
        .output()
        .unwrap();
    assert!(
        !without_passphrase.status.success(),
        "the key is not encrypted"
    );
}

#[test]
fn fleet_command_keeps_away_from_the_real_home_and_agent() {
    let lab = Lab::builder().build();
    let command = lab.fleet();
    let args: Vec<_> = command.get_args().collect();
    assert_eq!(
        args,
        [std::ffi::OsStr::new("-F"), lab.ssh_config.as_os_str()]
    );
    assert_eq!(command.get_current_dir(), Some(lab.home.as_path()));
    let env: Vec<_> = command.get_envs().collect();
    for (name, value) in [
        ("HOME", Some(lab.home.as_os_str())),
        ("XDG_CONFIG_HOME", None),
        ("SSH_AUTH_SOCK", None),
        ("SSH_ASKPASS", None),
        ("NO_COLOR", Some("1".as_ref())),
    ] {
        assert!(
            env.contains(&(name.as_ref(), value)),
            "{name} is not {value:?} in {env:?}"
        );
    }
    assert!(lab.home.is_dir());
    assert_eq!(
        fs::read_dir(&lab.home).unwrap().count(),
        0,
        "home is not empty"
    );
}

#[test]
fn dropping_the_lab_stops_its_hosts_and_removes_its_files() {
    let lab = Lab::builder().healthy(1).tarpit("slow").build();
    let sshd = lab.host("h01").addr;
    let tarpit = lab.host("slow").addr;
    let ssh_config = lab.ssh_config.clone();
    TcpStream::connect(sshd).expect("sshd listens");
    TcpStream::connect(tarpit).expect("the tarpit listens");
    drop(lab);
    for addr in [sshd, tarpit] {
        let error = TcpStream::connect(addr).expect_err("nothing should listen any more");
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{addr}");
    }
    assert!(!ssh_config.exists());
}
