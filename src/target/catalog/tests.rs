//! Selection over a catalog of ssh_config aliases and inventory hosts.

use tempfile::TempDir;

use super::*;
use crate::target::inventory::InventoryFile;
use crate::target::ssh_config::LocalEnv;

const INVENTORY: &str = r#"
[hosts.web-01]
[hosts.web-02]
[hosts.web-10]

[groups.web]
hosts = ["web-0*", "lb-1"]
children = ["canary"]

[groups.canary]
hosts = ["web-10"]

[groups.all]
children = ["web", "db", "canary"]

[groups.db]
hosts = ["db-[1-2]"]

[groups.empty]

[groups.typo]
hosts = ["wbe-*"]
"#;

/// A catalog of `aliases` (standing in for ssh_config's) and [`INVENTORY`].
fn catalog(aliases: &[&str]) -> (TempDir, Catalog) {
    catalog_with(aliases, INVENTORY)
}

fn catalog_with(aliases: &[&str], inventory: &str) -> (TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.toml");
    std::fs::write(&path, inventory).unwrap();
    let inventory = Inventory::load(&[InventoryFile {
        path,
        explicit: true,
    }])
    .unwrap();
    let aliases = aliases.iter().map(|alias| alias.to_string()).collect();
    let ssh_config = SshConfig::empty(&LocalEnv::from_process());
    (dir, Catalog::with_aliases(ssh_config, aliases, inventory))
}

fn select(catalog: &Catalog, selectors: &str, excludes: &[&str]) -> Vec<String> {
    let excludes: Vec<String> = excludes.iter().map(|e| e.to_string()).collect();
    catalog.select(selectors, &excludes).unwrap()
}

/// The error for a selection, with the temporary directory replaced by `DIR`.
fn error(dir: &TempDir, catalog: &Catalog, selectors: &str, excludes: &[&str]) -> String {
    let excludes: Vec<String> = excludes.iter().map(|e| e.to_string()).collect();
    let message = catalog
        .select(selectors, &excludes)
        .unwrap_err()
        .to_string();
    message.replace(&dir.path().display().to_string(), "DIR")
}

const ALIASES: &[&str] = &["web-3", "web-20", "lb-1", "db-primary", "bastion"];

#[test]
fn globs_match_aliases_and_inventory_hosts_in_natural_order() {
    let (_dir, catalog) = catalog(ALIASES);
    assert_eq!(
        select(&catalog, "web-*", &[]),
        ["web-01", "web-02", "web-3", "web-10", "web-20"]
    );
    assert_eq!(select(&catalog, "db-?", &[]), ["db-1", "db-2"]);
    assert_eq!(select(&catalog, "{lb,bastion}*", &[]), ["bastion", "lb-1"]);
}

#[test]
fn ranges_and_plain_names_need_not_be_known() {
    let (_dir, catalog) = catalog(ALIASES);
    assert_eq!(
        select(&catalog, "new-[08-10]", &[]),
        ["new-08", "new-09", "new-10"]
    );
    assert_eq!(
        select(&catalog, "somehost.example.com", &[]),
        ["somehost.example.com"]
    );
    assert_eq!(
        select(&catalog, "web-[1,3,5]", &[]),
        ["web-1", "web-3", "web-5"]
    );
}

#[test]
fn duplicates_collapse() {
    let (_dir, catalog) = catalog(ALIASES);
    assert_eq!(
        select(&catalog, "web-3,web-[2-3],web-3*,lb-1,@web", &[]),
        ["lb-1", "web-01", "web-02", "web-2", "web-3", "web-10"]
    );
}

#[test]
fn groups_include_their_children() {
    let (_dir, catalog) = catalog(ALIASES);
    assert_eq!(
        select(&catalog, "@web", &[]),
        ["lb-1", "web-01", "web-02", "web-10"]
    );
    assert_eq!(
        select(&catalog, "@all", &[]),
        ["db-1", "db-2", "lb-1", "web-01", "web-02", "web-10"]
    );
}

#[test]
fn exclusions_apply_wherever_they_stand() {
    let (_dir, catalog) = catalog(ALIASES);
    assert_eq!(
        select(&catalog, "!web-02,web-*,!web-2*", &[]),
        ["web-01", "web-3", "web-10"]
    );
    assert_eq!(select(&catalog, "@all,!@web", &["db-1,bastion"]), ["db-2"]);
    // An excluded glob also reaches names that are only in the selector.
    assert_eq!(
        select(&catalog, "a.example.com,b.example.org", &["*.org"]),
        ["a.example.com"]
    );
    // A known name may be excluded although it was not selected.
    assert_eq!(select(&catalog, "web-3", &["bastion"]), ["web-3"]);
}

