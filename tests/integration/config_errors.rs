//! Broken local files stop `fleet run` before any host is contacted: exit
//! 3, a message that names the file (and the line, where there is one) and
//! what is wrong, and never a panic.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tempfile::TempDir;

use super::fixture::{config_path, Lab};
use super::invocation::{invoke, Invocation};

/// `path:LINE`, where LINE is the 1-based line of `path` that contains
/// `needle`.
fn location_of(path: &Path, needle: &str) -> String {
    let text = fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{} lacks {needle:?}", path.display()));
    format!("{}:{}", path.display(), line + 1)
}

/// Asserts that the run stopped before doing anything and said `needles`.
fn assert_refused(run: &Invocation, needles: &[&str]) {
    run.assert_exit(3).assert_stderr_mentions(needles);
    assert_eq!(run.stdout, "", "{run}");
}

#[test]
fn malformed_or_unusable_files_stop_the_run_with_their_location() {
    let lab = Lab::builder().healthy(1).build();
    let scratch = TempDir::new().unwrap();
    let run_on = |ssh_config: &Path| {
        invoke(
            lab.fleet_with_config(ssh_config)
                .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
        )
    };

    let unknown_keyword = lab.ssh_config_variant("unknown-keyword", &[("Hostname2", Some("x"))]);
    assert_refused(
        &run_on(&unknown_keyword),
        &[&location_of(&unknown_keyword, "Hostname2"), "Hostname2"],
    );

    let known_hosts = scratch.path().join("known_hosts");
    let mut text = fs::read_to_string(&lab.known_hosts).unwrap();
    text.push_str("this line is garbage\n");
    fs::write(&known_hosts, text).unwrap();
    let garbage = lab.ssh_config_variant(
        "garbage-known-hosts",
        &[("UserKnownHostsFile", Some(&config_path(&known_hosts)))],
    );
    assert_refused(
        &run_on(&garbage),
        &[&location_of(&known_hosts, "this line is garbage")],
    );

    let inventory = scratch.path().join("inventory.toml");
    fs::write(
        &inventory,
        "[groups.web]\nhosts = [\"h01\"\nchildren = []\n",
    )
    .unwrap();
    let bad_toml =
        invoke(
            lab.fleet()
                .arg("-i")
                .arg(&inventory)
                .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
        );
    // The array opened on line 2 runs into line 3, where the parser
    // expects a comma.
    assert_refused(&bad_toml, &[&location_of(&inventory, "children")]);

    let missing = scratch.path().join("missing.toml");
    assert_refused(
        &invoke(
            lab.fleet()
                .arg("-i")
                .arg(&missing)
                .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
        ),
        &[&missing.display().to_string(), "does not exist"],
    );

    let no_key = scratch.path().join("no_such_key");
    let missing_key = lab.ssh_config_variant(
        "missing-key",
        &[("IdentityFile", Some(&config_path(&no_key)))],
    );
    assert_refused(
        &run_on(&missing_key),
        &[&no_key.display().to_string(), "no such identity file"],
    );

    let loose_key = scratch.path().join("loose_key");
    fs::copy(&lab.key, &loose_key).unwrap();
    fs::set_permissions(&loose_key, fs::Permissions::from_mode(0o644)).unwrap();
    let loose = lab.ssh_config_variant(
        "loose-key",
        &[("IdentityFile", Some(&config_path(&loose_key)))],
    );
    assert_refused(
        &run_on(&loose),
        &[&loose_key.display().to_string(), "permissions", "0644"],
    );

    let log = lab.host("h01").sshd_log();
    assert!(
        !log.contains("Connection from"),
        "h01 was contacted:\n{log}"
    );
}
