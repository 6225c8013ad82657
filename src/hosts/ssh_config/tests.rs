//! Tests of ssh_config evaluation: one per rule and per error, then an
//! oracle test comparing [`SshConfig::resolve`] with `ssh -G`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use super::{ConfigError, HostOptions, LocalEnv, SshConfig, StrictHostKeyChecking};

mod oracle;

/// A temp home with the config files of one test.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("create temp dir");
        fs::create_dir(dir.path().join(".ssh")).expect("create .ssh");
        Home { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> LocalEnv {
        LocalEnv {
            home: self.path().to_path_buf(),
            user: "alice".into(),
        }
    }

    /// Writes `text` to `rel` under the home, creating directories.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        fs::write(&path, text).expect("write file");
        path
    }

    /// Writes ~/.ssh/config and loads it like `ssh -F`.
    fn load(&self, text: &str) -> Result<SshConfig, ConfigError> {
        let path = self.write(".ssh/config", text);
        SshConfig::load(&path, &self.env())
    }

    fn config(&self, text: &str) -> SshConfig {
        self.load(text).expect("config loads")
    }

    /// The error message a config is rejected with, home path replaced by
    /// `~`.
    fn load_error(&self, text: &str) -> String {
        match self.load(text) {
            Ok(_) => panic!("config unexpectedly loads:\n{text}"),
            Err(e) => self.tidy(&e),
        }
    }

    fn resolve_error(&self, text: &str, host: &str) -> String {
        match self.config(text).resolve(host, &[]) {
            Ok(o) => panic!("{host} unexpectedly resolves: {o:?}"),
            Err(e) => self.tidy(&e),
        }
    }

    fn tidy(&self, e: &ConfigError) -> String {
        crate::error::chain(e).replace(&self.path().display().to_string(), "~")
    }

    fn home(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }
}

fn resolve(config: &SshConfig, host: &str) -> HostOptions {
    config.resolve(host, &[]).expect("host resolves")
}

fn overrides(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------
// Defaults and first-value-wins
// ---------------------------------------------------------------------

#[test]
fn defaults_without_any_config() {
    let home = Home::new();
    let o = resolve(&SshConfig::empty(&home.env()), "Web-01.Example.com");
    assert_eq!(o.host, "Web-01.Example.com");
    assert_eq!(o.hostname, "web-01.example.com", "ssh lowercases the name");
    assert_eq!(o.user, "alice");
    assert_eq!(o.port, 22);
    assert!(o.identity_files.is_empty());
    assert!(!o.identities_only);
    assert_eq!(o.identity_agent, None);
    assert!(o.certificate_files.is_empty());
    assert_eq!(o.proxy_jump, None);
    assert_eq!(
        o.user_known_hosts_files,
        [
            home.home(".ssh/known_hosts"),
            home.home(".ssh/known_hosts2")
        ]
    );
    assert_eq!(
        o.global_known_hosts_files,
        [
            PathBuf::from("/etc/ssh/ssh_known_hosts"),
            PathBuf::from("/etc/ssh/ssh_known_hosts2")
        ]
    );
    assert_eq!(o.strict_host_key_checking, StrictHostKeyChecking::Ask);
    assert_eq!(o.connect_timeout, None);
    assert_eq!(o.server_alive_interval, None);
    assert_eq!(o.server_alive_count_max, 3);
    assert_eq!(o.host_key_alias, None);
}

#[test]
fn options_before_the_first_host_apply_to_all_hosts() {
    let home = Home::new();
    let config = home.config("User early\nPort 2200\nHost a\n  User late\n  Port 2300\n");
    let a = resolve(&config, "a");
    assert_eq!((a.user.as_str(), a.port), ("early", 2200));
    let b = resolve(&config, "b");
    assert_eq!((b.user.as_str(), b.port), ("early", 2200));
}

#[test]
fn first_obtained_value_wins() {
    let home = Home::new();
    let config = home.config(
        "Host a\n  HostName first\n  HostName second\nHost *\n  HostName third\n  User u\n",
    );
    assert_eq!(resolve(&config, "a").hostname, "first");
    assert_eq!(resolve(&config, "b").hostname, "third");
}

#[test]
fn identity_and_certificate_files_accumulate_without_repeats() {
    let home = Home::new();
    let config = home.config(
        "IdentityFile /k/one\nHost a\n  IdentityFile /k/two\n  IdentityFile /k/one\n  \
         CertificateFile /c/one\nHost *\n  IdentityFile /k/three\n  CertificateFile /c/two\n",
    );
    let o = resolve(&config, "a");
    assert_eq!(
        o.identity_files,
        ["/k/one", "/k/two", "/k/three"].map(PathBuf::from)
    );
    assert_eq!(o.certificate_files, ["/c/one", "/c/two"].map(PathBuf::from));
}

#[test]
fn identity_file_none_is_dropped() {
    let home = Home::new();
    let config = home.config("IdentityFile none\nIdentityFile /k/real\n");
    assert_eq!(
        resolve(&config, "a").identity_files,
        [PathBuf::from("/k/real")]
    );
}

/// Issue 10: a non-UTF-8 IdentityFile path was changed (`k\xe9y` became
/// `k\u{fffd}y`); paths are bytes, and ssh keeps them as they are.
#[test]
fn paths_that_are_not_utf8_are_kept_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let home = Home::new();
    let path = home.home(".ssh/config");
    fs::write(
        &path,
        b"Host a\n  IdentityFile /keys/k\xe9y\n  UserKnownHostsFile /kh/\xff\xfe caf\xc3\xa9\n",
    )
    .unwrap();
    let config = SshConfig::load(&path, &home.env()).unwrap();
    let a = resolve(&config, "a");
    assert_eq!(a.identity_files[0].as_os_str().as_bytes(), b"/keys/k\xe9y");
    let known: Vec<&[u8]> = a
        .user_known_hosts_files
        .iter()
        .map(|p| p.as_os_str().as_bytes())
        .collect();
    assert_eq!(known, [&b"/kh/\xff\xfe"[..], "café".as_bytes()]);
}

