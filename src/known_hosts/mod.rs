//! Strict known_hosts checking: decides whether a host key presented by a
//! server is trusted, revoked, changed or unknown; and changing known_hosts
//! files safely: learning keys for accept-new ([`learn`]), adding scanned
//! keys ([`add_keys`]) and forgetting hosts ([`forget`]).
//!
//! russh ships known_hosts helpers, but they are not safe for strict
//! checking: they accept keys marked `@revoked`, ignore `@cert-authority`
//! lines and host patterns, call a host "changed" when a second line for the
//! same key type does not match, and compare key comments. This module
//! follows sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and the behaviour of
//! OpenSSH's `hostfile.c` instead; where it deliberately differs, the
//! difference is stricter and documented at the place it happens.
//!
//! Every file is parsed once per run into a [`KnownHosts`], which is then
//! shared by all connections, so lookups never touch the disk. Every change
//! re-reads its file under a lock and checks again before it writes
//! (`file`).

mod edit;
pub(crate) mod file;
mod parse;
mod revoked;

pub use edit::{add_keys, forget, Added, Forgotten, HostKeys};
pub use file::remove_temporary_files;
pub use parse::LineProblem;
pub use revoked::RevokedKeys;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::{Algorithm, Certificate, HashAlg, PublicKey};

use crate::location::Location;
use edit::NewEntry;
use parse::{BadLine, Hosts, Marker, ParsedLine};

#[cfg(test)]
mod tests;

/// How a host is looked up in known_hosts.
///
/// OpenSSH looks a host up by its HostName as `host` when the port is 22
/// and as `[host]:port` otherwise, but by its HostKeyAlias, when one is
/// set, as the alias alone, whatever the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostId {
    /// The bare name, lowercased.
    name: String,
    /// What lines are matched against and hashed.
    lookup: String,
}

impl HostId {
    /// A host known by its name and port.
    ///
    /// The name is lowercased because OpenSSH lowercases the host name
    /// before the lookup and writes new entries in lowercase; without this
    /// a hashed entry written by `ssh` would never match a name spelled
    /// `Web1`.
    pub fn new(name: &str, port: u16) -> HostId {
        let name = name.to_ascii_lowercase();
        let lookup = if port == 22 {
            name.clone()
        } else {
            format!("[{name}]:{port}")
        };
        HostId { name, lookup }
    }

    /// A host known by its HostKeyAlias: looked up as the alias, never with
    /// a port, as ssh does.
    pub fn alias(alias: &str) -> HostId {
        let name = alias.to_ascii_lowercase();
        HostId {
            lookup: name.clone(),
            name,
        }
    }

    /// The name OpenSSH matches against host patterns and hashes.
    pub fn lookup_name(&self) -> &str {
        &self.lookup
    }

    /// The bare name, without a port.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names a host certificate may list as a principal for this host:
    /// the lookup name and the bare name without the port.
    fn principal_names(&self) -> [&str; 2] {
        [&self.name, &self.lookup]
    }
}

/// The outcome of checking a presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key (or the CA that signed the certificate) is known for this
    /// host at this location.
    Trusted(Location),
    /// The key (or its CA) is marked `@revoked`, or listed in the
    /// RevokedHostKeys file: never accept.
    Revoked(Location),
    /// A marker line (`@revoked`, `@cert-authority`) for this host can't be
    /// read: fail closed until it is fixed.
    Unreadable(Location, LineProblem),
    /// The host is known, but with other keys: every line that knows it,
    /// so the user can see all of them.
    Changed(Vec<Location>),
    /// Nothing is known about this host.
    Unknown,
}

/// Errors from loading known_hosts files or changing one.
#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    #[error("{}: cannot read", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{}: cannot write", file.display())]
    Write { file: PathBuf, source: io::Error },
    #[error(
        "{}: refusing to add host name {name:?}: it is empty or contains characters \
         that known_hosts would read as a pattern or separator",
        file.display()
    )]
    UnsafeHostName { file: PathBuf, name: String },
    #[error("{}: refusing to add a certificate as a host key", file.display())]
    CertificateNotKey { file: PathBuf },
    #[error("{}: cannot encode the key", file.display())]
    EncodeKey {
        file: PathBuf,
        source: russh::keys::ssh_key::Error,
    },
    #[error("{}: cannot make a random salt to hash the host name", file.display())]
    Salt {
        file: PathBuf,
        source: getrandom::Error,
    },
    #[error(transparent)]
    Revoked(#[from] revoked::RevokedKeysError),
}

/// One readable line.
#[derive(Debug)]
struct Entry {
    marker: Marker,
    hosts: Hosts,
    key: KeyData,
    location: Location,
}

