//! The command line itself: help documents the real exit codes and
//! statuses, and every usage error exits 3 without running anything.

use fleet::error::exit;
use fleet::outcome::Status;

use super::fixture::Lab;
use super::invocation::invoke;

/// The first words of the indented lines under `heading` in `text`.
fn documented(text: &str, heading: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| !line.starts_with(heading))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn help_documents_the_exit_codes_fleet_uses() {
    let lab = Lab::builder().build();
    let help = invoke(lab.fleet().arg("--help"));
    help.assert_exit(0);
    let codes = [
        exit::OK,
        exit::COMMAND_FAILED,
        exit::UNREACHED,
        exit::USAGE,
        exit::INTERRUPTED,
    ];
    let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
    assert_eq!(documented(&help.stdout, "Exit codes:"), codes, "{help}");
}

#[test]
fn run_help_documents_every_status() {
    let lab = Lab::builder().build();
    let help = invoke(lab.fleet().args(["run", "--help"]));
    help.assert_exit(0);
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        documented(&help.stdout, "Host statuses"),
        statuses,
        "{help}"
    );
}

#[test]
fn usage_errors_exit_3() {
    let lab = Lab::builder().build();
    for args in [
        &["run"][..],
        &["run", "h01"],
        &["run", "--timeout", "soon", "h01", "true"],
        &["run", "-p", "0", "h01", "true"],
        &["run", "--batch", "0", "h01", "true"],
        &["run", "--max-failures", "lots", "h01", "true"],
        &["frobnicate"],
    ] {
        let run = invoke(lab.fleet().args(args));
        run.assert_exit(3);
        assert!(
            run.stderr.starts_with("error: ") || run.stderr.starts_with("fleet: error: "),
            "fleet {args:?}\n{run}"
        );
        assert_eq!(run.stdout, "", "fleet {args:?}\n{run}");
    }
}

#[test]
fn every_subcommand_has_examples_and_a_manual_page() {
    let lab = Lab::builder().build();
    for subcommand in ["run", "ls", "report", "completions", "man"] {
        let help = invoke(lab.fleet().args([subcommand, "--help"]));
        help.assert_exit(0);
        let examples = documented(&help.stdout, "Examples:");
        assert!(
            examples.len() >= 2 && examples.iter().all(|word| word == "fleet"),
            "fleet {subcommand} --help\n{help}"
        );
        let page = invoke(lab.fleet().args(["man", subcommand]));
        page.assert_exit(0);
        assert!(
            page.stdout.starts_with(".ie")
                && page.stdout.contains(&format!(".TH fleet-{subcommand} 1")),
            "{page}"
        );
    }
    let main = invoke(lab.fleet().arg("man"));
    main.assert_exit(0);
    for subcommand in ["fleet\\-run", "fleet\\-ls", "fleet\\-man"] {
        assert!(main.stdout.contains(subcommand), "{subcommand}\n{main}");
    }
    let run = invoke(lab.fleet().args(["man", "run"]));
    assert!(run.stdout.contains("\\-\\-expect"), "{run}");
    invoke(lab.fleet().args(["man", "nope"])).assert_exit(3);
}
