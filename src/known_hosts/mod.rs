//! Strict known_hosts checking: decides whether a host key presented by a
//! server is trusted, revoked, changed or unknown, and records new keys for
//! accept-new.
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
//! shared by all connections, so lookups never touch the disk.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::{Algorithm, Certificate, HashAlg, PublicKey};

use crate::location::Location;

#[cfg(test)]
mod tests;

/// How a host is looked up in known_hosts.
///
/// OpenSSH looks a host up as `host` when the port is 22 and as
/// `[host]:port` otherwise. `name` is the HostKeyAlias if one is set, else
/// the HostName (not the ssh_config alias); the caller decides which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostId {
    pub name: String,
    pub port: u16,
}

impl HostId {
    /// The name OpenSSH matches against host patterns and hashes.
    ///
    /// It is lowercased because OpenSSH lowercases the host name before the
    /// lookup and writes new entries in lowercase; without this a hashed
    /// entry written by `ssh` would never match a name spelled `Web1`.
    pub fn lookup_name(&self) -> String {
        let name = self.name.to_ascii_lowercase();
        if self.port == 22 {
            name
        } else {
            format!("[{name}]:{}", self.port)
        }
    }

    /// The names a host certificate may list as a principal for this host:
    /// the lookup name and the bare name without the port.
    fn principal_names(&self) -> [String; 2] {
        [self.name.to_ascii_lowercase(), self.lookup_name()]
    }
}

/// The outcome of checking a presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key (or the CA that signed the certificate) is known for this
    /// host at this location.
    Trusted(Location),
    /// The key (or its CA) is marked `@revoked`: never accept.
    Revoked(Location),
    /// The host is known, but with other keys: every line that knows it,
    /// so the user can see all of them.
    Changed(Vec<Location>),
    /// Nothing is known about this host.
    Unknown,
}

/// What is wrong with one known_hosts line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("unknown marker '{0}' (expected @cert-authority or @revoked)")]
    UnknownMarker(String),
    #[error("more than one marker (only one of @cert-authority or @revoked is allowed)")]
    SeveralMarkers,
    #[error("missing the host patterns")]
    MissingHosts,
    #[error("missing the key type")]
    MissingKeyType,
    #[error("missing the key after the key type")]
    MissingKey,
    #[error("bad hashed host name (expected |1|base64 salt|base64 hash)")]
    BadHashedHost,
    #[error("cannot decode the key (bad base64)")]
    BadBase64,
    #[error("cannot decode the key ({0})")]
    BadKey(String),
    #[error("the key type is '{field}' but the key is {actual}")]
    KeyTypeMismatch { field: String, actual: String },
    #[error("a certificate is not allowed here; put its CA on an @cert-authority line")]
    CertificateAsKey,
}

/// Errors from loading known_hosts files or adding to one.
#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    #[error("{}: cannot read", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{at}: {problem}")]
    Line { at: Location, problem: LineProblem },
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
}

/// The marker at the start of a line, which changes what the key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// A plain host key.
    None,
    /// `@cert-authority`: the key is a CA trusted to sign host certificates.
    CertAuthority,
    /// `@revoked`: the key must never be accepted.
    Revoked,
}

/// One comma-separated element of a host field.
#[derive(Debug)]
struct Pattern {
    /// A leading `!`: a match rejects the whole line.
    negated: bool,
    /// Lowercased, because OpenSSH matches patterns case-insensitively.
    glob: String,
}

