//! `fleet keyscan`: every host key type each host offers, collected over
//! handshakes only, each key's known_hosts verdict observed (never
//! refused, never learned), and compared with fingerprints obtained out of
//! band when there are some.
//!
//! A host ends `ok`, or with the reason its keys must not be trusted:
//! `mismatch` (a key differs from its out-of-band fingerprint),
//! `host_key_revoked`, or `host_key_changed` (known_hosts holds other keys
//! for it: only `--replace-changed` with verified keys accepts that). What
//! was collected travels in the outcome, as a [`Finding::HostKeys`], and
//! the keys of hosts that came out `ok` are kept for writing known_hosts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::reference::{Reference, References};
use super::{Access, HostKeys, HostPlan, Next, Plan, Reached, StepResult};
use crate::cause::{refusal, Cause};
use crate::finding::{self, Finding, ScannedHost, ScannedKey, Verification};
use crate::known_hosts::{HostId, KnownHosts, Verdict};
use crate::outcome::Outcome;

/// What the plan knows of each host before it is reached.
#[derive(Debug, Clone)]
pub struct ScanTarget {
    /// How known_hosts looks it up.
    pub host: HostId,
    /// The names its lines get.
    pub names: Vec<String>,
    /// The names out-of-band fingerprints may use for it: alias, host
    /// name, address.
    pub known_as: Vec<String>,
}

/// The keys of a host that may be written to known_hosts.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub alias: String,
    pub scanned: ScannedHost,
    /// Changed keys may replace the old ones: `--replace-changed` and the
    /// host's keys were verified.
    pub may_replace: bool,
}

/// Collects the keys of every host.
pub struct KeyscanPlan {
    targets: HashMap<String, ScanTarget>,
    references: Option<Arc<References>>,
    replace_changed: bool,
    accepted: Arc<Mutex<Vec<Accepted>>>,
}

impl KeyscanPlan {
    /// Scans `targets` (by alias), comparing with `references` if given.
    pub fn new(
        targets: HashMap<String, ScanTarget>,
        references: Option<References>,
        replace_changed: bool,
    ) -> KeyscanPlan {
        KeyscanPlan {
            targets,
            references: references.map(Arc::new),
            replace_changed,
            accepted: Arc::default(),
        }
    }

