//! `--expect` and `--expect-not` turn a run into a compliance check: a host
//! whose output misses gets status `mismatch`, the summary sorts hosts by
//! compliance, and the run exits non-zero.

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke};

/// What `sshd -T | grep -i ^passwordauthentication` prints on each host:
/// h02 allows passwords.
const SETTING: &str = "if [ \"$FLEET_TEST_HOST\" = h02 ]; then echo 'passwordauthentication yes'; \
                       else echo 'passwordauthentication no'; fi";

#[test]
fn a_host_whose_output_misses_is_a_mismatch() {
    let lab = Lab::builder().healthy(3).refused("down").build();
    let run = invoke(lab.fleet().args([
        "run",
        "--expect",
        "^passwordauthentication no$",
        "h*,down",
        SETTING,
    ]));
    run.assert_exit(2);
    run.assert_stderr_mentions(&[
        "4 hosts: 2 ok, 1 mismatch, 1 unreachable",
        "no line matches '^passwordauthentication no$': h02",
        "compliant (2): h[01,03]",
        "not compliant (1): h02",
        "not checked (1): down",
    ]);

    let json = invoke(
        lab.fleet()
            .args(["run", "--json", "--expect-not", "yes$", "h*", SETTING]),
    );
    json.assert_exit(1);
    assert_eq!(
        json.statuses(),
        expected_statuses(&[("h01", "ok"), ("h02", "mismatch"), ("h03", "ok")]),
        "{json}"
    );
    assert_eq!(json.results()["h02"]["exit_code"], 0, "{json}");
    assert_eq!(json.count("mismatch"), 1, "{json}");
}

#[test]
fn a_bad_pattern_stops_the_run_before_it_starts() {
    let lab = Lab::builder().healthy(1).build();
    let run = invoke(lab.fleet().args(["run", "--expect", "(", "h01", "true"]));
    run.assert_exit(3);
    run.assert_stderr_mentions(&["--expect '('"]);
}
