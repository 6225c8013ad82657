//! Inventory parsing, merging and its errors.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

/// Writes each `(file name, text)` into a fresh directory, explicitly named.
fn files(texts: &[(&str, &str)]) -> (TempDir, Vec<InventoryFile>) {
    let dir = tempfile::tempdir().unwrap();
    let files = texts
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            InventoryFile {
                path,
                explicit: true,
            }
        })
        .collect();
    (dir, files)
}

fn load_one(text: &str) -> (TempDir, Result<Inventory, TargetError>) {
    let (dir, files) = files(&[("fleet.toml", text)]);
    let inventory = Inventory::load(&files);
    (dir, inventory)
}

/// The error for `text`, with the temporary directory replaced by `DIR`.
fn error(text: &str) -> String {
    let (dir, inventory) = load_one(text);
    let message = crate::error::chain(&inventory.unwrap_err());
    message.replace(&dir.path().display().to_string(), "DIR")
}

fn pair(keyword: &str, value: &str) -> (String, String) {
    (keyword.to_string(), value.to_string())
}

const EXAMPLE: &str = r#"
[defaults]
user = "deploy"
port = 22
key = "keys/deploy"
parallel = 64
connect_timeout = "10s"
timeout = "5m"

[hosts.web-01]
address = "10.0.0.11"
user = "root"
port = 2222
key = "~/.ssh/web"

[hosts.lb-1]

[groups.web]
hosts = ["web-[01-03]", "lb-1", "web-3*"]
children = ["canary"]

[groups.canary]
hosts = ["web-01"]
"#;

#[test]
fn reads_hosts_groups_and_defaults() {
    let (dir, inventory) = load_one(EXAMPLE);
    let inventory = inventory.unwrap();
    assert_eq!(
        inventory.defaults(),
        &InventoryDefaults {
            parallel: NonZeroUsize::new(64),
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: Some(Duration::from_secs(300)),
        }
    );
    let web = inventory.host("web-01").unwrap();
    assert_eq!(web.address.as_deref(), Some("10.0.0.11"));
    assert_eq!(web.user.as_deref(), Some("root"));
    assert_eq!(web.port, Some(2222));
    assert_eq!(web.identity_file, Some(PathBuf::from("~/.ssh/web")));

    // An empty table is a host with the file's defaults; a relative key is
    // relative to the inventory's directory.
    let lb = inventory.host("lb-1").unwrap();
    assert_eq!(lb.address, None);
    assert_eq!(lb.user.as_deref(), Some("deploy"));
    assert_eq!(lb.port, Some(22));
    assert_eq!(lb.identity_file, Some(dir.path().join("keys/deploy")));

    // Names and ranges in groups are hosts too; globs only select.
    assert_eq!(inventory.host("web-03"), Some(lb));
    let mut names: Vec<&str> = inventory.host_names().collect();
    names.sort_unstable();
    assert_eq!(names, ["lb-1", "web-01", "web-02", "web-03"]);

    let group = inventory.group("web").unwrap();
    let members: Vec<&str> = group.members.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(members, ["web-[01-03]", "lb-1", "web-3*"]);
    assert_eq!(group.children[0].name, "canary");
    assert_eq!(group.at.line, Some(18));
    assert_eq!(inventory.files(), [dir.path().join("fleet.toml")]);
}

#[test]
fn host_fields_become_ssh_overrides() {
    let host = InventoryHost {
        address: Some("10.0.0.11".to_string()),
        user: Some("root".to_string()),
        port: Some(2222),
        identity_file: Some(PathBuf::from("~/.ssh/web")),
    };
    assert_eq!(
        host.overrides(),
        [
            pair("HostName", "10.0.0.11"),
            pair("User", "root"),
            pair("Port", "2222"),
            pair("IdentityFile", "~/.ssh/web"),
        ]
    );
    // Without an address, ssh_config's HostName for the alias stays.
    assert_eq!(
        InventoryHost {
            user: Some("deploy".to_string()),
            ..InventoryHost::default()
        }
        .overrides(),
        [pair("User", "deploy")]
    );
    assert!(InventoryHost::default().overrides().is_empty());
}

