//! Preparing connections: everything that can fail locally, done once
//! before the first connection. Each known_hosts file set and key file is
//! read once and shared by every host (and jump host) that names it. Work
//! that only shakes hands ([`Access::Handshake`]) reads no key file and asks
//! no passphrase, except for the jump hosts it must log in to.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::ssh_key::{Algorithm, Certificate, HashAlg, PrivateKey, PublicKey};

use super::hostkey::UnknownKeyPolicy;
use super::keys::{self, KeyFile};
use super::{ExecOptions, DEFAULT_CONNECT_TIMEOUT};
use crate::error::SetupError;
use crate::hosts::ssh_config::StrictHostKeyChecking;
use crate::hosts::Target;
use crate::known_hosts::{HostId, KnownHosts, KnownHostsError, RevokedKeys};
use crate::plan::{Access, HostKeys};
use crate::secret::Secret;

/// Everything needed to reach one host and log in to it, decided before
/// the run starts.
#[derive(Clone)]
pub struct ConnectSpec {
    pub alias: Arc<str>,
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub host_id: HostId,
    pub known_hosts: Arc<KnownHosts>,
    pub unknown_key_policy: UnknownKeyPolicy,
    /// Empty for a host that is only greeted ([`Access::Handshake`]).
    pub identities: Vec<Arc<KeyFile>>,
    /// Certificates for identities we hold the private key of, tried before
    /// the plain keys, as OpenSSH does.
    pub certificates: Vec<(Arc<PrivateKey>, Arc<Certificate>)>,
    pub agent: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub ssh_config: Arc<russh::client::Config>,
    /// The ProxyJump hosts to tunnel through, first hop first.
    pub jumps: Vec<ConnectSpec>,
    /// Why this host can't be reached the way its config asks, if so: it
    /// is then reported as an error rather than reached some other way.
    pub unsupported: Option<&'static str>,
    /// The password to try after the keys, when the run was given one.
    pub password: Option<Secret>,
}

/// What [`prepare`] has to say besides the specs: settings it would not
/// honour, for the user to see once.
pub type Warnings = Vec<String>;

/// Reads every known_hosts file and key file the targets need, once each,
/// and builds their connection specs. Fails only on local problems: a
/// malformed known_hosts, a missing or unprotected key, a passphrase that
/// can't be had.
pub async fn prepare(
    targets: &[Target],
    opts: &ExecOptions,
    access: Access,
) -> Result<(Vec<ConnectSpec>, Warnings), SetupError> {
    let logs_in = access == Access::Login;
    let host_keys = match access {
        Access::Login => HostKeys::Checked,
        Access::Handshake { host_keys, .. } => host_keys,
    };
    // Only the hosts fleet logs in to need credentials: every host of a
    // login run, and the jump hosts of any run.
    let every_host: Vec<&Target> = targets
        .iter()
        .flat_map(|t| t.jumps.iter().chain(logs_in.then_some(t)))
        .collect();
    let mut agents: HashMap<PathBuf, Vec<PublicKey>> = HashMap::new();
    for target in &every_host {
        if let Some(socket) = keys::agent_socket(target.options.identity_agent.as_deref()) {
            if let Entry::Vacant(slot) = agents.entry(socket) {
                let held = keys::agent_keys(slot.key()).await;
                slot.insert(held);
            }
        }
    }
    let key_paths = every_host.iter().flat_map(|t| {
        keys::identity_paths(
            &t.options.identity_files,
            t.options.default_identities,
            &opts.home,
        )
    });
    let key_paths: Vec<PathBuf> = key_paths.collect();
    let certificates = keys::load_certificates(
        every_host
            .iter()
            .flat_map(|t| t.options.certificate_files.iter().cloned()),
        key_paths.iter().cloned(),
    )?;
    let key_files = keys::load_all(key_paths, |key| {
        agents
            .values()
            .flatten()
            .any(|held| held.key_data() == key.key_data())
    })?;
    let mut preparer = Preparer {
        opts,
        agents,
        key_files,
        certificates,
        known_hosts: KnownHostsCache::default(),
        configs: ConfigCache::default(),
        warnings: Warnings::new(),
    };
    let specs = targets
        .iter()
        .map(|target| preparer.spec(target, logs_in, host_keys))
        .collect::<Result<Vec<_>, _>>()?;
    let mut warnings = preparer.known_hosts.warnings();
    warnings.extend(preparer.warnings);
    warnings.sort();
    warnings.dedup();
    Ok((specs, warnings))
}

/// The known_hosts entries for each target, in order, each distinct set of
/// files read once, with a warning for each line that was skipped.
pub fn load_known_hosts(
    targets: &[Target],
) -> Result<(Vec<Arc<KnownHosts>>, Warnings), KnownHostsError> {
    let mut cache = KnownHostsCache::default();
    let known = targets
        .iter()
        .map(|target| cache.get(target))
        .collect::<Result<_, _>>()?;
    Ok((known, cache.warnings()))
}

