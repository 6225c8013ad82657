//! The command line itself: help documents the exit codes, and every usage
//! error exits 3 without running anything.

use super::fixture::Lab;
use super::invocation::invoke;

#[test]
fn help_documents_the_exit_codes() {
    let lab = Lab::builder().build();
    let help = invoke(lab.fleet().arg("--help"));
    help.assert_exit(0);
    assert!(help.stdout.contains("Exit codes:"), "{help}");
    for code in ["0", "1", "2", "3", "130"] {
        assert!(
            help.stdout
                .lines()
                .any(|line| line.trim_start().starts_with(&format!("{code} "))),
            "help does not explain exit code {code}\n{help}"
        );
    }
}

#[test]
fn usage_errors_exit_3() {
    let lab = Lab::builder().build();
    for args in [
        &["run"][..],
        &["run", "h01"],
        &["run", "--timeout", "soon", "h01", "true"],
        &["run", "-p", "0", "h01", "true"],
        &["frobnicate"],
    ] {
        let run = invoke(lab.fleet().args(args));
        run.assert_exit(3);
        assert!(run.stderr.starts_with("error: "), "fleet {args:?}\n{run}");
        assert_eq!(run.stdout, "", "fleet {args:?}\n{run}");
    }
}
