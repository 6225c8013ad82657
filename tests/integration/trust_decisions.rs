//! Trust decisions that follow OpenSSH: a malformed known_hosts line is
//! skipped with a warning (but a marker line that can't be read fails
//! closed), `RevokedHostKeys` is honoured, a host under `@cert-authority`
//! that shows a plain key is as new as any unknown host, and a changed key
//! points at `fleet known-hosts forget`.

use std::fs;
use std::process::Command;

use super::fixture::{config_path, Lab};
use super::invocation::{expected_statuses, invoke};

#[test]
fn a_malformed_known_hosts_line_is_skipped_with_a_warning() {
    let lab = Lab::builder().healthy(2).build();
    let original = fs::read_to_string(&lab.known_hosts).unwrap();
    let h02 = lab.host("h02").addr.port();
    let text = format!(
        "this line is not a known_hosts entry\n{original}\
         @revoked [127.0.0.1]:{h02} ssh-ed25519 %%%%not-base64\n"
    );
    let file = lab.path("known_hosts.malformed");
    fs::write(&file, &text).unwrap();
    let config = lab.ssh_config_variant(
        "malformed",
        &[("UserKnownHostsFile", Some(&config_path(&file)))],
    );
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "--json", "h01,h02", "true"]),
    );
    run.assert_exit(2);
    let statuses = run.statuses();
    assert_eq!(statuses["h01"], "ok", "{run}");
    // The revocation that can't be read fails closed for the host it names.
    assert_ne!(statuses["h02"], "ok", "{run}");
    let revoked_line = text.lines().count();
    let error = run.results()["h02"]["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains(&format!("{}:{revoked_line}", file.display())),
        "{run}"
    );
    run.assert_stderr_mentions(&[&format!("{}:1:", file.display())]);
}

#[test]
fn revoked_host_keys_file_is_honoured() {
    let lab = Lab::builder().healthy(2).build();
    let revoked = lab.path("revoked_keys");
    let keys: Vec<String> = lab
        .host("h01")
        .host_keys
        .iter()
        .map(|key| format!("{} revoked by hand", key.public))
        .collect();
    fs::write(&revoked, keys.join("\n") + "\n").unwrap();
    let config = lab.ssh_config_variant(
        "revoked-file",
        &[("RevokedHostKeys", Some(&config_path(&revoked)))],
    );
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "--json", "h01,h02", "true"]),
    );
    run.assert_exit(2);
    assert_eq!(
        run.statuses(),
        expected_statuses(&[("h01", "host_key_revoked"), ("h02", "ok")]),
        "{run}"
    );
    let error = run.results()["h01"]["error"].as_str().unwrap().to_owned();
    assert!(error.contains(&revoked.display().to_string()), "{run}");

    // A KRL, which fleet cannot read, stops the run before it starts.
    let public = lab.path("h01.pub");
    fs::write(
        &public,
        format!("{}\n", lab.host("h01").host_keys[0].public),
    )
    .unwrap();
    let krl = lab.path("revoked.krl");
    let made = Command::new("ssh-keygen")
        .arg("-q")
        .arg("-k")
        .arg("-f")
        .arg(&krl)
        .arg(&public)
        .status()
        .expect("running ssh-keygen -k");
    assert!(made.success());
    let config = lab.ssh_config_variant(
        "revoked-krl",
        &[("RevokedHostKeys", Some(&config_path(&krl)))],
    );
    let run = invoke(lab.fleet_with_config(&config).args(["run", "h02", "true"]));
    run.assert_exit(3);
    run.assert_stderr_mentions(&["KRL", &krl.display().to_string()]);
}

#[test]
fn a_plain_key_under_a_cert_authority_is_learned_with_accept_new() {
    // The lab's @cert-authority line covers every lab host, so `plain`,
    // which has no certificate, is a host under a CA showing a plain key.
    let lab = Lab::builder().certified("c01").unknown_key("plain").build();
    let strict = invoke(lab.fleet().args(["run", "--json", "plain", "true"]));
    strict.assert_exit(2);
    assert_eq!(strict.statuses()["plain"], "host_key_unknown", "{strict}");

    let learning = invoke(lab.fleet().args([
        "-o",
        "StrictHostKeyChecking=accept-new",
        "run",
        "--json",
        "plain,c01",
        "true",
    ]));
    learning.assert_exit(0);
    let again = invoke(lab.fleet().args(["run", "plain", "true"]));
    again.assert_exit(0);
}

#[test]
fn a_changed_key_points_at_fleet_known_hosts_forget() {
    let lab = Lab::builder().changed_key("moved").build();
    let run = invoke(lab.fleet().args(["run", "moved", "true"]));
    run.assert_exit(2);
    run.assert_stderr_mentions(&["fleet known-hosts forget moved"]);
    assert!(!run.stderr.contains("ssh-keygen -R"), "{run}");
}
