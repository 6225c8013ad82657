//! Tests of the known_hosts checker against real keys, certificates and
//! hashed files made by OpenSSH's `ssh-keygen`, which also serves as the
//! oracle for host pattern matching.
//!
//! `ssh-keygen` is required: without it these tests fail rather than skip,
//! so a CI machine lacking it cannot report a green run that tested nothing.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::{Algorithm, Certificate, EcdsaCurve, PublicKey};
use tempfile::TempDir;

use super::*;

/// Runs `ssh-keygen` and returns its output, failing the test loudly if it
/// cannot be started.
fn ssh_keygen<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("ssh-keygen")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("these tests need OpenSSH's ssh-keygen, which failed to run: {e}")
        })
}

/// Runs `ssh-keygen` and insists that it succeeds.
fn ssh_keygen_ok<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = ssh_keygen(args);
    assert!(
        output.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Whether `ssh-keygen -F name -f file` finds the name: OpenSSH's own
/// answer to "does any line of this file match this host".
fn openssh_finds(file: &Path, lookup_name: &str) -> bool {
    let output = ssh_keygen([
        OsStr::new("-F"),
        OsStr::new(lookup_name),
        OsStr::new("-f"),
        file.as_os_str(),
    ]);
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "ssh-keygen -F failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// A key made by ssh-keygen.
struct Key {
    /// The private key file, for signing certificates with it.
    path: PathBuf,
    public: PublicKey,
    /// `type base64` as ssh-keygen wrote it, without the comment.
    text: String,
}

/// A temporary directory for one test's keys and files.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new key; `kind` is `ed25519`, `ecdsa` or `rsa`.
    fn key(&self, name: &str, kind: &str) -> Key {
        let path = self.path(name);
        let mut args = vec!["-q", "-t", kind, "-N", "", "-C", "made-by@fixture"];
        if kind == "rsa" {
            args.extend(["-b", "2048"]);
        }
        let mut args: Vec<&OsStr> = args.into_iter().map(OsStr::new).collect();
        args.extend([OsStr::new("-f"), path.as_os_str()]);
        ssh_keygen_ok(args);
        let pub_text = fs::read_to_string(path.with_extension("pub")).unwrap();
        let public = PublicKey::from_openssh(pub_text.trim()).unwrap();
        let text = pub_text
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        Key { path, public, text }
    }

    /// Signs `key` with `ca` using `ssh-keygen -s ca -I id ARGS key.pub`
    /// and returns the certificate.
    fn certify(&self, ca: &Key, key: &Key, args: &[&str]) -> Certificate {
        let pub_path = key.path.with_extension("pub");
        let cert_path = self.path(&format!(
            "{}-cert.pub",
            key.path.file_name().unwrap().to_str().unwrap()
        ));
        let _ = fs::remove_file(&cert_path);
        let mut all: Vec<&OsStr> = vec![
            OsStr::new("-q"),
            OsStr::new("-s"),
            ca.path.as_os_str(),
            OsStr::new("-I"),
            OsStr::new("fixture-key-id"),
        ];
        all.extend(args.iter().map(OsStr::new));
        all.push(pub_path.as_os_str());
        ssh_keygen_ok(all);
        Certificate::from_openssh(fs::read_to_string(cert_path).unwrap().trim()).unwrap()
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, content).unwrap();
        path
    }

    /// Writes `content` as a known_hosts file and loads it.
    fn load(&self, content: &str) -> (PathBuf, KnownHosts) {
        let path = self.write("known_hosts", content);
        let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
        (path, known)
    }
}

fn host(name: &str) -> HostId {
    host_port(name, 22)
}

fn host_port(name: &str, port: u16) -> HostId {
    HostId::new(name, port)
}

/// Learns without hashing and insists a line was added.
fn append(file: &Path, host: &HostId, key: &PublicKey) -> Result<(), KnownHostsError> {
    match learn(file, host, key, false)? {
        Learned::Added => Ok(()),
        other => panic!("expected a line to be added, got {other:?}"),
    }
}

fn at(file: &Path, line: usize) -> Location {
    Location::new(file, line)
}

#[test]
fn lookup_name_adds_brackets_only_for_other_ports() {
    assert_eq!(host("web1").lookup_name(), "web1");
    assert_eq!(host_port("web1", 2222).lookup_name(), "[web1]:2222");
    assert_eq!(host_port("::1", 2200).lookup_name(), "[::1]:2200");
    assert_eq!(
        host_port("Web1.Example.COM", 22).lookup_name(),
        "web1.example.com"
    );
    // A HostKeyAlias is looked up alone, whatever the port, as ssh does.
    assert_eq!(HostId::alias("Pinned").lookup_name(), "pinned");
}

#[test]
fn location_displays_as_file_colon_line() {
    let location = at(Path::new("known_hosts"), 7);
    assert_eq!(location.to_string(), "known_hosts:7");
}

#[test]
fn plain_match_is_trusted() {
    let fx = Fixture::new();
    let key = fx.key("web1", "ed25519");
    let other = fx.key("other", "ed25519");
    let (path, known) = fx.load(&format!("other {}\nweb1 {}\n", other.text, key.text));
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert!(known.knows(&host("web1")));
}

