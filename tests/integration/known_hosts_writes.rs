//! Learning host keys (`StrictHostKeyChecking accept-new`) safely: into
//! special files without replacing them, from many processes at once
//! without losing a line, never two keys for one name, hashed when
//! `HashKnownHosts yes` asks, keeping hard links and the owner, and leaving
//! no temporary file behind, even when fleet is killed with SIGTERM.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use super::fixture::{config_path, is_root, say_skipped, Lab};
use super::invocation::invoke;

/// An ssh_config for `lab` that learns unknown keys into `file`.
fn learning_into(lab: &Lab, name: &str, file: &Path, extra: &[(&str, Option<&str>)]) -> PathBuf {
    let file = config_path(file);
    let mut settings = vec![
        ("UserKnownHostsFile", Some(file.as_str())),
        ("StrictHostKeyChecking", Some("accept-new")),
    ];
    settings.extend_from_slice(extra);
    lab.ssh_config_variant(name, &settings)
}

/// Whether `ssh-keygen -F name -f file` finds `name`.
fn openssh_finds(file: &Path, name: &str) -> bool {
    let output = Command::new("ssh-keygen")
        .args(["-F", name, "-f"])
        .arg(file)
        .output()
        .expect("running ssh-keygen -F");
    output.status.success()
}

fn lookup_name(lab: &Lab, host: &str) -> String {
    format!("[127.0.0.1]:{}", lab.host(host).addr.port())
}

/// Names in `dir` that start with `prefix`.
fn files_starting_with(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("reading the lab directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[test]
fn accept_new_writes_into_a_character_device_instead_of_replacing_it() {
    if !is_root() {
        say_skipped("making a character device (mknod) needs root");
        return;
    }
    let lab = Lab::builder().unknown_key("stranger").build();
    // A copy of /dev/null: what `UserKnownHostsFile /dev/null` names.
    let device = lab.path("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .expect("running mknod");
    assert!(made.success(), "mknod failed");
    let config = learning_into(&lab, "device", &device, &[]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "stranger", "true"]),
    );
    run.assert_exit(0);
    let meta = fs::symlink_metadata(&device).unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "the device was replaced by {:?}\n{run}",
        meta.file_type()
    );
    assert_eq!(meta.rdev(), fs::metadata("/dev/null").unwrap().rdev());
}

#[test]
fn keys_learned_by_twenty_processes_at_once_all_survive() {
    let mut builder = Lab::builder();
    let names: Vec<String> = (1..=20).map(|i| format!("u{i:02}")).collect();
    for name in &names {
        builder = builder.unknown_key(name);
    }
    let lab = builder.build();
    let file = lab.path("learned");
    let config = learning_into(&lab, "learning", &file, &[]);
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            lab.fleet_with_config(&config)
                .args(["run", name, "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starting fleet")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("waiting for fleet");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let learned = fs::read_to_string(&file).unwrap();
    assert_eq!(learned.lines().count(), 20, "{learned}");
    for name in &names {
        assert!(
            openssh_finds(&file, &lookup_name(&lab, name)),
            "{name} was lost:\n{learned}"
        );
    }

    // Twenty processes learning the same host write it once.
    let once = lab.path("learned-once");
    let config = learning_into(&lab, "learning-once", &once, &[]);
    let children: Vec<_> = (0..20)
        .map(|_| {
            lab.fleet_with_config(&config)
                .args(["run", "u01", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting fleet")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("waiting for fleet").success());
    }
    let learned = fs::read_to_string(&once).unwrap();
    assert_eq!(learned.lines().count(), 1, "{learned}");
}

#[test]
fn two_servers_sharing_a_host_key_alias_get_only_one_key_pinned() {
    let lab = Lab::builder().unknown_key("one").unknown_key("two").build();
    let file = lab.path("learned");
    let config = lab.ssh_config_with_hosts(
        "shared-alias",
        "Host one two\n    HostKeyAlias shared\n",
        &[
            ("UserKnownHostsFile", Some(&config_path(&file))),
            ("StrictHostKeyChecking", Some("accept-new")),
        ],
    );
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "--json", "one,two", "true"]),
    );
    run.assert_exit(2);
    let mut statuses: Vec<String> = run.statuses().into_values().collect();
    statuses.sort();
    assert_eq!(statuses, ["host_key_changed", "ok"], "{run}");
    let learned = fs::read_to_string(&file).unwrap();
    assert_eq!(learned.lines().count(), 1, "{learned}");
    assert!(learned.starts_with("shared "), "{learned}");
}

#[test]
fn host_key_alias_is_looked_up_without_the_port_as_ssh_does() {
    let lab = Lab::builder().healthy(1).unknown_key("stranger").build();
    // A pin for the alias, written as ssh writes it: no port.
    let pinned = lab.path("pinned");
    let key = &lab.host("h01").host_keys[0].public;
    fs::write(&pinned, format!("pinned-name {key}\n")).unwrap();
    let config = lab.ssh_config_with_hosts(
        "alias-port",
        "Host h01\n    HostKeyAlias pinned-name\nHost stranger\n    HostKeyAlias learned-name\n",
        &[("UserKnownHostsFile", Some(&config_path(&pinned)))],
    );
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "h01", "echo $FLEET_TEST_HOST"]),
    );
    run.assert_each_host_answered(&["h01"]);
    // OpenSSH agrees about the same file.
    let ssh = Command::new("ssh")
        .arg("-F")
        .arg(&config)
        .args(["-o", "BatchMode=yes", "h01", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("running ssh");
    assert!(
        ssh.status.success(),
        "{}",
        String::from_utf8_lossy(&ssh.stderr)
    );

    // A learned key is written under the alias, without the port too.
    let learning = invoke(lab.fleet_with_config(&config).args([
        "-o",
        "StrictHostKeyChecking=accept-new",
        "run",
        "stranger",
        "true",
    ]));
    learning.assert_exit(0);
    let text = fs::read_to_string(&pinned).unwrap();
    assert!(
        text.lines().any(|line| line.starts_with("learned-name ")),
        "{text}"
    );
}

#[test]
fn hash_known_hosts_yes_hashes_learned_names() {
    let lab = Lab::builder().unknown_key("stranger").build();
    let file = lab.path("learned");
    let config = learning_into(&lab, "hashing", &file, &[("HashKnownHosts", Some("yes"))]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "stranger", "true"]),
    );
    run.assert_exit(0);
    let learned = fs::read_to_string(&file).unwrap();
    assert!(learned.starts_with("|1|"), "{learned}");
    assert!(!learned.contains("127.0.0.1"), "{learned}");
    assert!(openssh_finds(&file, &lookup_name(&lab, "stranger")));
    // And fleet finds its own hashed line.
    let strict = invoke(lab.fleet_with_config(&config).args([
        "-o",
        "StrictHostKeyChecking=yes",
        "run",
        "stranger",
        "true",
    ]));
    strict.assert_exit(0);
}

