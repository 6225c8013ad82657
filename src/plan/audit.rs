//! `fleet audit`: what each host shows from outside, with no login: its
//! version (flagged against a small table of advisories), the host key,
//! key exchange, cipher and MAC algorithms it offers (weak ones flagged),
//! the authentication methods it offers (asked with the `none` method),
//! and whether known_hosts knows its key. `--expect` turns answers into
//! pass or fail, so a rollout can be proven from outside.

use super::{Access, HostKeys, HostPlan, Next, Plan, Reached, StepResult};
use crate::cause::Cause;
use crate::finding::{self, Finding};
use crate::outcome::Outcome;

/// OpenSSH releases with known holes, by upstream version. Distributions
/// backport fixes without changing the upstream number (Debian 12's
/// 9.2p1-2+deb12u3 has the regreSSHion fix), so a flag says "check the
/// package", not "vulnerable".
struct Advisory {
    id: &'static str,
    what: &'static str,
    /// Affected: `from <= version < fixed`.
    from: Version,
    fixed: Version,
    /// Where the entry comes from.
    source: &'static str,
}

/// An OpenSSH version `major.minor` and portable patch level `pN`.
type Version = (u32, u32, u32);

const ADVISORIES: &[Advisory] = &[
    Advisory {
        id: "CVE-2024-6387",
        what: "regreSSHion, unauthenticated remote code execution in sshd",
        from: (8, 5, 1),
        fixed: (9, 8, 1),
        source: "OpenSSH 9.8 release notes (2024-07-01); Qualys advisory",
    },
    Advisory {
        id: "CVE-2023-38408",
        what: "remote code execution through a forwarded ssh-agent (PKCS#11)",
        from: (0, 0, 0),
        fixed: (9, 3, 2),
        source: "OpenSSH 9.3p2 release notes (2023-07-19)",
    },
];

/// Algorithm names that are weak, and why.
const WEAK: &[(&str, &str)] = &[
    ("diffie-hellman-group1-sha1", "SHA-1 key exchange"),
    ("diffie-hellman-group14-sha1", "SHA-1 key exchange"),
    ("diffie-hellman-group-exchange-sha1", "SHA-1 key exchange"),
    ("ssh-rsa", "SHA-1 RSA signatures"),
    ("ssh-dss", "DSA host key"),
    ("hmac-sha1", "SHA-1 MAC"),
    ("hmac-sha1-96", "SHA-1 MAC"),
    ("hmac-sha1-etm@openssh.com", "SHA-1 MAC"),
    ("hmac-sha1-96-etm@openssh.com", "SHA-1 MAC"),
    ("hmac-md5", "MD5 MAC"),
    ("hmac-md5-96", "MD5 MAC"),
    ("hmac-md5-etm@openssh.com", "MD5 MAC"),
    ("arcfour", "RC4 cipher"),
    ("arcfour128", "RC4 cipher"),
    ("arcfour256", "RC4 cipher"),
];

/// What a host showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub version: String,
    pub host_keys: Vec<String>,
    pub kex: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub auth_methods: Vec<String>,
    /// known_hosts' verdict on the key it presented, in one word.
    pub known_hosts: &'static str,
    /// Advisories and weak algorithms, one line each.
    pub warnings: Vec<String>,
}

/// A simple expectation, `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// An authentication method is (`on`) or is not (`off`) offered.
    Method { method: String, offered: bool },
    /// No SHA-1 in the key exchange (`kex=no-sha1`), host key (`hostkey=
    /// no-sha1`) or MAC (`mac=no-sha1`) lists.
    NoSha1(Aspect),
    /// No CBC cipher (`cipher=no-cbc`).
    NoCbc,
    /// known_hosts trusts the presented key (`known-hosts=trusted`).
    Trusted,
}

/// Which list an expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Kex,
    HostKey,
    Mac,
}

const METHODS: &[&str] = &[
    "password",
    "publickey",
    "keyboard-interactive",
    "hostbased",
    "gssapi-with-mic",
];