#[test]
fn overrides_quote_what_ssh_would_split() {
    let host = InventoryHost {
        user: Some("#ops".to_string()),
        identity_file: Some(PathBuf::from(r#"/keys/my "web" key\1"#)),
        ..InventoryHost::default()
    };
    assert_eq!(
        host.overrides(),
        [
            pair("User", "\"#ops\""),
            pair("IdentityFile", r#""/keys/my \"web\" key\\1""#),
        ]
    );
}

#[test]
fn host_fields_beat_defaults() {
    let (_dir, inventory) = load_one(
        r#"
[defaults]
user = "deploy"
port = 22
key = "/keys/default"
[hosts.a]
user = "root"
[hosts.b]
port = 2200
key = "/keys/b"
"#,
    );
    let inventory = inventory.unwrap();
    assert_eq!(
        inventory.host("a").unwrap().overrides(),
        [
            pair("User", "root"),
            pair("Port", "22"),
            pair("IdentityFile", "/keys/default"),
        ]
    );
    assert_eq!(
        inventory.host("b").unwrap().overrides(),
        [
            pair("User", "deploy"),
            pair("Port", "2200"),
            pair("IdentityFile", "/keys/b"),
        ]
    );
}

#[test]
fn key_paths_are_relative_to_the_inventory() {
    let source = Source::new(Path::new("project/fleet.toml"), "");
    assert_eq!(source.key_path("keys/web"), Path::new("project/keys/web"));
    for kept in ["~/.ssh/web", "%d/.ssh/web", "${KEYS}/web", "/etc/keys/web"] {
        assert_eq!(source.key_path(kept), Path::new(kept));
    }
    let bare = Source::new(Path::new("fleet.toml"), "");
    assert_eq!(bare.key_path("keys/web"), Path::new("keys/web"));
}

#[test]
fn an_empty_file_is_an_empty_inventory() {
    let (_dir, inventory) = load_one("");
    let inventory = inventory.unwrap();
    assert_eq!(inventory.host_names().count(), 0);
    assert_eq!(inventory.defaults(), &InventoryDefaults::default());
}

#[test]
fn an_unreadable_file_is_an_error_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let error = Inventory::load(&[InventoryFile {
        path: dir.path().to_path_buf(),
        explicit: false,
    }])
    .unwrap_err();
    assert_eq!(
        crate::error::chain(&error),
        format!(
            "cannot read inventory {}: Is a directory (os error 21)",
            dir.path().display()
        )
    );
}

#[test]
fn syntax_errors_name_file_and_line() {
    assert_eq!(
        error("[hosts.a]\nuser = \"x\"\nport = \n"),
        "DIR/fleet.toml:3: string values must be quoted, expected literal string"
    );
}

#[test]
fn unknown_fields_name_file_and_line() {
    assert_eq!(
        error("[hosts.a]\nuser = \"x\"\nadress = \"10.0.0.1\"\n"),
        "DIR/fleet.toml:3: unknown field `adress`, expected one of `address`, `user`, `port`, `key`"
    );
    // There are no per-host variables: nothing would use them.
    assert_eq!(
        error("[hosts.a]\nvars = { role = \"web\" }\n"),
        "DIR/fleet.toml:2: unknown field `vars`, expected one of `address`, `user`, `port`, `key`"
    );
    assert_eq!(
        error("[defaults]\nparalel = 3\n"),
        "DIR/fleet.toml:2: unknown field `paralel`, expected one of `user`, `port`, `key`, `parallel`, `connect_timeout`, `timeout`"
    );
    assert_eq!(
        error("[host.a]\n"),
        "DIR/fleet.toml:1: unknown field `host`, expected one of `defaults`, `hosts`, `groups`"
    );
}

#[test]
fn bad_values_name_file_and_line() {
    assert_eq!(
        error("[hosts.a]\nport = 70000\n"),
        "DIR/fleet.toml:2: port 70000 is out of range; use 1 to 65535"
    );
    assert_eq!(
        error("\n[defaults]\nport = 0\n"),
        "DIR/fleet.toml:3: port 0 is out of range; use 1 to 65535"
    );
    assert_eq!(
        error("[defaults]\nparallel = 0\n"),
        "DIR/fleet.toml:2: parallel = 0: run on at least 1 host at a time"
    );
    assert_eq!(
        error("[defaults]\nconnect_timeout = \"10 s\"\n"),
        "DIR/fleet.toml:2: '10 s' is not a duration; write seconds (\"10\") or a number and a unit: \"500ms\", \"10s\", \"1m30s\", \"5m\" or \"1h\""
    );
    assert_eq!(
        error("[defaults]\ntimeout = 0\n"),
        "DIR/fleet.toml:2: '0': a duration must be more than zero"
    );
    assert_eq!(
        error("[defaults]\ntimeout = 1.5\n"),
        "DIR/fleet.toml:2: 1.5 is not a duration; write seconds or a string such as \"10s\""
    );
    assert_eq!(
        error("[hosts.a]\nuser = \"de ploy\"\n"),
        "DIR/fleet.toml:2: 'de ploy' must be one word, without spaces"
    );
    assert_eq!(
        error("[hosts.a]\nkey = \"\"\n"),
        "DIR/fleet.toml:2: a key path cannot be empty"
    );
}

#[test]
fn timeouts_take_the_one_duration_syntax() {
    let timeout = |value: &str| {
        let (_dir, inventory) = load_one(&format!("[defaults]\ntimeout = {value}\n"));
        inventory.ok().map(|inventory| inventory.defaults().timeout)
    };
    for &(text, expected) in crate::duration::EXAMPLES {
        let quoted = toml::Value::String(text.to_string()).to_string();
        assert_eq!(timeout(&quoted), expected.map(Some), "timeout = {quoted}");
    }
    // A TOML number is a bare number: seconds.
    assert_eq!(timeout("10"), Some(Some(Duration::from_secs(10))));
    assert_eq!(timeout("0"), None);
    assert_eq!(timeout("-5"), None);
}

#[test]
fn bad_names_name_file_and_line() {
    assert_eq!(
        error("[hosts.\"web*\"]\n"),
        "DIR/fleet.toml:1: 'web*' cannot be a name: selectors would read '*' in it as syntax"
    );
    assert_eq!(
        error("[groups.web]\n[groups.\"a,b\"]\n"),
        "DIR/fleet.toml:2: 'a,b' cannot be a name: selectors would read ',' in it as syntax"
    );
}

#[test]
fn group_members_are_names_ranges_and_globs() {
    assert_eq!(
        error("[groups.web]\nhosts = [\n  \"web-1\",\n  \"@db\",\n]\n"),
        "DIR/fleet.toml:4: '@db': list nested groups in children, e.g. children = [\"db\"]"
    );
    assert_eq!(
        error("[groups.web]\nhosts = [\"web-*\", \"!web-1\"]\n"),
        "DIR/fleet.toml:2: '!web-1': a group cannot exclude hosts; exclude them in the selector instead"
    );
    assert_eq!(
        error("[groups.web]\nhosts = [\"web-[3-1]\"]\n"),
        "DIR/fleet.toml:2: 'web-[3-1]': range 3-1 runs backwards"
    );
}

#[test]
fn children_must_exist() {
    assert_eq!(
        error("[groups.web]\nchildren = [\"canary\", \"canry\"]\n[groups.canary]\n"),
        "DIR/fleet.toml:2: group 'web' includes unknown group 'canry'; define [groups.canry] or fix the name"
    );
}

#[test]
fn children_may_be_written_with_at() {
    let (_dir, inventory) = load_one("[groups.web]\nchildren = [\"@canary\"]\n[groups.canary]\n");
    let inventory = inventory.unwrap();
    assert_eq!(inventory.group("web").unwrap().children[0].name, "canary");
}

#[test]
fn cycles_are_refused() {
    assert_eq!(
        error(
            "[groups.a]\nchildren = [\"b\"]\n\
             [groups.b]\nchildren = [\"c\"]\n\
             [groups.c]\nchildren = [\"a\"]\n"
        ),
        "DIR/fleet.toml:6: groups include each other in a cycle: @a → @b → @c → @a; remove one of these children"
    );
    assert_eq!(
        error("[groups.a]\nchildren = [\"a\"]\n"),
        "DIR/fleet.toml:2: groups include each other in a cycle: @a → @a; remove one of these children"
    );
}

#[test]
fn a_shared_child_is_no_cycle() {
    let (_dir, inventory) = load_one(
        "[groups.a]\nchildren = [\"b\", \"c\"]\n\
         [groups.b]\nchildren = [\"c\"]\n\
         [groups.c]\nhosts = [\"x\"]\n",
    );
    assert!(inventory.is_ok());
}

#[test]
fn deep_nesting_is_refused() {
    let text: String = (0..40)
        .map(|i| format!("[groups.g{i}]\nchildren = [\"g{}\"]\n", i + 1))
        .chain(["[groups.g40]\n".to_string()])
        .collect();
    assert!(error(&text).ends_with("groups nest more than 32 deep"));
}

#[test]
fn missing_files_fail_only_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let mut file = InventoryFile {
        path: path.clone(),
        explicit: false,
    };
    let inventory = Inventory::load(std::slice::from_ref(&file)).unwrap();
    assert!(inventory.files().is_empty());
    file.explicit = true;
    assert_eq!(
        Inventory::load(&[file]).unwrap_err().to_string(),
        format!(
            "inventory {} does not exist; check the -i path",
            path.display()
        )
    );
}

#[test]
fn first_file_wins_and_defaults_stay_with_their_file() {
    let (dir, files) = files(&[
        (
            "project.toml",
            r#"
[defaults]
user = "deploy"
timeout = "1m"
[hosts.web-01]
address = "10.0.0.11"
[groups.web]
hosts = ["web-01"]
"#,
        ),
        (
            "personal.toml",
            r#"
[defaults]
user = "me"
parallel = 8
timeout = "2m"
[hosts.web-01]
address = "192.0.2.1"
[hosts.mine]
[groups.web]
hosts = ["other"]
[groups.db]
hosts = ["db-1"]
"#,
        ),
    ]);
    let inventory = Inventory::load(&files).unwrap();
    let web = inventory.host("web-01").unwrap();
    assert_eq!(web.address.as_deref(), Some("10.0.0.11"));
    assert_eq!(web.user.as_deref(), Some("deploy"));
    assert_eq!(inventory.host("mine").unwrap().user.as_deref(), Some("me"));
    assert_eq!(inventory.group("web").unwrap().members[0].text, "web-01");
    assert!(inventory.group("db").is_some());
    assert_eq!(
        inventory.defaults(),
        &InventoryDefaults {
            parallel: NonZeroUsize::new(8),
            connect_timeout: None,
            timeout: Some(Duration::from_secs(60)),
        }
    );
    let read: Vec<&Path> = inventory.files().iter().map(PathBuf::as_path).collect();
    assert_eq!(
        read,
        [
            dir.path().join("project.toml"),
            dir.path().join("personal.toml")
        ]
    );
}

#[test]
fn a_host_table_beats_a_mention_in_an_earlier_file() {
    let (_dir, files) = files(&[
        (
            "a.toml",
            "[defaults]\nuser = \"a\"\n[groups.web]\nhosts = [\"web-1\"]\n",
        ),
        ("b.toml", "[hosts.web-1]\naddress = \"10.0.0.1\"\n"),
    ]);
    let inventory = Inventory::load(&files).unwrap();
    let web = inventory.host("web-1").unwrap();
    assert_eq!(web.address.as_deref(), Some("10.0.0.1"));
    assert_eq!(web.user, None);
}

#[test]
fn groups_may_name_children_from_other_files() {
    let (_dir, files) = files(&[
        ("a.toml", "[groups.all]\nchildren = [\"db\"]\n"),
        ("b.toml", "[groups.db]\nhosts = [\"db-1\"]\n"),
    ]);
    assert!(Inventory::load(&files).is_ok());
}

#[test]
fn shipped_examples_load() {
    let examples = [
        (
            "fleet.toml",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/inventories/fleet.toml"
            )),
        ),
        (
            "groups-only.toml",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/inventories/groups-only.toml"
            )),
        ),
    ];
    for (name, text) in examples {
        let parsed = parse_file(Path::new(name), text);
        if let Err(err) = parsed.and_then(|file| Inventory::merge(vec![file])) {
            panic!("{err}");
        }
    }
}

