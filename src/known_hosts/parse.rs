//! Reading one known_hosts line: its marker, its host field (patterns or
//! one hashed name) and its key, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"
//! describes them; and writing a host field back, hashed or not.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use russh::keys::ssh_key::public::KeyData;
use russh::keys::ssh_key::PublicKey;

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

/// The marker at the start of a line, which changes what the key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    /// A plain host key.
    None,
    /// `@cert-authority`: the key is a CA trusted to sign host certificates.
    CertAuthority,
    /// `@revoked`: the key must never be accepted.
    Revoked,
}

/// One comma-separated element of a host field.
#[derive(Debug)]
pub(super) struct Pattern {
    /// A leading `!`: a match rejects the whole line.
    negated: bool,
    /// Lowercased, because OpenSSH matches patterns case-insensitively.
    glob: String,
}

/// The host field of a line.
#[derive(Debug)]
pub(super) enum Hosts {
    Patterns(Vec<Pattern>),
    /// `|1|salt|hash` where hash = HMAC-SHA1(key = salt, data = lookup name).
    Hashed {
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// Every host: what a marker line whose host field can't be read stands
    /// for, so that it fails closed everywhere.
    Every,
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
    pub(super) fn matches(&self, lookup_name: &str) -> bool {
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
            Hosts::Hashed { salt, hash } => hmac_sha1(salt, lookup_name).as_slice() == hash,
            Hosts::Every => true,
        }
    }
}

fn hmac_sha1(salt: &[u8], name: &str) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt).expect("HMAC takes any key");
    mac.update(name.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `name` hashed as `HashKnownHosts yes` writes it: `|1|salt|hash` with a
/// fresh random salt, so that equal names don't give equal fields.
pub(super) fn hash_name(name: &str) -> Result<String, getrandom::Error> {
    let mut salt = [0u8; SHA1_LEN];
    getrandom::fill(&mut salt)?;
    Ok(format!(
        "|1|{}|{}",
        BASE64.encode(salt),
        BASE64.encode(hmac_sha1(&salt, name))
    ))
}

/// The parts of a non-blank, non-comment line.
pub(super) struct ParsedLine {
    pub marker: Marker,
    pub hosts: Hosts,
    pub key: KeyData,
}

/// A line that can't be read: why, and whether it carries a marker, with
/// the hosts it names as far as they can be read.
pub(super) struct BadLine {
    pub problem: LineProblem,
    /// For a marker line: the hosts it applies to ([`Hosts::Every`] when
    /// its host field is unreadable too); `None` for a plain line.
    pub marker_hosts: Option<Hosts>,
}

/// Parses one line; `Ok(None)` for blank lines and comments.
pub(super) fn parse_line(line: &str) -> Result<Option<ParsedLine>, BadLine> {
    let marker_hosts = || {
        let field = line.split_ascii_whitespace().find(|f| !f.starts_with('@'));
        field
            .and_then(|f| Hosts::parse(f).ok())
            .unwrap_or(Hosts::Every)
    };
    parse_fields(line).map_err(|problem| BadLine {
        problem,
        marker_hosts: line.trim_start().starts_with('@').then(marker_hosts),
    })
}

fn parse_fields(line: &str) -> Result<Option<ParsedLine>, LineProblem> {
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
    let key = parse_key(key_type, blob)?;
    if key.is_certificate() {
        return Err(LineProblem::CertificateAsKey);
    }
    Ok(Some(ParsedLine { marker, hosts, key }))
}

/// The key of a `key-type base64` pair, whose type must be the key's own:
/// as OpenSSH's sshkey_read, a line cannot claim one algorithm and carry
/// another.
pub(super) fn parse_key(key_type: &str, blob: &str) -> Result<KeyData, LineProblem> {
    let blob = BASE64.decode(blob).map_err(|_| LineProblem::BadBase64)?;
    let key = PublicKey::from_bytes(&blob)
        .map_err(|e| LineProblem::BadKey(e.to_string()))?
        .key_data()
        .clone();
    let actual = key.algorithm();
    if !key.is_certificate() && actual.as_str() != key_type {
        return Err(LineProblem::KeyTypeMismatch {
            field: key_type.to_owned(),
            actual: actual.as_str().to_owned(),
        });
    }
    Ok(key)
}

/// Whether `name` can be written to a host field and read back as exactly
/// this one host.
pub(super) fn is_literal_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['!', '#', '@', '|'])
        && !name.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?' | '[' | ']')
        })
}
