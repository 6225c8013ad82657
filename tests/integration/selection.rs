//! Selectors that cannot mean what the user meant stop the run before any
//! host is contacted: exit 3, a message naming the selector, no output.

use super::fixture::Lab;
use super::invocation::invoke;

#[test]
fn a_selector_that_matches_nothing_or_does_not_parse_runs_nowhere() {
    let lab = Lab::builder().healthy(2).build();
    for (selector, excludes, named) in [
        // One item matching nothing stops the run, even next to one that
        // matches: it is more likely a typo than an intention.
        ("h*,nomatch-*", &[][..], "nomatch-*"),
        ("h[1-", &[], "h[1-"),
        // An exclusion that leaves nothing out would run on the host the
        // user meant to spare.
        ("h*", &["h9"][..], "h9"),
        ("h01", &["h01"], "h01"),
    ] {
        let mut command = lab.fleet();
        command.args(["run", selector]);
        for exclude in excludes {
            command.args(["-x", exclude]);
        }
        let run = invoke(command.arg("echo $FLEET_TEST_HOST"));
        run.assert_exit(3).assert_stderr_mentions(&[named]);
        assert_eq!(run.stdout, "", "{selector} -x {excludes:?} ran\n{run}");
    }
    for host in ["h01", "h02"] {
        let log = lab.host(host).sshd_log();
        assert!(
            !log.contains("Connection from"),
            "{host} was contacted:\n{log}"
        );
    }
}