/// The files a target's host keys are checked against: its known_hosts
/// files and its RevokedHostKeys file.
type TrustFiles = (Vec<PathBuf>, Option<PathBuf>);

#[derive(Default)]
struct KnownHostsCache(HashMap<TrustFiles, Arc<KnownHosts>>);

impl KnownHostsCache {
    fn get(&mut self, target: &Target) -> Result<Arc<KnownHosts>, KnownHostsError> {
        let files = (
            target.known_hosts_files(),
            target.options.revoked_host_keys.clone(),
        );
        match self.0.entry(files) {
            Entry::Occupied(known) => Ok(known.get().clone()),
            Entry::Vacant(slot) => {
                let (files, revoked) = slot.key();
                let mut known = KnownHosts::load(files)?;
                if let Some(revoked) = revoked {
                    known = known.with_revoked_keys(RevokedKeys::load(revoked)?);
                }
                Ok(slot.insert(Arc::new(known)).clone())
            }
        }
    }

    /// A warning for each known_hosts line that was skipped, once each,
    /// sorted.
    fn warnings(&self) -> Warnings {
        let mut warnings: Warnings = self
            .0
            .values()
            .flat_map(|known| known.skipped())
            .map(|(at, problem)| format!("{at}: skipped, as ssh skips it: {problem}"))
            .collect();
        warnings.sort();
        warnings.dedup();
        warnings
    }
}

/// The shared state of preparing one run.
struct Preparer<'a> {
    opts: &'a ExecOptions,
    agents: HashMap<PathBuf, Vec<PublicKey>>,
    key_files: HashMap<PathBuf, Arc<KeyFile>>,
    certificates: HashMap<PathBuf, Arc<Certificate>>,
    known_hosts: KnownHostsCache,
    configs: ConfigCache,
    warnings: Warnings,
}

impl Preparer<'_> {
    /// The spec for `target`, with credentials when fleet `logs_in` to it;
    /// its jump hosts are always logged in to.
    fn spec(
        &mut self,
        target: &Target,
        logs_in: bool,
        host_keys: HostKeys,
    ) -> Result<ConnectSpec, SetupError> {
        let o = &target.options;
        let known = self.known_hosts.get(target)?;
        let host_id = target.host_id();
        let agent = keys::agent_socket(o.identity_agent.as_deref()).filter(|_| logs_in);
        let agent_keys = agent
            .as_ref()
            .and_then(|s| self.agents.get(s))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let paths = if logs_in {
            keys::identity_paths(&o.identity_files, o.default_identities, &self.opts.home)
        } else {
            Vec::new()
        };
        let files: Vec<Arc<KeyFile>> = paths
            .iter()
            .filter_map(|p| self.key_files.get(p).cloned())
            .collect();
        let certificates = self.certificates_for(&files, &paths, &o.certificate_files);
        let identities = keys::offered_identities(files, agent_keys, o.identities_only);
        let unsupported = o.proxy_command.then_some(
            "ProxyCommand is not supported: fleet does not run local commands to reach hosts",
        );
        let jumps = target
            .jumps
            .iter()
            .map(|hop| self.spec(hop, true, HostKeys::Checked))
            .collect::<Result<_, _>>()?;
        Ok(ConnectSpec {
            alias: Arc::from(target.alias.as_str()),
            hostname: o.hostname.clone(),
            port: o.port,
            user: o.user.clone(),
            // Collecting every key type asks for plain keys in the default
            // order; the rest asks for what known_hosts has first.
            ssh_config: self.configs.get(match host_keys {
                HostKeys::AllObserved => HostKeyWants {
                    known: Vec::new(),
                    certificates: false,
                    alive: None,
                    alive_max: o.server_alive_count_max,
                },
                HostKeys::Checked | HostKeys::Observed => HostKeyWants {
                    known: known.known_algorithms(&host_id),
                    certificates: known.has_authority(&host_id),
                    alive: o.server_alive_interval.filter(|d| !d.is_zero()),
                    alive_max: o.server_alive_count_max,
                },
            }),
            unknown_key_policy: match host_keys {
                HostKeys::Checked => self.unknown_key_policy(target),
                HostKeys::Observed | HostKeys::AllObserved => UnknownKeyPolicy::Observe,
            },
            host_id,
            known_hosts: known,
            identities,
            certificates,
            agent,
            connect_timeout: self
                .opts
                .connect_timeout
                .or(o.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            jumps,
            unsupported,
            password: self.opts.password.clone().filter(|_| logs_in),
        })
    }

    /// Pairs each private key with the certificates issued for it, from the
    /// host's CertificateFiles and the `-cert.pub` files beside its keys.
    fn certificates_for(
        &self,
        files: &[Arc<KeyFile>],
        paths: &[PathBuf],
        named: &[PathBuf],
    ) -> Vec<(Arc<PrivateKey>, Arc<Certificate>)> {
        let beside = paths.iter().map(|p| keys::certificate_beside(p));
        let certs: Vec<&Arc<Certificate>> = named
            .iter()
            .cloned()
            .chain(beside)
            .filter_map(|p| self.certificates.get(&p))
            .collect();
        let mut pairs = Vec::new();
        for file in files {
            let Some(private) = &file.private else {
                continue;
            };
            for cert in &certs {
                if cert.public_key() == file.public.key_data() {
                    pairs.push((private.clone(), Arc::clone(cert)));
                }
            }
        }
        pairs
    }

    /// StrictHostKeyChecking, made strict: `no` is only honoured together
    /// with `--insecure-ignore-host-keys`, and `ask` refuses (a fan-out
    /// can't ask).
    fn unknown_key_policy(&mut self, target: &Target) -> UnknownKeyPolicy {
        if self.opts.insecure_ignore_host_keys {
            return UnknownKeyPolicy::AcceptAnything;
        }
        let o = &target.options;
        match o.strict_host_key_checking {
            StrictHostKeyChecking::AcceptNew => match o.user_known_hosts_files.first() {
                Some(file) => UnknownKeyPolicy::Learn {
                    file: file.clone(),
                    hash: o.hash_known_hosts,
                },
                None => UnknownKeyPolicy::Refuse,
            },
            StrictHostKeyChecking::No => {
                self.warnings.push(
                    "StrictHostKeyChecking no is set; fleet checks host keys strictly anyway \
                     (pass --insecure-ignore-host-keys to really skip the check)"
                        .into(),
                );
                UnknownKeyPolicy::Refuse
            }
            StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => UnknownKeyPolicy::Refuse,
        }
    }
}

