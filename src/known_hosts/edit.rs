//! Changing what a known_hosts file says about hosts: adding scanned keys
//! ([`add_keys`], for `fleet keyscan --update-known-hosts`) and forgetting
//! hosts ([`forget`], the `ssh-keygen -R` of `fleet known-hosts forget`).
//!
//! Both work on the file's bytes as they are under its lock, so every line
//! they don't mean to change stays byte for byte as it was, comments and
//! lines fleet can't read included; and neither ever touches an `@revoked`
//! or `@cert-authority` line.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use russh::keys::ssh_key::PublicKey;

use super::file::LockedFile;
use super::parse::{self, Hosts};
use super::{HostId, KnownHosts, KnownHostsError, Verdict};
use crate::location::Location;

/// A `write_error` for `file`, for `map_err`.
pub(super) fn write_error(file: &Path) -> impl Fn(std::io::Error) -> KnownHostsError + '_ {
    move |source| KnownHostsError::Write {
        file: file.to_path_buf(),
        source,
    }
}

/// Keys to write for one host, under these names (lookup names, as
/// [`HostId::lookup_name`] spells them).
#[derive(Debug, Clone)]
pub(super) struct NewEntry {
    pub names: Vec<String>,
    pub key: PublicKey,
}

impl NewEntry {
    /// The line(s) for this entry, each ending in a newline: one line
    /// naming every name, or, hashed, one line per name (a hashed field
    /// holds exactly one name).
    pub(super) fn to_lines(&self, file: &Path, hash: bool) -> Result<String, KnownHostsError> {
        if let Some(name) = self.names.iter().find(|n| !is_writable_name(n)) {
            return Err(KnownHostsError::UnsafeHostName {
                file: file.to_path_buf(),
                name: name.clone(),
            });
        }
        if self.names.is_empty() {
            return Err(KnownHostsError::UnsafeHostName {
                file: file.to_path_buf(),
                name: String::new(),
            });
        }
        if self.key.key_data().is_certificate() {
            return Err(KnownHostsError::CertificateNotKey {
                file: file.to_path_buf(),
            });
        }
        let blob = self
            .key
            .to_bytes()
            .map_err(|source| KnownHostsError::EncodeKey {
                file: file.to_path_buf(),
                source,
            })?;
        let key = format!("{} {}", self.key.algorithm().as_str(), BASE64.encode(blob));
        let names: Vec<String> = self.names.iter().map(|n| n.to_ascii_lowercase()).collect();
        if !hash {
            return Ok(format!("{} {key}\n", names.join(",")));
        }
        let mut lines = String::new();
        for name in &names {
            let hashed = parse::hash_name(name).map_err(|source| KnownHostsError::Salt {
                file: file.to_path_buf(),
                source,
            })?;
            lines.push_str(&format!("{hashed} {key}\n"));
        }
        Ok(lines)
    }
}

/// Whether `name` is a host name, or `[host]:port`, that reads back as
/// exactly that one host.
fn is_writable_name(name: &str) -> bool {
    let bracketed = name
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]:"))
        .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    match bracketed {
        Some((host, _)) => parse::is_literal_host_name(host),
        None => parse::is_literal_host_name(name),
    }
}

/// The scanned keys of one host, for [`add_keys`].
#[derive(Debug, Clone)]
pub struct HostKeys {
    /// How known_hosts looks the host up.
    pub host: HostId,
    /// Every name to write, the lookup name among them.
    pub names: Vec<String>,
    pub keys: Vec<PublicKey>,
    /// Whether a changed key may be replaced (`--replace-changed`, and the
    /// keys were verified out of band).
    pub may_replace: bool,
}

/// What [`add_keys`] did for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Every key was already there, untouched.
    Unchanged,
    /// These many lines were added for keys that were missing.
    Added(usize),
    /// The host's other plain keys were forgotten and its keys added.
    Replaced(usize),
    /// Nothing was written: the file says this about one of its keys.
    Refused(Verdict),
}

/// Adds the keys of each host that `file` is missing, under its lock, and
/// returns what was done for each host, in order, with the backup made.
///
/// A host whose keys are all there is left untouched. A host known by
/// other keys is refused (its keys changed, or it would gain a key type on
/// the word of another connection) unless it [`HostKeys::may_replace`]:
/// then its plain lines are forgotten first. A revoked key, or a marker
/// line for the host that can't be read, is always refused. New lines are
/// hashed if `hash`.
pub fn add_keys(
    file: &Path,
    hosts: &[HostKeys],
    hash: bool,
) -> Result<(Vec<Added>, Option<PathBuf>), KnownHostsError> {
    let mut locked = LockedFile::open(file).map_err(write_error(file))?;
    let original = locked.content().map_err(write_error(file))?;
    let mut content = original.clone();
    let mut results = Vec::new();
    for host in hosts {
        let known = KnownHosts::parse(locked.path(), &content);
        let verdicts: Vec<Verdict> = host
            .keys
            .iter()
            .map(|k| known.check(&host.host, k))
            .collect();
        let refusal = verdicts
            .iter()
            .find(|v| matches!(v, Verdict::Revoked(_) | Verdict::Unreadable(..)))
            .or_else(|| {
                verdicts
                    .iter()
                    .find(|v| matches!(v, Verdict::Changed(_)) && !host.may_replace)
            });
        if let Some(refusal) = refusal {
            results.push(Added::Refused(refusal.clone()));
            continue;
        }
        let changed = verdicts.iter().any(|v| matches!(v, Verdict::Changed(_)));
        if changed {
            content = without_names(&content, &host.names).0;
        }
        let mut added = 0;
        for (key, verdict) in host.keys.iter().zip(&verdicts) {
            if matches!(verdict, Verdict::Trusted(_)) && !changed {
                continue;
            }
            let entry = NewEntry {
                names: host.names.clone(),
                key: key.clone(),
            };
            if content.last().is_some_and(|&b| b != b'\n') {
                content.push(b'\n');
            }
            content.extend_from_slice(entry.to_lines(file, hash)?.as_bytes());
            added += 1;
        }
        results.push(match (changed, added) {
            (true, n) => Added::Replaced(n),
            (false, 0) => Added::Unchanged,
            (false, n) => Added::Added(n),
        });
    }
    if content == original {
        return Ok((results, None));
    }
    let backup = back_up(&mut locked, &original, file)?;
    locked.replace(&content).map_err(write_error(file))?;
    Ok((results, backup))
}