/// Issue 10: `IdentityFile none` could not be told from no IdentityFile,
/// so fleet tried the default keys that ssh then leaves out.
#[test]
fn identity_file_none_alone_turns_the_default_keys_off() {
    let home = Home::new();
    let none = resolve(&home.config("Host a\n  IdentityFile none\n"), "a");
    assert!(none.identity_files.is_empty());
    assert!(!none.default_identities);
    let unset = resolve(&home.config("Host a\n  User x\n"), "a");
    assert!(unset.identity_files.is_empty());
    assert!(unset.default_identities);
}

#[test]
fn known_hosts_files_take_several_per_line_and_the_first_line_wins() {
    let home = Home::new();
    let config = home.config(
        "Host a\n  UserKnownHostsFile /u/1 /u/2\n  GlobalKnownHostsFile /g/1 /g/2\n\
         Host *\n  UserKnownHostsFile /u/3\n  GlobalKnownHostsFile /g/3\n",
    );
    let a = resolve(&config, "a");
    assert_eq!(
        a.user_known_hosts_files,
        ["/u/1", "/u/2"].map(PathBuf::from)
    );
    assert_eq!(
        a.global_known_hosts_files,
        ["/g/1", "/g/2"].map(PathBuf::from)
    );
    let b = resolve(&config, "b");
    assert_eq!(b.user_known_hosts_files, [PathBuf::from("/u/3")]);
    assert_eq!(b.global_known_hosts_files, [PathBuf::from("/g/3")]);
}

#[test]
fn known_hosts_none_means_no_files() {
    let home = Home::new();
    let config = home.config("UserKnownHostsFile none\nGlobalKnownHostsFile NONE\n");
    let o = resolve(&config, "a");
    assert!(o.user_known_hosts_files.is_empty());
    assert!(o.global_known_hosts_files.is_empty());
}

#[test]
fn strict_host_key_checking_values() {
    let home = Home::new();
    for (value, expected) in [
        ("yes", StrictHostKeyChecking::Yes),
        ("TRUE", StrictHostKeyChecking::Yes),
        ("no", StrictHostKeyChecking::No),
        ("false", StrictHostKeyChecking::No),
        ("Off", StrictHostKeyChecking::No),
        ("ask", StrictHostKeyChecking::Ask),
        ("Accept-New", StrictHostKeyChecking::AcceptNew),
    ] {
        let config = home.config(&format!("StrictHostKeyChecking {value}\n"));
        assert_eq!(
            resolve(&config, "a").strict_host_key_checking,
            expected,
            "{value}"
        );
    }
}

#[test]
fn time_values() {
    let home = Home::new();
    let config =
        home.config("ConnectTimeout 1m30s\nServerAliveInterval 2h\nServerAliveCountMax 0\n");
    let o = resolve(&config, "a");
    assert_eq!(o.connect_timeout, Some(Duration::from_secs(90)));
    assert_eq!(o.server_alive_interval, Some(Duration::from_secs(7200)));
    assert_eq!(o.server_alive_count_max, 0);
}

#[test]
fn zero_times_mean_no_timeout() {
    let home = Home::new();
    let config = home.config("ConnectTimeout 0\nServerAliveInterval 0\n");
    let o = resolve(&config, "a");
    assert_eq!((o.connect_timeout, o.server_alive_interval), (None, None));
}

#[test]
fn time_none_leaves_the_option_unset_for_later_lines() {
    // readconf.c stores `none` as "unset", so a later line still applies.
    let home = Home::new();
    let config = home.config("ConnectTimeout none\nConnectTimeout 5\n");
    assert_eq!(
        resolve(&config, "a").connect_timeout,
        Some(Duration::from_secs(5))
    );
}

#[test]
fn host_key_alias_is_lowercased() {
    let home = Home::new();
    let config = home.config("HostKeyAlias Db-Primary\n");
    assert_eq!(
        resolve(&config, "a").host_key_alias.as_deref(),
        Some("db-primary")
    );
}

#[test]
fn port_accepts_service_names() {
    let home = Home::new();
    if local_services_know_ssh() {
        let config = home.config("Port ssh\n");
        assert_eq!(resolve(&config, "a").port, 22);
    }
}

fn local_services_know_ssh() -> bool {
    fs::read_to_string("/etc/services").is_ok_and(|s| s.lines().any(|l| l.starts_with("ssh")))
}

// ---------------------------------------------------------------------
// Host patterns
// ---------------------------------------------------------------------

#[test]
fn host_wildcards_and_several_patterns() {
    let home = Home::new();
    let config = home.config("Host web-?? db*\n  User matched\nHost *\n  User other\n");
    assert_eq!(resolve(&config, "web-01").user, "matched");
    assert_eq!(resolve(&config, "db-primary").user, "matched");
    assert_eq!(resolve(&config, "web-1").user, "other");
}

#[test]
fn a_negated_pattern_excludes_the_block_even_if_others_match() {
    let home = Home::new();
    let config = home.config("Host web-* !web-03\n  User web\nHost *\n  User other\n");
    assert_eq!(resolve(&config, "web-01").user, "web");
    assert_eq!(resolve(&config, "web-03").user, "other");
}

#[test]
fn a_block_of_only_negations_matches_nothing() {
    let home = Home::new();
    let config = home.config("Host !web-03\n  User never\n");
    assert_eq!(resolve(&config, "web-01").user, "alice");
}

#[test]
fn host_matching_is_case_sensitive_on_the_name_as_given() {
    let home = Home::new();
    let config = home.config("Host web\n  Port 2200\n");
    assert_eq!(resolve(&config, "web").port, 2200);
    assert_eq!(resolve(&config, "WEB").port, 22);
}

#[test]
fn host_matches_the_alias_not_the_hostname() {
    let home = Home::new();
    let config = home.config("Host web\n  HostName 10.0.0.5\nHost 10.0.0.5\n  User byaddr\n");
    assert_eq!(resolve(&config, "web").user, "alice");
}

#[test]
fn host_patterns_may_be_quoted() {
    let home = Home::new();
    let config = home.config("Host \"c\" 'd'\n  User quoted\n");
    assert_eq!(resolve(&config, "c").user, "quoted");
    assert_eq!(resolve(&config, "d").user, "quoted");
}

