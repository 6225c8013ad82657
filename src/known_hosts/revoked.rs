//! The `RevokedHostKeys` file of ssh_config: host keys never to accept,
//! one public key per line (as `.pub` files hold them), like OpenSSH's
//! plain-key revocation files.
//!
//! OpenSSH also reads a binary KRL (`ssh-keygen -k`) there. No maintained
//! Rust crate reads KRLs, so a KRL is refused with a clear error rather
//! than ignored: a revocation fleet can't honour must stop the run.

use std::fs;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::public::KeyData;

use super::parse::{self, LineProblem};
use crate::location::Location;

/// What OpenSSH's KRLs start with (PROTOCOL.krl).
const KRL_MAGIC: &[u8] = b"SSHKRL\n\0";

/// Why a RevokedHostKeys file can't be used.
#[derive(Debug, thiserror::Error)]
pub enum RevokedKeysError {
    /// ssh refuses every host when it can't read the file; fleet refuses
    /// to start.
    #[error("RevokedHostKeys {}: cannot read", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "RevokedHostKeys {}: is a KRL (binary key revocation list), which fleet cannot read; \
         list the revoked host keys as public keys instead, one per line",
        file.display()
    )]
    Krl { file: PathBuf },
    /// Stricter than OpenSSH, which skips such lines: a typo must not
    /// silently un-revoke a key.
    #[error("RevokedHostKeys {at}: {problem}")]
    Line { at: Location, problem: LineProblem },
}

/// The keys of a RevokedHostKeys file, each with its line.
#[derive(Debug, Default)]
pub struct RevokedKeys {
    keys: Vec<(KeyData, Location)>,
}

impl RevokedKeys {
    /// Reads `file`: blank lines and `#` comments are skipped, every other
    /// line is `key-type base64 [comment]`. A certificate stands for the
    /// key it certifies.
    pub fn load(file: &Path) -> Result<RevokedKeys, RevokedKeysError> {
        let bytes = fs::read(file).map_err(|source| RevokedKeysError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        if bytes.starts_with(KRL_MAGIC) {
            return Err(RevokedKeysError::Krl {
                file: file.to_path_buf(),
            });
        }
        let mut keys = Vec::new();
        for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let at = Location::new(file, index + 1);
            let line = String::from_utf8_lossy(line);
            let mut fields = line.split_ascii_whitespace();
            let key_type = match fields.next() {
                None => continue,
                Some(field) if field.starts_with('#') => continue,
                Some(field) => field,
            };
            let key = fields
                .next()
                .ok_or(LineProblem::MissingKey)
                .and_then(|blob| parse::parse_key(key_type, blob))
                .map_err(|problem| RevokedKeysError::Line {
                    at: at.clone(),
                    problem,
                })?;
            let key = match key {
                KeyData::Certificate(cert) => cert.public_key().clone(),
                plain => plain,
            };
            keys.push((key, at));
        }
        Ok(RevokedKeys { keys })
    }

    /// The line that revokes `key`, if any.
    pub(super) fn find(&self, key: &KeyData) -> Option<Location> {
        self.keys
            .iter()
            .find(|(revoked, _)| revoked == key)
            .map(|(_, at)| at.clone())
    }
}