    /// The keys of the hosts that came out `ok`, in the order they did.
    pub fn accepted(&self) -> Vec<Accepted> {
        self.accepted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Plan for KeyscanPlan {
    fn access(&self) -> Access {
        Access::Handshake {
            auth_methods: false,
            host_keys: HostKeys::AllObserved,
        }
    }

    fn host(&self, alias: &str) -> Box<dyn HostPlan> {
        Box::new(KeyscanHost {
            alias: alias.to_string(),
            target: self.targets.get(alias).cloned(),
            references: self.references.clone(),
            replace_changed: self.replace_changed,
            accepted: self.accepted.clone(),
        })
    }
}

struct KeyscanHost {
    alias: String,
    target: Option<ScanTarget>,
    references: Option<Arc<References>>,
    replace_changed: bool,
    accepted: Arc<Mutex<Vec<Accepted>>>,
}

impl HostPlan for KeyscanHost {
    fn start(&mut self, reached: &Reached) -> Next {
        let Some(target) = &self.target else {
            return Next::Done(Outcome::failed(Cause::PlanError(format!(
                "keyscan was not told about {}",
                self.alias
            ))));
        };
        let known_as: Vec<&str> = target.known_as.iter().map(String::as_str).collect();
        let references = self.references.as_ref().map(|r| r.for_host(&known_as));
        let keys: Vec<ScannedKey> = reached
            .host_keys
            .iter()
            .map(|observed| ScannedKey {
                verification: verify(&observed.key, references.as_deref()),
                key: observed.key.clone(),
                verdict: observed.verdict.clone(),
            })
            .collect();
        let verification = host_verification(&keys, references.as_deref());
        let scanned = ScannedHost {
            names: target.names.clone(),
            keys,
            verification,
        };
        let may_replace = self.replace_changed && verification == Verification::Verified;
        let outcome = match trouble(&scanned, references.as_deref(), &target.host, may_replace) {
            Some(cause) => Outcome::failed(cause),
            None => {
                self.accepted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Accepted {
                        alias: self.alias.clone(),
                        scanned: scanned.clone(),
                        may_replace,
                    });
                Outcome::ok()
            }
        };
        Next::Done(outcome.with_finding(Finding::HostKeys(scanned)))
    }

    fn step_done(&mut self, result: StepResult) -> Next {
        super::no_commands(result)
    }
}

/// How one key compares with the references for its host.
fn verify(
    key: &russh::keys::ssh_key::PublicKey,
    references: Option<&[&Reference]>,
) -> Verification {
    let Some(references) = references else {
        return Verification::NotAsked;
    };
    let fingerprint = finding::fingerprint(key);
    let label = finding::key_type_label(key);
    if references.iter().any(|r| r.fingerprint == fingerprint) {
        Verification::Verified
    } else if references
        .iter()
        .any(|r| r.key_type.as_deref() == Some(label))
    {
        Verification::Mismatch
    } else {
        Verification::Unverified
    }
}

/// How a host's keys compare with its references: a mismatch if one key
/// differs, or if fingerprints without a type were given and none matches;
/// verified if some key matches; else unverified.
fn host_verification(keys: &[ScannedKey], references: Option<&[&Reference]>) -> Verification {
    let Some(references) = references else {
        return Verification::NotAsked;
    };
    let any = |v: Verification| keys.iter().any(|k| k.verification == v);
    let untyped = references.iter().any(|r| r.key_type.is_none());
    if any(Verification::Mismatch) || (untyped && !any(Verification::Verified)) {
        Verification::Mismatch
    } else if any(Verification::Verified) {
        Verification::Verified
    } else {
        Verification::Unverified
    }
}

/// Why a host's keys must not be trusted, if they must not.
fn trouble(
    scanned: &ScannedHost,
    references: Option<&[&Reference]>,
    host: &HostId,
    may_replace: bool,
) -> Option<Cause> {
    let describe =
        |key: &ScannedKey| format!("{} {}", key.key.algorithm(), finding::fingerprint(&key.key));
    if scanned.verification == Verification::Mismatch {
        let key = scanned
            .keys
            .iter()
            .find(|k| k.verification == Verification::Mismatch)
            .or(scanned.keys.first())?;
        let expected: Vec<String> = references
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{} at {}", r.fingerprint, r.at))
            .collect();
        return Some(Cause::FingerprintMismatch {
            found: describe(key),
            expected: format!("the fingerprints given are {}", expected.join(", ")),
        });
    }
    // A revoked key is never accepted, verified or not; a changed one only
    // when it was verified and replacing was asked for.
    let no_lines = KnownHosts::default();
    scanned.keys.iter().find_map(|key| match &key.verdict {
        Verdict::Trusted(_) | Verdict::Unknown => None,
        Verdict::Changed(_) if may_replace => None,
        verdict => refusal(verdict, host, &key.key, &no_lines),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;
    use crate::plan::tests::reached;

    fn plan(references: Option<&str>) -> KeyscanPlan {
        let references = references.map(|text| {
            let file = std::env::temp_dir().join(format!("fleet-refs-{}", std::process::id()));
            std::fs::write(&file, text).unwrap();
            let refs = References::load(&file).unwrap();
            std::fs::remove_file(&file).unwrap();
            refs
        });
        let target = ScanTarget {
            host: HostId::new("10.0.0.1", 22),
            names: vec!["web".into(), "10.0.0.1".into()],
            known_as: vec!["web".into(), "10.0.0.1".into()],
        };
        KeyscanPlan::new(HashMap::from([("web".into(), target)]), references, false)
    }

    fn scan(plan: &KeyscanPlan, reached: &Reached) -> Outcome {
        match plan.host("web").start(reached) {
            Next::Done(outcome) => outcome,
            other => panic!("keyscan asked for {other:?}"),
        }
    }

    #[test]
    fn verified_keys_are_accepted_and_a_mismatch_is_not() {
        let reached = reached();
        let fingerprint = finding::fingerprint(reached.host_key());
        let good = plan(Some(&format!("256 {fingerprint} root@web (ED25519)\n")));
        let outcome = scan(&good, &reached);
        assert_eq!(outcome.status(), crate::outcome::Status::Ok);
        let Some(Finding::HostKeys(found)) = outcome.finding() else {
            panic!("no keys in {outcome:?}");
        };
        assert_eq!(found.verification, Verification::Verified);
        assert_eq!(good.accepted().len(), 1);

        let other = "SHA256:qx9ddYkywsaV9YGStygUSNIPtyOL120GEnD+V9lN0oo";
        let bad = plan(Some(&format!("256 {other} root@web (ED25519)\n")));
        let outcome = scan(&bad, &reached);
        assert_eq!(outcome.status(), crate::outcome::Status::Mismatch);
        assert!(bad.accepted().is_empty());
        // Without a reference for the host, it is only unverified.
        let elsewhere = plan(Some(&format!("256 {other} root@db (ED25519)\n")));
        assert_eq!(
            scan(&elsewhere, &reached).status(),
            crate::outcome::Status::Ok
        );
    }

    #[test]
    fn a_changed_or_revoked_key_is_not_accepted() {
        let mut reached = reached();
        let plan = plan(None);
        reached.host_keys[0].verdict = Verdict::Changed(vec![Location::new("kh", 1)]);
        assert_eq!(
            scan(&plan, &reached).status(),
            crate::outcome::Status::HostKeyChanged
        );
        reached.host_keys[0].verdict = Verdict::Revoked(Location::new("kh", 2));
        assert_eq!(
            scan(&plan, &reached).status(),
            crate::outcome::Status::HostKeyRevoked
        );
        assert!(plan.accepted().is_empty());
    }
}