#[test]
fn host_names_ssh_refuses_on_its_command_line_are_refused() {
    let home = Home::new();
    let config = home.config("Host \"a b\"\n  User quoted\n");
    for bad in ["a b", "-oProxyCommand=x", "a;b", "a,b", "a$b", "a\tb"] {
        let e = config.resolve(bad, &[]).expect_err(bad);
        assert!(matches!(e, ConfigError::InvalidHost { .. }), "{bad}: {e}");
    }
    assert!(config.resolve("a%b*!#", &[]).is_ok());
}

// ---------------------------------------------------------------------
// Match
// ---------------------------------------------------------------------

#[test]
fn match_all() {
    let home = Home::new();
    let config = home.config("Host a\n  User a\nMatch all\n  User everyone\n  Port 2\n");
    let a = resolve(&config, "a");
    assert_eq!((a.user.as_str(), a.port), ("a", 2));
    assert_eq!(resolve(&config, "b").user, "everyone");
}

#[test]
fn match_is_not_merged_into_the_preceding_host_block() {
    let home = Home::new();
    let config = home.config("Host a\n  User a\nMatch host b\n  Port 2200\n");
    assert_eq!(resolve(&config, "a").port, 22);
    assert_eq!(resolve(&config, "b").port, 2200);
}

#[test]
fn match_host_sees_the_hostname_resolved_so_far() {
    let home = Home::new();
    let config = home.config(
        "Host db\n  HostName %h.Internal.example\nMatch host *.internal.example\n  User dbuser\n",
    );
    assert_eq!(resolve(&config, "db").user, "dbuser");
    assert_eq!(resolve(&config, "db").hostname, "db.internal.example");
    assert_eq!(resolve(&config, "other").user, "alice");
}

#[test]
fn match_host_before_any_hostname_sees_the_alias_case_insensitively() {
    let home = Home::new();
    let config = home.config("Match host WEB-*\n  User web\n");
    assert_eq!(resolve(&config, "web-1").user, "web");
    assert_eq!(resolve(&config, "Web-1").user, "web");
}

#[test]
fn match_originalhost_sees_the_alias() {
    let home = Home::new();
    let config = home.config("HostName real\nMatch originalhost alias\n  User viaalias\n");
    assert_eq!(resolve(&config, "alias").user, "viaalias");
    assert_eq!(resolve(&config, "real").user, "alice");
}

#[test]
fn match_user_sees_the_remote_user_so_far() {
    let home = Home::new();
    let config = home.config(
        "Host a\n  User deploy\nMatch user deploy\n  Port 2201\nMatch user alice\n  Port 2202\n",
    );
    assert_eq!(resolve(&config, "a").port, 2201);
    // Without a User yet, the local user stands in.
    assert_eq!(resolve(&config, "b").port, 2202);
}

#[test]
fn match_localuser() {
    let home = Home::new();
    let config = home.config("Match localuser alice,bob\n  Port 2200\n");
    assert_eq!(resolve(&config, "a").port, 2200);
    let other = SshConfig::load(
        &home.home(".ssh/config"),
        &LocalEnv {
            user: "carol".into(),
            ..home.env()
        },
    )
    .expect("loads");
    assert_eq!(resolve(&other, "a").port, 22);
}

#[test]
fn match_negation_and_comma_lists() {
    let home = Home::new();
    let config = home.config("Match !host web-*,db-* user alice\n  Port 2200\n");
    assert_eq!(resolve(&config, "cache-1").port, 2200);
    assert_eq!(resolve(&config, "web-1").port, 22);
    assert_eq!(resolve(&config, "db-1").port, 22);
}

#[test]
fn match_list_negation_inside_a_pattern_list() {
    let home = Home::new();
    let config = home.config("Match host web-*,!web-3\n  Port 2200\n");
    assert_eq!(resolve(&config, "web-1").port, 2200);
    assert_eq!(resolve(&config, "web-3").port, 22);
}

#[test]
fn all_criteria_must_hold() {
    let home = Home::new();
    let config = home.config("Match host a user bob\n  Port 2200\n");
    assert_eq!(resolve(&config, "a").port, 22);
}

#[test]
fn match_canonical_and_final_do_not_hold_without_a_final_pass() {
    let home = Home::new();
    let config = home.config("Match canonical\n  Port 2200\nMatch !canonical\n  User first\n");
    let o = resolve(&config, "a");
    assert_eq!((o.port, o.user.as_str()), (22, "first"));
}

#[test]
fn match_final_evaluates_the_config_again_with_the_resolved_name() {
    let home = Home::new();
    let config = home.config(
        "Host alias\n  HostName Real.Example\nMatch final\n  User finaluser\n\
         Match canonical\n  Port 2200\nHost real.example\n  IdentityFile /k/second-pass\n",
    );
    let o = resolve(&config, "alias");
    assert_eq!(o.user, "finaluser");
    assert_eq!(o.port, 2200);
    assert_eq!(o.identity_files, [PathBuf::from("/k/second-pass")]);
}

#[test]
fn canonicalize_hostname_also_causes_a_final_pass() {
    let home = Home::new();
    let config = home.config("CanonicalizeHostname yes\nMatch canonical\n  Port 2200\n");
    assert_eq!(resolve(&config, "a").port, 2200);
}

#[test]
fn match_exec_is_an_error_only_where_ssh_would_run_it() {
    let home = Home::new();
    let text = "Match host special exec \"test -f /x\"\n  Port 2200\n";
    assert_eq!(resolve(&home.config(text), "other").port, 22);
    let e = home.resolve_error(text, "special");
    assert!(
        e.starts_with("~/.ssh/config:1: 'Match exec' would run a local command"),
        "{e}"
    );
}

// ---------------------------------------------------------------------
// Include
// ---------------------------------------------------------------------

#[test]
fn include_globs_relative_to_dot_ssh_in_sorted_order() {
    let home = Home::new();
    home.write(".ssh/conf.d/b.conf", "Host b\n  User from-b\n");
    home.write(".ssh/conf.d/a.conf", "Host b\n  User from-a\n");
    home.write(".ssh/conf.d/.hidden.conf", "Host b\n  User hidden\n");
    home.write(".ssh/conf.d/a.txt", "Host b\n  User txt\n");
    let config = home.config("Include conf.d/*.conf\n");
    assert_eq!(resolve(&config, "b").user, "from-a");
}