impl Expectation {
    /// Parses `password=off`, `kex=no-sha1`…; the error says what is known.
    pub fn parse(text: &str) -> Result<Expectation, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("--expect {text}: expected KEY=VALUE"))?;
        let expectation = match (key, value) {
            (method, "on" | "off") if METHODS.contains(&method) => Expectation::Method {
                method: method.to_string(),
                offered: value == "on",
            },
            ("kex", "no-sha1") => Expectation::NoSha1(Aspect::Kex),
            ("hostkey", "no-sha1") => Expectation::NoSha1(Aspect::HostKey),
            ("mac", "no-sha1") => Expectation::NoSha1(Aspect::Mac),
            ("cipher", "no-cbc") => Expectation::NoCbc,
            ("known-hosts", "trusted") => Expectation::Trusted,
            _ => {
                return Err(format!(
                    "--expect {text}: not understood; known are METHOD=on|off (METHOD one of \
                     {}), kex=no-sha1, hostkey=no-sha1, mac=no-sha1, cipher=no-cbc, \
                     known-hosts=trusted",
                    METHODS.join(", ")
                ))
            }
        };
        Ok(expectation)
    }

    /// Why `report` does not meet this expectation, if it does not.
    fn unmet(&self, report: &AuditReport) -> Option<String> {
        let sha1 = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .filter(|n| n.contains("sha1") || *n == "ssh-rsa")
                .cloned()
                .collect()
        };
        let found = match self {
            Expectation::Method { method, offered } => {
                let has = report.auth_methods.contains(method);
                return (has != *offered).then(|| {
                    let state = if has { "offered" } else { "not offered" };
                    format!("{method}={}: {method} is {state}", on_off(*offered))
                });
            }
            Expectation::NoSha1(aspect) => {
                let (name, list) = match aspect {
                    Aspect::Kex => ("kex", &report.kex),
                    Aspect::HostKey => ("hostkey", &report.host_keys),
                    Aspect::Mac => ("mac", &report.macs),
                };
                (format!("{name}=no-sha1"), sha1(list))
            }
            Expectation::NoCbc => {
                let cbc = report
                    .ciphers
                    .iter()
                    .filter(|c| c.ends_with("-cbc") || c.contains("-cbc@"))
                    .cloned()
                    .collect();
                ("cipher=no-cbc".to_string(), cbc)
            }
            Expectation::Trusted => {
                return (report.known_hosts != "trusted").then(|| {
                    format!(
                        "known-hosts=trusted: the host key is {}",
                        report.known_hosts
                    )
                })
            }
        };
        let (expectation, offending) = found;
        (!offending.is_empty()).then(|| format!("{expectation}: offered {}", offending.join(",")))
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// Audits every host against the same expectations.
pub struct AuditPlan {
    expectations: Vec<Expectation>,
}

impl AuditPlan {
    pub fn new(expectations: Vec<Expectation>) -> AuditPlan {
        AuditPlan { expectations }
    }
}

impl Plan for AuditPlan {
    fn access(&self) -> Access {
        Access::Handshake {
            auth_methods: true,
            host_keys: HostKeys::Observed,
        }
    }

    fn host(&self, _alias: &str) -> Box<dyn HostPlan> {
        Box::new(AuditHost {
            expectations: self.expectations.clone(),
        })
    }
}

struct AuditHost {
    expectations: Vec<Expectation>,
}

impl HostPlan for AuditHost {
    fn start(&mut self, reached: &Reached) -> Next {
        let report = report(reached);
        let unmet: Vec<String> = self
            .expectations
            .iter()
            .filter_map(|e| e.unmet(&report))
            .collect();
        let outcome = if unmet.is_empty() {
            Outcome::ok()
        } else {
            Outcome::failed(Cause::Unexpected(unmet))
        };
        Next::Done(outcome.with_finding(Finding::Audit(report)))
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        super::no_commands(result)
    }
}

