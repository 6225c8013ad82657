//! sshd hardening against real sshd, in the layouts distributions ship:
//! each change lands where sshd obeys it, is verified over a fresh login,
//! is undone when that fails, and is rolled out in stages; a key is bound
//! through a password first.
//!
//! Changing sshd needs root on the host, and the lab's hosts are this
//! machine, so these tests run when the suite runs as root (as CI does)
//! and say so when they are skipped. One test checks, as anyone else, that
//! a user without root is refused cleanly.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::fixture::{find_sshd, is_root, say_skipped, Lab, Layout};
use super::invocation::{expected_statuses, invoke};

/// Whether the test can run; says why not when it can't.
fn runs_as_root(what: &str) -> bool {
    if !is_root() {
        say_skipped(&format!("{what} needs root (the suite runs as root in CI)"));
    }
    is_root()
}

fn host_file(lab: &Lab, host: &str, name: &str) -> PathBuf {
    lab.path(&format!("hosts/{host}/{name}"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `ssh -F <config> -o BatchMode=yes [args] host true`, never prompting.
fn ssh(config: &Path, host: &str, args: &[&str]) -> Output {
    Command::new("ssh")
        .arg("-F")
        .arg(config)
        .args(["-o", "BatchMode=yes"])
        .args(args)
        .args([host, "true"])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .expect("running ssh")
}

/// What the server answers a password-only login with: `(publickey)`
/// once passwords are off, `(publickey,password)` while they are on.
fn password_login(lab: &Lab, host: &str) -> String {
    let output = ssh(
        &lab.ssh_config,
        host,
        &[
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "PubkeyAuthentication=no",
        ],
    );
    assert!(!output.status.success(), "a password login got in");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn key_login_works(config: &Path, host: &str, args: &[&str]) {
    let output = ssh(config, host, args);
    assert!(
        output.status.success(),
        "key login to {host} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// sshd's effective configuration of `host` for a connection of `spec`
/// (`user=…,host=…,addr=…`), as `sshd -T -C` prints it.
fn effective(lab: &Lab, host: &str, spec: &str) -> String {
    let output = Command::new(find_sshd())
        .arg("-T")
        .arg("-f")
        .arg(host_file(lab, host, "sshd_config"))
        .args(["-C", spec])
        .output()
        .expect("running sshd -T");
    assert!(output.status.success(), "sshd -T failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The files beside `host`'s sshd_config that fleet's backups are named
/// like.
fn backups(lab: &Lab, host: &str) -> Vec<PathBuf> {
    let dir = lab.path(&format!("hosts/{host}"));
    let mut found: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".fleet-"))
        .collect();
    found.sort();
    found
}

#[test]
fn password_logins_go_off_on_every_layout_and_a_second_run_changes_nothing() {
    if !runs_as_root("changing sshd_config") {
        return;
    }
    let lab = Lab::builder()
        .laid_out("cloud", Layout::Include { cloud_init: true })
        .laid_out("debian", Layout::Include { cloud_init: false })
        .laid_out("explicit", Layout::Explicit)
        .laid_out("matched", Layout::MatchAtEnd)
        .build();
    let hosts = ["cloud", "debian", "explicit", "matched"];
    for host in hosts {
        assert!(
            password_login(&lab, host).contains("(publickey,password)"),
            "{host} should offer passwords before the change"
        );
    }
    let cloud_init = host_file(&lab, "cloud", "sshd_config.d/50-cloud-init.conf");
    let cloud_init_before = read(&cloud_init);
    let explicit_before = read(&host_file(&lab, "explicit", "sshd_config"));

    let run = invoke(
        lab.fleet()
            .args(["sshd", "set", "--json", "*", "PasswordAuthentication=no"]),
    );
    run.assert_exit(0);
    let all = |status| hosts.map(|h| (h, status));
    assert_eq!(run.statuses(), expected_statuses(&all("changed")), "{run}");

    for host in hosts {
        let answer = password_login(&lab, host);
        assert!(
            answer.contains("Permission denied (publickey)"),
            "{host}: {answer}"
        );
        key_login_works(&lab.ssh_config, host, &[]);
    }
    // Where the Include comes first, a drop-in that sorts first, and the
    // cloud image's own drop-in left as it was.
    for host in ["cloud", "debian"] {
        let drop_in = read(&host_file(&lab, host, "sshd_config.d/00-fleet.conf"));
        assert!(
            drop_in.contains("\nPasswordAuthentication no\n"),
            "{drop_in}"
        );
    }
    assert_eq!(read(&cloud_init), cloud_init_before);
    // Otherwise the line itself, with the old file kept under the run's id.
    let explicit = read(&host_file(&lab, "explicit", "sshd_config"));
    assert!(
        explicit.contains("\nPasswordAuthentication no\n"),
        "{explicit}"
    );
    assert!(
        !explicit.contains("PasswordAuthentication yes"),
        "{explicit}"
    );
    let kept = backups(&lab, "explicit");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(read(&kept[0]), explicit_before);
    // Added before the Match block, which keeps its own settings.
    let matched = read(&host_file(&lab, "matched", "sshd_config"));
    let added = matched
        .find("\nPasswordAuthentication no\n")
        .expect(&matched);
    assert!(
        added < matched.find("\nMatch User nobody").unwrap(),
        "{matched}"
    );
    let nobody = effective(&lab, "matched", "user=nobody,host=x,addr=127.0.0.1");
    assert!(nobody.contains("\nx11forwarding no\n"), "{nobody}");
    assert!(nobody.contains("\npasswordauthentication no\n"), "{nobody}");

    let again =
        invoke(
            lab.fleet()
                .args(["sshd", "set", "--json", "*", "PasswordAuthentication=no"]),
        );
    again.assert_exit(0);
    assert_eq!(
        again.statuses(),
        expected_statuses(&all("unchanged")),
        "{again}"
    );
    assert_eq!(backups(&lab, "explicit").len(), 1);
}

#[test]
fn a_change_that_locks_the_key_out_is_rolled_back_byte_for_byte() {
    if !runs_as_root("changing sshd_config") {
        return;
    }
    let lab = Lab::builder()
        .laid_out("h1", Layout::Include { cloud_init: false })
        .build();
    let config = host_file(&lab, "h1", "sshd_config");
    let before = read(&config);
    let run = invoke(
        lab.fleet()
            .args(["sshd", "set", "h1", "PubkeyAuthentication=no"]),
    );
    run.assert_exit(1);
    run.assert_stderr_mentions(&["1 rolled_back", "a fresh login failed"]);
    assert_eq!(read(&config), before);
    assert!(
        !host_file(&lab, "h1", "sshd_config.d/00-fleet.conf").exists(),
        "the drop-in written for the change is gone"
    );
    key_login_works(&lab.ssh_config, "h1", &[]);
    let now = effective(&lab, "h1", "user=root,host=x,addr=127.0.0.1");
    assert!(now.contains("\npubkeyauthentication yes\n"), "{now}");
}

#[test]
fn check_shows_each_diff_and_changes_nothing() {
    if !runs_as_root("reading sshd's configuration as root") {
        return;
    }
    let lab = Lab::builder()
        .laid_out("h1", Layout::Explicit)
        .laid_out("h2", Layout::Explicit)
        .laid_out("h3", Layout::Include { cloud_init: true })
        .build();
    let before: Vec<String> = ["h1", "h2", "h3"]
        .iter()
        .map(|h| read(&host_file(&lab, h, "sshd_config")))
        .collect();
    let run =
        invoke(
            lab.fleet()
                .args(["sshd", "set", "--check", "*", "PasswordAuthentication=no"]),
        );
    run.assert_exit(0);
    // Each host's files have paths of their own here, so each has its diff.
    for host in ["h1", "h2", "h3"] {
        let reload =
            format!("{host}: would reload with kill -HUP of the sshd that serves the login\n");
        assert!(run.stdout.contains(&reload), "{run}");
    }
    let removed = run
        .stdout
        .matches("  -PasswordAuthentication yes\n")
        .count();
    assert_eq!(removed, 2, "{run}");
    let added = run.stdout.matches("  +PasswordAuthentication no\n").count();
    assert_eq!(added, 3, "{run}");
    assert!(run.stdout.contains("00-fleet.conf\n"), "{run}");
    let after: Vec<String> = ["h1", "h2", "h3"]
        .iter()
        .map(|h| read(&host_file(&lab, h, "sshd_config")))
        .collect();
    assert_eq!(after, before);
    assert!(!host_file(&lab, "h3", "sshd_config.d/00-fleet.conf").exists());
    for host in ["h1", "h2", "h3"] {
        assert!(backups(&lab, host).is_empty());
    }

    let get = invoke(
        lab.fleet()
            .args(["sshd", "get", "*", "PasswordAuthentication"]),
    );
    get.assert_exit(0);
    assert_eq!(get.stdout, "h[1-3]: passwordauthentication yes\n", "{get}");
}

#[test]
fn a_rollout_stops_after_the_stage_that_failed_and_leaves_the_rest_untouched() {
    if !runs_as_root("changing sshd_config") {
        return;
    }
    let lab = Lab::builder()
        .laid_out("h1", Layout::Explicit)
        .laid_out("h2", Layout::Explicit)
        .bad_auth("h3")
        .laid_out("h4", Layout::Explicit)
        .laid_out("h5", Layout::Explicit)
        .build();
    let untouched = read(&host_file(&lab, "h4", "sshd_config"));
    let run = invoke(lab.fleet().args([
        "sshd",
        "set",
        "--json",
        "--canary",
        "1",
        "--batch",
        "2",
        "h*",
        "PasswordAuthentication=no",
    ]));
    assert_ne!(run.code, Some(0), "{run}");
    assert_eq!(
        run.statuses(),
        expected_statuses(&[
            ("h1", "changed"),
            ("h2", "changed"),
            ("h3", "auth_failed"),
            ("h4", "skipped"),
            ("h5", "skipped"),
        ]),
        "{run}"
    );
    assert_eq!(read(&host_file(&lab, "h4", "sshd_config")), untouched);
    assert!(backups(&lab, "h4").is_empty() && backups(&lab, "h5").is_empty());
}

#[test]
fn a_new_port_is_probed_listened_on_beside_the_old_proven_then_alone() {
    if !runs_as_root("changing sshd_config") {
        return;
    }
    let lab = Lab::builder()
        .laid_out("h1", Layout::Include { cloud_init: false })
        .build();
    let old = lab.host("h1").addr;
    let new_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    // A copy, since --update-ssh-config edits the file it was given.
    let config = lab.path("ssh_config.moving");
    fs::copy(&lab.ssh_config, &config).unwrap();
    let run = invoke(lab.fleet_with_config(&config).args([
        "sshd",
        "set",
        "h1",
        &format!("Port={new_port}"),
        "--update-ssh-config",
    ]));
    run.assert_exit(0);
    assert!(
        run.stdout
            .contains(&format!("sshd now listens on port {new_port}")),
        "{run}"
    );
    // Both rounds reloaded sshd: old and new port, then the new one alone.
    let log = lab.host("h1").sshd_log();
    assert_eq!(log.matches("Received SIGHUP").count(), 2, "{log}");
    assert!(
        TcpStream::connect(old).is_err(),
        "the old port still answers"
    );
    let written = read(&config);
    assert!(
        written.starts_with("# sshd moved by fleet sshd set")
            && written.contains(&format!("Host h1\n    Port {new_port}\nHost *\n")),
        "{written}"
    );
    assert!(lab.path("ssh_config.moving.old").exists());
    // Plain ssh follows the updated file, and known_hosts knows the key
    // at the new port.
    key_login_works(&config, "h1", &["-o", "StrictHostKeyChecking=yes"]);
}

#[test]
fn keys_install_binds_a_key_through_the_password_and_proves_it() {
    if !runs_as_root("a login user with a password (useradd)") {
        return;
    }
    let user = TemporaryUser::create("fleet-pw-login");
    let lab = Lab::builder()
        .laid_out("fresh", Layout::Explicit)
        .home_authorized_keys()
        .build();
    // No key of the lab's: the host takes only the password at first.
    let config = lab.ssh_config_variant(
        "ssh_config.password",
        &[("IdentityFile", None), ("User", Some(&user.name))],
    );
    let key = lab.path("bound_key");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bound", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(keygen.success());
    let askpass = lab.path("askpass");
    fs::write(
        &askpass,
        format!("#!/bin/sh\necho '{}'\n", TemporaryUser::PASSWORD),
    )
    .unwrap();
    fs::set_permissions(&askpass, fs::Permissions::from_mode(0o700)).unwrap();
    let install = |password: bool| {
        let mut command = lab.fleet_with_config(&config);
        command
            .args(["keys", "install", "--json", "fresh"])
            .arg(key.with_extension("pub"));
        if password {
            command
                .arg("--password")
                .env("SSH_ASKPASS", &askpass)
                .env("SSH_ASKPASS_REQUIRE", "force");
        }
        invoke(&mut command)
    };

    let refused = install(false);
    assert_eq!(
        refused.statuses(),
        expected_statuses(&[("fresh", "auth_failed")]),
        "{refused}"
    );
    let bound = install(true);
    bound.assert_exit(0);
    assert_eq!(
        bound.statuses(),
        expected_statuses(&[("fresh", "changed")]),
        "{bound}"
    );
    let key_arg = format!("IdentityFile={}", key.display());
    key_login_works(
        &config,
        "fresh",
        &["-o", &key_arg, "-o", "IdentitiesOnly=yes"],
    );
    let dot_ssh = user.home.join(".ssh");
    let file = dot_ssh.join("authorized_keys");
    let meta = fs::metadata(&file).unwrap();
    assert_eq!(meta.uid(), user.uid);
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        fs::metadata(&dot_ssh).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(read(&file).lines().count(), 1);

    let again = install(true);
    again.assert_exit(0);
    assert_eq!(
        again.statuses(),
        expected_statuses(&[("fresh", "unchanged")]),
        "{again}"
    );
    assert_eq!(read(&file).lines().count(), 1, "the key was added twice");
}

#[test]
fn without_root_nothing_is_changed_and_the_reason_is_given() {
    if is_root() {
        say_skipped("the login user is root here, so there is no missing root to refuse");
        return;
    }
    let lab = Lab::builder().laid_out("h1", Layout::Explicit).build();
    let config = host_file(&lab, "h1", "sshd_config");
    let before = read(&config);
    let run = invoke(
        lab.fleet()
            .args(["sshd", "set", "h1", "PasswordAuthentication=no"]),
    );
    run.assert_exit(1);
    run.assert_stderr_mentions(&["changing sshd needs root"]);
    assert_eq!(read(&config), before);
}

/// A local user with a password and a home, removed on drop.
struct TemporaryUser {
    name: String,
    home: PathBuf,
    uid: u32,
}

impl TemporaryUser {
    const PASSWORD: &'static str = "fleet-test-password";

    fn create(prefix: &str) -> TemporaryUser {
        let name = format!("{prefix}-{}", std::process::id() % 100_000);
        let home = PathBuf::from("/home").join(&name);
        let made = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", &name])
            .status()
            .expect("running useradd (Debian: the passwd package)");
        assert!(made.success(), "useradd {name} failed");
        let user = TemporaryUser {
            uid: fs::metadata(&home).expect("the new home").uid(),
            name,
            home,
        };
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .expect("running chpasswd");
        use std::io::Write as _;
        writeln!(
            chpasswd.stdin.take().unwrap(),
            "{}:{}",
            user.name,
            Self::PASSWORD
        )
        .unwrap();
        assert!(chpasswd.wait().unwrap().success(), "chpasswd failed");
        user
    }
}

impl Drop for TemporaryUser {
    fn drop(&mut self) {
        // Best effort: a user left behind is harmless, and a panic here
        // would hide the test's own failure.
        let _ = Command::new("userdel").args(["-r", &self.name]).output();
    }
}
