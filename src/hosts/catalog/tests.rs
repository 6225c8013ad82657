//! Selection over a catalog of ssh_config aliases and inventory hosts.

use std::path::PathBuf;

use tempfile::TempDir;

use super::*;
use crate::hosts::inventory::InventoryFile;
use crate::hosts::ssh_config::LocalEnv;

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
    let message = crate::error::chain(&catalog.select(selectors, &excludes).unwrap_err());
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

const SSH_CONFIG: &str = "\
Host bastion
    HostName bastion.example.com
    User jump

Host web-01 web-02
    HostName %h.internal.example.com
    ProxyJump bastion
    User admin

Host db-primary
    HostName 10.0.1.5
    Port 2200

Host *.example.org
    User org
";

const FLEET_TOML: &str = r#"
[defaults]
user = "deploy"
key = "keys/deploy"

[hosts.web-01]
address = "10.0.0.11"
port = 2222

[hosts.web-02]

[hosts.new-1]
key = "/keys/my key"

[groups.web]
hosts = ["web-*"]
"#;

/// A catalog over a real ssh_config and inventory, with the home directory
/// in the same temporary directory.
fn catalog_from_files() -> (TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, SSH_CONFIG).unwrap();
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, FLEET_TOML).unwrap();
    let env = LocalEnv {
        home: dir.path().to_path_buf(),
        user: "tester".to_string(),
    };
    let ssh_config = SshConfig::load(&config, &env).unwrap();
    let inventory = Inventory::load(&[InventoryFile {
        path: inventory,
        explicit: true,
    }])
    .unwrap();
    (dir, Catalog::new(ssh_config, inventory))
}

fn resolve_one(catalog: &Catalog, name: &str) -> Target {
    let mut targets = catalog.resolve(name, &[]).unwrap();
    assert_eq!(targets.len(), 1);
    targets.remove(0)
}

#[test]
fn aliases_and_inventory_hosts_are_one_namespace() {
    let (_dir, catalog) = catalog_from_files();
    assert_eq!(
        select(&catalog, "*", &[]),
        ["bastion", "db-primary", "new-1", "web-01", "web-02"]
    );
}

#[test]
fn inventory_fields_win_over_ssh_config() {
    let (dir, catalog) = catalog_from_files();
    let web = resolve_one(&catalog, "web-01");
    assert_eq!(web.alias, "web-01");
    assert_eq!(web.options.hostname, "10.0.0.11");
    assert_eq!(web.options.port, 2222);
    // [defaults] beat ssh_config for hosts the inventory names, like -o.
    assert_eq!(web.options.user, "deploy");
    assert_eq!(web.options.identity_files, [dir.path().join("keys/deploy")]);
    // What the inventory leaves out still comes from ssh_config.
    assert_eq!(web.options.proxy_jump.as_deref(), Some("bastion"));

    let web = resolve_one(&catalog, "web-02");
    assert_eq!(web.options.hostname, "web-02.internal.example.com");
    assert_eq!(web.options.port, 22);
    assert_eq!(web.options.user, "deploy");

    let new = resolve_one(&catalog, "new-1");
    assert_eq!(new.options.hostname, "new-1");
    assert_eq!(new.options.identity_files, [PathBuf::from("/keys/my key")]);
}

#[test]
fn bare_aliases_and_unknown_names_are_left_to_ssh_config() {
    let (_dir, catalog) = catalog_from_files();
    let bastion = resolve_one(&catalog, "bastion");
    assert_eq!(bastion.options.hostname, "bastion.example.com");
    assert_eq!(bastion.options.user, "jump");
    assert!(bastion.options.identity_files.is_empty());

    let db = resolve_one(&catalog, "db-primary");
    assert_eq!(
        (db.options.hostname.as_str(), db.options.port),
        ("10.0.1.5", 2200)
    );
    assert_eq!(db.options.user, "tester");

    let other = resolve_one(&catalog, "a.example.org");
    assert_eq!(other.options.hostname, "a.example.org");
    assert_eq!(other.options.user, "org");
}

#[test]
fn resolve_keeps_natural_order() {
    let (_dir, catalog) = catalog_from_files();
    let targets = catalog
        .resolve("@web,bastion", &["web-02".to_string()])
        .unwrap();
    let aliases: Vec<&str> = targets.iter().map(|t| t.alias.as_str()).collect();
    assert_eq!(aliases, ["bastion", "web-01"]);
}

#[test]
fn a_name_ssh_refuses_stops_the_run() {
    let (_dir, catalog) = catalog_from_files();
    let error = catalog.resolve("web-01,bad;name", &[]).unwrap_err();
    assert!(
        matches!(&error, TargetError::SshConfig { host, .. } if host == "bad;name"),
        "{error:?}"
    );
    let message = crate::error::chain(&error);
    assert!(
        message.starts_with("bad;name: 'bad;name' cannot be a host name: ssh refuses ';'"),
        "{message}"
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
        crate::hosts::ssh_config::StrictHostKeyChecking::AcceptNew
    );
}

/// A catalog over `ssh_config` text alone.
fn catalog_of_config(ssh_config: &str) -> (TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, ssh_config).unwrap();
    let env = LocalEnv {
        home: dir.path().to_path_buf(),
        user: "tester".to_string(),
    };
    let ssh_config = SshConfig::load(&path, &env).unwrap();
    (dir, Catalog::new(ssh_config, Inventory::default()))
}

