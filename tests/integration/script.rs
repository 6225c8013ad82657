//! `fleet run --script FILE`: a local script reaches every host on stdin
//! and runs under the interpreter of its `#!` line, its arguments arrive
//! word for word, the rollout and check flags apply to it as to a command,
//! and a script that cannot be sent is a usage error naming the file. The
//! shipped `examples/harden-check.sh` is run against real hosts too.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::fixture::{say_skipped, Lab};
use super::invocation::{expected_statuses, invoke};

/// Prints each argument in brackets on a line of its own, under the host's
/// name, with `#!` naming bash by env to take the env path.
const ECHO_ARGS: &str = "#!/usr/bin/env bash\n\
    echo \"host $FLEET_TEST_HOST, $# args\"\n\
    for arg; do printf '[%s]\\n' \"$arg\"; done\n";

fn write_script(lab: &Lab, name: &str, text: &str) -> PathBuf {
    let path = lab.path(name);
    fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn a_sh_script_gets_its_arguments_word_for_word_on_every_host() {
    let lab = Lab::builder().healthy(2).build();
    let script = write_script(&lab, "echo args.sh", ECHO_ARGS);
    let words = ["a b", "it's", "\"double\"", "$HOME", "", "-n", "`id`;x"];
    let out = lab.path("out");
    let mut fleet = lab.fleet();
    fleet
        .args([
            "run",
            "--out-dir",
            arg(&out),
            "--script",
            arg(&script),
            "h*",
            "--",
        ])
        .args(words);
    let run = invoke(&mut fleet);
    run.assert_exit(0);
    let mut expected = Vec::new();
    for host in ["h01", "h02"] {
        expected.push(format!("{host} | host {host}, 7 args"));
        expected.extend(words.iter().map(|word| format!("{host} | [{word}]")));
    }
    expected.sort();
    assert_eq!(run.sorted_stdout_lines(), expected, "{run}");

    // Reports name the run by the script and its arguments.
    let summary: Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).expect("summary.json"))
            .expect("JSON");
    let shown = summary["command"].as_str().expect("a command");
    assert!(
        shown.starts_with("--script '") && shown.contains("echo args.sh' 'a b' 'it'\\''s'"),
        "{shown}"
    );
}

#[test]
fn a_python_script_runs_under_python3() {
    let lab = Lab::builder().healthy(1).build();
    // The lab's hosts are this machine, but their PATH is the one sshd
    // gives a session, which may lack a python3 that a shell here finds.
    let probe = invoke(lab.fleet().args(["run", "-N", "h01", "command -v python3"]));
    if probe.code != Some(0) {
        say_skipped(&format!(
            "the lab host finds no python3 in its PATH\n{probe}"
        ));
        return;
    }
    let script = write_script(
        &lab,
        "argv.py",
        "#!/usr/bin/env python3\n\
         import os, sys\n\
         print('python', sys.version_info[0], os.environ['FLEET_TEST_HOST'], sys.argv[1:])\n\
         sys.exit(4)\n",
    );
    let run = invoke(lab.fleet().args([
        "run",
        "--json",
        "--script",
        arg(&script),
        "h01",
        "--",
        "x y",
        "-c",
        "it's",
    ]));
    run.assert_exit(1);
    let lines: Vec<Value> = run
        .records()
        .into_iter()
        .filter(|record| record["type"] == "line")
        .collect();
    assert_eq!(lines.len(), 1, "{run}");
    assert_eq!(
        lines[0]["text"], "python 3 h01 ['x y', '-c', \"it's\"]",
        "{run}"
    );
    assert_eq!(run.results()["h01"]["exit_code"], 4, "{run}");
}

#[test]
fn rollout_and_check_flags_apply_to_a_script() {
    let lab = Lab::builder().healthy(3).build();
    let script = write_script(
        &lab,
        "check.sh",
        "echo \"permitrootlogin $1\"\n[ \"$FLEET_TEST_HOST\" != h01 ] || exit 5\n",
    );
    // The canary fails, so with no failures allowed nothing else starts.
    let canary = invoke(lab.fleet().args([
        "run",
        "--json",
        "--canary",
        "1",
        "--max-failures",
        "0",
        "--script",
        arg(&script),
        "h*",
        "--",
        "no",
    ]));
    canary.assert_exit(1);
    assert_eq!(
        canary.statuses(),
        expected_statuses(&[("h01", "failed"), ("h02", "skipped"), ("h03", "skipped")]),
        "{canary}"
    );
    // --expect reads the script's output as it reads a command's.
    let checked = invoke(lab.fleet().args([
        "run",
        "--json",
        "--expect",
        "^permitrootlogin no$",
        "--script",
        arg(&script),
        "h02,h03",
        "--",
        "yes",
    ]));
    checked.assert_exit(1);
    assert_eq!(
        checked.statuses(),
        expected_statuses(&[("h02", "mismatch"), ("h03", "mismatch")]),
        "{checked}"
    );
}

