//! A place in a local file (ssh_config, known_hosts, an inventory), so that
//! every error about a file points at it the same way: `FILE:LINE`, or
//! `FILE` when the line is not known.

use std::fmt;
use std::path::PathBuf;

/// Where something was read from: a file and, when known, its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
}

impl Location {
    /// Line `line` (1-based) of `file`.
    pub fn new(file: impl Into<PathBuf>, line: usize) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
        }
    }

    /// Somewhere in `file`, when the reader could not say which line.
    pub fn without_line(file: impl Into<PathBuf>) -> Location {
        Location {
            file: file.into(),
            line: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn shows_file_and_line_or_only_the_file() {
        assert_eq!(
            Location::new("/etc/ssh/ssh_config", 14).to_string(),
            "/etc/ssh/ssh_config:14"
        );
        assert_eq!(
            Location::without_line("fleet.toml").to_string(),
            "fleet.toml"
        );
    }
}
