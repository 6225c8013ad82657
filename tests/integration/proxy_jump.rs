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
    // h01 carried both tunnels; h02 one login of its own and one as h03's
    // second hop.
    assert_eq!(logins(&lab, "h01") - h01_before, 2, "{run}");
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