/// What `reached` shows, with its warnings.
fn report(reached: &Reached) -> AuditReport {
    let offered = reached.offered.clone().unwrap_or_default();
    let mut warnings = Vec::new();
    if let Some(version) = openssh_version(&reached.server_version) {
        for advisory in ADVISORIES {
            if advisory.from <= version && version < advisory.fixed {
                let (major, minor, patch) = advisory.fixed;
                warnings.push(format!(
                    "{} ({}): fixed upstream in {major}.{minor}p{patch} [{}]; check whether \
                     the package has the fix",
                    advisory.id, advisory.what, advisory.source
                ));
            }
        }
    }
    let lists = [
        &offered.kex,
        &offered.host_key,
        &offered.ciphers,
        &offered.macs,
    ];
    for name in lists.into_iter().flatten() {
        if let Some((_, why)) = WEAK.iter().find(|(weak, _)| weak == name) {
            warnings.push(format!("{name}: {why}"));
        } else if name.ends_with("-cbc") {
            warnings.push(format!("{name}: CBC cipher"));
        }
    }
    // Terrapin (CVE-2023-48795): only a server that offers strict key
    // exchange is safe with ChaCha20-Poly1305 or encrypt-then-MAC.
    let strict = offered
        .kex
        .iter()
        .any(|k| k == "kex-strict-s-v00@openssh.com");
    let prone = offered
        .ciphers
        .iter()
        .any(|c| c.starts_with("chacha20-poly1305"))
        || offered.macs.iter().any(|m| m.ends_with("-etm@openssh.com"));
    if prone && !strict {
        warnings.push(
            "CVE-2023-48795 (Terrapin): ChaCha20-Poly1305 or encrypt-then-MAC without strict \
             key exchange"
                .to_string(),
        );
    }
    AuditReport {
        version: reached.server_version.clone(),
        host_keys: offered.host_key,
        kex: offered
            .kex
            .into_iter()
            .filter(|k| !k.starts_with("ext-info-") && !k.starts_with("kex-strict-"))
            .collect(),
        ciphers: offered.ciphers,
        macs: offered.macs,
        auth_methods: reached.auth_methods.clone().unwrap_or_default(),
        known_hosts: finding::verdict_label(&reached.host_keys[0].verdict),
        warnings,
    }
}

/// `(9, 2, 1)` for `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`.
fn openssh_version(banner: &str) -> Option<Version> {
    let rest = banner.split_once("OpenSSH_")?.1;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let (numbers, patch) = version.split_once('p').unwrap_or((&version, "0"));
    let mut parts = numbers.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor, patch.parse().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::reached;
    use crate::plan::Offered;

    #[test]
    fn versions_are_read_from_the_banner() {
        assert_eq!(
            openssh_version("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
            Some((9, 2, 1))
        );
        assert_eq!(openssh_version("SSH-2.0-OpenSSH_9.8"), Some((9, 8, 0)));
        assert_eq!(openssh_version("SSH-2.0-dropbear_2022.83"), None);
    }

    #[test]
    fn old_versions_and_weak_algorithms_are_flagged() {
        let mut reached = reached();
        reached.server_version = "SSH-2.0-OpenSSH_9.2p1".into();
        reached.offered = Some(Offered {
            kex: vec![
                "curve25519-sha256".into(),
                "diffie-hellman-group14-sha1".into(),
            ],
            host_key: vec!["ssh-ed25519".into(), "ssh-rsa".into()],
            ciphers: vec!["aes128-cbc".into(), "chacha20-poly1305@openssh.com".into()],
            macs: vec!["hmac-sha1".into()],
        });
        reached.auth_methods = Some(vec!["publickey".into(), "password".into()]);
        let report = report(&reached);
        let text = report.warnings.join("\n");
        for needle in [
            "CVE-2024-6387",
            "CVE-2023-38408",
            "CVE-2023-48795",
            "diffie-hellman-group14-sha1: SHA-1",
            "ssh-rsa: SHA-1",
            "aes128-cbc: CBC",
            "hmac-sha1: SHA-1",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        let unmet = |text: &str| Expectation::parse(text).unwrap().unmet(&report);
        assert_eq!(
            unmet("password=off").as_deref(),
            Some("password=off: password is offered")
        );
        assert_eq!(unmet("password=on"), None);
        assert!(unmet("kex=no-sha1")
            .unwrap()
            .contains("diffie-hellman-group14-sha1"));
        assert!(unmet("cipher=no-cbc").unwrap().contains("aes128-cbc"));
        assert!(Expectation::parse("password=maybe").is_err());
    }
}
