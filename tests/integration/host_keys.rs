//! Host key checking end to end: hashed known_hosts entries verify, and
//! `-o StrictHostKeyChecking=accept-new` learns an unknown key once, for
//! later strict runs, but never accepts a changed one.

use std::fs;

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke};

#[test]
fn hashed_known_hosts_entries_verify() {
    // Every lab entry is written `[127.0.0.1]:PORT`, so this also covers
    // bracketed host-and-port entries, hashed as OpenSSH hashes them.
    let lab = Lab::builder().healthy(2).hashed_known_hosts(true).build();
    let known_hosts = fs::read_to_string(&lab.known_hosts).unwrap();
    assert!(
        known_hosts.lines().all(|line| line.starts_with("|1|")),
        "known_hosts is not hashed:\n{known_hosts}"
    );
    let run = invoke(lab.fleet().args(["run", "h*", "echo $FLEET_TEST_HOST"]));
    run.assert_each_host_answered(&["h01", "h02"]);

    // `fleet ls` finds them too: its last column says the host is known.
    let ls = invoke(lab.fleet().args(["ls", "h*"]));
    ls.assert_exit(0);
    let known: Vec<&str> = ls
        .stdout
        .lines()
        .skip(1)
        .filter_map(|row| row.split_whitespace().last())
        .collect();
    assert_eq!(known, ["yes", "yes"], "{ls}");
}

#[test]
fn accept_new_learns_an_unknown_key_once_but_never_a_changed_one() {
    let lab = Lab::builder()
        .unknown_key("stranger")
        .changed_key("moved")
        .build();
    let before = fs::read_to_string(&lab.known_hosts).unwrap();
    let stranger = lab.host("stranger");
    let entry = format!("[127.0.0.1]:{} ", stranger.addr.port());
    assert!(!before.contains(&entry), "the stranger is known already");

    let learning = invoke(lab.fleet().args([
        "-o",
        "StrictHostKeyChecking=accept-new",
        "run",
        "--json",
        "stranger,moved",
        "echo $FLEET_TEST_HOST",
    ]));
    learning.assert_exit(2);
    assert_eq!(
        learning.statuses(),
        expected_statuses(&[("stranger", "ok"), ("moved", "host_key_changed")]),
        "{learning}"
    );

    // The file kept every line it had and gained one line for the stranger,
    // holding one of the keys its sshd really has.
    let after = fs::read_to_string(&lab.known_hosts).unwrap();
    let added = after
        .strip_prefix(&before)
        .unwrap_or_else(|| panic!("known_hosts lost lines:\n{after}"));
    let added: Vec<&str> = added.lines().collect();
    assert_eq!(added.len(), 1, "known_hosts gained {added:?}");
    let key = added[0]
        .strip_prefix(&entry)
        .unwrap_or_else(|| panic!("the learned line is not for the stranger: {added:?}"));
    assert!(
        stranger
            .host_keys
            .iter()
            .any(|host_key| host_key.public == key),
        "learned {key}, which the stranger does not present"
    );

    let strict = invoke(
        lab.fleet()
            .args(["run", "stranger", "echo $FLEET_TEST_HOST"]),
    );
    strict.assert_exit(0);
    assert_eq!(strict.stdout, "stranger | stranger\n", "{strict}");
    assert_eq!(
        fs::read_to_string(&lab.known_hosts).unwrap(),
        after,
        "a strict run changed known_hosts"
    );
}

#[test]
fn host_certificates_from_a_trusted_ca_verify() {
    let lab = Lab::builder().healthy(1).certified("c01").build();
    let known_hosts = fs::read_to_string(&lab.known_hosts).unwrap();
    assert!(known_hosts.contains("@cert-authority"), "{known_hosts}");
    // No plain key for c01: only the CA vouches for it.
    let port = lab.host("c01").addr.port();
    assert!(!known_hosts.contains(&format!(":{port} ")), "{known_hosts}");

    let run = invoke(
        lab.fleet()
            .args(["run", "--json", "h01,c01", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_exit(0);
    assert_eq!(
        run.statuses(),
        expected_statuses(&[("c01", "ok"), ("h01", "ok")]),
        "{run}"
    );
    let log = lab.host("c01").sshd_log();
    assert!(!log.contains("no matching host key"), "{log}");
}

#[test]
fn a_revoked_key_has_its_own_status_and_is_never_advised_to_be_trusted() {
    let lab = Lab::builder().healthy(1).revoked("burned").build();
    let run = invoke(lab.fleet().args(["run", "--json", "h01,burned", "true"]));
    run.assert_exit(2);
    let results = run.results();
    assert_eq!(results["h01"]["status"], "ok", "{run}");
    assert_eq!(results["burned"]["status"], "host_key_revoked", "{run}");
    let error = results["burned"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("is revoked by"), "{run}");
    assert!(
        error.contains(lab.host("burned").fingerprint("ssh-ed25519")),
        "{run}"
    );
    assert_eq!(run.count("host_key_revoked"), 1, "{run}");
    // Even with accept-new, a revoked key is refused, and the advice is
    // not to trust it again.
    let human = invoke(lab.fleet().args([
        "-o",
        "StrictHostKeyChecking=accept-new",
        "run",
        "burned",
        "true",
    ]));
    human.assert_exit(2);
    human.assert_stderr_mentions(&["host_key_revoked:", "must not be trusted again"]);
    assert!(!human.stderr.contains("accept-new"), "{human}");
}
