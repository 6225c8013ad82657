//! Every output mode end to end against real sshd: grouped, diffed, live
//! groups, per-host blocks, files that hold the exact bytes `ssh` prints,
//! and the line prefixes. The HTML report has its own test, in a browser
//! (`browser`).

use std::fs;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::fixture::Lab;
use super::invocation::invoke;

/// h03 says something else than the others, on its first line; every
/// host names itself on the last.
const H03_DIFFERS: &str =
    "if [ \"$FLEET_TEST_HOST\" = h03 ]; then echo other; else echo same; fi; \
                           echo common; echo \"I am $FLEET_TEST_HOST\"";

#[test]
fn group_shows_identical_outputs_once_and_marks_the_odd_one() {
    let lab = Lab::builder().healthy(4).build();
    let run = invoke(lab.fleet().args(["run", "-b", "h*", H03_DIFFERS]));
    run.assert_exit(0);
    assert_eq!(
        run.stdout,
        "── h[01-02,04] (3) ──\nsame\ncommon\nI am {host}\n\
         ── h03 (1) · differs ──\nother\ncommon\nI am {host}\n",
        "{run}"
    );
    run.assert_stderr_mentions(&["4 hosts: 4 ok"]);
}

#[test]
fn diff_shows_each_odd_group_against_the_largest() {
    let lab = Lab::builder().healthy(4).build();
    let command = format!("{H03_DIFFERS}; [ \"$FLEET_TEST_HOST\" != h04 ] || exit 2");
    let run = invoke(lab.fleet().args(["run", "-b", "--diff", "h*", &command]));
    run.assert_exit(1);
    assert_eq!(
        run.stdout,
        "── h[01-02] (2) ──\nsame\ncommon\nI am {host}\n\
         ── h03 (1) · differs ──\n--- h[01-02]\n+++ h03\n@@ -1,3 +1,3 @@\n-same\n+other\n common\n I am {host}\n\
         ── h04 (1) · differs · exit 2 ──\n\
         (the same output as h[01-02]; only the exit status differs)\n",
        "{run}"
    );
}

#[test]
fn live_groups_print_each_line_once_with_its_hosts() {
    let lab = Lab::builder().healthy(3).build();
    let run = invoke(lab.fleet().args([
        "run",
        "--group=live",
        "h*",
        "echo first; echo $FLEET_TEST_HOST; echo last; if [ $FLEET_TEST_HOST = h02 ]; then echo h01; fi",
    ]));
    run.assert_exit(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Each host's own name is one text; h02 printing h01's name is not.
    assert_eq!(
        lines,
        [
            "h[01-03] | first",
            "h[01-03] | {host}",
            "h[01-03] | last",
            "h02 | h01"
        ],
        "{run}"
    );
}

#[test]
fn buffer_prints_each_host_whole() {
    let lab = Lab::builder().healthy(3).build();
    let run = invoke(lab.fleet().args([
        "run",
        "--buffer",
        "h*",
        "for i in 1 2 3; do echo $FLEET_TEST_HOST $i; sleep 0.1; done; echo oops >&2",
    ]));
    run.assert_exit(0);
    let mut blocks: Vec<String> = Vec::new();
    for line in run.stdout.lines() {
        match blocks.last_mut() {
            Some(block) if !line.starts_with("── ") => block.push_str(&format!("{line}\n")),
            _ => blocks.push(format!("{line}\n")),
        }
    }
    blocks.sort();
    let expected: Vec<String> = ["h01", "h02", "h03"]
        .iter()
        .map(|h| format!("── {h} ──\n{h} 1\n{h} 2\n{h} 3\n! oops\n"))
        .collect();
    assert_eq!(blocks, expected, "{run}");
}

/// A command whose output a terminal would mangle: CRLF, an escape
/// sequence, a NUL byte, invalid UTF-8, no final newline, and stderr.
const RAW_BYTES: &str =
    r"printf 'a\r\n\033[2Jb\000c\377\n'; printf 'to stderr\n' >&2; printf 'no newline'; exit 3";

#[test]
fn out_dir_keeps_the_exact_bytes_that_ssh_prints() {
    let lab = Lab::builder().healthy(2).refused("down").build();
    let dir = lab.home.join("out");
    let run = invoke(
        lab.fleet()
            .args(["run", "--out-dir"])
            .arg(&dir)
            .args(["h*,down", RAW_BYTES]),
    );
    run.assert_exit(2);
    let ssh = Command::new("ssh")
        .arg("-F")
        .arg(&lab.ssh_config)
        .args(["-o", "BatchMode=yes", "h01", RAW_BYTES])
        .env("HOME", &lab.home)
        .stdin(Stdio::null())
        .output()
        .expect("ssh runs");
    assert_eq!(ssh.status.code(), Some(3));
    for host in ["h01", "h02"] {
        let out = fs::read(dir.join(format!("{host}.out"))).unwrap();
        let err = fs::read(dir.join(format!("{host}.err"))).unwrap();
        assert_eq!(out, ssh.stdout, "{host}.out\n{run}");
        assert_eq!(err, ssh.stderr, "{host}.err\n{run}");
        let status = fs::read_to_string(dir.join(format!("{host}.status"))).unwrap();
        assert_eq!(status, "failed exit 3\n");
    }
    assert_eq!(fs::read(dir.join("down.out")).unwrap(), b"");
    let status = fs::read_to_string(dir.join("down.status")).unwrap();
    assert_eq!(status, "unreachable connection refused\n");
    let summary: Value =
        serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["statuses"]["failed"], 2, "{summary}");
    assert_eq!(summary["statuses"]["unreachable"], 1, "{summary}");
    assert_eq!(
        summary["hosts"].as_array().map(Vec::len),
        Some(3),
        "{summary}"
    );
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "down.err",
            "down.out",
            "down.status",
            "h01.err",
            "h01.out",
            "h01.status",
            "h02.err",
            "h02.out",
            "h02.status",
            "summary.json"
        ],
        "no temporary file is left behind"
    );

    // A second run never overwrites the first one's files.
    let again = invoke(
        lab.fleet()
            .args(["run", "--out-dir"])
            .arg(&dir)
            .args(["h01", "true"]),
    );
    again.assert_exit(3);
    again.assert_stderr_mentions(&["is not empty"]);
    assert_eq!(fs::read(dir.join("h01.out")).unwrap(), ssh.stdout);
}

#[test]
fn prefixes_name_the_address_or_the_user_or_nothing() {
    let lab = Lab::builder().healthy(2).build();
    let port = lab.host("h01").addr.port();
    let address = invoke(
        lab.fleet()
            .args(["run", "--format", "address", "h01", "echo hi"]),
    );
    address.assert_exit(0);
    assert_eq!(
        address.stdout,
        format!("127.0.0.1:{port} | hi\n"),
        "{address}"
    );

    let user = invoke(
        lab.fleet()
            .args(["run", "--format", "user@alias", "h01", "echo hi"]),
    );
    user.assert_exit(0);
    assert_eq!(user.stdout, format!("{}@h01 | hi\n", lab.user), "{user}");

    let bare = invoke(
        lab.fleet()
            .args(["run", "-N", "h01", "echo hi; echo there"]),
    );
    bare.assert_exit(0);
    assert_eq!(bare.stdout, "hi\nthere\n", "{bare}");

    let two = invoke(lab.fleet().args(["run", "-N", "h*", "echo hi"]));
    two.assert_exit(3);
    two.assert_stderr_mentions(&["-N/--no-prefix", "2 are selected"]);
}