#[test]
fn several_keys_per_host_each_trusted_at_its_line() {
    let fx = Fixture::new();
    let ed = fx.key("ed", "ed25519");
    let ecdsa = fx.key("ecdsa", "ecdsa");
    let rsa = fx.key("rsa", "rsa");
    let (path, known) = fx.load(&format!(
        "web1 {}\nweb1 {}\nweb1 {}\n",
        ed.text, ecdsa.text, rsa.text
    ));
    assert_eq!(
        known.check(&host("web1"), &ed.public),
        Verdict::Trusted(at(&path, 1))
    );
    assert_eq!(
        known.check(&host("web1"), &ecdsa.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(
        known.check(&host("web1"), &rsa.public),
        Verdict::Trusted(at(&path, 3))
    );
}

/// russh's helper reports "changed" here; OpenSSH and this checker accept
/// the key because another line matches it.
#[test]
fn second_line_of_same_type_is_not_changed() {
    let fx = Fixture::new();
    let old = fx.key("old", "ed25519");
    let new = fx.key("new", "ed25519");
    let (path, known) = fx.load(&format!("web1 {}\nweb1 {}\n", old.text, new.text));
    assert_eq!(
        known.check(&host("web1"), &new.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(
        known.check(&host("web1"), &old.public),
        Verdict::Trusted(at(&path, 1))
    );
}

#[test]
fn different_key_is_changed_naming_every_line_knowing_host() {
    let fx = Fixture::new();
    let known_key = fx.key("known", "ed25519");
    let presented = fx.key("presented", "ed25519");
    let other = fx.key("other", "ed25519");
    let (path, known) = fx.load(&format!(
        "other {}\nweb1 {}\nweb1,web2 {}\n",
        other.text, known_key.text, other.text
    ));
    assert_eq!(
        known.check(&host("web1"), &presented.public),
        Verdict::Changed(vec![at(&path, 2), at(&path, 3)])
    );
}

/// Stricter than OpenSSH, which would treat this host as new.
#[test]
fn key_of_another_type_is_changed() {
    let fx = Fixture::new();
    let ecdsa = fx.key("ecdsa", "ecdsa");
    let ed = fx.key("ed", "ed25519");
    let (path, known) = fx.load(&format!("web1 {}\n", ecdsa.text));
    assert_eq!(
        known.check(&host("web1"), &ed.public),
        Verdict::Changed(vec![at(&path, 1)])
    );
}

#[test]
fn host_not_listed_is_unknown() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (_, known) = fx.load(&format!("web1 {}\n", key.text));
    assert_eq!(known.check(&host("web2"), &key.public), Verdict::Unknown);
    assert_eq!(known.check(&host("web10"), &key.public), Verdict::Unknown);
    assert!(!known.knows(&host("web2")));
}

#[test]
fn revoked_beats_trusted_wherever_it_is() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!("web1 {0}\n@revoked * {0}\n", key.text));
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Revoked(at(&path, 2))
    );

    let (path, known) = fx.load(&format!("@revoked web1 {0}\nweb1 {0}\n", key.text));
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Revoked(at(&path, 1))
    );
}

#[test]
fn revoked_key_is_revoked_for_unknown_hosts_too() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!("@revoked * {}\n", key.text));
    assert_eq!(
        known.check(&host("anything"), &key.public),
        Verdict::Revoked(at(&path, 1))
    );
    // A revocation does not make the host known.
    assert!(!known.knows(&host("anything")));
}

/// OpenSSH filters lines by host before it looks at markers, so a
/// revocation applies only to the hosts its pattern names.
#[test]
fn revoked_line_applies_to_hosts_its_pattern_names() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!("@revoked web2 {0}\nweb1,web2 {0}\n", key.text));
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(
        known.check(&host("web2"), &key.public),
        Verdict::Revoked(at(&path, 1))
    );
}

#[test]
fn revoked_other_key_does_not_change_verdict() {
    let fx = Fixture::new();
    let bad = fx.key("bad", "ed25519");
    let good = fx.key("good", "ed25519");
    let (path, known) = fx.load(&format!("@revoked * {}\nweb1 {}\n", bad.text, good.text));
    assert_eq!(
        known.check(&host("web1"), &good.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(known.check(&host("web2"), &good.public), Verdict::Unknown);
}

#[test]
fn key_comments_are_ignored() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!(
        "web1 {} a completely different comment\n",
        key.text
    ));
    assert_eq!(key.public.comment().as_str_lossy(), "made-by@fixture");
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Trusted(at(&path, 1))
    );
    let mut renamed = key.public.clone();
    renamed.set_comment("someone-else@elsewhere");
    assert_eq!(
        known.check(&host("web1"), &renamed),
        Verdict::Trusted(at(&path, 1))
    );
}

#[test]
fn tabs_and_runs_of_spaces_separate_fields() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (ty, b64) = key.text.split_once(' ').unwrap();
    let (path, known) = fx.load(&format!(
        "\t  # indented comment\n \t web1,web2 \t\t {ty}   {b64}\t comment  words\r\n"
    ));
    assert_eq!(
        known.check(&host("web2"), &key.public),
        Verdict::Trusted(at(&path, 2))
    );
}