#[test]
fn include_takes_several_paths_absolute_tilde_and_missing() {
    let home = Home::new();
    let absolute = home.write("elsewhere/abs.conf", "Host x\n  Port 2201\n");
    home.write("tilde.conf", "Host x\n  User tilde\n");
    let config = home.config(&format!(
        "Include missing-*.conf {} ~/tilde.conf nothing-here\n",
        absolute.display()
    ));
    let o = resolve(&config, "x");
    assert_eq!((o.port, o.user.as_str()), (2201, "tilde"));
}

#[test]
fn include_inside_a_host_block_is_conditional_on_it() {
    let home = Home::new();
    home.write(".ssh/inner.conf", "User inner\nHost *\n  Port 2200\n");
    let config = home.config("Host a\n  Include inner.conf\n");
    let a = resolve(&config, "a");
    assert_eq!((a.user.as_str(), a.port), ("inner", 2200));
    let b = resolve(&config, "b");
    assert_eq!((b.user.as_str(), b.port), ("alice", 22));
}

#[test]
fn a_match_in_an_included_file_does_not_leak_into_the_includer() {
    let home = Home::new();
    home.write(".ssh/inner.conf", "Match host nothing\n  User never\n");
    let config = home.config("Host a\n  Include inner.conf\n  User after-include\n");
    assert_eq!(resolve(&config, "a").user, "after-include");
}

#[test]
fn includes_nest_and_a_loop_is_reported() {
    let home = Home::new();
    home.write(".ssh/one.conf", "Include two.conf\n");
    home.write(".ssh/two.conf", "Port 2200\n");
    assert_eq!(resolve(&home.config("Include one.conf\n"), "a").port, 2200);

    home.write(".ssh/loop.conf", "Include loop.conf\n");
    let e = home.load_error("Include loop.conf\n");
    assert!(
        e.starts_with("~/.ssh/loop.conf:1: Includes nest more than 16 deep"),
        "{e}"
    );
}

/// Issue 10: an Include tree of 4^9 parses took 441 MB, where ssh, which
/// reads and forgets, took 8 MB. Each file is parsed once and shared.
#[test]
fn a_file_included_many_times_is_parsed_once() {
    let home = Home::new();
    for level in 0..9 {
        let include = format!("Include level{}.conf\n", level + 1).repeat(4);
        home.write(
            &format!(".ssh/level{level}.conf"),
            &format!("Host h{level}\n  User u{level}\nHost *\n{include}"),
        );
    }
    home.write(".ssh/level9.conf", "Host leaf\n  Port 2200\n");
    let config = home.config("Include level0.conf\n");
    assert_eq!(
        config.files.len(),
        11,
        "the config and ten levels, once each"
    );
    assert_eq!(resolve(&config, "leaf").port, 2200);
    assert_eq!(resolve(&config, "h8").user, "u8");
    assert_eq!(config.aliases().len(), 10);

    // Shared or not, nesting is counted along every path.
    home.write(".ssh/deep.conf", "Include level0.conf\n");
    assert!(home
        .load("Include level0.conf\nInclude deep.conf\n")
        .is_ok());
    for n in 1..7 {
        home.write(
            &format!(".ssh/deep{n}.conf"),
            &format!("Include deep{}.conf\n", n + 1),
        );
    }
    home.write(".ssh/deep7.conf", "Include level0.conf\n");
    let e = home.load_error("Include level0.conf\nInclude deep1.conf\n");
    assert!(e.contains("Includes nest more than 16 deep"), "{e}");

    // Walking the tree stays bounded: four times as many is refused.
    let e = home.load_error(&"Include level0.conf\n".repeat(4));
    assert!(
        e.starts_with("~/.ssh/config:3: Includes read more than 1000000 files"),
        "{e}"
    );
}

/// Issue 10: `Include` took `${VAR}` and `%d`-style tokens literally;
/// newer OpenSSH releases expand them (their regress/cfginclude.sh tests both).
#[test]
fn include_paths_expand_environment_variables_and_local_tokens() {
    let home = Home::new();
    // cargo sets CARGO_PKG_NAME for the tests it runs.
    home.write(".ssh/fleet.conf", "Host a\n  Port 2201\n");
    home.write("alice.conf", "Host b\n  Port 2202\n");
    home.write(".ssh/100%.conf", "Host c\n  Port 2203\n");
    let config =
        home.config("Include ${CARGO_PKG_NAME}.conf\nInclude %d/%u.conf\nInclude 100%%.conf\n");
    assert_eq!(resolve(&config, "a").port, 2201);
    assert_eq!(resolve(&config, "b").port, 2202);
    assert_eq!(resolve(&config, "c").port, 2203);

    let e = home.load_error("Include ${FLEET_TEST_NOT_SET_ANYWHERE}.conf\n");
    assert!(
        e.starts_with("~/.ssh/config:1: Include: environment variable"),
        "{e}"
    );
    let e = home.load_error("Host x\n  Include conf.d/%h.conf\n");
    assert!(
        e.starts_with(
            "~/.ssh/config:2: Include path 'conf.d/%h.conf' uses %h, which stands for the host"
        ),
        "{e}"
    );
}

#[test]
fn included_files_writable_by_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let inner = home.write(".ssh/inner.conf", "Port 2200\n");
    fs::set_permissions(&inner, fs::Permissions::from_mode(0o666)).expect("chmod");
    let e = home.load_error("Include inner.conf\n");
    assert!(
        e.starts_with("~/.ssh/inner.conf: bad owner or permissions"),
        "{e}"
    );
}

#[test]
fn an_included_file_that_cannot_be_read_names_the_line_and_the_reason() {
    let home = Home::new();
    std::os::unix::fs::symlink("loop.conf", home.home(".ssh/loop.conf")).expect("symlink");
    assert_eq!(
        home.load_error(
            "Port 2200
Include loop.conf
"
        ),
        "~/.ssh/config:2: cannot read included file ~/.ssh/loop.conf: \
         Too many levels of symbolic links (os error 40)"
    );
}