#[test]
fn an_item_that_matches_nothing_stops_the_run() {
    let (dir, catalog) = catalog(ALIASES);
    assert_eq!(
        error(&dir, &catalog, "web-*,wbe-*", &[]),
        "selector 'wbe-*' matches no known host (known: 10 hosts from ssh_config and \
         DIR/fleet.toml; try fleet ls '*')"
    );
    assert_eq!(
        error(&dir, &catalog, "@typo", &[]),
        "DIR/fleet.toml:22: group 'typo': 'wbe-*' matches no known host \
         (known: 10 hosts from ssh_config and DIR/fleet.toml)"
    );
}

#[test]
fn unknown_and_empty_groups_stop_the_run() {
    let (dir, catalog) = catalog(ALIASES);
    assert_eq!(
        error(&dir, &catalog, "@dbb", &[]),
        "unknown group '@dbb' (groups: @all, @canary, @db, @empty, @typo, @web)"
    );
    assert_eq!(
        error(&dir, &catalog, "@empty", &[]),
        "group '@empty' (DIR/fleet.toml:19) has no hosts; add hosts or children to it"
    );
    assert_eq!(
        error(&dir, &catalog, "web-*,!@empty", &[]),
        "group '@empty' (DIR/fleet.toml:19) has no hosts; add hosts or children to it"
    );

    let (dir, catalog) = catalog_with(ALIASES, "");
    assert_eq!(
        error(&dir, &catalog, "@db", &[]),
        "unknown group '@db' (DIR/fleet.toml defines no groups)"
    );
    let catalog = Catalog::with_aliases(
        SshConfig::empty(&LocalEnv::from_process()),
        Vec::new(),
        Inventory::default(),
    );
    assert_eq!(
        catalog.select("@db", &[]).unwrap_err().to_string(),
        "unknown group '@db' (no inventory was read; define groups in fleet.toml or pass -i FILE)"
    );
}

#[test]
fn many_groups_are_listed_briefly() {
    let groups: String = (1..=12).map(|i| format!("[groups.g{i}]\n")).collect();
    let (dir, catalog) = catalog_with(&[], &groups);
    assert_eq!(
        error(&dir, &catalog, "@x", &[]),
        "unknown group '@x' (groups: @g1, @g2, @g3, @g4, @g5, @g6, @g7, @g8, @g9, @g10, 2 more)"
    );
}

#[test]
fn an_exclusion_that_excludes_nothing_stops_the_run() {
    let (dir, catalog) = catalog(ALIASES);
    assert_eq!(
        error(&dir, &catalog, "web-*,!prod-db1", &[]),
        "exclusion '!prod-db1' matches no known or selected host; \
         fix it so the host you meant is really left out"
    );
    assert_eq!(
        error(&dir, &catalog, "web-*", &["wbe-*"]),
        "exclusion '!wbe-*' matches no known or selected host; \
         fix it so the host you meant is really left out"
    );
}

#[test]
fn excluding_everything_stops_the_run() {
    let (dir, catalog) = catalog(ALIASES);
    assert_eq!(
        error(&dir, &catalog, "web-0*,!@web", &[]),
        "every host selected by 'web-0*,!@web' is excluded; nothing to run on"
    );
}

#[test]
fn selects_from_ten_thousand_aliases() {
    let aliases: Vec<String> = (1..=10_000).map(|i| format!("web-{i:05}")).collect();
    let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let (_dir, catalog) = catalog_with(&aliases, "");
    let all = select(&catalog, "web-*", &["web-0000?"]);
    assert_eq!(all.len(), 9_991);
    assert_eq!(all[0], "web-00010");
    assert_eq!(select(&catalog, "web-[00100-00199]", &[]).len(), 100);
}

#[test]
fn natural_order() {
    let mut names = vec![
        "web-10", "web-2", "web-01", "web-1", "db", "web-1a", "web-", "web-001", "a10b2", "a10b10",
        "a9",
    ];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(
        names,
        [
            "a9", "a10b2", "a10b10", "db", "web-", "web-001", "web-01", "web-1", "web-1a", "web-2",
            "web-10"
        ]
    );
}

#[test]
fn command_line_options_beat_inventory_settings() {
    let (_dir, catalog) = catalog_with(&[], "[hosts.web-01]\nuser = \"inventory\"\nport = 2200\n");
    let catalog = catalog.with_options(vec![
        ("User".to_string(), "cli".to_string()),
        (
            "StrictHostKeyChecking".to_string(),
            "accept-new".to_string(),
        ),
    ]);
    let targets = catalog.resolve("web-01", &[]).unwrap();
    let options = &targets[0].options;
    assert_eq!(options.user, "cli");
    assert_eq!(options.port, 2200);
    assert_eq!(
        options.strict_host_key_checking,
        crate::target::ssh_config::StrictHostKeyChecking::AcceptNew
    );
}