#[test]
fn bracketed_entries_match_only_their_port() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let other = fx.key("other", "ed25519");
    let (path, known) = fx.load(&format!(
        "[web1]:2222 {}\nweb2 {}\n[web3]:22 {}\n",
        key.text, key.text, key.text
    ));
    assert_eq!(
        known.check(&host_port("web1", 2222), &key.public),
        Verdict::Trusted(at(&path, 1))
    );
    assert_eq!(
        known.check(&host_port("web1", 2222), &other.public),
        Verdict::Changed(vec![at(&path, 1)])
    );
    assert_eq!(known.check(&host("web1"), &key.public), Verdict::Unknown);
    assert_eq!(
        known.check(&host_port("web1", 2223), &key.public),
        Verdict::Unknown
    );
    // An entry without brackets is for port 22 only.
    assert_eq!(
        known.check(&host_port("web2", 2222), &key.public),
        Verdict::Unknown
    );
    // OpenSSH never looks up `[host]:22`, so such a line matches nothing.
    assert_eq!(known.check(&host("web3"), &key.public), Verdict::Unknown);
    assert!(!openssh_finds(&path, "web3"));
}

#[test]
fn wildcard_and_negated_patterns() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!(
        "*.example.com,!bad.example.com {0}\ndb? {0}\n!web1,web* {0}\n",
        key.text
    ));
    let trusted = |name: &str| known.check(&host(name), &key.public);
    assert_eq!(trusted("a.example.com"), Verdict::Trusted(at(&path, 1)));
    assert_eq!(trusted("bad.example.com"), Verdict::Unknown);
    assert_eq!(trusted("example.com"), Verdict::Unknown);
    assert_eq!(trusted("db1"), Verdict::Trusted(at(&path, 2)));
    assert_eq!(trusted("db12"), Verdict::Unknown);
    assert_eq!(trusted("web2"), Verdict::Trusted(at(&path, 3)));
    assert_eq!(trusted("web1"), Verdict::Unknown);
}

/// ssh-keygen -F decides, for each name, whether any line matches it; the
/// checker must agree on every one.
#[test]
fn host_matching_agrees_with_ssh_keygen() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!(
        "web1,web2 {0}\n\
         [web3]:2222 {0}\n\
         *.example.com,!bad.example.com {0}\n\
         db? {0}\n\
         [*.corp]:* {0}\n\
         10.0.0.* {0}\n\
         Mixed.CASE.org {0}\n\
         !no-*,n* {0}\n\
         [::1]:2200 {0}\n",
        key.text
    ));
    let hosts = [
        host("web1"),
        host("web2"),
        host("web3"),
        host_port("web3", 2222),
        host_port("web3", 22),
        host_port("web1", 2222),
        host("a.example.com"),
        host("bad.example.com"),
        host("x.bad.example.com"),
        host("example.com"),
        host("db1"),
        host("db12"),
        host("db"),
        host_port("a.corp", 2200),
        host("a.corp"),
        host("10.0.0.5"),
        host("10.0.1.5"),
        host("mixed.case.org"),
        host("MIXED.case.ORG"),
        host("nope"),
        host("no-way"),
        host_port("::1", 2200),
        host("::1"),
    ];
    for h in hosts {
        let name = h.lookup_name();
        assert_eq!(
            known.knows(&h),
            openssh_finds(&path, name),
            "lookup of {name}"
        );
    }
}

#[test]
fn names_and_patterns_match_case_insensitively() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let (path, known) = fx.load(&format!("Web1.Example.COM {}\n", key.text));
    assert_eq!(
        known.check(&host("WEB1.example.com"), &key.public),
        Verdict::Trusted(at(&path, 1))
    );
}

#[test]
fn entries_hashed_by_ssh_keygen_are_found() {
    let fx = Fixture::new();
    let ed = fx.key("ed", "ed25519");
    let ecdsa = fx.key("ecdsa", "ecdsa");
    let path = fx.write(
        "known_hosts",
        &format!("web1,web4 {}\n[web2]:2222 {}\n", ed.text, ecdsa.text),
    );
    ssh_keygen_ok([OsStr::new("-H"), OsStr::new("-f"), path.as_os_str()]);
    let hashed = fs::read_to_string(&path).unwrap();
    assert!(
        !hashed.contains("web"),
        "ssh-keygen left names in clear: {hashed}"
    );
    assert!(hashed.lines().all(|l| l.starts_with("|1|")));

    let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
    // ssh-keygen writes one hashed line per name.
    assert_eq!(
        known.check(&host("web1"), &ed.public),
        Verdict::Trusted(at(&path, 1))
    );
    assert_eq!(
        known.check(&host("web4"), &ed.public),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(
        known.check(&host("WEB1"), &ed.public),
        Verdict::Trusted(at(&path, 1))
    );
    assert_eq!(
        known.check(&host_port("web2", 2222), &ecdsa.public),
        Verdict::Trusted(at(&path, 3))
    );
    assert_eq!(
        known.check(&host_port("web2", 2222), &ed.public),
        Verdict::Changed(vec![at(&path, 3)])
    );
    assert_eq!(known.check(&host("web2"), &ecdsa.public), Verdict::Unknown);
    assert_eq!(known.check(&host("web3"), &ed.public), Verdict::Unknown);
}

#[test]
fn cert_authority_line_never_trusts_a_plain_key() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let (_, known) = fx.load(&format!("@cert-authority *.example.com {}\n", ca.text));
    assert_eq!(
        known.check(&host("web1.example.com"), &ca.public),
        Verdict::Unknown
    );
    assert!(known.knows(&host("web1.example.com")));
    assert!(!known.knows(&host("example.org")));
}