/// The host field of a line.
#[derive(Debug)]
enum Hosts {
    Patterns(Vec<Pattern>),
    /// `|1|salt|hash` where hash = HMAC-SHA1(key = salt, data = lookup name).
    Hashed {
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

/// Length of the HMAC-SHA1 output, which OpenSSH also requires of the salt.
const SHA1_LEN: usize = 20;

impl Hosts {
    fn parse(field: &str) -> Result<Hosts, LineProblem> {
        match field.strip_prefix('|') {
            Some(rest) => {
                // OpenSSH hashes the whole field, so a hashed entry names
                // exactly one host and cannot be mixed with patterns.
                let mut parts = rest.split('|');
                let (Some("1"), Some(salt), Some(hash), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(LineProblem::BadHashedHost);
                };
                let salt = BASE64
                    .decode(salt)
                    .map_err(|_| LineProblem::BadHashedHost)?;
                let hash = BASE64
                    .decode(hash)
                    .map_err(|_| LineProblem::BadHashedHost)?;
                if salt.len() != SHA1_LEN || hash.len() != SHA1_LEN {
                    return Err(LineProblem::BadHashedHost);
                }
                Ok(Hosts::Hashed { salt, hash })
            }
            None => Ok(Hosts::Patterns(
                field
                    .split(',')
                    .map(|p| match p.strip_prefix('!') {
                        Some(glob) => Pattern {
                            negated: true,
                            glob: glob.to_ascii_lowercase(),
                        },
                        None => Pattern {
                            negated: false,
                            glob: p.to_ascii_lowercase(),
                        },
                    })
                    .collect(),
            )),
        }
    }

    /// Whether this field names `lookup_name` (already lowercased).
    fn matches(&self, lookup_name: &str) -> bool {
        match self {
            Hosts::Patterns(patterns) => {
                let mut positive = false;
                for pattern in patterns {
                    if crate::wildcard::match_pattern(
                        pattern.glob.as_bytes(),
                        lookup_name.as_bytes(),
                    ) {
                        if pattern.negated {
                            // As OpenSSH: a matching negation rejects the
                            // line whatever else matches.
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(lookup_name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
        }
    }
}

/// One parsed line.
#[derive(Debug)]
struct Entry {
    marker: Marker,
    hosts: Hosts,
    key: KeyData,
    location: Location,
}

/// The parts of a non-blank, non-comment line.
struct ParsedLine {
    marker: Marker,
    hosts: Hosts,
    key: KeyData,
}

/// Parses one line; `Ok(None)` for blank lines and comments.
fn parse_line(line: &str) -> Result<Option<ParsedLine>, LineProblem> {
    let mut fields = line.split_ascii_whitespace().peekable();
    let Some(first) = fields.peek() else {
        return Ok(None);
    };
    if first.starts_with('#') {
        return Ok(None);
    }
    let mut marker = Marker::None;
    while let Some(field) = fields.next_if(|f| f.starts_with('@')) {
        if marker != Marker::None {
            return Err(LineProblem::SeveralMarkers);
        }
        marker = match field {
            "@cert-authority" => Marker::CertAuthority,
            "@revoked" => Marker::Revoked,
            other => return Err(LineProblem::UnknownMarker(other.to_owned())),
        };
    }
    let hosts = Hosts::parse(fields.next().ok_or(LineProblem::MissingHosts)?)?;
    let key_type = fields
        .next()
        .filter(|f| !f.starts_with('#'))
        .ok_or(LineProblem::MissingKeyType)?;
    // Whatever follows the key is its comment, which never takes part in
    // the comparison.
    let blob = fields.next().ok_or(LineProblem::MissingKey)?;
    let blob = BASE64.decode(blob).map_err(|_| LineProblem::BadBase64)?;
    let key = PublicKey::from_bytes(&blob)
        .map_err(|e| LineProblem::BadKey(e.to_string()))?
        .key_data()
        .clone();
    if key.is_certificate() {
        return Err(LineProblem::CertificateAsKey);
    }
    // As OpenSSH's sshkey_read: the named type must be the key's type, so a
    // line cannot claim one algorithm and carry another.
    let actual = key.algorithm();
    if actual.as_str() != key_type {
        return Err(LineProblem::KeyTypeMismatch {
            field: key_type.to_owned(),
            actual: actual.as_str().to_owned(),
        });
    }
    Ok(Some(ParsedLine { marker, hosts, key }))
}

/// Every entry of a set of known_hosts files (user files, then global
/// files), loaded once per run and shared by all connections.
#[derive(Debug)]
pub struct KnownHosts {
    /// In file order, then line order: the first match wins where order
    /// matters (which line to cite).
    entries: Vec<Entry>,
}

impl KnownHosts {
    /// Loads every file in order.
    ///
    /// Missing files are skipped silently, as OpenSSH does, since most users
    /// have no global file. Anything else is an error naming the file and
    /// line: an unreadable file, or a line with a bad marker, missing
    /// fields or an undecodable key. OpenSSH skips such lines with a debug
    /// message; here they stop the run, because a line the user meant as a
    /// revocation or a pin must not be silently ignored.
    pub fn load(files: &[PathBuf]) -> Result<KnownHosts, KnownHostsError> {
        let mut entries = Vec::new();
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
            for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let location = Location::new(file.clone(), index + 1);
                // Lossy: comments may be in any encoding, and a replacement
                // character elsewhere makes the line fail to parse or match.
                let line = String::from_utf8_lossy(line);
                match parse_line(&line) {
                    Ok(Some(ParsedLine { marker, hosts, key })) => entries.push(Entry {
                        marker,
                        hosts,
                        key,
                        location,
                    }),
                    Ok(None) => {}
                    Err(problem) => {
                        return Err(KnownHostsError::Line {
                            at: location,
                            problem,
                        })
                    }
                }
            }
        }
        Ok(KnownHosts { entries })
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

    /// The verdict for a plain host key.
    ///
    /// Precedence: Revoked > Trusted > Changed > Unknown. Only the key data
    /// is compared, never the comment. Any matching line trusts the key, so
    /// a host with several lines of the same type is not "changed" because
    /// one of them differs. `@cert-authority` lines never trust a plain key.
    pub fn check(&self, host: &HostId, key: &PublicKey) -> Verdict {
        match key.key_data() {
            // A certificate wrapped as a public key still gets the
            // certificate rules, never the weaker plain-key ones.
            KeyData::Certificate(cert) => self.check_certificate(host, cert),
            key => self.check_key_data(&host.lookup_name(), key),
        }
    }

    fn check_key_data(&self, lookup_name: &str, key: &KeyData) -> Verdict {
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
        if let Some(entry) = self
            .matching(&lookup_name)
            .find(|e| e.marker == Marker::Revoked && (e.key == *ca || e.key == *cert.public_key()))
        {
            return Verdict::Revoked(entry.location.clone());
        }
        let trusted_ca = self
            .matching(&lookup_name)
            .find(|e| e.marker == Marker::CertAuthority && e.key == *ca);
        if let Some(entry) = trusted_ca {
            if certificate_is_valid(cert, host, unix_now()) {
                return Verdict::Trusted(entry.location.clone());
            }
        }
        self.check_key_data(&lookup_name, cert.public_key())
    }

    /// The key algorithms known for this host (plain, non-revoked keys), in
    /// file order without duplicates, so the client can offer them first
    /// and a host known only by its ECDSA key is asked for ECDSA, as
    /// OpenSSH does.
    pub fn known_algorithms(&self, host: &HostId) -> Vec<Algorithm> {
        let lookup_name = host.lookup_name();
        let mut algorithms = Vec::new();
        for entry in self.matching(&lookup_name) {
            if entry.marker != Marker::None {
                continue;
            }
            let revoked = self
                .matching(&lookup_name)
                .any(|e| e.marker == Marker::Revoked && e.key == entry.key);
            let algorithm = entry.key.algorithm();
            if !revoked && !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// Whether an `@cert-authority` line covers this host: then the client
    /// asks for the host's certificate, as OpenSSH does.
    pub fn has_authority(&self, host: &HostId) -> bool {
        self.matching(&host.lookup_name())
            .any(|e| e.marker == Marker::CertAuthority)
    }

    /// Whether any plain or `@cert-authority` line names this host.
    pub fn knows(&self, host: &HostId) -> bool {
        self.matching(&host.lookup_name())
            .any(|e| e.marker != Marker::Revoked)
    }
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
            .any(|principal| names.contains(principal))
        && cert.validate_at(now, [&ca_fingerprint]).is_ok()
}

fn unix_now() -> u64 {
    // A clock before 1970 makes every certificate look not yet valid, which
    // fails closed.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Serialises [`append`] within this process: it reads, extends and
/// replaces the file, so two connections learning keys at once would
/// otherwise lose one of the lines. A std Mutex because it is never held
/// across an `.await` (append is blocking; async callers use
/// `spawn_blocking`).
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Adds one line `lookup_name key-type base64` to `file`, for accept-new.
///
/// The write is atomic: the existing content plus the new line go to a
/// temporary file in the same directory, which is synced and renamed over
/// the original, so a crash never leaves a half-written known_hosts. The
/// existing file's permissions are kept; a new file gets 0600, and a
/// missing parent directory is created 0700. If `file` is a symlink, its
/// target is replaced, so a symlinked dotfile stays a symlink.
///
/// Names that known_hosts would read as patterns (`*`, `?`, leading `!`),
/// separators (`,`, whitespace) or markers are refused: writing them would
/// trust the key for other hosts too.
pub fn append(file: &Path, host: &HostId, key: &PublicKey) -> Result<(), KnownHostsError> {
    if !is_literal_host_name(&host.name) {
        return Err(KnownHostsError::UnsafeHostName {
            file: file.to_path_buf(),
            name: host.name.clone(),
        });
    }
    if key.key_data().is_certificate() {
        return Err(KnownHostsError::CertificateNotKey {
            file: file.to_path_buf(),
        });
    }
    let blob = key
        .to_bytes()
        .map_err(|source| KnownHostsError::EncodeKey {
            file: file.to_path_buf(),
            source,
        })?;
    let line = format!(
        "{} {} {}\n",
        host.lookup_name(),
        key.algorithm().as_str(),
        BASE64.encode(blob)
    );

    let _guard = APPEND_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let write_error = |source| KnownHostsError::Write {
        file: file.to_path_buf(),
        source,
    };
    let target = resolve_symlink(file).map_err(write_error)?;
    write_atomically(&target, &line).map_err(write_error)
}

/// Whether `name` can be written to a host field and read back as exactly
/// this one host.
fn is_literal_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['!', '#', '@', '|'])
        && !name.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?' | '[' | ']')
        })
}

/// The path to replace: the symlink's target if `file` is a symlink.
fn resolve_symlink(file: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(file) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(file),
        _ => Ok(file.to_path_buf()),
    }
}

fn write_atomically(file: &Path, line: &str) -> io::Result<()> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let (mut content, mode) = match fs::read(file) {
        Ok(content) => (content, fs::metadata(file)?.permissions().mode() & 0o7777),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), 0o600),
        Err(e) => return Err(e),
    };
    // A file whose last line lacks its newline would otherwise have the new
    // entry glued onto that line.
    if content.last().is_some_and(|&b| b != b'\n') {
        content.push(b'\n');
    }
    content.extend_from_slice(line.as_bytes());

    // The temporary file is deleted when dropped, so every early return
    // below leaves nothing behind.
    let mut temp = tempfile::Builder::new()
        .prefix(".known_hosts.")
        .tempfile_in(dir)?;
    temp.write_all(&content)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    temp.as_file().sync_all()?;
    temp.persist(file).map_err(|e| e.error)?;
    // Make the rename itself durable.
    fs::File::open(dir)?.sync_all()
}