/// A backup of `original` as `FILE.old`, unless it was empty.
fn back_up(
    locked: &mut LockedFile,
    original: &[u8],
    file: &Path,
) -> Result<Option<PathBuf>, KnownHostsError> {
    if original.is_empty() {
        return Ok(None);
    }
    locked
        .back_up(original)
        .map(Some)
        .map_err(write_error(file))
}

/// What [`forget`] did.
#[derive(Debug, Default)]
pub struct Forgotten {
    /// Lines removed because every name on them was forgotten.
    pub removed: Vec<Location>,
    /// Lines that lost some of their names and kept others.
    pub edited: Vec<Location>,
    /// Lines whose wildcard patterns match a forgotten name: left alone,
    /// since removing them would forget other hosts too.
    pub patterns: Vec<Location>,
    /// Where the file was before, if it changed.
    pub backup: Option<PathBuf>,
}

/// Removes `names` (lookup names) from `file`, as `ssh-keygen -R` does: a
/// hashed line for one of them goes, and a line listing several names
/// loses only those. `@revoked` and `@cert-authority` lines stay, and so do
/// wildcard patterns (reported, not changed). The old file is kept as
/// `FILE.old`; a file without the names is not written at all.
pub fn forget(file: &Path, names: &[String]) -> Result<Forgotten, KnownHostsError> {
    let mut locked = LockedFile::open(file).map_err(write_error(file))?;
    let original = locked.content().map_err(write_error(file))?;
    let (content, changes) = without_names(&original, names);
    let mut forgotten = Forgotten::default();
    for (index, change) in changes {
        let at = Location::new(locked.path(), index + 1);
        match change {
            LineChange::Removed => forgotten.removed.push(at),
            LineChange::Edited => forgotten.edited.push(at),
            LineChange::PatternMatches => forgotten.patterns.push(at),
        }
    }
    if content != original {
        forgotten.backup = back_up(&mut locked, &original, file)?;
        locked.replace(&content).map_err(write_error(file))?;
    }
    Ok(forgotten)
}

/// What forgetting did to one line.
enum LineChange {
    Removed,
    Edited,
    PatternMatches,
}

/// `content` without `names` on its plain lines, and what changed, by
/// 0-based line index.
fn without_names(content: &[u8], names: &[String]) -> (Vec<u8>, Vec<(usize, LineChange)>) {
    let names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut changes = Vec::new();
    for (index, line) in content.split(|&b| b == b'\n').enumerate() {
        match forget_in_line(line, &names) {
            None => kept.push(line.to_vec()),
            Some((new_line, change)) => {
                if let Some(line) = new_line {
                    kept.push(line);
                }
                changes.push((index, change));
            }
        }
    }
    (kept.join(&b'\n'), changes)
}

/// The line without `names`: `None` if it stays as it is, else the new
/// line (`None` to drop it) and what changed.
fn forget_in_line(line: &[u8], names: &[String]) -> Option<(Option<Vec<u8>>, LineChange)> {
    let text = std::str::from_utf8(line).ok()?;
    let parsed = parse::parse_line(text).ok()??;
    if parsed.marker != parse::Marker::None {
        return None;
    }
    let start = text.len() - text.trim_start().len();
    let field_len = text[start..]
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(text.len() - start);
    let field = &text[start..start + field_len];
    if let Hosts::Hashed { .. } = parsed.hosts {
        return names
            .iter()
            .any(|n| parsed.hosts.matches(n))
            .then_some((None, LineChange::Removed));
    }
    let patterns: Vec<&str> = field.split(',').collect();
    let literal = |p: &str| names.iter().any(|n| p.eq_ignore_ascii_case(n));
    let kept: Vec<&str> = patterns.iter().copied().filter(|p| !literal(p)).collect();
    if kept.len() == patterns.len() {
        let wildcard = names.iter().any(|n| parsed.hosts.matches(n));
        return wildcard.then_some((Some(line.to_vec()), LineChange::PatternMatches));
    }
    if kept.is_empty() {
        return Some((None, LineChange::Removed));
    }
    let mut new_line = text[..start].to_string();
    new_line.push_str(&kept.join(","));
    new_line.push_str(&text[start + field_len..]);
    Some((Some(new_line.into_bytes()), LineChange::Edited))
}