#[test]
fn host_certificate_signed_by_known_ca_is_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web1.example.com,web1"]);
    let (path, known) = fx.load(&format!("@cert-authority *.example.com,web1 {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1.example.com"), &cert),
        Verdict::Trusted(at(&path, 1))
    );
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Trusted(at(&path, 1))
    );
    // The same certificate handed over as a public key gets the same rules.
    let wrapped = PublicKey::from(KeyData::Certificate(Box::new(cert.clone())));
    assert_eq!(
        known.check(&host("web1.example.com"), &wrapped),
        Verdict::Trusted(at(&path, 1))
    );
    // The CA line does not cover this host, and no principal names it.
    assert_eq!(
        known.check_certificate(&host("web2.example.org"), &cert),
        Verdict::Unknown
    );
}

#[test]
fn rsa_ca_with_sha2_signature_is_trusted_but_sha1_is_not() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "rsa");
    let host_key = fx.key("host", "ecdsa");
    let (path, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    let sha2 = fx.certify(&ca, &host_key, &["-h", "-n", "web1", "-t", "rsa-sha2-512"]);
    assert_eq!(
        known.check_certificate(&host("web1"), &sha2),
        Verdict::Trusted(at(&path, 1))
    );
    let sha1 = fx.certify(&ca, &host_key, &["-h", "-n", "web1", "-t", "ssh-rsa"]);
    assert_eq!(
        known.check_certificate(&host("web1"), &sha1),
        Verdict::Unknown
    );
}

#[test]
fn certificate_for_another_principal_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web2.example.com"]);
    let (_, known) = fx.load(&format!("@cert-authority *.example.com {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1.example.com"), &cert),
        Verdict::Unknown
    );
}

/// Stricter than OpenSSH, which accepts a host certificate without
/// principals for any host.
#[test]
fn certificate_without_principals_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h"]);
    assert!(cert.valid_principals().is_empty());
    let (_, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Unknown
    );
}

#[test]
fn certificate_outside_its_validity_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let (path, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    let expired = fx.certify(
        &ca,
        &host_key,
        &["-h", "-n", "web1", "-V", "20200101:20200102"],
    );
    assert_eq!(
        known.check_certificate(&host("web1"), &expired),
        Verdict::Unknown
    );
    let future = fx.certify(&ca, &host_key, &["-h", "-n", "web1", "-V", "+1d:+2d"]);
    assert_eq!(
        known.check_certificate(&host("web1"), &future),
        Verdict::Unknown
    );
    let current = fx.certify(&ca, &host_key, &["-h", "-n", "web1", "-V", "-1d:+1d"]);
    assert_eq!(
        known.check_certificate(&host("web1"), &current),
        Verdict::Trusted(at(&path, 1))
    );
}

#[test]
fn user_certificate_is_not_a_host_certificate() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-n", "web1"]);
    let (_, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Unknown
    );
}

/// No critical option is defined for host certificates, so OpenSSH
/// rejects any; an option it cannot honour must not be ignored.
#[test]
fn certificate_with_critical_options_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(
        &ca,
        &host_key,
        &["-h", "-n", "web1", "-O", "force-command=/bin/true"],
    );
    assert!(!cert.critical_options().is_empty());
    let (_, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Unknown
    );
}

#[test]
fn certificate_from_unknown_ca_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let rogue = fx.key("rogue", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&rogue, &host_key, &["-h", "-n", "web1"]);
    let (_, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Unknown
    );
}

#[test]
fn tampered_certificate_is_not_trusted() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web1"]);
    let (path, known) = fx.load(&format!("@cert-authority * {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Trusted(at(&path, 1))
    );

    // Rewrite the key id inside the signed body; the signature no longer fits.
    let mut bytes = cert.to_bytes().unwrap();
    let id = b"fixture-key-id";
    let start = bytes.windows(id.len()).position(|w| w == id).unwrap();
    bytes[start..start + id.len()].copy_from_slice(b"tampered-keyid");
    let tampered = Certificate::from_bytes(&bytes).unwrap();
    assert_eq!(tampered.key_id(), "tampered-keyid");
    assert_eq!(
        known.check_certificate(&host("web1"), &tampered),
        Verdict::Unknown
    );
}

#[test]
fn revoked_ca_or_revoked_certified_key_is_revoked() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web1"]);
    let (path, known) = fx.load(&format!("@cert-authority * {0}\n@revoked * {0}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Revoked(at(&path, 2))
    );
    let (path, known) = fx.load(&format!(
        "@cert-authority * {}\nweb1 {}\n@revoked web1 {}\n",
        ca.text, host_key.text, host_key.text
    ));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Revoked(at(&path, 3))
    );
}

#[test]
fn invalid_certificate_falls_back_to_its_plain_key() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let other = fx.key("other", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "somewhere-else"]);
    let (path, known) = fx.load(&format!(
        "@cert-authority * {}\nweb1 {}\nweb2 {}\n",
        ca.text, host_key.text, other.text
    ));
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Trusted(at(&path, 2))
    );
    assert_eq!(
        known.check_certificate(&host("web2"), &cert),
        Verdict::Changed(vec![at(&path, 3)])
    );
}

#[test]
fn certificate_on_other_port_matches_bare_name_principal() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web1.example.com"]);
    let (path, known) = fx.load(&format!("@cert-authority [*.example.com]:* {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host_port("web1.example.com", 2222), &cert),
        Verdict::Trusted(at(&path, 1))
    );
    // As in OpenSSH, the CA line's pattern is matched against the lookup
    // name, so a pattern without brackets does not cover other ports.
    let (_, known) = fx.load(&format!("@cert-authority *.example.com {}\n", ca.text));
    assert_eq!(
        known.check_certificate(&host_port("web1.example.com", 2222), &cert),
        Verdict::Unknown
    );
}

