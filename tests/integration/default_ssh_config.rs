//! Without `-F`, fleet reads the ssh_config files ssh reads, and refuses
//! `~/.ssh/config` when others could have changed it, as ssh does.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::fixture::Lab;
use super::invocation::invoke;

#[test]
fn without_f_the_users_ssh_config_is_read_and_must_be_private() {
    let lab = Lab::builder().healthy(1).build();
    let dot_ssh = lab.home.join(".ssh");
    fs::create_dir(&dot_ssh).unwrap();
    fs::set_permissions(&dot_ssh, fs::Permissions::from_mode(0o700)).unwrap();
    let config = dot_ssh.join("config");
    fs::copy(&lab.ssh_config, &config).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();

    let run = invoke(
        lab.fleet_without_config()
            .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_exit(0);
    assert_eq!(run.stdout, "h01 | h01\n", "{run}");

    // ssh says "Bad owner or permissions" and stops; so must fleet, rather
    // than connect as a config anyone could have rewritten says.
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    let refused = invoke(
        lab.fleet_without_config()
            .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
    );
    refused
        .assert_exit(3)
        .assert_stderr_mentions(&[&config.display().to_string(), "permissions"]);
    assert_eq!(refused.stdout, "", "{refused}");
}
