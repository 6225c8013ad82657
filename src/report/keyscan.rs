//! What `fleet keyscan` prints: the collected host keys, one format per
//! run, from the [`Finding::HostKeys`] in each host's outcome.
//!
//! * known_hosts lines (default), `alias,address keytype base64`, hashed
//!   with `-H`; a host whose keys must not be trusted (a mismatch, a
//!   changed or revoked key) gets none, so the output can be appended to a
//!   known_hosts file as it is;
//! * `--fingerprints`: `ssh-keygen -l`'s format, `256 SHA256:… alias
//!   (ED25519)`, for every key collected;
//! * `--json`: one `host_key` object per key (before the host's `result`,
//!   which the JSON output writes), with its known_hosts verdict and
//!   verification.
//!
//! With `--verify`, the human formats end with each verification's hosts
//! folded on stderr (`verified: web-[001-049] (49)`), since their stdout
//! carries only keys.
//!
//! Whatever the format, a key seen on more than one host is reported at
//! the end (`shared_key` objects, or a warning on stderr): hosts cloned
//! from one image share keys, and then a key proves nothing about which
//! host answered.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde_json::json;

use crate::event::{Event, RunEnd};
use crate::finding::{self, Finding, ScannedHost};
use crate::known_hosts;
use crate::report::sanitize::sanitize;
use crate::report::{Output, Terminal};

/// How keyscan prints keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// known_hosts lines, with hashed names if `hash`.
    KnownHosts { hash: bool },
    /// `ssh-keygen -l` lines.
    Fingerprints,
    /// `host_key` JSON objects.
    Json,
}

/// Prints each host's keys as it finishes, and the shared keys at the end.
pub(crate) struct KeyscanPrinter {
    format: KeyFormat,
    /// Fingerprint → (key type, hosts that presented it).
    seen: BTreeMap<String, (String, Vec<Arc<str>>)>,
    /// `verified`, `unverified` or `mismatch` → the hosts that came out so.
    verifications: BTreeMap<&'static str, Vec<Arc<str>>>,
}

impl KeyscanPrinter {
    pub(crate) fn new(format: KeyFormat) -> KeyscanPrinter {
        KeyscanPrinter {
            format,
            seen: BTreeMap::new(),
            verifications: BTreeMap::new(),
        }
    }

    fn print(
        &self,
        host: &str,
        trusted: bool,
        scanned: &ScannedHost,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        for scanned_key in &scanned.keys {
            let key = &scanned_key.key;
            match self.format {
                KeyFormat::KnownHosts { hash } => {
                    if !trusted {
                        continue;
                    }
                    match known_hosts::entry_lines(&scanned.names, key, hash) {
                        Ok(lines) => out.extend_from_slice(lines.as_bytes()),
                        Err(e) => return Err(io::Error::other(crate::error::chain(&e))),
                    }
                }
                KeyFormat::Fingerprints => writeln!(
                    out,
                    "{} {} {} ({})",
                    finding::key_bits(key),
                    finding::fingerprint(key),
                    sanitize(host),
                    finding::key_type_label(key)
                )?,
                KeyFormat::Json => {
                    let record = json!({
                        "type": "host_key",
                        "host": host,
                        "key_type": key.algorithm().as_str(),
                        "key": key.to_openssh().map_err(io::Error::other)?,
                        "bits": finding::key_bits(key),
                        "fingerprint": finding::fingerprint(key),
                        "known_hosts": finding::verdict_label(&scanned_key.verdict),
                        "verification": scanned_key.verification.as_str(),
                    });
                    serde_json::to_writer(&mut *out, &record)?;
                    out.push(b'\n');
                }
            }
        }
        Ok(())
    }
}

impl Output for KeyscanPrinter {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let Event::HostFinished { host, outcome, .. } = event else {
            return Ok(());
        };
        let Some(Finding::HostKeys(scanned)) = outcome.finding() else {
            return Ok(());
        };
        for key in &scanned.keys {
            let entry = self
                .seen
                .entry(finding::fingerprint(&key.key))
                .or_insert_with(|| (key.key.algorithm().to_string(), Vec::new()));
            entry.1.push(host.clone());
        }
        if let Some(label) = scanned.verification.as_str() {
            self.verifications
                .entry(label)
                .or_default()
                .push(host.clone());
        }
        self.print(host, outcome.cause().is_none(), scanned, term.stdout())
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        if self.format != KeyFormat::Json {
            for (label, hosts) in &self.verifications {
                writeln!(
                    term.stderr(),
                    "{label}: {} ({})",
                    super::folded_hosts(hosts),
                    hosts.len()
                )?;
            }
        }
        for (fingerprint, (key_type, hosts)) in &self.seen {
            if hosts.len() < 2 {
                continue;
            }
            if self.format == KeyFormat::Json {
                let record = json!({
                    "type": "shared_key",
                    "key_type": key_type,
                    "fingerprint": fingerprint,
                    "hosts": hosts.iter().map(|h| &**h).collect::<Vec<_>>(),
                });
                let out = term.stdout();
                serde_json::to_writer(&mut *out, &record)?;
                out.push(b'\n');
            } else {
                writeln!(
                    term.stderr(),
                    "fleet: warning: host key {key_type} {fingerprint} is shared by {} hosts: {}; \
                     hosts cloned from one image should get new host keys, or their keys prove \
                     nothing about which host answers",
                    hosts.len(),
                    super::folded_hosts(hosts)
                )?;
            }
        }
        Ok(())
    }
}
