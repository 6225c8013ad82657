//! `sshd set Port=… --update-ssh-config`: telling ssh_config where hosts'
//! sshd listens now.
//!
//! ssh takes the first value it reads for a keyword, so a block put at the
//! top of the file wins over whatever the file says further down. It is
//! followed by `Host *`, so the lines that were global before it stay
//! global. Comments and every other line are kept byte for byte; the file
//! is changed under its lock, atomically, with its mode, and the old one is
//! kept as `FILE.old`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::known_hosts::file::LockedFile;

/// Puts a block giving each alias its new port at the top of `file`;
/// returns where the old file was kept, if there was one.
pub fn write(file: &Path, moves: &[(String, u16)], why: &str) -> io::Result<Option<PathBuf>> {
    for (alias, _) in moves {
        if !is_plain_alias(alias) {
            return Err(io::Error::other(format!(
                "{alias}: not a plain host name, so no Host line can name it alone"
            )));
        }
    }
    let mut locked = LockedFile::open(file)?;
    let original = locked.content()?;
    let mut content = block(moves, why).into_bytes();
    content.extend_from_slice(&original);
    let backup = if original.is_empty() {
        None
    } else {
        Some(locked.back_up(&original)?)
    };
    locked.replace(&content)?;
    Ok(backup)
}

/// `Host a b` / `Port N` for each port, then `Host *`.
pub fn block(moves: &[(String, u16)], why: &str) -> String {
    let mut by_port: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for (alias, port) in moves {
        by_port.entry(*port).or_default().push(alias);
    }
    let mut text = format!("# {why}\n");
    for (port, aliases) in by_port {
        text.push_str(&format!("Host {}\n    Port {port}\n", aliases.join(" ")));
    }
    text.push_str("Host *\n\n");
    text
}

/// A name a `Host` line matches only itself by.
fn is_plain_alias(alias: &str) -> bool {
    !alias.is_empty()
        && !alias.starts_with('!')
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@%+[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_block_goes_first_and_the_rest_stays_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let original = "# mine\nUser ops\nHost web-01\n  Port 22\n";
        std::fs::write(&path, original).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let moves = vec![("web-01".to_string(), 2222), ("web-02".to_string(), 2222)];
        let backup = write(&path, &moves, "moved by fleet").unwrap().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("# moved by fleet\nHost web-01 web-02\n    Port 2222\nHost *\n\n{original}")
        );
        assert_eq!(std::fs::read_to_string(backup).unwrap(), original);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn names_that_would_match_other_hosts_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "Host *\n").unwrap();
        for alias in ["web-*", "!web", "a b", "x?"] {
            let err = write(&path, &[(alias.to_string(), 2222)], "x").unwrap_err();
            assert!(err.to_string().contains("not a plain host name"), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "Host *\n");
    }
}
