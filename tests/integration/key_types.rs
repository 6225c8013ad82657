//! Client key types end to end: RSA (which OpenSSH only accepts with
//! rsa-sha2-256/512 signatures) and ECDSA IdentityFiles log in, and with no
//! IdentityFile at all fleet falls back to the default `~/.ssh/id_*` keys.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::process::Command;

use super::fixture::{config_path, Lab};
use super::invocation::invoke;

/// The key types of the logins a host's sshd accepted, as its log names
/// them (`ED25519`, `RSA`, `ECDSA`).
fn accepted_key_types(lab: &Lab, host: &str) -> Vec<String> {
    lab.host(host)
        .sshd_log()
        .lines()
        .filter(|line| line.contains("Accepted publickey"))
        .filter_map(|line| {
            line.split("ssh2: ")
                .nth(1)?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn rsa_and_ecdsa_identity_files_log_in() {
    let lab = Lab::builder().healthy(2).build();
    for (name, args, logged_as) in [
        (
            "id_rsa_extra",
            ["-t", "rsa", "-b", "2048"].as_slice(),
            "RSA",
        ),
        ("id_ecdsa_extra", ["-t", "ecdsa"].as_slice(), "ECDSA"),
    ] {
        let key = lab.home.join(name);
        lab.new_authorized_key(&key, args);
        let config = lab.ssh_config_variant(name, &[("IdentityFile", Some(&config_path(&key)))]);
        let run =
            invoke(
                lab.fleet_with_config(&config)
                    .args(["run", "h*", "echo $FLEET_TEST_HOST"]),
            );
        run.assert_each_host_answered(&["h01", "h02"]);
        assert_eq!(
            accepted_key_types(&lab, "h01").last().map(String::as_str),
            Some(logged_as),
            "{run}"
        );
    }
}

#[test]
fn default_keys_are_used_when_no_identity_file_is_named() {
    let lab = Lab::builder().healthy(1).build();
    let ssh_dir = lab.home.join(".ssh");
    fs::DirBuilder::new().mode(0o700).create(&ssh_dir).unwrap();
    lab.new_authorized_key(&ssh_dir.join("id_ecdsa"), &["-t", "ecdsa"]);
    let config = lab.ssh_config_variant("default-keys", &[("IdentityFile", None)]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_exit(0);
    assert_eq!(run.stdout, "h01 | h01\n", "{run}");
    assert_eq!(accepted_key_types(&lab, "h01"), ["ECDSA"], "{run}");
}

#[test]
fn a_user_certificate_logs_in_without_an_authorized_key() {
    let lab = Lab::builder().healthy(2).build();
    // A key no host authorizes, with a certificate from the CA they trust.
    let key = lab.home.join("id_certified");
    let generated = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("running ssh-keygen");
    assert!(generated.success());
    let signed = Command::new("ssh-keygen")
        .args(["-q", "-s"])
        .arg(&lab.user_ca)
        .args(["-I", "fleet-test", "-n", &lab.user, "-V", "-5m:+1h"])
        .arg(key.with_extension("pub"))
        .status()
        .expect("running ssh-keygen");
    assert!(signed.success());
    let config = lab.ssh_config_variant("certified", &[("IdentityFile", Some(&config_path(&key)))]);

    // `id_certified-cert.pub` beside the key is found without CertificateFile.
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "h*", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_each_host_answered(&["h01", "h02"]);
    assert_eq!(accepted_key_types(&lab, "h01"), ["ED25519-CERT"], "{run}");

    // Without the certificate the same key is refused.
    let mut without = key.into_os_string();
    without.push("-cert.pub");
    fs::remove_file(&without).unwrap();
    let run = invoke(lab.fleet_with_config(&config).args(["run", "h01", "true"]));
    run.assert_exit(2);
}