#[test]
fn an_included_directory_reads_as_empty() {
    let home = Home::new();
    fs::create_dir(home.home(".ssh/dir")).expect("mkdir");
    assert_eq!(
        resolve(&home.config("Include dir\nPort 2200\n"), "a").port,
        2200
    );
}

// ---------------------------------------------------------------------
// Line syntax
// ---------------------------------------------------------------------

#[test]
fn keyword_value_separators_quotes_comments_and_case() {
    let home = Home::new();
    let config = home.config(
        "# a comment\n\n   \t\nhostname=h1\nUSER = bob\n\tPort 2200 # trailing comment\n\
         IdentityFile \"/k/with space\"\nCertificateFile='/c/single quoted'\n\r\n",
    );
    let o = resolve(&config, "a");
    assert_eq!(o.hostname, "h1");
    assert_eq!(o.user, "bob");
    assert_eq!(o.port, 2200);
    assert_eq!(o.identity_files, [PathBuf::from("/k/with space")]);
    assert_eq!(o.certificate_files, [PathBuf::from("/c/single quoted")]);
}

#[test]
fn crlf_line_endings() {
    let home = Home::new();
    let config = home.config("Host a\r\n  Port 2200\r\n");
    assert_eq!(resolve(&config, "a").port, 2200);
}

#[test]
fn known_keywords_fleet_does_not_use_are_accepted() {
    let home = Home::new();
    let config = home.config(
        "ForwardAgent yes\nControlMaster auto\nControlPath ~/.ssh/cm-%C\nSendEnv LANG LC_*\n\
         Protocol 2\nCipher blowfish\nRSAAuthentication no\nGSSAPIAuthentication yes\n\
         GSSAPIKeyExchange yes\nPubkeyAcceptedKeyTypes +ssh-rsa\nIdentityFile2 /k/old\n",
    );
    assert_eq!(
        resolve(&config, "a").identity_files,
        [PathBuf::from("/k/old")]
    );
}

#[test]
fn every_ignored_keyword_is_lowercase_and_sorted() {
    let list = super::keywords::IGNORED;
    assert!(
        list.windows(2).all(|w| w[0] < w[1]),
        "sorted for binary search"
    );
    assert!(list
        .iter()
        .all(|k| k.bytes().all(|b| !b.is_ascii_uppercase())));
}

// ---------------------------------------------------------------------
// Tokens, ~ and environment variables
// ---------------------------------------------------------------------

#[test]
fn tokens_in_paths() {
    let home = Home::new();
    let config = home.config(
        "Host web\n  HostName Web.Example\n  User deploy\n  Port 2222\n  HostKeyAlias Alias\n\
         IdentityFile ~/.ssh/%h-%p-%r-%u-%n-%k-%%\n  CertificateFile %d/cert-%h\n\
         UserKnownHostsFile ~/kh/%h ~/kh2\n  IdentityAgent ~/agent-%r\n",
    );
    let o = resolve(&config, "web");
    let h = home.path().display();
    assert_eq!(
        o.identity_files,
        [PathBuf::from(format!(
            "{h}/.ssh/web.example-2222-deploy-alice-web-alias-%"
        ))]
    );
    assert_eq!(
        o.certificate_files,
        [PathBuf::from(format!("{h}/cert-web.example"))]
    );
    assert_eq!(
        o.user_known_hosts_files,
        [
            PathBuf::from(format!("{h}/kh/web.example")),
            PathBuf::from(format!("{h}/kh2"))
        ]
    );
    assert_eq!(o.identity_agent, Some(format!("{h}/agent-deploy")));
}

#[test]
fn local_host_tokens() {
    let home = Home::new();
    let config = home.config("IdentityFile /k/%l/%L/%i/%C\n");
    let path = resolve(&config, "a").identity_files[0]
        .display()
        .to_string();
    let parts: Vec<&str> = path.split('/').collect();
    let (long, short, uid, hash) = (parts[2], parts[3], parts[4], parts[5]);
    assert!(!long.is_empty() && long.starts_with(short));
    assert!(uid.parse::<u32>().is_ok(), "{uid}");
    assert_eq!(hash.len(), 40, "SHA-1 in hex: {hash}");
}

#[test]
fn tilde_user_expands_to_that_users_home() {
    let home = Home::new();
    let config = home.config("IdentityFile ~root/key\n");
    let root_home = super::local::home_of("root").expect("root in /etc/passwd");
    assert_eq!(
        resolve(&config, "a").identity_files,
        [root_home.join("key")]
    );
}

#[test]
fn hostname_expands_only_h() {
    let home = Home::new();
    let config = home.config("HostName %h.lan\n");
    assert_eq!(resolve(&config, "Box").hostname, "box.lan");
    let e = home.resolve_error("HostName %h.%p\n", "a");
    assert!(
        e.starts_with("~/.ssh/config:1: HostName: unknown token '%p'"),
        "{e}"
    );
}

#[test]
fn unknown_tokens_are_errors_with_their_line() {
    let home = Home::new();
    let e = home.resolve_error("Host a\n  IdentityFile /k/%z\n", "a");
    assert!(
        e.starts_with("~/.ssh/config:2: IdentityFile: unknown token '%z'"),
        "{e}"
    );
    let e = home.resolve_error("UserKnownHostsFile /k/50%\n", "a");
    assert!(
        e.starts_with("~/.ssh/config:1: UserKnownHostsFile: '%' at the end"),
        "{e}"
    );
}

#[test]
fn environment_variables_in_paths() {
    let home = Home::new();
    let value = std::env::var("PATH").expect("PATH is set");
    let config = home.config("IdentityFile /k/${PATH}\nIdentityAgent ${PATH}/agent\n");
    let o = resolve(&config, "a");
    assert_eq!(o.identity_files, [PathBuf::from(format!("/k/{value}"))]);
    assert_eq!(o.identity_agent, Some(format!("{value}/agent")));
}

#[test]
fn unset_environment_variables_are_errors() {
    let home = Home::new();
    let e = home.resolve_error("IdentityFile /k/${FLEET_SURELY_UNSET_VARIABLE}\n", "a");
    assert!(
        e.starts_with(
            "~/.ssh/config:1: IdentityFile: environment variable 'FLEET_SURELY_UNSET_VARIABLE'"
        ),
        "{e}"
    );
    // IdentityAgent is checked while reading, like readconf.c does.
    let e = home.load_error("IdentityAgent ${FLEET_SURELY_UNSET_VARIABLE}\n");
    assert!(e.starts_with("~/.ssh/config:1: bad 'IdentityAgent'"), "{e}");
}

