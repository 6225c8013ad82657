//! Hosts fleet cannot run on: each lab fault ends as its own status, with
//! its cause and a hint in the summary, while healthy hosts in the same run
//! still succeed and the run exits 2.

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke};

#[test]
fn each_fault_has_its_own_status_and_the_healthy_host_still_runs() {
    let lab = Lab::builder()
        .healthy(1)
        .refused("down")
        .tarpit("slow")
        .changed_key("moved")
        .unknown_key("stranger")
        .bad_auth("locked")
        .build();
    // The tarpit costs the connect timeout; keep it short.
    let selection = ["--connect-timeout", "2s", "*", "echo $FLEET_TEST_HOST"];

    let json = invoke(lab.fleet().args(["run", "--json"]).args(selection));
    json.assert_exit(2);
    assert_eq!(
        json.statuses(),
        expected_statuses(&[
            ("h01", "ok"),
            ("down", "unreachable"),
            ("slow", "unreachable"),
            ("moved", "host_key_changed"),
            ("stranger", "host_key_unknown"),
            ("locked", "auth_failed"),
        ]),
        "{json}"
    );
    let results = json.results();
    for host in ["down", "slow", "moved", "stranger", "locked"] {
        let result = &results[host];
        assert!(result["error"].is_string(), "{host} has no cause\n{json}");
        assert!(
            result["exit_code"].is_null(),
            "{host} ran something\n{json}"
        );
    }
    let summary = json.summary();
    assert_eq!(summary["hosts"], 6, "{json}");
    assert_eq!(summary["exit_code"], 2, "{json}");
    for (status, count) in [
        ("ok", 1),
        ("unreachable", 2),
        ("host_key_changed", 1),
        ("host_key_unknown", 1),
        ("auth_failed", 1),
    ] {
        assert_eq!(json.count(status), count, "summary {status}\n{json}");
    }

    let human = invoke(lab.fleet().arg("run").args(selection));
    human.assert_exit(2);
    // Padded to the widest alias, `stranger`.
    assert_eq!(human.stdout, "h01      | h01\n", "{human}");
    let unknown = format!(
        "is not in known_hosts (ssh-ed25519 {}): stranger",
        lab.host("stranger").fingerprint("ssh-ed25519")
    );
    human.assert_stderr_mentions(&[
        "6 hosts: 1 ok, 2 unreachable, 1 host_key_unknown, 1 host_key_changed, 1 auth_failed",
        // Each cause, next to the host it concerns.
        "connection refused: down",
        "connection timed out: slow",
        "Permission denied (publickey): locked",
        &unknown,
        "changed",
        // The fingerprint the changed host presents, to verify out of band.
        lab.host("moved").fingerprint("ssh-ed25519"),
        // A hint for each kind of failure.
        "hint: the host answered but nothing listens on that port",
        "hint: check the address",
        "hint: the host key differs from the one known_hosts records",
        "-o StrictHostKeyChecking=accept-new",
        "authorized_keys",
    ]);
}