#[test]
fn known_algorithms_in_file_order_without_revoked_or_ca_keys() {
    let fx = Fixture::new();
    let ecdsa = fx.key("ecdsa", "ecdsa");
    let ecdsa2 = fx.key("ecdsa2", "ecdsa");
    let ed = fx.key("ed", "ed25519");
    let rsa = fx.key("rsa", "rsa");
    let ca = fx.key("ca", "rsa");
    let (_, known) = fx.load(&format!(
        "web2 {}\nweb1 {}\nweb1 {}\nweb1 {}\nweb1 {}\n@revoked * {}\n@cert-authority * {}\n",
        ed.text, ecdsa.text, ed.text, ecdsa2.text, rsa.text, rsa.text, ca.text
    ));
    assert_eq!(
        known.known_algorithms(&host("web1")),
        vec![
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256
            },
            Algorithm::Ed25519
        ]
    );
    assert_eq!(known.known_algorithms(&host("web3")), vec![]);
}

#[test]
fn malformed_lines_are_skipped_naming_file_and_line() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let rsa = fx.key("rsa", "rsa");
    let ca = fx.key("ca", "ed25519");
    let cert = fx.certify(&ca, &key, &["-h", "-n", "web1"]);
    let cert_text = cert.to_openssh().unwrap();
    let b64 = key.text.split_once(' ').unwrap().1;
    let cases = [
        ("web1".to_owned(), LineProblem::MissingKeyType),
        ("web1 # no key".to_owned(), LineProblem::MissingKeyType),
        ("web1 ssh-ed25519".to_owned(), LineProblem::MissingKey),
        (
            "web1 ssh-ed25519 not*base64".to_owned(),
            LineProblem::BadBase64,
        ),
        (
            format!("|1|abc|def {}", key.text),
            LineProblem::BadHashedHost,
        ),
        (
            format!("|2|{b64}|{b64} {}", key.text),
            LineProblem::BadHashedHost,
        ),
        (
            format!("web1 ssh-rsa {b64}"),
            LineProblem::KeyTypeMismatch {
                field: "ssh-rsa".into(),
                actual: "ssh-ed25519".into(),
            },
        ),
        (
            format!(
                "web1 ecdsa-sha2-nistp256 {}",
                rsa.text.split_once(' ').unwrap().1
            ),
            LineProblem::KeyTypeMismatch {
                field: "ecdsa-sha2-nistp256".into(),
                actual: "ssh-rsa".into(),
            },
        ),
        (format!("web1 {cert_text}"), LineProblem::CertificateAsKey),
        (
            "web1 ssh-ed25519 AAAA".to_owned(),
            LineProblem::BadKey(String::new()),
        ),
    ];
    for (line, problem) in cases {
        let path = fx.write(
            "bad",
            &format!(
                "# a comment\n\nweb0 {}\n{line}\nweb1 {}\n",
                key.text, key.text
            ),
        );
        let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
        // The line is skipped and named; the lines around it still count.
        let skipped = known.skipped();
        assert_eq!(skipped.len(), 1, "{line:?}");
        assert_eq!(skipped[0].0, at(&path, 4), "{line:?}");
        match (&skipped[0].1, &problem) {
            (LineProblem::BadKey(_), LineProblem::BadKey(_)) => {}
            (found, problem) => assert_eq!(found, problem, "{line:?}"),
        }
        assert_eq!(
            known.check(&host("web1"), &key.public),
            Verdict::Trusted(at(&path, 5)),
            "{line:?}"
        );
        assert_eq!(
            known.check(&host("web0"), &key.public),
            Verdict::Trusted(at(&path, 3))
        );
    }
}

#[test]
fn an_unreadable_marker_line_fails_closed_for_the_hosts_it_names() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let cases = [
        (
            "@revoked web1 ssh-ed25519 %%%%".to_owned(),
            LineProblem::BadBase64,
        ),
        (
            format!("@bogus web1 {}", key.text),
            LineProblem::UnknownMarker("@bogus".into()),
        ),
        (
            format!("@revoked @cert-authority web1 {}", key.text),
            LineProblem::SeveralMarkers,
        ),
        (
            "@cert-authority web1".to_owned(),
            LineProblem::MissingKeyType,
        ),
    ];
    for (line, problem) in cases {
        let path = fx.write("bad", &format!("web1 {0}\nweb2 {0}\n{line}\n", key.text));
        let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
        assert!(known.skipped().is_empty(), "{line:?}");
        assert_eq!(
            known.check(&host("web1"), &key.public),
            Verdict::Unreadable(at(&path, 3), problem),
            "{line:?}"
        );
        // Other hosts are not affected.
        assert_eq!(
            known.check(&host("web2"), &key.public),
            Verdict::Trusted(at(&path, 2)),
            "{line:?}"
        );
    }
    // A marker line whose host field can't be read either stands for
    // every host.
    let path = fx.write("bad", &format!("web2 {0}\n@revoked |1|x|y {0}\n", key.text));
    let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
    assert_eq!(
        known.check(&host("web2"), &key.public),
        Verdict::Unreadable(at(&path, 2), LineProblem::BadHashedHost)
    );
}