#[test]
fn identity_agent_keeps_special_values() {
    let home = Home::new();
    for value in ["none", "SSH_AUTH_SOCK", "$SSH_AUTH_SOCK"] {
        let config = home.config(&format!("IdentityAgent {value}\n"));
        assert_eq!(resolve(&config, "a").identity_agent.as_deref(), Some(value));
    }
}

#[test]
fn addresses_are_canonicalized_not_lowercased() {
    let home = Home::new();
    let config = home.config(
        "Host v6\n  HostName 2001:DB8:0:0::1\nHost upper\n  HostName FE80::1\nHost v4\n  HostName 10.0.0.1\n",
    );
    assert_eq!(resolve(&config, "v6").hostname, "2001:db8::1");
    assert_eq!(resolve(&config, "upper").hostname, "FE80::1");
    assert_eq!(resolve(&config, "v4").hostname, "10.0.0.1");
}

// ---------------------------------------------------------------------
// ProxyJump and ProxyCommand
// ---------------------------------------------------------------------

#[test]
fn proxy_jump_forms() {
    let home = Home::new();
    let config = home.config(
        "Host plain\n  ProxyJump bastion\nHost full\n  ProxyJump ops@bastion:2200\n\
         Host chain\n  ProxyJump a,b@c:2\nHost uri\n  ProxyJump ssh://u@jump.example:2022\n\
         Host v6\n  ProxyJump [2001:db8::1]:22\nHost tok\n  ProxyJump %r@jump-%h\n\
         Host off\n  ProxyJump none\n",
    );
    let jump = |host: &str| resolve(&config, host).proxy_jump;
    assert_eq!(jump("plain").as_deref(), Some("bastion"));
    assert_eq!(jump("full").as_deref(), Some("ops@bastion:2200"));
    assert_eq!(jump("chain").as_deref(), Some("a,b@c:2"));
    assert_eq!(jump("uri").as_deref(), Some("u@jump.example:2022"));
    assert_eq!(jump("v6").as_deref(), Some("[2001:db8::1]:22"));
    assert_eq!(jump("tok").as_deref(), Some("alice@jump-tok"));
    assert_eq!(jump("off"), None);
}

#[test]
fn proxy_command_and_proxy_jump_shut_each_other_out() {
    let home = Home::new();
    let config = home.config(
        "Host pc\n  ProxyCommand nc %h %p\n  ProxyJump bastion\n\
         Host pcnone\n  ProxyCommand none\n  ProxyJump bastion\n\
         Host pj\n  ProxyJump none\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump fallback\n",
    );
    assert_eq!(resolve(&config, "pc").proxy_jump, None);
    assert_eq!(resolve(&config, "pcnone").proxy_jump, None);
    assert_eq!(resolve(&config, "pj").proxy_jump, None);
    assert_eq!(
        resolve(&config, "x").proxy_jump.as_deref(),
        Some("fallback")
    );
    // Only a real ProxyCommand that won is reported, so fleet can refuse
    // the host instead of connecting to it directly.
    assert!(resolve(&config, "pc").proxy_command);
    assert!(!resolve(&config, "pcnone").proxy_command);
    assert!(!resolve(&config, "pj").proxy_command);
    assert!(!resolve(&config, "x").proxy_command);
}

#[test]
fn a_jump_through_the_host_itself_is_refused() {
    let home = Home::new();
    let e = home.resolve_error("Host loop\n  ProxyJump loop\n", "loop");
    assert!(
        e.starts_with("~/.ssh/config:2: ProxyJump leads back to loop itself"),
        "{e}"
    );
}

// ---------------------------------------------------------------------
// Unknown keywords and IgnoreUnknown
// ---------------------------------------------------------------------

#[test]
fn unknown_keyword_names_file_and_line() {
    let home = Home::new();
    let text = "Host a\n  HostName x\n\n  Hostname2 y\n";
    let e = home.resolve_error(text, "a");
    assert!(
        e.starts_with("~/.ssh/config:4: unknown keyword 'Hostname2'"),
        "{e}"
    );
    // Even in a block that does not apply, as with ssh.
    let e = home.resolve_error(text, "b");
    assert!(
        e.starts_with("~/.ssh/config:4: unknown keyword 'Hostname2'"),
        "{e}"
    );
}

#[test]
fn ignore_unknown_skips_matching_keywords_that_follow_it() {
    let home = Home::new();
    let config = home.config("IgnoreUnknown usekeychain,Add*\nUseKeychain yes\nAddSomething x\n");
    assert_eq!(resolve(&config, "a").port, 22);

    let e = home.resolve_error("UseKeychain yes\nIgnoreUnknown UseKeychain\n", "a");
    assert!(
        e.starts_with("~/.ssh/config:1: unknown keyword 'UseKeychain'"),
        "{e}"
    );
}

#[test]
fn ignore_unknown_in_a_block_only_counts_where_the_block_applies() {
    let home = Home::new();
    let text = "Host a\n  IgnoreUnknown UseKeychain\nHost *\n  UseKeychain yes\n";
    assert!(home.config(text).resolve("a", &[]).is_ok());
    let e = home.resolve_error(text, "b");
    assert!(
        e.starts_with("~/.ssh/config:4: unknown keyword 'UseKeychain'"),
        "{e}"
    );
}

#[test]
fn unknown_keywords_in_included_files_count_too() {
    let home = Home::new();
    home.write(".ssh/inner.conf", "Bogus 1\n");
    let e = home.resolve_error("Host other\n  Include inner.conf\n", "a");
    assert!(
        e.starts_with("~/.ssh/inner.conf:1: unknown keyword 'Bogus'"),
        "{e}"
    );
}

// ---------------------------------------------------------------------
// Malformed lines
// ---------------------------------------------------------------------

