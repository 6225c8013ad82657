//! The record of the last run, for re-runs: `fleet run @failed 'same
//! command'` retries the hosts that did not succeed last time.
//!
//! Every `fleet run` records, as it ends, each host's status and cause in
//! `$XDG_STATE_HOME/fleet/last-run.json` (by default
//! `~/.local/state/fleet/last-run.json`). The file is replaced whole and
//! atomically ([`crate::atomic_file`]), so two runs at once never leave a
//! mix of both: "last time" is the run that *finished* last, and its record
//! is complete.
//!
//! Selectors read it: `@failed` is every host that did not end `ok`,
//! `@failed:STATUS` those that ended with that status (`@failed:unreachable`),
//! and `@ok` those that succeeded.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file;
use crate::outcome::Status;

/// The name of the record in the state directory.
const FILE: &str = "last-run.json";

/// What a run left behind for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// The command, as the remote shell read it.
    pub command: String,
    /// When the run ended, RFC 3339 in UTC.
    pub finished_at: String,
    /// Every host of the run, in the order they finished.
    pub hosts: Vec<HostRecord>,
}

/// How one host ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    pub host: String,
    /// As [`Status::as_str`] names it.
    pub status: String,
    /// Why it did not succeed; `None` when it did.
    pub cause: Option<String>,
}

/// Which hosts of the last run a selector stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFilter {
    /// `@failed`: every host that did not succeed.
    Failed,
    /// `@ok`: every host that succeeded (ok, changed or unchanged).
    Succeeded,
    /// `@failed:STATUS`: hosts that ended with this status.
    Status(Status),
}

/// Why the record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LastRunError {
    #[error("no run is recorded yet ({} does not exist); run fleet first", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read the last run's record {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("the last run's record {} is damaged ({reason}); delete it, and run fleet again", path.display())]
    Damaged { path: PathBuf, reason: String },
}

impl LastRun {
    /// Where the record lives: `$XDG_STATE_HOME/fleet/`, or
    /// `~/.local/state/fleet/` when that is unset or not absolute (as the
    /// XDG base directory specification says).
    pub fn path(home: &Path) -> PathBuf {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| home.join(".local/state"));
        state.join("fleet").join(FILE)
    }

    /// Reads the record at `path`.
    pub fn load(path: &Path) -> Result<LastRun, LastRunError> {
        let text = std::fs::read(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => LastRunError::Missing {
                path: path.to_path_buf(),
            },
            _ => LastRunError::Read {
                path: path.to_path_buf(),
                source,
            },
        })?;
        serde_json::from_slice(&text).map_err(|e| LastRunError::Damaged {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Replaces the record at `path` with this one, atomically.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        atomic_file::write(path, &json)
    }

    /// The hosts that `filter` picks.
    pub fn select(&self, filter: RunFilter) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|host| {
                let status = Status::parse(&host.status);
                match filter {
                    RunFilter::Failed => !status.is_some_and(Status::is_success),
                    RunFilter::Succeeded => status.is_some_and(Status::is_success),
                    RunFilter::Status(wanted) => status == Some(wanted),
                }
            })
            .map(|host| host.host.clone())
            .collect()
    }

    /// `fleet run 'uptime' at 2026-01-02T10:00:00Z: 48 ok, 2 unreachable`.
    pub fn describe(&self) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for status in Status::ALL {
            let n = self
                .hosts
                .iter()
                .filter(|host| host.status == status.as_str())
                .count();
            if n > 0 {
                counts.push((status.as_str().to_string(), n));
            }
        }
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        format!(
            "the last run, '{}' at {}, had {}",
            self.command,
            self.finished_at,
            if counts.is_empty() {
                "no hosts".to_string()
            } else {
                counts.join(", ")
            }
        )
    }
}

impl RunFilter {
    /// Parses the part of a selector after `@`: `failed`, `ok` or
    /// `failed:STATUS`; `None` for any other name (an inventory group).
    pub fn parse(name: &str) -> Option<Result<RunFilter, String>> {
        match name {
            "failed" => Some(Ok(RunFilter::Failed)),
            "ok" => Some(Ok(RunFilter::Succeeded)),
            _ => {
                let status = name.strip_prefix("failed:")?;
                Some(match Status::parse(status).filter(|s| !s.is_success()) {
                    None => Err(format!(
                        "'@{name}': '{status}' is not a failed status (one of {})",
                        failed_statuses()
                    )),
                    Some(status) => Ok(RunFilter::Status(status)),
                })
            }
        }
    }

    /// Whether `name` is taken by these selectors, so no inventory group
    /// may have it.
    pub fn reserves(name: &str) -> bool {
        name == "failed" || name == "ok" || name.starts_with("failed:")
    }
}

impl fmt::Display for RunFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFilter::Failed => f.write_str("@failed"),
            RunFilter::Succeeded => f.write_str("@ok"),
            RunFilter::Status(status) => write!(f, "@failed:{}", status.as_str()),
        }
    }
}

fn failed_statuses() -> String {
    let names: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| !s.is_success())
        .map(|s| s.as_str())
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LastRun {
        let host = |host: &str, status: &str, cause: Option<&str>| HostRecord {
            host: host.into(),
            status: status.into(),
            cause: cause.map(Into::into),
        };
        LastRun {
            command: "true".into(),
            finished_at: "2026-01-02T10:00:00Z".into(),
            hosts: vec![
                host("web-1", "ok", None),
                host("bad-down", "unreachable", Some("connection refused")),
                host(
                    "bad-auth",
                    "auth_failed",
                    Some("Permission denied (publickey)"),
                ),
                host("web-2", "mismatch", Some("no line matches 'x'")),
            ],
        }
    }

    #[test]
    fn filters_pick_hosts_by_status() {
        let record = record();
        assert_eq!(
            record.select(RunFilter::Failed),
            ["bad-down", "bad-auth", "web-2"]
        );
        assert_eq!(record.select(RunFilter::Succeeded), ["web-1"]);
        let unreachable = RunFilter::parse("failed:unreachable").unwrap().unwrap();
        assert_eq!(record.select(unreachable), ["bad-down"]);
        assert_eq!(
            record.describe(),
            "the last run, 'true' at 2026-01-02T10:00:00Z, had 1 ok, 1 mismatch, \
             1 unreachable, 1 auth_failed"
        );
    }

    #[test]
    fn selector_names_parse_or_say_what_is_wrong() {
        assert_eq!(RunFilter::parse("failed").unwrap(), Ok(RunFilter::Failed));
        assert_eq!(RunFilter::parse("ok").unwrap(), Ok(RunFilter::Succeeded));
        assert!(RunFilter::parse("failed:changed").unwrap().is_err());
        assert!(RunFilter::parse("web").is_none());
        let error = RunFilter::parse("failed:nope").unwrap().unwrap_err();
        assert!(
            error.starts_with(
                "'@failed:nope': 'nope' is not a failed status (one of rolled_back, failed, mismatch"
            ),
            "{error}"
        );
        assert!(RunFilter::parse("failed:ok").unwrap().is_err());
        assert_eq!(
            RunFilter::parse("failed:timeout")
                .unwrap()
                .unwrap()
                .to_string(),
            "@failed:timeout"
        );
    }

    #[test]
    fn a_saved_record_loads_back_and_a_missing_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/fleet/last-run.json");
        assert!(matches!(
            LastRun::load(&path),
            Err(LastRunError::Missing { .. })
        ));
        record().save(&path).unwrap();
        assert_eq!(LastRun::load(&path).unwrap(), record());
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            LastRun::load(&path),
            Err(LastRunError::Damaged { .. })
        ));
    }
}