#[test]
fn a_script_that_cannot_be_sent_is_a_usage_error_naming_the_file() {
    // No host is contacted: these fail before any connection.
    let lab = Lab::builder().build();
    let directory = lab.path("scripts.d");
    fs::create_dir(&directory).unwrap();
    let cases = [
        (lab.path("missing.sh"), "cannot read script", "No such file"),
        (directory, "is a directory", "--script takes a file"),
        (
            write_script(&lab, "binary.sh", "\x7fELF\0\0\0"),
            "holds NUL bytes",
            "binary",
        ),
        (
            write_script(&lab, "empty-shebang.sh", "#!  \necho hi\n"),
            "#! line names no interpreter",
            "#!/bin/sh",
        ),
    ];
    for (path, problem, more) in cases {
        let run = invoke(lab.fleet().args(["run", "--script", arg(&path), "h01"]));
        run.assert_exit(3);
        assert_eq!(run.stdout, "", "{run}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("fleet: error: "), "{run}");
        for needle in [arg(&path), problem, more] {
            assert!(first.contains(needle), "{needle:?} missing\n{run}");
        }
    }
}

#[test]
fn a_script_takes_neither_stdin_nor_a_command() {
    let lab = Lab::builder().build();
    let script = write_script(&lab, "ok.sh", "true\n");
    let with_stdin = invoke(
        lab.fleet()
            .args(["run", "--stdin", "--script", arg(&script), "h01"]),
    );
    with_stdin
        .assert_exit(3)
        .assert_stderr_mentions(&["--stdin", "cannot be used with"]);
    // Words that are not after `--` would be a command: refused, rather
    // than quietly passed to the script.
    let with_command = invoke(
        lab.fleet()
            .args(["run", "--script", arg(&script), "h01", "uptime"]),
    );
    with_command.assert_exit(3).assert_stderr_mentions(&[
        "--script",
        "cannot be used with",
        "COMMAND",
    ]);
    // Without --script, words after `--` are still the command.
    let lab = Lab::builder().healthy(1).build();
    let dashed = invoke(lab.fleet().args(["run", "h01", "--", "echo", "-n", "x"]));
    dashed.assert_exit(0);
    assert_eq!(dashed.stdout, "h01 | x\n", "{dashed}");
}

/// The example rollout script, checking the lab host's own sshd_config.
fn harden_check(lab: &Lab) -> super::invocation::Invocation {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/harden-check.sh");
    let config = lab.path("hosts/h01/sshd_config");
    assert!(config.is_file(), "the lab keeps {}", config.display());
    invoke(lab.fleet().args([
        "run",
        "--canary",
        "1",
        "--batch",
        "10%",
        "--max-failures",
        "0",
        "--script",
        arg(&script),
        "h01",
        "--",
        arg(&config),
    ]))
}

#[test]
fn the_example_harden_check_passes_a_hardened_host_and_names_each_finding() {
    let lab = Lab::builder().healthy(1).build();
    let clean = harden_check(&lab);
    clean.assert_exit(0);
    // sshd -T of some OpenSSH versions names prohibit-password by its
    // older alias.
    let lines: Vec<&str> = clean.stdout.lines().collect();
    assert!(
        matches!(
            lines[..],
            [
                "h01 | passwordauthentication no",
                "h01 | kbdinteractiveauthentication no",
                "h01 | permitrootlogin prohibit-password"
                    | "h01 | permitrootlogin without-password",
            ]
        ),
        "{clean}"
    );

    // The lab's sshd_config puts test options first, and the first wins.
    let lab = Lab::builder()
        .healthy(1)
        .sshd_option("PasswordAuthentication", "yes")
        .sshd_option("PermitRootLogin", "yes")
        .build();
    let authorized_keys = lab.path("authorized_keys");
    fs::set_permissions(&authorized_keys, fs::Permissions::from_mode(0o666)).unwrap();
    let findings = harden_check(&lab);
    findings.assert_exit(1);
    let fails: Vec<&str> = findings
        .stdout
        .lines()
        .filter(|line| line.starts_with("h01 | FAIL "))
        .collect();
    assert_eq!(
        fails,
        [
            "h01 | FAIL passwordauthentication is yes, want no".to_string(),
            "h01 | FAIL permitrootlogin is yes, want no or prohibit-password".to_string(),
            format!(
                "h01 | FAIL {}: mode 666, writable by group or others",
                authorized_keys.display()
            ),
        ],
        "{findings}"
    );
}