#[test]
fn malformed_lines_name_file_and_line() {
    let cases = [
        ("User\n", "~/.ssh/config:1: 'User' needs a value"),
        ("Host a\n  Port\n", "~/.ssh/config:2: 'Port' needs a value"),
        ("Port 0\n", "~/.ssh/config:1: bad port '0'"),
        ("Port 65536\n", "~/.ssh/config:1: bad port '65536'"),
        ("Port 22x\n", "~/.ssh/config:1: bad port '22x'"),
        (
            "IdentitiesOnly maybe\n",
            "~/.ssh/config:1: 'IdentitiesOnly' must be one of yes, true, no, false, not 'maybe'",
        ),
        (
            "StrictHostKeyChecking sometimes\n",
            "~/.ssh/config:1: 'StrictHostKeyChecking' must be one of",
        ),
        (
            "ConnectTimeout 10x\n",
            "~/.ssh/config:1: bad time '10x' for 'ConnectTimeout'",
        ),
        ("ServerAliveInterval -1\n", "~/.ssh/config:1: bad time '-1'"),
        (
            "ServerAliveCountMax lots\n",
            "~/.ssh/config:1: 'ServerAliveCountMax' must be a whole number",
        ),
        ("\n\nUser \"bob\n", "~/.ssh/config:3: unterminated quote"),
        (
            "User bob alice\n",
            "~/.ssh/config:1: unexpected 'alice' after the value of 'User'",
        ),
        ("Host \"\"\n", "~/.ssh/config:1: empty pattern in Host"),
        (
            "UserKnownHostsFile /a none\n",
            "~/.ssh/config:1: 'none' must be the only value",
        ),
        ("ProxyJump a,,b\n", "~/.ssh/config:1: bad ProxyJump 'a,,b'"),
        ("ProxyJump host:0\n", "~/.ssh/config:1: bad ProxyJump"),
        ("Match\n", "~/.ssh/config:1: 'Match' needs a value"),
        (
            "Match host\n",
            "~/.ssh/config:1: Match criterion 'host' needs a value",
        ),
        (
            "Match hostname x\n",
            "~/.ssh/config:1: unknown Match criterion 'hostname'",
        ),
        (
            "Match host a user b all\n",
            "~/.ssh/config:1: 'all' cannot be combined",
        ),
        (
            "Match all host a\n",
            "~/.ssh/config:1: 'all' cannot be combined",
        ),
        (
            "Match # nothing\n",
            "~/.ssh/config:1: Match needs at least one criterion",
        ),
        (
            "Match exec \"x %z\"\n",
            "~/.ssh/config:1: Match exec: unknown token '%z'",
        ),
        ("Include \"\"\n", "~/.ssh/config:1: empty path in Include"),
    ];
    for (text, expected) in cases {
        let home = Home::new();
        let e = home.load_error(text);
        assert!(
            e.starts_with(expected),
            "for {text:?}:\n got: {e}\nwant: {expected}…"
        );
    }
}

#[test]
fn errors_in_blocks_that_do_not_apply_still_count() {
    let home = Home::new();
    let e = home.load_error("Host never\n  Port none\n");
    assert!(e.starts_with("~/.ssh/config:2: bad port 'none'"), "{e}");
}

#[test]
fn a_missing_top_level_file_is_an_error_naming_it() {
    let home = Home::new();
    let missing = home.home(".ssh/nope");
    let e = SshConfig::load(&missing, &home.env()).expect_err("missing file");
    assert_eq!(
        home.tidy(&e),
        "cannot read ssh config ~/.ssh/nope: No such file or directory (os error 2)"
    );
    match e {
        ConfigError::Read { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::NotFound),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn config_none_is_no_config() {
    let home = Home::new();
    let config = SshConfig::load(Path::new("none"), &home.env()).expect("none loads");
    assert!(config.aliases().is_empty());
}

// ---------------------------------------------------------------------
// Overrides (-o)
// ---------------------------------------------------------------------

#[test]
fn overrides_win_over_the_config() {
    let home = Home::new();
    let config = home
        .config("User fromfile\nPort 2200\nIdentityFile /k/file\nUserKnownHostsFile /kh/file\n");
    let o = config
        .resolve(
            "a",
            &overrides(&[
                ("User", "cli"),
                ("Port", "2300"),
                ("IdentityFile", "/k/cli"),
                ("UserKnownHostsFile", "/kh/1 /kh/2"),
            ]),
        )
        .expect("resolves");
    assert_eq!((o.user.as_str(), o.port), ("cli", 2300));
    assert_eq!(o.identity_files, ["/k/cli", "/k/file"].map(PathBuf::from));
    assert_eq!(
        o.user_known_hosts_files,
        ["/kh/1", "/kh/2"].map(PathBuf::from)
    );
}

#[test]
fn override_hostname_feeds_match_host() {
    let home = Home::new();
    let config = home.config("Match host real\n  User matched\n");
    let o = config
        .resolve("alias", &overrides(&[("HostName", "real")]))
        .expect("resolves");
    assert_eq!(o.user, "matched");
}

#[test]
fn bad_overrides_name_the_option() {
    let home = Home::new();
    let config = home.config("");
    let e = config
        .resolve("a", &overrides(&[("Port", "abc")]))
        .expect_err("bad port");
    assert_eq!(
        e.to_string(),
        "-o Port=abc: bad port 'abc'; use a number from 1 to 65535 or a service name"
    );
    let e = config
        .resolve("a", &overrides(&[("Host", "x")]))
        .expect_err("no Host");
    assert_eq!(
        e.to_string(),
        "-o Host=x: 'Host' only works in a config file"
    );
    let e = config
        .resolve("a", &overrides(&[("Bogus", "x")]))
        .expect_err("unknown");
    assert!(e
        .to_string()
        .starts_with("-o Bogus=x: unknown keyword 'Bogus'"));
    let ok = config.resolve(
        "a",
        &overrides(&[("IgnoreUnknown", "bogus"), ("Bogus", "x")]),
    );
    assert!(ok.is_ok());
}

// ---------------------------------------------------------------------
// Aliases, default files, scale
// ---------------------------------------------------------------------

#[test]
fn aliases_are_concrete_host_patterns_in_file_order() {
    let home = Home::new();
    home.write(".ssh/inc.conf", "Host inc-1 web-1\n");
    let config = home.config(
        "Host web-1 web-2 web-* !web-3 db?\n  Include inc.conf\nMatch host m\nHost zeta web-2 \"q r\"\n",
    );
    assert_eq!(config.aliases(), ["web-1", "web-2", "inc-1", "zeta", "q r"]);
}

#[test]
fn user_config_comes_before_the_system_config() {
    let home = Home::new();
    let user = home.write(".ssh/config", "Host mine\n  Port 2200\n");
    let system = home.write("etc/ssh_config", "Host *\n  Port 2300\n  User sys\n");
    let config = SshConfig::load_user_and_system(&user, &system, &home.env()).expect("loads");
    let o = resolve(&config, "mine");
    assert_eq!((o.port, o.user.as_str()), (2200, "sys"));
    assert_eq!(config.aliases(), ["mine"]);
    let missing = home.home("etc/missing");
    let config = SshConfig::load_user_and_system(&missing, &system, &home.env()).expect("loads");
    assert_eq!(resolve(&config, "mine").port, 2300);
}

#[test]
fn system_config_includes_are_not_taken_from_dot_ssh() {
    let home = Home::new();
    home.write(".ssh/extra.conf", "Port 2200\n");
    let user = home.home(".ssh/config");
    let system = home.write("etc/ssh_config", "Include extra.conf\n");
    let config = SshConfig::load_user_and_system(&user, &system, &home.env()).expect("loads");
    assert_eq!(resolve(&config, "a").port, 22);

    home.write("etc/ssh_config", "Include ~/.ssh/extra.conf\n");
    let e = SshConfig::load_user_and_system(&user, &system, &home.env()).expect_err("~");
    assert!(home
        .tidy(&e)
        .starts_with("~/etc/ssh_config:1: Include path '~/.ssh/extra.conf' starts with '~'"));
}

#[test]
fn identity_files_repeated_in_user_and_system_config_are_both_kept() {
    // ssh only drops a repeat from the same kind of config.
    let home = Home::new();
    let user = home.write(".ssh/config", "IdentityFile /k/a\n");
    let system = home.write("etc/ssh_config", "IdentityFile /k/a\nIdentityFile /k/a\n");
    let config = SshConfig::load_user_and_system(&user, &system, &home.env()).expect("loads");
    assert_eq!(
        resolve(&config, "x").identity_files,
        ["/k/a", "/k/a"].map(PathBuf::from)
    );
}

#[test]
fn local_env_from_the_process() {
    let env = LocalEnv::from_process();
    assert!(!env.user.is_empty());
    assert!(env.home.is_absolute(), "{}", env.home.display());
}

#[test]
fn load_default_refuses_a_user_config_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let path = home.write(".ssh/config", "Port 2200\n");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).expect("chmod");
    let e = SshConfig::load_default(&home.env()).expect_err("group-writable");
    assert!(home
        .tidy(&e)
        .starts_with("~/.ssh/config: bad owner or permissions"));
}

