//! `fleet run` against healthy hosts: each host's output comes back under
//! its own name, exit statuses and signals are reported per host, `--stdin`
//! reaches every host, remote control characters never reach the terminal
//! raw, and a reader that closes stdout early ends the run quietly.

use serde_json::{json, Value};

use super::fixture::Lab;
use super::invocation::{expected_statuses, invoke, invoke_with_stdin, peak_rss_kb};

/// The remote command that tells hosts apart: every lab host sets this
/// variable to its own name.
const ECHO_HOST: &str = "echo $FLEET_TEST_HOST";

#[test]
fn each_host_prints_its_own_output_under_its_own_name() {
    let lab = Lab::builder().healthy(3).build();

    let human = invoke(lab.fleet().args(["run", "h*", ECHO_HOST]));
    human.assert_each_host_answered(&["h01", "h02", "h03"]);
    human.assert_stderr_mentions(&["3 hosts: 3 ok"]);

    let json = invoke(lab.fleet().args(["run", "--json", "h*", ECHO_HOST]));
    json.assert_exit(0);
    let mut lines: Vec<Value> = json
        .records()
        .into_iter()
        .filter(|record| record["type"] == "line")
        .collect();
    lines.sort_by_key(|record| record["host"].to_string());
    assert_eq!(
        lines,
        ["h01", "h02", "h03"].map(|host| json!({
            "type": "line", "host": host, "stream": "stdout", "text": host
        })),
        "{json}"
    );
    let results = json.results();
    assert_eq!(
        results.keys().collect::<Vec<_>>(),
        ["h01", "h02", "h03"],
        "{json}"
    );
    for result in results.values() {
        assert_eq!(result["status"], "ok", "{json}");
        assert_eq!(result["exit_code"], 0, "{json}");
        assert_eq!(result["signal"], Value::Null, "{json}");
        assert_eq!(result["error"], Value::Null, "{json}");
        assert!(result["duration_ms"].is_u64(), "{json}");
    }
    let summary = json.summary();
    assert_eq!(summary["hosts"], 3, "{json}");
    assert_eq!(json.count("ok"), 3, "{json}");
    assert_eq!(summary["exit_code"], 0, "{json}");
    assert_eq!(summary["interrupted"], false, "{json}");
}

#[test]
fn failed_killed_and_timed_out_commands_are_reported_per_host() {
    let lab = Lab::builder().healthy(2).build();

    // h01 fails with exit 3 and says why on stderr; h02 succeeds.
    let fails_on_h01 =
        "echo \"oops on $FLEET_TEST_HOST\" >&2; [ \"$FLEET_TEST_HOST\" != h01 ] || exit 3";
    let human = invoke(lab.fleet().args(["run", "h*", fails_on_h01]));
    human.assert_exit(1).assert_stderr_mentions(&[
        "h01 ! oops on h01",
        "h02 ! oops on h02",
        "exit 3: h01",
    ]);
    assert!(
        !human.stdout.contains("oops"),
        "stderr leaked to stdout\n{human}"
    );

    let json = invoke(lab.fleet().args(["run", "--json", "h*", fails_on_h01]));
    json.assert_exit(1);
    let results = json.results();
    assert_eq!(results["h01"]["status"], "failed", "{json}");
    assert_eq!(results["h01"]["exit_code"], 3, "{json}");
    assert_eq!(results["h02"]["status"], "ok", "{json}");
    assert!(
        json.records().contains(&json!({
            "type": "line", "host": "h01", "stream": "stderr", "text": "oops on h01"
        })),
        "{json}"
    );
    assert_eq!(json.count("failed"), 1, "{json}");

    // The remote shell kills itself: sshd reports the signal, not a status.
    let killed = invoke(lab.fleet().args(["run", "--json", "h01", "kill -TERM $$"]));
    killed.assert_exit(1);
    let result = &killed.results()["h01"];
    assert_eq!(result["status"], "failed", "{killed}");
    assert_eq!(result["signal"], "TERM", "{killed}");
    assert_eq!(result["exit_code"], Value::Null, "{killed}");

    // Runs until its sshd session ends. A plain `sleep` would outlive the
    // test: when fleet gives up and disconnects, sshd signals nothing to a
    // command without a terminal, as with OpenSSH's own client.
    let until_disconnected = "while kill -0 $PPID 2>/dev/null; do sleep 0.1; done";
    let slow =
        invoke(
            lab.fleet()
                .args(["run", "--json", "--timeout", "1s", "h*", until_disconnected]),
        );
    slow.assert_exit(1);
    assert_eq!(
        slow.statuses(),
        expected_statuses(&[("h01", "timeout"), ("h02", "timeout")]),
        "{slow}"
    );
    assert_eq!(slow.count("timeout"), 2, "{slow}");
}

