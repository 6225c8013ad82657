//! `fleet ls`: where a run would connect, as whom, with which key, and
//! whether known_hosts knows the host, all without connecting.

use super::fixture::Lab;
use super::invocation::invoke;

#[test]
fn ls_shows_each_target_without_connecting() {
    let lab = Lab::builder()
        .healthy(2)
        .refused("down")
        .unknown_key("stranger")
        .build();
    let ls = invoke(lab.fleet().args(["ls", "*"]));
    ls.assert_exit(0);

    // Columns are aligned with spaces, and no cell here holds one.
    let rows: Vec<Vec<&str>> = ls
        .stdout
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    let key = lab.key.display().to_string();
    let row = |name: &str, known: &'static str| {
        let port = lab.host(name).addr.port().to_string();
        [name, "127.0.0.1", &port, &lab.user, &key, "-", known].map(str::to_owned)
    };
    let expected = [
        [
            "ALIAS", "ADDRESS", "PORT", "USER", "IDENTITY", "JUMP", "KNOWN",
        ]
        .map(str::to_owned),
        // Natural order, whatever the order in ssh_config.
        row("down", "no"),
        row("h01", "yes"),
        row("h02", "yes"),
        row("stranger", "no"),
    ];
    assert_eq!(rows, expected, "{ls}");

    // Only the selected hosts are listed.
    let some = invoke(lab.fleet().args(["ls", "h*,down", "-x", "h02"]));
    some.assert_exit(0);
    let aliases: Vec<&str> = some
        .stdout
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(aliases, ["down", "h01"], "{some}");

    for host in ["h01", "h02", "stranger"] {
        let log = lab.host(host).sshd_log();
        assert!(
            !log.contains("Connection from"),
            "ls contacted {host}:\n{log}"
        );
    }
}