#[test]
fn bad_base64_message_matches_the_documented_form() {
    let fx = Fixture::new();
    let path = fx.write("known_hosts", "\n\n\n\n\n\nweb1 ssh-ed25519 %%%%\n");
    let known = KnownHosts::load(std::slice::from_ref(&path)).unwrap();
    let (at, problem) = &known.skipped()[0];
    assert_eq!(
        format!("{at}: {problem}"),
        format!("{}:7: cannot decode the key (bad base64)", path.display())
    );
}

#[test]
fn missing_files_are_skipped_and_files_load_in_order() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let user = fx.write("user", &format!("web1 {}\n", key.text));
    let global = fx.write("global", &format!("web1,web2 {}\n", key.text));
    let files = [
        fx.path("missing"),
        fx.path("no-such-dir/known_hosts"),
        user.clone(),
        global.clone(),
    ];
    let known = KnownHosts::load(&files).unwrap();
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Trusted(at(&user, 1))
    );
    assert_eq!(
        known.check(&host("web2"), &key.public),
        Verdict::Trusted(at(&global, 1))
    );
}

#[test]
fn unreadable_file_is_an_error() {
    let fx = Fixture::new();
    let dir = fx.path("a-directory");
    fs::create_dir(&dir).unwrap();
    let err = KnownHosts::load(std::slice::from_ref(&dir)).err().unwrap();
    assert!(matches!(err, KnownHostsError::Read { .. }), "{err:?}");
    assert_eq!(
        crate::error::chain(&err),
        format!(
            "{}: cannot read: Is a directory (os error 21)",
            dir.display()
        )
    );
}

/// Names of the entries in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn append_creates_file_and_private_directory() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let dir = fx.path("home/.ssh");
    let file = dir.join("known_hosts");
    append(&file, &host("Web1"), &key.public).unwrap();
    append(&file, &host_port("web1", 2222), &key.public).unwrap();

    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("web1 {0}\n[web1]:2222 {0}\n", key.text)
    );
    assert!(openssh_finds(&file, "web1"));
    assert!(openssh_finds(&file, "[web1]:2222"));
    let known = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Trusted(at(&file, 1))
    );
    assert_eq!(
        known.check(&host_port("web1", 2222), &key.public),
        Verdict::Trusted(at(&file, 2))
    );
    assert_eq!(entries(&dir), ["known_hosts"]);
}

#[test]
fn append_keeps_existing_content_and_mode() {
    let fx = Fixture::new();
    let old = fx.key("old", "ecdsa");
    let new = fx.key("new", "rsa");
    let existing = format!("# my hosts\nweb0 {} with a comment", old.text);
    let file = fx.write("known_hosts", &existing);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();

    append(&file, &host("web1"), &new.public).unwrap();

    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        format!("{existing}\nweb1 {}\n", new.text)
    );
    assert_eq!(mode(&file), 0o640);
    let known = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(
        known.check(&host("web0"), &old.public),
        Verdict::Trusted(at(&file, 2))
    );
    assert_eq!(
        known.check(&host("web1"), &new.public),
        Verdict::Trusted(at(&file, 3))
    );
}

#[test]
fn append_leaves_no_temporary_file() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let dir = fx.path("ssh");
    let file = dir.join("known_hosts");
    for name in ["web1", "web2", "web3"] {
        append(&file, &host(name), &key.public).unwrap();
    }
    assert_eq!(entries(&dir), ["known_hosts"]);

    // A refused or failed append leaves nothing either.
    assert!(append(&file, &host("*"), &key.public).is_err());
    let unwritable = dir.join("a-directory");
    fs::create_dir(&unwritable).unwrap();
    let err = append(&unwritable, &host("web4"), &key.public).unwrap_err();
    assert!(matches!(err, KnownHostsError::Write { .. }), "{err:?}");
    assert_eq!(entries(&dir), ["a-directory", "known_hosts"]);
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 3);
}

#[test]
fn append_refuses_names_that_would_be_patterns() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let file = fx.path("known_hosts");
    for name in [
        "",
        "*",
        "web?",
        "a,b",
        "!web1",
        "web 1",
        "web\t1",
        "@revoked",
        "|1|x",
        "#x",
        "[web1]:2222",
    ] {
        let err = append(&file, &host(name), &key.public).unwrap_err();
        assert!(
            matches!(err, KnownHostsError::UnsafeHostName { .. }),
            "{name:?}: {err:?}"
        );
    }
    assert!(!file.exists());
}

#[test]
fn append_refuses_a_certificate() {
    let fx = Fixture::new();
    let ca = fx.key("ca", "ed25519");
    let host_key = fx.key("host", "ed25519");
    let cert = fx.certify(&ca, &host_key, &["-h", "-n", "web1"]);
    let file = fx.path("known_hosts");
    let wrapped = PublicKey::from(KeyData::Certificate(Box::new(cert)));
    let err = append(&file, &host("web1"), &wrapped).unwrap_err();
    assert!(
        matches!(err, KnownHostsError::CertificateNotKey { .. }),
        "{err:?}"
    );
    assert!(!file.exists());
}

#[test]
fn append_through_symlink_keeps_the_symlink() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let real = fx.write("real_known_hosts", "");
    let link = fx.path("known_hosts");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    append(&link, &host("web1"), &key.public).unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(&real).unwrap(),
        format!("web1 {}\n", key.text)
    );
}