#[test]
fn stdin_is_sent_to_every_host() {
    let lab = Lab::builder().healthy(2).build();
    let run = invoke_with_stdin(
        lab.fleet().args(["run", "h*", "--stdin", "cat"]),
        b"hello\nworld\n",
    );
    run.assert_exit(0);
    assert_eq!(
        run.sorted_stdout_lines(),
        ["h01 | hello", "h01 | world", "h02 | hello", "h02 | world"],
        "{run}"
    );
    // Per host, the lines keep their order.
    for host in ["h01", "h02"] {
        let texts: Vec<&str> = run
            .stdout
            .lines()
            .filter_map(|line| line.strip_prefix(&format!("{host} | ")))
            .collect();
        assert_eq!(texts, ["hello", "world"], "{run}");
    }
}

#[test]
fn remote_control_characters_are_shown_escaped_never_raw() {
    let lab = Lab::builder().healthy(1).build();
    let run = invoke(lab.fleet().args([
        "run",
        "h01",
        r"printf '\033[2Jboom\a\n'; printf '\033]0;owned\a\rtitle\n' >&2",
    ]));
    run.assert_exit(0);
    assert_eq!(run.stdout, "h01 | \\e[2Jboom\\a\n", "{run}");
    run.assert_stderr_mentions(&["h01 ! \\e]0;owned\\a\\rtitle"]);
    for (name, output) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !output.contains(['\x1b', '\x07', '\r']),
            "raw control character on {name}\n{run}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_summary_and_the_exit_code() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let lab = Lab::builder().healthy(2).build();
    // What `fleet run … | head -1` does: read one line, close the pipe.
    let mut child = lab
        .fleet()
        .args(["run", "h*", "seq 100000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fleet starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("a first line");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("fleet ends");
    assert!(first.ends_with("| 1\n"), "{first:?}");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 hosts: 2 ok"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// The local processes whose command line contains `needle`: every lab
/// host runs on this machine, so its remote commands are visible here.
fn processes_matching(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

/// Named after the defect: `--timeout` left the remote command running
/// (TERM reached only the shell, and OpenSSH refuses signals for root).
#[test]
fn a_timed_out_command_leaves_no_process_behind() {
    let lab = Lab::builder().healthy(1).build();
    // A job in the background and one in the foreground, each its own
    // process, plus the shell around them; durations no other run uses.
    let unique = 40_000 + std::process::id() % 10_000;
    let (background, foreground) = (format!("sleep {unique}1"), format!("sleep {unique}2"));
    let command = format!("{background} & {foreground}; wait");
    let run = invoke(
        lab.fleet()
            .args(["run", "--json", "--timeout", "1s", "h01", &command]),
    );
    run.assert_exit(1);
    assert_eq!(run.results()["h01"]["status"], "timeout", "{run}");
    let left = [
        processes_matching(&background),
        processes_matching(&foreground),
    ]
    .concat();
    assert!(
        left.is_empty(),
        "still running after the timeout: {left:?}\n{run}"
    );
}

/// Named after the defect: `--stdin` read all of stdin into memory, so
/// `yes | fleet run --stdin …` grew until allocation failed.
#[test]
fn endless_stdin_reaches_every_host_in_bounded_memory() {
    use std::io::{Read, Write};
    use std::process::Stdio;

    let lab = Lab::builder().healthy(2).build();
    let size: u64 = 300_000_000;
    let mut child = lab
        .fleet()
        .args(["run", "--stdin", "h*", &format!("head -c {size} | wc -c")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fleet starts");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped");
    // An endless input, like `yes`: the hosts take what they need.
    let writer = std::thread::spawn(move || {
        let block = vec![b'y'; 1 << 16];
        while stdin.write_all(&block).is_ok() {}
    });
    let mut peak = 0;
    while child.try_wait().expect("fleet runs").is_none() {
        peak = peak.max(peak_rss_kb(pid).unwrap_or(peak));
        if peak > 1_000_000 {
            // Hoarding the input: stop it before it takes the machine.
            let _ = child.kill();
            panic!("fleet holds stdin in memory: {peak} kB and growing");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().expect("fleet ended");
    let _ = writer.join();
    assert!(status.success(), "{status}\n{stdout}");
    for host in ["h01", "h02"] {
        assert!(stdout.contains(&format!("{host} | {size}")), "{stdout}");
    }
    // A tenth of the input; buffering it all would take 300 MB.
    assert!(peak < 100_000, "peak RSS {peak} kB");
}
