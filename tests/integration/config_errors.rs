//! Broken local files stop `fleet run` before any host is contacted: exit
//! 3, one message that names the file (and the line, where there is one),
//! what is wrong and, for a file that cannot be read, the system's reason;
//! and never a panic.

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

/// Asserts that the run stopped before doing anything and that its whole
/// output is the one error line `fleet: error: MESSAGE`.
fn assert_refused(run: &Invocation, message: &str) {
    run.assert_exit(3);
    assert_eq!(run.stderr, format!("fleet: error: {message}\n"), "{run}");
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
        &format!(
            "h01: {}: unknown keyword 'Hostname2' (fix the spelling, or add \
             'IgnoreUnknown Hostname2' above this line)",
            location_of(&unknown_keyword, "Hostname2")
        ),
    );

    // A garbage known_hosts line is skipped, as ssh skips it, but one in
    // the RevokedHostKeys file stops the run: it must not un-revoke a key.
    let revoked = scratch.path().join("revoked_keys");
    fs::write(&revoked, "# revoked\nssh-ed25519\n").unwrap();
    let garbage = lab.ssh_config_variant(
        "garbage-revoked-keys",
        &[("RevokedHostKeys", Some(&config_path(&revoked)))],
    );
    assert_refused(
        &run_on(&garbage),
        &format!(
            "RevokedHostKeys {}: missing the key after the key type",
            location_of(&revoked, "ssh-ed25519")
        ),
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
    assert_refused(
        &bad_toml,
        &format!(
            "{}: missing comma between array elements, expected `,`",
            location_of(&inventory, "children")
        ),
    );

    // A directory cannot be read as a file: the message says so.
    let unreadable = invoke(lab.fleet().arg("-i").arg(scratch.path()).args([
        "run",
        "h01",
        "echo $FLEET_TEST_HOST",
    ]));
    assert_refused(
        &unreadable,
        &format!(
            "cannot read inventory {}: Is a directory (os error 21)",
            scratch.path().display()
        ),
    );

    let missing = scratch.path().join("missing.toml");
    assert_refused(
        &invoke(
            lab.fleet()
                .arg("-i")
                .arg(&missing)
                .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
        ),
        &format!(
            "inventory {} does not exist; check the -i path",
            missing.display()
        ),
    );

    let no_key = scratch.path().join("no_such_key");
    let missing_key = lab.ssh_config_variant(
        "missing-key",
        &[("IdentityFile", Some(&config_path(&no_key)))],
    );
    assert_refused(
        &run_on(&missing_key),
        &format!(
            "identity file {}: no such identity file; check the IdentityFile path",
            no_key.display()
        ),
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
        &format!(
            "identity file {key}: permissions 0644 are too open: a private key must not be \
             readable by others; run chmod 600 {key}",
            key = loose_key.display()
        ),
    );

    let log = lab.host("h01").sshd_log();
    assert!(
        !log.contains("Connection from"),
        "h01 was contacted:\n{log}"
    );
}

#[test]
fn a_missing_dash_f_file_is_named_with_the_reason() {
    let lab = Lab::builder().build();
    let scratch = TempDir::new().unwrap();
    let missing = scratch.path().join("no_such_config");
    assert_refused(
        &invoke(
            lab.fleet_with_config(&missing)
                .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
        ),
        &format!(
            "cannot read ssh config {}: No such file or directory (os error 2)",
            missing.display()
        ),
    );
}