/// A marker line that can't be read, and the hosts it is for.
#[derive(Debug)]
struct Unreadable {
    hosts: Hosts,
    location: Location,
    problem: LineProblem,
}

/// Every entry of a set of known_hosts files (user files, then global
/// files), loaded once per run and shared by all connections.
#[derive(Debug, Default)]
pub struct KnownHosts {
    /// In file order, then line order: the first match wins where order
    /// matters (which line to cite).
    entries: Vec<Entry>,
    unreadable: Vec<Unreadable>,
    /// Plain lines that can't be read, skipped.
    skipped: Vec<(Location, LineProblem)>,
    /// The RevokedHostKeys file, if one is set.
    revoked: Option<RevokedKeys>,
}

impl KnownHosts {
    /// Loads every file in order.
    ///
    /// Missing files are skipped silently, as OpenSSH does, since most users
    /// have no global file; an unreadable one is an error. A line that
    /// can't be read is skipped, as OpenSSH skips it, and named by
    /// [`KnownHosts::skipped`] so the user can be warned; except a marker
    /// line: an `@revoked` or `@cert-authority` line whose key can't be read
    /// makes every host its pattern names fail closed
    /// ([`Verdict::Unreadable`]), since the user meant it to revoke or to
    /// restrict.
    pub fn load(files: &[PathBuf]) -> Result<KnownHosts, KnownHostsError> {
        let mut known = KnownHosts::default();
        for file in files {
            let bytes = match fs::read(file) {
                Ok(bytes) => bytes,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    continue;
                }
                Err(source) => {
                    return Err(KnownHostsError::Read {
                        file: file.clone(),
                        source,
                    })
                }
            };
            known.add_file(file, &bytes);
        }
        Ok(known)
    }

    /// The entries of one file's content.
    fn parse(file: &Path, bytes: &[u8]) -> KnownHosts {
        let mut known = KnownHosts::default();
        known.add_file(file, bytes);
        known
    }

    fn add_file(&mut self, file: &Path, bytes: &[u8]) {
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let location = Location::new(file, index + 1);
            // Lossy: comments may be in any encoding, and a replacement
            // character elsewhere makes the line fail to parse or match.
            let line = String::from_utf8_lossy(line);
            match parse::parse_line(&line) {
                Ok(Some(ParsedLine { marker, hosts, key })) => self.entries.push(Entry {
                    marker,
                    hosts,
                    key,
                    location,
                }),
                Ok(None) => {}
                Err(BadLine {
                    problem,
                    marker_hosts: Some(hosts),
                }) => self.unreadable.push(Unreadable {
                    hosts,
                    location,
                    problem,
                }),
                Err(BadLine {
                    problem,
                    marker_hosts: None,
                }) => self.skipped.push((location, problem)),
            }
        }
    }

    /// Checks keys against `revoked` too, before any line.
    pub fn with_revoked_keys(mut self, revoked: RevokedKeys) -> KnownHosts {
        self.revoked = Some(revoked);
        self
    }

    /// The plain lines that were skipped because they can't be read.
    pub fn skipped(&self) -> &[(Location, LineProblem)] {
        &self.skipped
    }

    /// Entries whose host field names `lookup_name`, in file order.
    ///
    /// `@revoked` lines are filtered by host like the others, because
    /// OpenSSH only loads the lines that match the host before it looks at
    /// markers: `@revoked * KEY` revokes a key everywhere, `@revoked web1
    /// KEY` only for web1.
    fn matching<'a>(&'a self, lookup_name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.hosts.matches(lookup_name))
    }

    /// The first marker line for this host that can't be read.
    fn unreadable_for(&self, lookup_name: &str) -> Option<Verdict> {
        self.unreadable
            .iter()
            .find(|u| u.hosts.matches(lookup_name))
            .map(|u| Verdict::Unreadable(u.location.clone(), u.problem.clone()))
    }

    /// The verdict for a plain host key.
    ///
    /// Precedence: Revoked > Unreadable > Trusted > Changed > Unknown. Only
    /// the key data is compared, never the comment. Any matching line
    /// trusts the key, so a host with several lines of the same type is not
    /// "changed" because one of them differs. `@cert-authority` lines never
    /// trust a plain key, and don't make it changed either: as for OpenSSH,
    /// a host under a CA that shows a plain key is unknown.
    pub fn check(&self, host: &HostId, key: &PublicKey) -> Verdict {
        match key.key_data() {
            // A certificate wrapped as a public key still gets the
            // certificate rules, never the weaker plain-key ones.
            KeyData::Certificate(cert) => self.check_certificate(host, cert),
            key => self.check_key_data(host.lookup_name(), key),
        }
    }

    fn check_key_data(&self, lookup_name: &str, key: &KeyData) -> Verdict {
        if let Some(at) = self.revoked.as_ref().and_then(|r| r.find(key)) {
            return Verdict::Revoked(at);
        }
        let mut trusted = None;
        let mut known = Vec::new();
        for entry in self.matching(lookup_name) {
            match entry.marker {
                Marker::Revoked if entry.key == *key => {
                    return Verdict::Revoked(entry.location.clone())
                }
                Marker::None => {
                    known.push(entry.location.clone());
                    if entry.key == *key {
                        trusted.get_or_insert(entry);
                    }
                }
                Marker::Revoked | Marker::CertAuthority => {}
            }
        }
        if let Some(unreadable) = self.unreadable_for(lookup_name) {
            return unreadable;
        }
        // Deliberately stricter than OpenSSH: OpenSSH treats a host known
        // only by keys of another type as new ("keys of different type are
        // already known") and, with accept-new, learns the second type. Here
        // any plain line for the host makes a different key Changed, so a
        // man in the middle cannot get a new key type pinned by offering
        // only that type.
        match trusted {
            Some(entry) => Verdict::Trusted(entry.location.clone()),
            None if !known.is_empty() => Verdict::Changed(known),
            None => Verdict::Unknown,
        }
    }

    /// The verdict for a host certificate.
    ///
    /// Trusted only if an `@cert-authority` line matching the host holds the
    /// CA that signed it and the certificate is valid for this host now
    /// (a signed host certificate naming the host, inside its validity
    /// window, without critical options). A revoked CA or a revoked
    /// certified key is Revoked. Otherwise, as OpenSSH does, the
    /// certificate's own public key is checked as a plain key.
    pub fn check_certificate(&self, host: &HostId, cert: &Certificate) -> Verdict {
        let lookup_name = host.lookup_name();
        let ca = cert.signature_key();
        if let Some(at) = self
            .revoked
            .as_ref()
            .and_then(|r| r.find(ca).or_else(|| r.find(cert.public_key())))
        {
            return Verdict::Revoked(at);
        }
        if let Some(entry) = self
            .matching(lookup_name)
            .find(|e| e.marker == Marker::Revoked && (e.key == *ca || e.key == *cert.public_key()))
        {
            return Verdict::Revoked(entry.location.clone());
        }
        let trusted_ca = self
            .matching(lookup_name)
            .find(|e| e.marker == Marker::CertAuthority && e.key == *ca);
        if let Some(entry) = trusted_ca {
            if certificate_is_valid(cert, host, unix_now()) {
                return match self.unreadable_for(lookup_name) {
                    Some(unreadable) => unreadable,
                    None => Verdict::Trusted(entry.location.clone()),
                };
            }
        }
        self.check_key_data(lookup_name, cert.public_key())
    }

    /// The key algorithms known for this host (plain, non-revoked keys), in
    /// file order without duplicates, so the client can offer them first
    /// and a host known only by its ECDSA key is asked for ECDSA, as
    /// OpenSSH does.
    pub fn known_algorithms(&self, host: &HostId) -> Vec<Algorithm> {
        let mut algorithms = Vec::new();
        for entry in self.plain_keys(host) {
            let algorithm = entry.key.algorithm();
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// The plain, non-revoked lines for this host, in file order.
    fn plain_keys<'a>(&'a self, host: &'a HostId) -> impl Iterator<Item = &'a Entry> + 'a {
        let lookup_name = host.lookup_name();
        self.matching(lookup_name).filter(move |entry| {
            entry.marker == Marker::None
                && !self
                    .matching(lookup_name)
                    .any(|e| e.marker == Marker::Revoked && e.key == entry.key)
                && self
                    .revoked
                    .as_ref()
                    .and_then(|r| r.find(&entry.key))
                    .is_none()
        })
    }

    /// Whether an `@cert-authority` line covers this host: then the client
    /// asks for the host's certificate, as OpenSSH does.
    pub fn has_authority(&self, host: &HostId) -> bool {
        self.matching(host.lookup_name())
            .any(|e| e.marker == Marker::CertAuthority)
    }

    /// Whether any plain or `@cert-authority` line names this host.
    pub fn knows(&self, host: &HostId) -> bool {
        self.matching(host.lookup_name())
            .any(|e| e.marker != Marker::Revoked)
    }

    /// Everything known_hosts says about this host, for a report: its
    /// plain keys, CAs and revoked keys, each with its line, and the marker
    /// lines for it that can't be read.
    pub fn describe(&self, host: &HostId) -> HostRecord {
        let lookup_name = host.lookup_name();
        let mut record = HostRecord::default();
        for entry in self.matching(lookup_name) {
            let key = (PublicKey::from(entry.key.clone()), entry.location.clone());
            match entry.marker {
                Marker::None => record.keys.push(key),
                Marker::CertAuthority => record.authorities.push(key),
                Marker::Revoked => record.revoked.push(key),
            }
        }
        let plain: Vec<&Entry> = self.plain_keys(host).collect();
        record
            .keys
            .retain(|(_, at)| plain.iter().any(|e| e.location == *at));
        record.unreadable = self
            .unreadable
            .iter()
            .filter(|u| u.hosts.matches(lookup_name))
            .map(|u| u.location.clone())
            .collect();
        record
    }
}

