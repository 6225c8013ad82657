//! Host key fingerprints obtained out of band, for `fleet keyscan
//! --verify FILE`. One file may hold any mix of:
//!
//! * `ssh-keygen -l` output, `256 SHA256:… root@web-01 (ED25519)`, as the
//!   cloud guides' in-instance command prints it: the host is the comment's
//!   part after `@` (or the whole comment);
//! * cloud-init console blocks between `-----BEGIN SSH HOST KEY
//!   FINGERPRINTS-----` and `-----END SSH HOST KEY FINGERPRINTS-----`,
//!   in whole console logs: once a file has such a block, only lines inside
//!   blocks count, whatever prefix the console puts before them
//!   (`ec2: `, `[  12.3] cloud-init[812]: `);
//! * a plain `HOST FINGERPRINT` list;
//! * `# host: NAME` lines, which name the host of the lines after them.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::location::Location;

const BEGIN: &str = "-----BEGIN SSH HOST KEY FINGERPRINTS-----";
const END: &str = "-----END SSH HOST KEY FINGERPRINTS-----";

/// One fingerprint given for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `SHA256:…`.
    pub fingerprint: String,
    /// `ED25519`, `ECDSA`, `RSA`, when the line says.
    pub key_type: Option<String>,
    pub at: Location,
}

/// Every fingerprint of a file, by host name (lowercased).
#[derive(Debug, Default)]
pub struct References {
    by_host: HashMap<String, Vec<Reference>>,
}

/// Why a `--verify` file can't be used.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("--verify {}: cannot read", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("--verify {}: no host key fingerprint (SHA256:…) in it", file.display())]
    Empty { file: PathBuf },
    #[error("{at}: a fingerprint without a host name; put a '# host: NAME' line before it")]
    NoHost { at: Location },
}

impl References {
    /// Reads `file`.
    pub fn load(file: &Path) -> Result<References, ReferenceError> {
        let bytes = fs::read(file).map_err(|source| ReferenceError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        References::parse(file, &String::from_utf8_lossy(&bytes))
    }

    fn parse(file: &Path, text: &str) -> Result<References, ReferenceError> {
        let blocks_only = text.contains(BEGIN);
        let mut references = References::default();
        let mut in_block = false;
        let mut named: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let at = Location::new(file, index + 1);
            if let Some(name) = line.trim().strip_prefix('#').and_then(host_line) {
                named = Some(name.to_ascii_lowercase());
                continue;
            }
            if line.contains(BEGIN) {
                in_block = true;
                continue;
            }
            if line.contains(END) {
                in_block = false;
                continue;
            }
            if blocks_only && !in_block {
                continue;
            }
            let Some((host, reference)) = parse_line(line, &at) else {
                continue;
            };
            let host = match (&named, host) {
                (Some(name), _) => name.clone(),
                (None, Some(host)) => host.to_ascii_lowercase(),
                (None, None) => return Err(ReferenceError::NoHost { at }),
            };
            references.by_host.entry(host).or_default().push(reference);
        }
        if references.by_host.is_empty() {
            return Err(ReferenceError::Empty {
                file: file.to_path_buf(),
            });
        }
        Ok(references)
    }

    /// The fingerprints given for a host known by any of `names`.
    pub fn for_host<'a>(&'a self, names: &[&str]) -> Vec<&'a Reference> {
        let mut found: Vec<&Reference> = Vec::new();
        for name in names {
            for reference in self
                .by_host
                .get(&name.to_ascii_lowercase())
                .into_iter()
                .flatten()
            {
                if !found.contains(&reference) {
                    found.push(reference);
                }
            }
        }
        found
    }
}

