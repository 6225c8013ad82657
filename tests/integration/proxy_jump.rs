//! ProxyJump end to end: a host reached through one or two jump hosts runs
//! the command, each jump host logs the login that tunnelled through it, and
//! a broken jump host fails the hosts behind it with its own cause.

use std::fs;

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke};

/// How many logins a host's sshd has accepted so far.
fn logins(lab: &Lab, host: &str) -> usize {
    lab.host(host)
        .sshd_log()
        .matches("Accepted publickey")
        .count()
}

#[test]
fn hosts_behind_jump_hosts_run_the_command() {
    let lab = Lab::builder().healthy(3).refused("gone").build();
    // Host blocks before the lab's own: the first value obtained wins.
    let config = lab.home.join("jump_config");
    let jumps = "Host h02\n    ProxyJump h01\nHost h03\n    ProxyJump h01,h02\nHost behind-gone\n    HostName 127.0.0.1\n    ProxyJump gone\n";
    fs::write(
        &config,
        format!("{jumps}{}", fs::read_to_string(&lab.ssh_config).unwrap()),
    )
    .unwrap();

    let (h01_before, h02_before) = (logins(&lab, "h01"), logins(&lab, "h02"));
    let run =
        invoke(
            lab.fleet_with_config(&config)
                .args(["run", "h02,h03", "echo $FLEET_TEST_HOST"]),
        );
    run.assert_each_host_answered(&["h02", "h03"]);
    // One login to h01 carried both tunnels; h02 had one login of its own
    // and one as h03's second hop, which is reached another way.
    assert_eq!(logins(&lab, "h01") - h01_before, 1, "{run}");
    assert_eq!(logins(&lab, "h02") - h02_before, 2, "{run}");

    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "--json", "behind-gone", "true"]),
    );
    run.assert_exit(2);
    assert_eq!(
        run.statuses(),
        expected_statuses(&[("behind-gone", "unreachable")]),
        "{run}"
    );
    assert!(
        run.stdout.contains("jump host gone: connection refused"),
        "{run}"
    );
}

#[test]
fn twenty_hosts_behind_one_bastion_share_one_login_to_it() {
    let lab = Lab::builder().healthy(21).build();
    let targets: Vec<String> = (1..=20).map(|i| format!("h{i:02}")).collect();
    let run = invoke(lab.fleet().args([
        "-J",
        "h21",
        "run",
        "--jump-parallel",
        "8",
        &targets.join(","),
        "echo $FLEET_TEST_HOST",
    ]));
    let names: Vec<&str> = targets.iter().map(String::as_str).collect();
    run.assert_each_host_answered(&names);
    let bastion = lab.host("h21").sshd_log();
    assert_eq!(logins(&lab, "h21"), 1, "{bastion}");
    assert_eq!(bastion.matches("Connection from").count(), 1, "{bastion}");
    for name in &names {
        assert_eq!(logins(&lab, name), 1, "{name}");
    }
}

#[test]
fn a_failing_bastion_is_tried_once_for_every_host_behind_it() {
    let lab = Lab::builder().healthy(5).bad_auth("locked").build();
    let run = invoke(
        lab.fleet()
            .args(["-J", "locked", "run", "--json", "h*", "true"]),
    );
    run.assert_exit(2);
    for (host, result) in run.results() {
        assert_eq!(result["status"], "auth_failed", "{host}\n{run}");
        assert_eq!(
            result["error"], "jump host locked: Permission denied (publickey)",
            "{host}\n{run}"
        );
    }
    assert_eq!(run.results().len(), 5, "{run}");
    let bastion = lab.host("locked").sshd_log();
    assert_eq!(bastion.matches("Connection from").count(), 1, "{bastion}");
}