#[test]
fn concurrent_appends_lose_no_line() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let file = fx.path("known_hosts");
    std::thread::scope(|scope| {
        for i in 0..16 {
            let (file, key) = (&file, &key.public);
            scope.spawn(move || append(file, &host(&format!("web{i}")), key).unwrap());
        }
    });
    let known = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    for i in 0..16 {
        assert!(known.knows(&host(&format!("web{i}"))), "web{i} lost");
    }
}

#[test]
fn known_hosts_can_be_shared_between_connections() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<KnownHosts>();
}

#[test]
fn learning_checks_again_under_the_lock() {
    let fx = Fixture::new();
    let first = fx.key("first", "ed25519");
    let second = fx.key("second", "ed25519");
    let file = fx.write("known_hosts", "");
    // Loaded empty, as at the start of a run...
    let loaded = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(loaded.check(&host("web1"), &first.public), Verdict::Unknown);
    // ...then another process (or another host of this run with the same
    // HostKeyAlias) pins a key for the name.
    learn(&file, &host("web1"), &first.public, false).unwrap();
    assert_eq!(
        learn(&file, &host("web1"), &first.public, false).unwrap(),
        Learned::AlreadyKnown
    );
    assert_eq!(
        learn(&file, &host("web1"), &second.public, false).unwrap(),
        Learned::Refused(Verdict::Changed(vec![at(&file, 1)]))
    );
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 1);
}

#[test]
fn learning_into_a_fifo_writes_into_it() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let fifo = fx.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Held open for reading and writing, so the FIFO has a reader.
    let mut reader = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    append(&fifo, &host("web1"), &key.public).unwrap();
    let mut line = vec![0u8; key.text.len() + "web1 \n".len()];
    std::io::Read::read_exact(&mut reader, &mut line).unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap(),
        format!("web1 {}\n", key.text)
    );
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn hashed_learning_is_found_by_ssh_keygen() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let file = fx.path("known_hosts");
    learn(&file, &host_port("web1", 2222), &key.public, true).unwrap();
    learn(&file, &host("web2"), &key.public, true).unwrap();
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.lines().all(|l| l.starts_with("|1|")), "{text}");
    assert!(!text.contains("web"), "{text}");
    assert!(openssh_finds(&file, "[web1]:2222"));
    assert!(openssh_finds(&file, "web2"));
    // Two hashes of one name differ: each line gets its own salt.
    learn(&fx.path("other"), &host("web2"), &key.public, true).unwrap();
    assert_ne!(
        fs::read_to_string(fx.path("other")).unwrap(),
        text.lines().nth(1).unwrap().to_owned() + "\n"
    );
}

#[test]
fn learning_writes_in_place_where_the_file_has_hard_links() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let file = fx.write("known_hosts", "# mine\n");
    let link = fx.path("link");
    fs::hard_link(&file, &link).unwrap();
    append(&file, &host("web1"), &key.public).unwrap();
    assert_eq!(
        fs::read_to_string(&link).unwrap(),
        format!("# mine\nweb1 {}\n", key.text)
    );
    assert_eq!(fs::metadata(&file).unwrap().nlink(), 2);
}

#[test]
fn stale_temporary_files_are_removed_and_others_kept() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let file = fx.write("known_hosts", "");
    fs::write(fx.path(".known_hosts.fleet-a1b2c3"), "half").unwrap();
    fs::write(fx.path(".known_hosts.Xy12ab"), "not ours").unwrap();
    append(&file, &host("web1"), &key.public).unwrap();
    let names = entries(fx.dir.path());
    assert!(
        !names.contains(&".known_hosts.fleet-a1b2c3".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&".known_hosts.Xy12ab".to_string()),
        "{names:?}"
    );
}

#[test]
fn forget_removes_only_the_names_and_keeps_every_other_byte() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let other = fx.key("other", "ecdsa");
    let hashed = fx.write("hashed", &format!("web3 {}\n", key.text));
    ssh_keygen_ok([OsStr::new("-H"), OsStr::new("-f"), hashed.as_os_str()]);
    let hashed_line = fs::read_to_string(&hashed).unwrap();
    let original = format!(
        "# my hosts \t kept\r\nweb1,web2,[web1]:2222 {k} a comment\n\
         {hashed_line}\
         @revoked web1 {o}\n\
         @cert-authority web1 {o}\n\
         w*1 {o}\n\
         not a key line at all\n\
         web4 {k}",
        k = key.text,
        o = other.text,
        hashed_line = hashed_line,
    );
    let file = fx.write("known_hosts", &original);
    let names: Vec<String> = ["WEB1", "[web1]:2222", "web3"].map(String::from).to_vec();
    let forgotten = forget(&file, &names).unwrap();
    let after = fs::read_to_string(&file).unwrap();
    let expected = original
        .replace("web1,web2,[web1]:2222 ", "web2 ")
        .replace(&hashed_line, "");
    assert_eq!(after, expected);
    assert_eq!(forgotten.edited, [at(&file, 2)]);
    assert_eq!(forgotten.removed, [at(&file, 3)]);
    assert_eq!(forgotten.patterns, [at(&file, 6)]);
    let backup = forgotten.backup.unwrap();
    assert_eq!(fs::read_to_string(backup).unwrap(), original);
    assert!(!openssh_finds(&file, "[web1]:2222"));
    assert!(!openssh_finds(&file, "web3"));
    assert!(openssh_finds(&file, "web2"));
    // Nothing to forget: the file is not written.
    let again = forget(&file, &["nowhere".to_string()]).unwrap();
    assert!(again.backup.is_none());
}