#[test]
fn the_last_run_selectors_are_not_group_names() {
    for name in ["failed", "ok"] {
        assert_eq!(
            error(&format!("[groups.{name}]\nhosts = [\"web-1\"]\n")),
            format!(
                "DIR/fleet.toml:1: group name '{name}' is reserved: @failed, @failed:STATUS and \
                 @ok select hosts by how the last run ended; rename the group"
            )
        );
    }
    assert!(error("[groups.web]\nhosts = [\"@failed\"]\n")
        .contains("'@failed' selects by the last run"));
}

/// Issue 10, defect 12: names ssh would refuse as host names passed the
/// inventory check, then stopped every run that selected them without
/// saying where they came from.
#[test]
fn names_that_cannot_be_hosts_are_refused_where_they_are_read() {
    for (name, problem) in [
        ("a;b", "';'"),
        ("it's", "'\\''"),
        ("x$(id)", "'$'"),
        ("x`id`", "'`'"),
        ("a|b", "'|'"),
        ("-oProxyCommand=x", "starts with '-'"),
    ] {
        let text = format!("[hosts.web]\n\n[hosts.{}]\n", toml::Value::from(name));
        let message = error(&text);
        assert!(
            message.starts_with(&format!("DIR/fleet.toml:3: '{name}' cannot be a host name")),
            "{message}"
        );
        assert!(message.contains(problem), "{name}: {message}");
    }
    // Names in a group's list name hosts too.
    assert!(error("[groups.web]\nhosts = [\"ok\",\n  \"x;y\"]\n")
        .starts_with("DIR/fleet.toml:3: 'x;y' cannot be a host name"),);
}