#[test]
fn blocks_of_literal_host_names_behave_like_any_other() {
    // Long runs of literal `Host` blocks are looked up by name; repeats,
    // negations and the blocks around the run must still count.
    let home = Home::new();
    let config = home.config(
        "Host a b\n  Port 2301\nHost c\n  User c\nHost b !c\n  User b\nHost d a\n  IdentityFile /k/d\n\
         Host e\n  Port 2302\nHost f\nHost *\n  ConnectTimeout 3\n",
    );
    let a = resolve(&config, "a");
    assert_eq!((a.port, a.user.as_str()), (2301, "alice"));
    assert_eq!(a.identity_files, [PathBuf::from("/k/d")]);
    assert_eq!(resolve(&config, "b").user, "b");
    assert_eq!(resolve(&config, "c").user, "c");
    assert_eq!(resolve(&config, "e").port, 2302);
    assert_eq!(
        resolve(&config, "g").connect_timeout,
        Some(Duration::from_secs(3))
    );
}

#[test]
fn ten_thousand_aliases_resolve() {
    let home = Home::new();
    let mut text = String::from("User ops\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "Host web-{i:05}\n  HostName 10.{}.{}.{}\n",
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    text.push_str("Host *\n  Port 2222\n");
    let config = home.config(&text);
    let aliases = config.aliases();
    assert_eq!(aliases.len(), 10_000);
    for alias in aliases.iter().step_by(97) {
        let o = resolve(&config, alias);
        assert_eq!(o.port, 2222);
        assert!(o.hostname.starts_with("10."));
    }
}

#[test]
fn garbage_never_panics() {
    // Random lines built from the characters the parsers treat specially,
    // plus multi-byte ones, must load and resolve or fail, never panic.
    // No `/`: an Include must not wander into the system's files.
    const PIECES: &[&str] = &[
        "Host",
        "Match",
        "HostName",
        "User",
        "Port",
        "IdentityFile",
        "ProxyJump",
        "Include",
        "UserKnownHostsFile",
        "IdentityAgent",
        "IgnoreUnknown",
        "ConnectTimeout",
        "all",
        "host",
        "exec",
        "final",
        "!",
        "*",
        "?",
        "=",
        "==",
        "\"",
        "'",
        "\\",
        "#",
        "%",
        "%h",
        "%%",
        "$",
        "${",
        "}",
        "${HOME}",
        "~",
        ",",
        "@",
        ":",
        "[",
        "]",
        "ssh:",
        "%4",
        " ",
        "\t",
        "\r",
        "é",
        "ü€",
        "0",
        "22",
        "1m",
        "none",
        "a",
        "b",
        "\x0c",
    ];
    let home = Home::new();
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    for _ in 0..400 {
        let mut text = String::new();
        for _ in 0..1 + next(6) {
            for _ in 0..next(8) {
                text.push_str(PIECES[next(PIECES.len())]);
                if next(2) == 0 {
                    text.push(' ');
                }
            }
            text.push('\n');
        }
        if let Ok(config) = home.load(&text) {
            for host in ["a", "b", "h%", "é"] {
                let _ = config.resolve(host, &overrides(&[("ProxyJump", "%r@x")]));
                let _ = config.resolve(host, &[]);
            }
        }
    }
}
