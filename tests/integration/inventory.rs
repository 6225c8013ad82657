//! Inventory files end to end: a group selects exactly its hosts, and the
//! file's `[defaults]` apply to them over ssh_config.

use std::fs;

use tempfile::TempDir;

use super::fixture::Lab;
use super::invocation::invoke;

#[test]
fn a_group_runs_on_exactly_its_hosts_with_the_inventory_defaults() {
    let lab = Lab::builder().healthy(3).build();
    // ssh_config names a user who does not exist: only the inventory's
    // `[defaults] user`, which beats ssh_config for the hosts the file
    // names, lets these hosts log in.
    let ssh_config = lab.ssh_config_variant("wrong-user", &[("User", Some("fleet-no-such-user"))]);
    let scratch = TempDir::new().unwrap();
    let inventory = scratch.path().join("inventory.toml");
    fs::write(
        &inventory,
        format!(
            "[defaults]\n\
             user = \"{user}\"\n\
             parallel = 2\n\
             connect_timeout = \"5s\"\n\
             timeout = \"1m\"\n\
             \n\
             [groups.web]\n\
             hosts = [\"h01\", \"h03\"]\n",
            user = lab.user
        ),
    )
    .unwrap();

    let run = invoke(
        lab.fleet_with_config(&ssh_config)
            .arg("-i")
            .arg(&inventory)
            .args(["run", "@web", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_each_host_answered(&["h01", "h03"]);

    // Outside the group, ssh_config's user stands and fails.
    let outside = invoke(
        lab.fleet_with_config(&ssh_config)
            .arg("-i")
            .arg(&inventory)
            .args(["run", "--json", "h02", "echo $FLEET_TEST_HOST"]),
    );
    outside.assert_exit(2);
    assert_eq!(
        outside.results()["h02"]["status"],
        "auth_failed",
        "{outside}"
    );
}