#[test]
fn a_control_character_is_reported_as_one() {
    let message = error("[hosts.\"a\\u001bb\"]\n");
    assert!(message.starts_with("DIR/fleet.toml:1: "), "{message}");
    assert!(message.contains("control character"), "{message}");
    let message = error("[hosts.a]\nuser = \"root\\u0007\"\n");
    assert!(message.starts_with("DIR/fleet.toml:2: "), "{message}");
    assert!(message.contains("control character"), "{message}");
    assert!(!message.contains("spaces"), "{message}");
    let message = error("[hosts.a]\naddress = \"10.0.0.1\\u009b\"\n");
    assert!(message.contains("control character"), "{message}");
}

/// Issue 10, defect 17, in an inventory: each entry was capped, not all.
#[test]
fn the_names_of_all_groups_together_are_capped() {
    let message =
        error("[groups.a]\nhosts = [\"a[1-600000]\"]\n[groups.b]\nhosts = [\"b[1-600000]\"]\n");
    assert_eq!(
        message,
        "DIR/fleet.toml:4: 'b[1-600000]': the groups of this file list more than 1000000 names in all"
    );
}

/// Issue 10: a key path that is not UTF-8 (here from the inventory's own
/// directory) reaches ssh_config as exactly its bytes.
#[test]
fn a_key_path_that_is_not_utf8_is_kept_byte_for_byte() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join(OsStr::from_bytes(b"k\xe9ys"));
    std::fs::create_dir(&odd).unwrap();
    let path = odd.join("fleet.toml");
    std::fs::write(&path, "[hosts.web]\nkey = \"id\"\n").unwrap();
    let inventory = Inventory::load(&[InventoryFile {
        path,
        explicit: true,
    }])
    .unwrap();
    let env = crate::hosts::ssh_config::LocalEnv {
        home: dir.path().to_path_buf(),
        user: "tester".to_string(),
    };
    let catalog =
        crate::hosts::Catalog::new(crate::hosts::ssh_config::SshConfig::empty(&env), inventory);
    let targets = catalog.resolve("web", &[]).unwrap();
    assert_eq!(targets[0].options.identity_files, [odd.join("id")]);
}