#[test]
fn learning_keeps_hard_links() {
    let lab = Lab::builder().unknown_key("stranger").build();
    let file = lab.path("learned");
    fs::write(&file, "# pinned by hand\n").unwrap();
    let link = lab.path("learned-link");
    fs::hard_link(&file, &link).unwrap();
    let config = learning_into(&lab, "linked", &file, &[]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "stranger", "true"]),
    );
    run.assert_exit(0);
    let (a, b) = (fs::metadata(&file).unwrap(), fs::metadata(&link).unwrap());
    assert_eq!(a.ino(), b.ino(), "the hard link was broken");
    assert_eq!(a.nlink(), 2);
    let text = fs::read_to_string(&link).unwrap();
    assert!(text.starts_with("# pinned by hand\n"), "{text}");
    assert!(
        openssh_finds(&link, &lookup_name(&lab, "stranger")),
        "{text}"
    );
}

#[test]
fn learning_keeps_the_owner_of_another_users_file() {
    if !is_root() {
        say_skipped("giving the file to another user (chown) needs root");
        return;
    }
    let lab = Lab::builder().unknown_key("stranger").build();
    let file = lab.path("learned");
    fs::write(&file, "").unwrap();
    std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
    let config = learning_into(&lab, "owned", &file, &[]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "stranger", "true"]),
    );
    run.assert_exit(0);
    let meta = fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "{run}");
    assert!(openssh_finds(&file, &lookup_name(&lab, "stranger")));
}

#[test]
fn stale_temporary_files_of_fleet_are_cleaned_up() {
    let lab = Lab::builder().unknown_key("stranger").build();
    let file = lab.path("learned");
    // What a fleet killed while writing leaves beside the file.
    let stale = lab.path(".learned.fleet-Zq81xk");
    fs::write(&stale, "half a line").unwrap();
    let config = learning_into(&lab, "stale", &file, &[]);
    let run = invoke(
        lab.fleet_with_config(&config)
            .args(["run", "stranger", "true"]),
    );
    run.assert_exit(0);
    assert!(!stale.exists(), "the stale temporary file is still there");
}

#[test]
fn sigterm_while_learning_leaves_no_temporary_file() {
    let mut builder = Lab::builder();
    for i in 1..=8 {
        builder = builder.unknown_key(&format!("u{i}"));
    }
    let lab = builder.build();
    let dir = lab.path("term-dir");
    fs::create_dir(&dir).unwrap();
    let file = dir.join("learned");
    let config = learning_into(&lab, "term", &file, &[]);
    // Killed at a different moment each time, before, during and after
    // the writes.
    for round in 0..12u64 {
        let _ = fs::remove_file(&file);
        let mut child = lab
            .fleet_with_config(&config)
            .args(["run", "u*", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting fleet");
        thread::sleep(Duration::from_millis(20 + round * 15));
        // It may have finished already; then there is nothing to kill.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().expect("waiting for fleet");
        assert_eq!(
            files_starting_with(&dir, "."),
            Vec::<String>::new(),
            "round {round} left temporary files"
        );
    }
}