/// What known_hosts holds for one host (see [`KnownHosts::describe`]).
#[derive(Debug, Default)]
pub struct HostRecord {
    /// Plain keys that are not revoked.
    pub keys: Vec<(PublicKey, Location)>,
    /// `@cert-authority` keys.
    pub authorities: Vec<(PublicKey, Location)>,
    /// `@revoked` keys whose line names the host.
    pub revoked: Vec<(PublicKey, Location)>,
    /// Marker lines for the host that can't be read.
    pub unreadable: Vec<Location>,
}

/// Whether a certificate whose CA is trusted for this host is valid for it
/// at `now` (seconds since the epoch).
///
/// Like OpenSSH's client: it must be a host certificate, signed by its CA
/// (the signature verifies), inside its validity window, without critical
/// options (none are defined for host certificates, so OpenSSH rejects any),
/// and not signed with SHA-1 RSA (`ssh-rsa`, absent from OpenSSH's default
/// CASignatureAlgorithms since 8.2).
///
/// Stricter than OpenSSH: a certificate without principals is valid for
/// every host in OpenSSH; here the host must be listed, as its lookup name
/// or as the bare name, so a certificate issued for one host cannot be
/// replayed by another host under the same CA.
fn certificate_is_valid(cert: &Certificate, host: &HostId, now: u64) -> bool {
    let ca_fingerprint = cert.signature_key().fingerprint(HashAlg::Sha256);
    let names = host.principal_names();
    cert.cert_type() == CertType::Host
        && cert.critical_options().is_empty()
        && cert.signature().algorithm() != Algorithm::Rsa { hash: None }
        && cert
            .valid_principals()
            .iter()
            .any(|principal| names.contains(&principal.as_str()))
        && cert.validate_at(now, [&ca_fingerprint]).is_ok()
}