/// The name of a `host: NAME` comment (without its `#`).
fn host_line(comment: &str) -> Option<&str> {
    let rest = comment.trim().strip_prefix("host:")?;
    let name = rest.trim();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

/// The host (if the line names one) and the fingerprint of a line with a
/// `SHA256:` word.
fn parse_line(line: &str, at: &Location) -> Option<(Option<String>, Reference)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let index = words.iter().position(|w| is_fingerprint(w))?;
    let fingerprint = words[index].to_string();
    let after = &words[index + 1..];
    let (comment, key_type) = match after.split_last() {
        Some((last, rest)) if last.starts_with('(') && last.ends_with(')') => {
            (rest, Some(last[1..last.len() - 1].to_string()))
        }
        _ => (after, None),
    };
    let before = index.checked_sub(1).map(|i| words[i]);
    let host = match before {
        // `ssh-keygen -l`: bits, fingerprint, comment, (type).
        Some(bits) if bits.bytes().all(|b| b.is_ascii_digit()) => comment
            .first()
            .map(|c| c.rsplit('@').next().unwrap_or(c).to_string()),
        // `HOST FINGERPRINT`.
        Some(host) => Some(host.to_string()),
        None => comment.first().map(|c| c.to_string()),
    };
    Some((
        host,
        Reference {
            fingerprint,
            key_type,
            at: at.clone(),
        },
    ))
}

/// `SHA256:` and 43 base64 characters, as OpenSSH prints a fingerprint.
fn is_fingerprint(word: &str) -> bool {
    word.strip_prefix("SHA256:").is_some_and(|b64| {
        b64.len() == 43
            && b64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "SHA256:p21i4sl5Mlg3P4HgeafqoxDprb22xaUAo6tBJvy43BU";
    const EC: &str = "SHA256:qx9ddYkywsaV9YGStygUSNIPtyOL120GEnD+V9lN0oo";

    fn parse(text: &str) -> References {
        References::parse(Path::new("refs"), text).unwrap()
    }

    fn fingerprints(refs: &References, host: &str) -> Vec<String> {
        refs.for_host(&[host])
            .iter()
            .map(|r| r.fingerprint.clone())
            .collect()
    }

    #[test]
    fn reads_ssh_keygen_output_by_the_comment_host() {
        let refs = parse(&format!(
            "256 {ED} root@web-01 (ED25519)\n256 {EC} web-02 (ECDSA)\n"
        ));
        assert_eq!(fingerprints(&refs, "WEB-01"), [ED]);
        assert_eq!(fingerprints(&refs, "web-02"), [EC]);
        assert_eq!(
            refs.for_host(&["web-01"])[0].key_type.as_deref(),
            Some("ED25519")
        );
    }

    #[test]
    fn reads_only_console_blocks_when_there_are_any() {
        let log = format!(
            "[   3.1] cloud-init[812]: The key fingerprint is: {EC} root@noise\n\
             ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n\
             ec2: 256 {ED} root@web-01 (ED25519)\n\
             ec2: -----END SSH HOST KEY FINGERPRINTS-----\n\
             # host: web-02\n\
             -----BEGIN SSH HOST KEY FINGERPRINTS-----\n\
             256 {EC} root@localhost (ECDSA)\n\
             -----END SSH HOST KEY FINGERPRINTS-----\n"
        );
        let refs = parse(&log);
        assert_eq!(fingerprints(&refs, "web-01"), [ED]);
        assert_eq!(fingerprints(&refs, "web-02"), [EC]);
        assert!(fingerprints(&refs, "noise").is_empty());
        assert!(fingerprints(&refs, "localhost").is_empty());
    }

    #[test]
    fn reads_a_plain_host_fingerprint_list() {
        let refs = parse(&format!("10.0.0.1 {ED}\nweb-02\t{EC}\n"));
        assert_eq!(fingerprints(&refs, "10.0.0.1"), [ED]);
        assert_eq!(fingerprints(&refs, "web-02"), [EC]);
    }

    #[test]
    fn a_file_without_fingerprints_or_hosts_is_an_error() {
        assert!(References::parse(Path::new("f"), "nothing here\n").is_err());
        let err = References::parse(Path::new("f"), &format!("{ED}\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f:1: a fingerprint without a host name; put a '# host: NAME' line before it"
        );
    }
}
