//! What fleet makes of odd local files and pipes: a key path that names a
//! device, a host behind ProxyCommand in `ls`, and a reader that is gone.

use std::process::{Command, Stdio};

use super::fixture::Lab;
use super::invocation::invoke;

/// Issue 10: `IdentityFile /dev/zero` got the hint "chmod 600 /dev/zero".
#[test]
fn an_identity_file_that_is_not_a_regular_file_is_refused_plainly() {
    let lab = Lab::builder().healthy(1).build();
    let config = lab.ssh_config_variant("device-key", &[("IdentityFile", Some("/dev/zero"))]);
    let run = invoke(lab.fleet_with_config(&config).args(["run", "h01", "true"]));
    run.assert_exit(3);
    run.assert_stderr_mentions(&["/dev/zero", "not a regular file"]);
    assert!(!run.stderr.contains("chmod"), "{run}");
}

/// Issue 10: `ls` showed JUMP `-` for a host that `run` refuses because
/// it is behind ProxyCommand.
#[test]
fn ls_says_a_proxycommand_host_is_refused() {
    let lab = Lab::builder().healthy(1).build();
    let config =
        lab.ssh_config_with_hosts("proxied", "Host proxied\n    ProxyCommand nc %h %p\n", &[]);
    let ls = invoke(lab.fleet_with_config(&config).args(["ls", "proxied,h01"]));
    ls.assert_exit(0);
    let jump = |alias: &str| {
        let header = ls.stdout.lines().next().unwrap_or_default();
        let column = header.find("JUMP").expect("a JUMP column");
        let row = ls
            .stdout
            .lines()
            .find(|line| line.starts_with(alias))
            .unwrap_or_else(|| panic!("no row for {alias}\n{ls}"));
        row[column..]
            .split("  ")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(jump("proxied"), "ProxyCommand (refused)", "{ls}");
    assert_eq!(jump("h01"), "-", "{ls}");
}

/// Issue 10, defect 14: `fleet completions zsh | (exec 0<&-; true)`
/// panicked on the broken pipe (exit 101).
#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["completions", "zsh"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("running fleet");
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&status.stderr), "");
}