/// AES-GCM first: with AES instructions it decrypts bulk output several
/// times faster than ChaCha20-Poly1305, russh's first choice. The rest is
/// russh's own order.
const CIPHERS: &[russh::cipher::Name] = &[
    russh::cipher::AES_256_GCM,
    russh::cipher::CHACHA20_POLY1305,
    russh::cipher::AES_256_CTR,
    russh::cipher::AES_192_CTR,
    russh::cipher::AES_128_CTR,
];

/// What decides a host's russh config: host key preferences and keepalive.
#[derive(PartialEq, Eq, Hash)]
struct HostKeyWants {
    /// Key types known_hosts has for the host, offered first.
    known: Vec<Algorithm>,
    /// Whether a CA is trusted for the host, so certificates are asked for.
    certificates: bool,
    alive: Option<Duration>,
    alive_max: u32,
}

/// Shares one russh config among hosts that want the same.
#[derive(Default)]
struct ConfigCache(HashMap<HostKeyWants, Arc<russh::client::Config>>);

impl ConfigCache {
    fn get(&mut self, wants: HostKeyWants) -> Arc<russh::client::Config> {
        self.0
            .entry(wants)
            .or_insert_with_key(|wants| {
                let order = host_key_order(&wants.known);
                let preferred = russh::Preferred {
                    // Advertised ahead of plain keys, so a host with a
                    // certificate proves itself with it.
                    host_key_certificates: if wants.certificates {
                        order.clone().into()
                    } else {
                        Vec::new().into()
                    },
                    key: order.into(),
                    cipher: CIPHERS.into(),
                    ..Default::default()
                };
                Arc::new(russh::client::Config {
                    preferred,
                    keepalive_interval: wants.alive,
                    keepalive_max: wants.alive_max as usize,
                    nodelay: true,
                    // What a host may have in flight towards us: enough for
                    // command output even over long round trips, small
                    // enough that 64 hosts streaming at once stay cheap.
                    window_size: 1 << 20,
                    channel_buffer_size: 32,
                    ..Default::default()
                })
            })
            .clone()
    }
}

/// Offers the key types known_hosts already has for the host first, as
/// OpenSSH does; otherwise a host known only by its ECDSA key would present
/// its Ed25519 key and look unknown.
fn host_key_order(known: &[Algorithm]) -> Vec<Algorithm> {
    let mut order: Vec<Algorithm> = Vec::new();
    for alg in known {
        let wanted = if matches!(alg, Algorithm::Rsa { .. }) {
            vec![
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
            ]
        } else {
            vec![alg.clone()]
        };
        for alg in wanted {
            if !order.contains(&alg) {
                order.push(alg);
            }
        }
    }
    for alg in russh::Preferred::DEFAULT.key.iter() {
        if !order.contains(alg) {
            order.push(alg.clone());
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::ssh_key::EcdsaCurve;

    #[test]
    fn known_key_types_are_offered_first() {
        let ecdsa = Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        };
        let order = host_key_order(std::slice::from_ref(&ecdsa));
        assert_eq!(order[0], ecdsa);
        assert_eq!(order.len(), russh::Preferred::DEFAULT.key.len());
    }

    #[test]
    fn a_known_rsa_key_asks_for_sha2_signatures() {
        let order = host_key_order(&[Algorithm::Rsa { hash: None }]);
        assert_eq!(
            order[0],
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512)
            }
        );
        assert_eq!(
            order[1],
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256)
            }
        );
    }
}