fn unix_now() -> u64 {
    // A clock before 1970 makes every certificate look not yet valid, which
    // fails closed.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The known_hosts line(s) for `key` under `names` (lookup names): one
/// line naming them all, or, hashed, one line per name.
pub fn entry_lines(
    names: &[String],
    key: &PublicKey,
    hash: bool,
) -> Result<String, KnownHostsError> {
    NewEntry {
        names: names.to_vec(),
        key: key.clone(),
    }
    .to_lines(Path::new("-"), hash)
}

/// What [`learn`] did with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    /// A line was added for it.
    Added,
    /// The file already trusted it (another process got there first).
    AlreadyKnown,
    /// Under the lock the file said this about the key, which is not
    /// [`Verdict::Unknown`]: nothing was written.
    Refused(Verdict),
}

/// Learns `key` for `host` into `file`, for accept-new: under the file's
/// lock the file is read again and the key checked against what it holds
/// now, including what other processes and other hosts of this run have
/// learned meanwhile, and only a key still unknown is added, hashed if
/// `hash` (`HashKnownHosts yes`). See `file` for how the file is written.
///
/// Names that known_hosts would read as patterns (`*`, `?`, leading `!`),
/// separators (`,`, whitespace) or markers are refused: writing them would
/// trust the key for other hosts too.
pub fn learn(
    file: &Path,
    host: &HostId,
    key: &PublicKey,
    hash: bool,
) -> Result<Learned, KnownHostsError> {
    if !parse::is_literal_host_name(host.name()) {
        return Err(KnownHostsError::UnsafeHostName {
            file: file.to_path_buf(),
            name: host.name().to_owned(),
        });
    }
    let entry = NewEntry {
        names: vec![host.lookup_name().to_owned()],
        key: key.clone(),
    };
    let text = entry.to_lines(file, hash)?;
    let mut locked = file::LockedFile::open(file).map_err(edit::write_error(file))?;
    let content = locked.content().map_err(edit::write_error(file))?;
    match KnownHosts::parse(locked.path(), &content).check(host, key) {
        Verdict::Trusted(_) => Ok(Learned::AlreadyKnown),
        Verdict::Unknown => {
            locked
                .append(&content, &text)
                .map_err(edit::write_error(file))?;
            Ok(Learned::Added)
        }
        refused => Ok(Learned::Refused(refused)),
    }
}
