//! The sshd_config layouts distributions ship, and where each setting
//! lands in them.

use super::*;

fn file(path: &str, text: &str) -> ConfigFile {
    ConfigFile {
        path: path.into(),
        text: text.into(),
    }
}

fn set(config: &SshdConfig, settings: &[&str]) -> Vec<FileChange> {
    let settings: Vec<Setting> = settings
        .iter()
        .map(|s| Setting::parse(s).unwrap())
        .collect();
    edit(config, &settings)
}

const DEBIAN: &str = "\
# This is the sshd server system-wide configuration file.
Include /etc/ssh/sshd_config.d/*.conf

Port 22
#PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
Subsystem sftp /usr/lib/openssh/sftp-server
";

fn debian(drop_ins: Vec<ConfigFile>) -> SshdConfig {
    SshdConfig {
        main: file("/etc/ssh/sshd_config", DEBIAN),
        includes: vec![Include {
            pattern: "/etc/ssh/sshd_config.d/*.conf".into(),
            files: drop_ins,
        }],
    }
}

#[test]
fn with_a_drop_in_directory_the_setting_goes_into_a_drop_in_that_sorts_first() {
    let changes = set(&debian(Vec::new()), &["PasswordAuthentication=no"]);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].path, "/etc/ssh/sshd_config.d/00-fleet.conf");
    assert_eq!(changes[0].before, None);
    assert!(
        changes[0].after.ends_with("PasswordAuthentication no\n"),
        "{}",
        changes[0].after
    );
}

#[test]
fn a_cloud_init_drop_in_is_shadowed_not_edited() {
    let cloud = file(
        "/etc/ssh/sshd_config.d/50-cloud-init.conf",
        "PasswordAuthentication yes\n",
    );
    let changes = set(&debian(vec![cloud]), &["PasswordAuthentication=no"]);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].path, "/etc/ssh/sshd_config.d/00-fleet.conf");
}

#[test]
fn a_drop_in_sorting_earlier_that_sets_it_is_edited_in_place() {
    let early = file(
        "/etc/ssh/sshd_config.d/00-aaa.conf",
        "# mine\nPasswordAuthentication yes\n",
    );
    let changes = set(&debian(vec![early]), &["PasswordAuthentication=no"]);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0].path, "/etc/ssh/sshd_config.d/00-aaa.conf");
    assert_eq!(changes[0].after, "# mine\nPasswordAuthentication no\n");
}

#[test]
fn a_second_run_updates_its_own_drop_in() {
    let ours = file(
        "/etc/ssh/sshd_config.d/00-fleet.conf",
        "# Written by fleet\nPasswordAuthentication yes\nMaxAuthTries 6\n",
    );
    let changes = set(&debian(vec![ours]), &["PasswordAuthentication=no"]);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        changes[0].after,
        "# Written by fleet\nPasswordAuthentication no\nMaxAuthTries 6\n"
    );
    // Already as asked: nothing to write.
    let done = file(
        "/etc/ssh/sshd_config.d/00-fleet.conf",
        "PasswordAuthentication no\n",
    );
    assert!(set(&debian(vec![done]), &["PasswordAuthentication=no"]).is_empty());
}

#[test]
fn an_explicit_line_is_changed_in_place_keeping_comments() {
    let text = "# mine\nPort 22\n# passwords: off one day\nPasswordAuthentication yes\nUsePAM no\n";
    let config = SshdConfig {
        main: file("/etc/ssh/sshd_config", text),
        includes: Vec::new(),
    };
    let changes = set(&config, &["PasswordAuthentication=no"]);
    assert_eq!(
        changes[0].after,
        "# mine\nPort 22\n# passwords: off one day\nPasswordAuthentication no\nUsePAM no\n"
    );
}

#[test]
fn a_file_ending_in_a_match_block_gets_the_setting_before_the_match() {
    let text = "Port 22\n#PasswordAuthentication yes\n\nMatch User deploy\n    X11Forwarding no\n";
    let config = SshdConfig {
        main: file("/etc/ssh/sshd_config", text),
        includes: Vec::new(),
    };
    let changes = set(&config, &["PasswordAuthentication=no", "X11Forwarding=no"]);
    assert_eq!(
        changes[0].after,
        "Port 22\n#PasswordAuthentication yes\n\nPasswordAuthentication no\nX11Forwarding no\nMatch User deploy\n    X11Forwarding no\n"
    );
}

#[test]
fn a_match_block_setting_the_same_keyword_is_left_alone() {
    let text = "PasswordAuthentication yes\nMatch User deploy\n    PasswordAuthentication yes\n";
    let config = SshdConfig {
        main: file("/etc/ssh/sshd_config", text),
        includes: Vec::new(),
    };
    let changes = set(&config, &["PasswordAuthentication=no"]);
    assert_eq!(
        changes[0].after,
        "PasswordAuthentication no\nMatch User deploy\n    PasswordAuthentication yes\n"
    );
}

#[test]
fn lines_that_add_up_are_all_in_one_place_and_the_others_commented_out() {
    // Debian puts `Port 22` below its Include: with a drop-in, both files
    // would listen, so the main file's line must go.
    let changes = set(&debian(Vec::new()), &["Port=2222"]);
    let main = changes
        .iter()
        .find(|c| c.path == "/etc/ssh/sshd_config")
        .unwrap();
    assert!(
        main.after
            .contains("\n#Port 22  # replaced by fleet sshd set\n"),
        "{}",
        main.after
    );
    let drop_in = changes
        .iter()
        .find(|c| c.path.ends_with("00-fleet.conf"))
        .unwrap();
    assert!(drop_in.after.ends_with("Port 2222\n"), "{}", drop_in.after);
    // Both ports, as the first phase of a port change.
    let both = set(&debian(Vec::new()), &["Port=22,2222"]);
    let drop_in = both
        .iter()
        .find(|c| c.path.ends_with("00-fleet.conf"))
        .unwrap();
    assert!(
        drop_in.after.ends_with("Port 22\nPort 2222\n"),
        "{}",
        drop_in.after
    );
    // Without a drop-in directory, the first line is replaced in place.
    let config = SshdConfig {
        main: file(
            "/etc/ssh/sshd_config",
            "Port 22\nListenAddress 10.0.0.1\nPort 2200\n",
        ),
        includes: Vec::new(),
    };
    let changes = set(&config, &["Port=2222"]);
    assert_eq!(
        changes[0].after,
        "Port 2222\nListenAddress 10.0.0.1\n#Port 2200  # replaced by fleet sshd set\n"
    );
}

#[test]
fn keywords_are_matched_in_any_case_and_with_an_equals_sign() {
    let config = SshdConfig {
        main: file(
            "/etc/ssh/sshd_config",
            "passwordauthentication=yes\r\nPort 22\r\n",
        ),
        includes: Vec::new(),
    };
    let changes = set(&config, &["PasswordAuthentication=no"]);
    assert_eq!(changes[0].after, "PasswordAuthentication no\r\nPort 22\r\n");
}

#[test]
fn include_patterns_are_the_global_ones_made_absolute() {
    let text = "Include sshd_config.d/*.conf /opt/extra.conf\nMatch all\nInclude /never/*.conf\n";
    assert_eq!(
        include_patterns(text),
        ["/etc/ssh/sshd_config.d/*.conf", "/opt/extra.conf"]
    );
}
