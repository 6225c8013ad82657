//! Re-runs: each run records how every host ended, `@failed`, `@ok` and
//! `@failed:STATUS` select from that record, and `--rerun-file` hands the
//! failed hosts to other tools.

use std::fs;

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke};

#[test]
fn failed_selects_exactly_the_hosts_that_failed_last_time() {
    let lab = Lab::builder()
        .healthy(2)
        .refused("down")
        .bad_auth("locked")
        .build();
    let rerun = lab.home.join("rerun.txt");
    let first = invoke(
        lab.fleet()
            .args(["run", "--rerun-file"])
            .arg(&rerun)
            .args(["h*,down,locked", "true"]),
    );
    first.assert_exit(2);
    assert_eq!(fs::read_to_string(&rerun).unwrap().lines().count(), 2);
    let mut listed: Vec<String> = fs::read_to_string(&rerun)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(listed, ["down", "locked"]);

    let retry = invoke(lab.fleet().args(["run", "--json", "@failed", "true"]));
    retry.assert_exit(2);
    assert_eq!(
        retry.statuses(),
        expected_statuses(&[("down", "unreachable"), ("locked", "auth_failed")]),
        "{retry}"
    );

    // The retry is now the last run; its hosts failed the same way.
    let unreachable = invoke(lab.fleet().args(["ls", "@failed:unreachable"]));
    unreachable.assert_exit(0);
    assert!(unreachable.stdout.contains("down"), "{unreachable}");
    assert!(!unreachable.stdout.contains("locked"), "{unreachable}");

    let ok = invoke(lab.fleet().args(["run", "--json", "h01", "true"]));
    ok.assert_exit(0);
    let none = invoke(lab.fleet().args(["run", "@failed", "true"]));
    none.assert_exit(3);
    none.assert_stderr_mentions(&["selector '@failed' matches no host: the last run, 'true'"]);
    let again = invoke(lab.fleet().args(["run", "--json", "@ok", "true"]));
    again.assert_exit(0);
    assert_eq!(
        again.statuses(),
        expected_statuses(&[("h01", "ok")]),
        "{again}"
    );
}

#[test]
fn the_record_lives_in_the_xdg_state_dir() {
    let lab = Lab::builder().healthy(1).build();
    let never = invoke(lab.fleet().args(["run", "@failed", "true"]));
    never.assert_exit(3);
    never.assert_stderr_mentions(&["no run is recorded yet"]);

    let state = lab.home.join("state");
    let run = invoke(
        lab.fleet()
            .env("XDG_STATE_HOME", &state)
            .args(["run", "h01", "exit 4"]),
    );
    run.assert_exit(1);
    let record = fs::read_to_string(state.join("fleet/last-run.json")).unwrap();
    assert!(record.contains("\"status\": \"failed\""), "{record}");
    assert!(!lab.home.join(".local/state/fleet").exists());
}