#[test]
fn scanned_keys_are_added_once_and_changed_ones_refused_or_replaced() {
    let fx = Fixture::new();
    let ed = fx.key("ed", "ed25519");
    let ecdsa = fx.key("ecdsa", "ecdsa");
    let stale = fx.key("stale", "ed25519");
    let file = fx.write("known_hosts", &format!("web2 {}\n", stale.text));
    let scanned = |name: &str, may_replace| HostKeys {
        host: host(name),
        names: vec![format!("alias-{name}"), name.to_string()],
        keys: vec![ed.public.clone(), ecdsa.public.clone()],
        may_replace,
    };
    let (done, backup) = add_keys(
        &file,
        &[scanned("web1", false), scanned("web2", false)],
        false,
    )
    .unwrap();
    assert_eq!(done[0], Added::Added(2));
    assert_eq!(
        done[1],
        Added::Refused(Verdict::Changed(vec![at(&file, 1)]))
    );
    assert!(backup.is_some());
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        format!(
            "web2 {}\nalias-web1,web1 {}\nalias-web1,web1 {}\n",
            stale.text, ed.text, ecdsa.text
        )
    );
    // Again: nothing to do, and the file is not touched.
    let (done, backup) = add_keys(&file, &[scanned("web1", false)], false).unwrap();
    assert_eq!((done[0].clone(), backup), (Added::Unchanged, None));
    // Replacing forgets the stale line first.
    let (done, _) = add_keys(&file, &[scanned("web2", true)], false).unwrap();
    assert_eq!(done[0], Added::Replaced(2));
    let known = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert!(matches!(
        known.check(&host("web2"), &ed.public),
        Verdict::Trusted(_)
    ));
    assert!(matches!(
        known.check(&host("web2"), &stale.public),
        Verdict::Changed(_)
    ));
    // A revoked key is never written, replace or not.
    let revoked = fx.write("revoked_hosts", &format!("@revoked * {}\n", ed.text));
    let (done, _) = add_keys(&revoked, &[scanned("web9", true)], false).unwrap();
    assert!(matches!(done[0], Added::Refused(Verdict::Revoked(_))));
}

#[test]
fn revoked_host_keys_file_revokes_keys_and_certified_keys() {
    let fx = Fixture::new();
    let key = fx.key("key", "ed25519");
    let fine = fx.key("fine", "ed25519");
    let ca = fx.key("ca", "ed25519");
    let cert = fx.certify(&ca, &key, &["-h", "-n", "web1"]);
    let known_file = fx.write(
        "known_hosts",
        &format!("web1 {}\n@cert-authority web1 {}\n", key.text, ca.text),
    );
    let list = fx.write("revoked", &format!("# revoked\n\n{} old key\n", key.text));
    let known = KnownHosts::load(std::slice::from_ref(&known_file))
        .unwrap()
        .with_revoked_keys(RevokedKeys::load(&list).unwrap());
    assert_eq!(
        known.check(&host("web1"), &key.public),
        Verdict::Revoked(at(&list, 3))
    );
    assert_eq!(
        known.check_certificate(&host("web1"), &cert),
        Verdict::Revoked(at(&list, 3))
    );
    assert_eq!(
        known.check(&host("web1"), &fine.public),
        Verdict::Changed(vec![at(&known_file, 1)])
    );
    assert!(known.known_algorithms(&host("web1")).is_empty());

    let bad = fx.write("bad", "ssh-ed25519 %%%%\n");
    let err = RevokedKeys::load(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "RevokedHostKeys {}:1: cannot decode the key (bad base64)",
            bad.display()
        )
    );
    let krl = fx.path("krl");
    ssh_keygen_ok([
        OsStr::new("-q"),
        OsStr::new("-k"),
        OsStr::new("-f"),
        krl.as_os_str(),
        key.path.with_extension("pub").as_os_str(),
    ]);
    assert!(matches!(
        RevokedKeys::load(&krl),
        Err(revoked::RevokedKeysError::Krl { .. })
    ));
    assert!(RevokedKeys::load(&fx.path("missing")).is_err());
}

proptest::proptest! {
    /// The lines fleet writes for a key read back as that key for each of
    /// their names, hashed or not, and as nothing else.
    #[test]
    fn written_entries_parse_back_to_their_key(
        hosts in proptest::collection::vec(("[a-z0-9][a-z0-9.-]{0,12}", proptest::option::of(1u16..)), 1..5),
        hash: bool,
    ) {
        let key = PublicKey::from_openssh(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        )
        .unwrap();
        let ids: Vec<HostId> = hosts
            .iter()
            .map(|(name, port)| HostId::new(name, port.unwrap_or(22)))
            .collect();
        let names: Vec<String> = ids.iter().map(|id| id.lookup_name().to_string()).collect();
        let lines = entry_lines(&names, &key, hash).unwrap();
        let known = KnownHosts::parse(Path::new("known_hosts"), lines.as_bytes());
        proptest::prop_assert!(known.skipped().is_empty(), "{}", lines);
        for id in &ids {
            let record = known.describe(id);
            proptest::prop_assert_eq!(record.keys.len(), 1, "{} in {}", id.lookup_name(), lines);
            proptest::prop_assert_eq!(&record.keys[0].0, &key);
        }
        let other = HostId::new("not-one-of-them.invalid", 22);
        proptest::prop_assert!(!known.knows(&other));
    }
}