#[test]
fn jump_hosts_resolve_with_their_own_config_first_hop_first() {
    let (_dir, catalog) = catalog_of_config(
        "Host web\n    ProxyJump admin@bastion:2222,inner\n\
         Host bastion\n    HostName b.example.com\n    ProxyJump outer\n\
         Host inner\n    User ops\n    ProxyJump ignored\n",
    );
    let web = resolve_one(&catalog, "web");
    let hops: Vec<(&str, &str, &str, u16)> = web
        .jumps
        .iter()
        .map(|t| {
            (
                t.alias.as_str(),
                t.options.hostname.as_str(),
                t.options.user.as_str(),
                t.options.port,
            )
        })
        .collect();
    // bastion's own ProxyJump comes first; inner, reached through bastion,
    // does not use its own.
    assert_eq!(
        hops,
        [
            ("outer", "outer", "tester", 22),
            ("bastion", "b.example.com", "admin", 2222),
            ("inner", "inner", "ops", 22),
        ]
    );
    assert!(web.jumps.iter().all(|hop| hop.jumps.is_empty()));
}

#[test]
fn a_jump_loop_is_an_error() {
    let (_dir, catalog) = catalog_of_config("Host a\n    ProxyJump b\nHost b\n    ProxyJump a\n");
    let error = catalog.resolve("a", &[]).unwrap_err();
    assert!(matches!(error, TargetError::Jump { .. }), "{error}");
}

/// Issue 10, defect 12: an ssh_config alias that cannot be a host name
/// stops the run that selects it, naming the `Host` line that defines it
/// and what is wrong with it.
#[test]
fn an_alias_that_cannot_be_a_host_names_its_host_line() {
    let (dir, catalog) = catalog_of_config(
        "Host web-01\n    User ops\n\nHost web-02 web;rm\n    Port 2222\nHost web-\x1b[2J\n",
    );
    let error = catalog.resolve("web-0*,web;*", &[]).unwrap_err();
    let message = crate::error::chain(&error).replace(&dir.path().display().to_string(), "DIR");
    assert_eq!(
        message,
        "DIR/config:4: Host 'web;rm' cannot be a host name: ssh refuses ';' in one, which could \
         smuggle shell syntax into %h; rename the alias"
    );
    let error = catalog.resolve("web-\x1b*", &[]).unwrap_err();
    let message = crate::error::chain(&error).replace(&dir.path().display().to_string(), "DIR");
    assert!(
        message.starts_with("DIR/config:6: Host 'web-\x1b[2J' cannot be a host name: it holds the control character"),
        "{message}"
    );
}

/// `*` and `?` over `name`, the plain way.
fn naive_glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            naive_glob(rest, name) || (!name.is_empty() && naive_glob(pattern, &name[1..]))
        }
        (Some((b'?', rest)), Some((_, name_rest))) => naive_glob(rest, name_rest),
        (Some((p, rest)), Some((n, name_rest))) => p == n && naive_glob(rest, name_rest),
        _ => false,
    }
}

proptest::proptest! {
    /// Globs, plain names and exclusions select what a plain reading of
    /// them says: every known name an include matches (and every plain
    /// name), minus every name an exclusion matches.
    #[test]
    fn selection_agrees_with_a_naive_reference(
        known in proptest::collection::btree_set("[ab][0-9]{1,2}", 1..20),
        include in proptest::collection::vec("[ab?*][0-9?*]{0,2}", 1..4),
        exclude in proptest::collection::vec("[ab?*][0-9?*]{0,2}", 0..3),
    ) {
        let aliases: Vec<&str> = known.iter().map(String::as_str).collect();
        let (_dir, catalog) = catalog_with(&aliases, "");
        let is_glob = |item: &str| item.contains(['*', '?']);
        let matches = |item: &str, name: &str| {
            if is_glob(item) { naive_glob(item.as_bytes(), name.as_bytes()) } else { item == name }
        };
        let mut chosen: std::collections::BTreeSet<String> = known
            .iter()
            .filter(|name| include.iter().any(|item| matches(item, name)))
            .cloned()
            .collect();
        chosen.extend(include.iter().filter(|item| !is_glob(item)).cloned());
        let every_include_matches = include
            .iter()
            .all(|item| !is_glob(item) || known.iter().any(|name| matches(item, name)));
        // An exclusion must match a known or a chosen name.
        let every_exclude_matches = exclude
            .iter()
            .all(|item| known.iter().chain(&chosen).any(|name| matches(item, name)));
        chosen.retain(|name| !exclude.iter().any(|item| matches(item, name)));

        let selector = include.join(",");
        let selected = catalog.select(&selector, &exclude);
        if every_include_matches && every_exclude_matches && !chosen.is_empty() {
            let mut expected: Vec<String> = chosen.into_iter().collect();
            expected.sort_by(|a, b| natural_cmp(a, b));
            proptest::prop_assert_eq!(selected.map_err(|e| e.to_string()), Ok(expected));
        } else {
            proptest::prop_assert!(selected.is_err(), "{:?}", selected);
        }
    }
}
