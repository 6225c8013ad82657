//! `fleet keyscan`, `fleet known-hosts` and `fleet audit` against real
//! sshd: keys and fingerprints as OpenSSH's own tools see them, checked
//! against out-of-band fingerprints, written so that ssh trusts them, and
//! forgotten again.

use std::fs;
use std::process::{Command, Stdio};

use super::fixture::{config_path, Lab};
use super::invocation::invoke;

/// `ssh-keygen -lf FILE` of every host key file of `host`, as
/// `(bits, fingerprint, type)`.
fn keygen_fingerprints(lab: &Lab, host: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let file = lab.path(&format!("hosts/{host}/ssh_host_{kind}_key.pub"));
        let output = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&file)
            .output()
            .expect("running ssh-keygen -lf");
        assert!(output.status.success(), "ssh-keygen -lf {}", file.display());
        let line = String::from_utf8(output.stdout).unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        found.push((
            words[0].to_string(),
            words[1].to_string(),
            words[words.len() - 1].to_string(),
        ));
    }
    found.sort();
    found
}

#[test]
fn keyscan_fingerprints_are_those_of_every_host_key_file() {
    let lab = Lab::builder().healthy(2).build();
    let scan = invoke(lab.fleet().args(["keyscan", "--fingerprints", "h*"]));
    scan.assert_exit(0);
    for host in ["h01", "h02"] {
        let mut printed: Vec<(String, String, String)> = scan
            .stdout
            .lines()
            .filter(|line| line.split_whitespace().nth(2) == Some(host))
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(words.len(), 4, "{line}");
                (words[0].into(), words[1].into(), words[3].into())
            })
            .collect();
        printed.sort();
        assert_eq!(printed, keygen_fingerprints(&lab, host), "{scan}");
    }
    // Three handshakes per host and no login.
    let log = lab.host("h01").sshd_log();
    assert_eq!(log.matches("Connection from").count(), 3, "{log}");
    assert!(!log.contains("Accepted"), "{log}");
}

#[test]
fn keys_written_by_keyscan_let_ssh_log_in_and_forget_removes_them() {
    let lab = Lab::builder().healthy(2).changed_key("moved").build();
    let file = lab.path("scanned_known_hosts");
    let config = lab.ssh_config_variant(
        "scanned",
        &[("UserKnownHostsFile", Some(&config_path(&file)))],
    );
    // The changed host's old keys are in the file; they must stay.
    let lab_known = fs::read_to_string(&lab.known_hosts).unwrap();
    let moved = format!("[127.0.0.1]:{}", lab.host("moved").addr.port());
    let stale: String = lab_known
        .lines()
        .filter(|line| line.starts_with(&moved))
        .map(|line| format!("{line}\n"))
        .collect();
    fs::write(&file, &stale).unwrap();
    let scan = invoke(lab.fleet_with_config(&config).args([
        "keyscan",
        "--update-known-hosts",
        "h*,moved",
    ]));
    scan.assert_exit(2);
    scan.assert_stderr_mentions(&["host_key_changed", "moved"]);
    let written = fs::read_to_string(&file).unwrap();
    assert!(written.starts_with(&stale), "{written}");
    assert_eq!(written.lines().count(), 3 + 6, "{written}");
    // The printed lines hold no key of the changed host.
    assert!(!scan.stdout.contains(&moved), "{scan}");
    for host in ["h01", "h02"] {
        let ssh = Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .args([host, "true"])
            .stdin(Stdio::null())
            .output()
            .expect("running ssh");
        assert!(
            ssh.status.success(),
            "{host}: {}",
            String::from_utf8_lossy(&ssh.stderr)
        );
    }
    // Again: nothing to add.
    let again =
        invoke(
            lab.fleet_with_config(&config)
                .args(["keyscan", "--update-known-hosts", "h*"]),
        );
    again.assert_exit(0);
    assert_eq!(fs::read_to_string(&file).unwrap(), written);

    let forget = invoke(
        lab.fleet_with_config(&config)
            .args(["known-hosts", "forget", "h01"]),
    );
    forget.assert_exit(0);
    let after = fs::read_to_string(&file).unwrap();
    let h01 = format!("[127.0.0.1]:{}", lab.host("h01").addr.port());
    let finds = Command::new("ssh-keygen")
        .args(["-F", &h01, "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!finds.status.success(), "{after}");
    let others: Vec<&str> = written.lines().filter(|l| !l.contains("h01")).collect();
    assert_eq!(after.lines().collect::<Vec<_>>(), others);
    let check = invoke(
        lab.fleet_with_config(&config)
            .args(["known-hosts", "check", "h*"]),
    );
    check.assert_exit(2);
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("h01") && l.contains("unknown")),
        "{check}"
    );
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("h02") && l.contains("known")),
        "{check}"
    );
}

#[test]
fn verify_against_a_console_log_names_a_mismatch() {
    let lab = Lab::builder().healthy(2).build();
    let mut log = String::from("[    0.000000] Linux version 6.1.0\n");
    for host in ["h01", "h02"] {
        log.push_str("ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n");
        for (bits, fingerprint, kind) in keygen_fingerprints(&lab, host) {
            log.push_str(&format!("ec2: {bits} {fingerprint} root@{host} {kind}\n"));
        }
        log.push_str("ec2: -----END SSH HOST KEY FINGERPRINTS-----\n");
    }
    let console = lab.path("console.log");
    fs::write(&console, &log).unwrap();
    let verify = invoke(
        lab.fleet()
            .arg("keyscan")
            .arg("--json")
            .arg("--verify")
            .arg(&console)
            .arg("h*"),
    );
    verify.assert_exit(0);
    let verifications: Vec<String> = verify
        .records()
        .iter()
        .filter(|r| r["type"] == "host_key")
        .map(|r| r["verification"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(verifications, vec!["verified"; 6], "{verify}");

    let altered = log.replacen(
        &keygen_fingerprints(&lab, "h02")[0].1,
        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        1,
    );
    fs::write(&console, altered).unwrap();
    let mismatch = invoke(
        lab.fleet()
            .arg("keyscan")
            .arg("--verify")
            .arg(&console)
            .arg("h*"),
    );
    assert_ne!(mismatch.code, Some(0), "{mismatch}");
    mismatch.assert_stderr_mentions(&["mismatch", "h02"]);
    // Each host's verification, folded, for the human formats too.
    assert!(
        mismatch.stderr.contains("mismatch: h02 (1)\n")
            && mismatch.stderr.contains("verified: h01 (1)\n"),
        "{mismatch}"
    );
    assert!(
        !mismatch
            .stdout
            .contains(&format!(":{} ", lab.host("h02").addr.port())),
        "{mismatch}"
    );
}

#[test]
fn audit_shows_the_auth_methods_and_checks_expectations() {
    let lab = Lab::builder().healthy(2).build();
    let audit = invoke(
        lab.fleet()
            .args(["audit", "--expect", "password=off", "h*"]),
    );
    audit.assert_exit(0);
    assert!(
        audit.stdout.contains("auth:\n  h[01-02]: publickey\n"),
        "{audit}"
    );
    assert!(audit.stdout.contains("kex:\n  h[01-02]: "), "{audit}");
    let failing = invoke(
        lab.fleet()
            .args(["audit", "--expect", "publickey=off", "h*"]),
    );
    failing.assert_exit(1);
    failing.assert_stderr_mentions(&["publickey=off: publickey is offered"]);
}
