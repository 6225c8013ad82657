//! `--out-dir DIR`: each host's output in files, as `pssh -o/-e` keeps it.
//!
//! ```text
//! DIR/web-01.out      the exact bytes of its stdout
//! DIR/web-01.err      the exact bytes of its stderr
//! DIR/web-01.status   `ok exit 0`, `failed exit 3`, `unreachable connection refused`…
//! DIR/summary.json    the run: command, counts, and each host with its files
//! ```
//!
//! These are files, not a terminal, so nothing is escaped. Each file is
//! written under a temporary name in DIR and renamed into place when
//! complete, so a file under its final name is always whole. The
//! directory must be new or empty ([`prepare`]): a previous run's files
//! are never overwritten. Host names become file names through
//! `FileNames`, which never maps two hosts to one name.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tempfile::NamedTempFile;

use crate::atomic_file;
use crate::event::{Event, RunEnd, Stream};
use crate::outcome::Outcome;
use crate::report::json::Counts;
use crate::report::{Output, Terminal};

/// Creates `dir` (and its parents) for a run's files, or accepts it if it
/// exists and is empty. Called before the run starts, so that a directory
/// that cannot be used stops the run before any host is contacted.
pub fn prepare(dir: &Path) -> Result<(), String> {
    match fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(format!(
                "--out-dir {}: the directory is not empty (a previous run's files?); \
                 choose a new directory or remove this one",
                dir.display()
            )),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir_all(dir)
            .map_err(|e| format!("--out-dir {}: cannot create it: {e}", dir.display())),
        Err(e) => Err(format!("--out-dir {}: {e}", dir.display())),
    }
}

/// The file name base of each host: the alias where it is a safe file
/// name, else the alias with every other character replaced by `_` and,
/// so that two hosts never share a name, the first free `~N` suffix.
/// Names are compared without case, for case-insensitive file systems. A
/// name once given never changes.
struct FileNames {
    names: HashMap<Arc<str>, String>,
    taken: HashSet<String>,
}

impl FileNames {
    fn new(hosts: &[Arc<str>]) -> FileNames {
        let mut names = FileNames {
            names: HashMap::new(),
            taken: HashSet::from(["summary".to_string()]),
        };
        // Safe aliases first, so none of them is pushed aside by the
        // sanitized form of another.
        let (safe, unsafe_): (Vec<&Arc<str>>, Vec<&Arc<str>>) =
            hosts.iter().partition(|host| sanitize(host) == ***host);
        for host in safe.into_iter().chain(unsafe_) {
            names.name(host);
        }
        names
    }

    /// `host`'s name, given now if it has none yet.
    fn name(&mut self, host: &Arc<str>) -> &str {
        if !self.names.contains_key(host) {
            let base = sanitize(host);
            let mut name = base.clone();
            let mut n = 2;
            while !self.taken.insert(name.to_lowercase()) {
                name = format!("{base}~{n}");
                n += 1;
            }
            self.names.insert(host.clone(), name);
        }
        &self.names[host]
    }
}

/// Letters, digits and `.-_@+:` are kept; anything else (a `/`, a space, a
/// control character) becomes `_`, and a leading `.` (a hidden file, or
/// `..`) becomes `_` too.
fn sanitize(host: &str) -> String {
    let mut name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_@+:".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name.push('_');
    } else if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    name
}

/// Writes every host's files into a prepared directory.
pub(crate) struct OutDir {
    dir: PathBuf,
    command: String,
    names: FileNames,
    /// The files of hosts still running, under temporary names.
    open: HashMap<Arc<str>, [Option<NamedTempFile>; 2]>,
    /// Every finished host, in the order it finished.
    hosts: Vec<HostEntry>,
}

/// One host in `summary.json`.
#[derive(Serialize)]
struct HostEntry {
    host: String,
    /// `DIR/<file>.out`, `.err`, `.status`.
    file: String,
    status: &'static str,
    exit_code: Option<u32>,
    signal: Option<String>,
    error: Option<String>,
    duration_ms: u64,
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    command: &'a str,
    hosts: &'a [HostEntry],
    statuses: Counts,
    interrupted: bool,
    exit_code: i32,
    duration_ms: u64,
}

impl OutDir {
    /// Files in `dir`, which [`prepare`] accepted, for a run of `command`.
    pub(crate) fn new(dir: PathBuf, command: String) -> OutDir {
        OutDir {
            dir,
            command,
            names: FileNames::new(&[]),
            open: HashMap::new(),
            hosts: Vec::new(),
        }
    }

    fn finish_host(
        &mut self,
        host: &Arc<str>,
        outcome: &Outcome,
        duration: Duration,
    ) -> io::Result<()> {
        let name = self.names.name(host).to_string();
        let files = self.open.remove(host).unwrap_or_default();
        for (file, extension) in files.into_iter().zip(["out", "err"]) {
            let path = self.dir.join(format!("{name}.{extension}"));
            match file {
                Some(file) => {
                    file.as_file().sync_data()?;
                    file.persist(&path).map_err(|e| e.error)?;
                }
                None => atomic_file::write(&path, b"")?,
            }
        }
        let detail = match outcome.cause() {
            Some(cause) => cause.to_string(),
            None => "exit 0".to_string(),
        };
        let status = format!(
            "{} {}\n",
            outcome.status().as_str(),
            detail.replace('\n', " ")
        );
        atomic_file::write(&self.dir.join(format!("{name}.status")), status.as_bytes())?;
        self.hosts.push(HostEntry {
            host: host.to_string(),
            file: name,
            status: outcome.status().as_str(),
            exit_code: outcome.exit_code(),
            signal: outcome.signal().map(str::to_string),
            error: outcome.cause().map(ToString::to_string),
            duration_ms: millis(duration),
        });
        Ok(())
    }
}

impl Output for OutDir {
    fn begin(&mut self, hosts: &[Arc<str>], _: &mut Terminal) -> io::Result<()> {
        self.names = FileNames::new(hosts);
        Ok(())
    }

    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        match event {
            Event::Output {
                host, stream, data, ..
            } => {
                let slot = match stream {
                    Stream::Stdout => 0,
                    Stream::Stderr => 1,
                };
                let name = self.names.name(host);
                let files = self.open.entry(host.clone()).or_default();
                let file = match &mut files[slot] {
                    Some(file) => file,
                    empty => empty.insert(
                        tempfile::Builder::new()
                            .prefix(&format!(".{name}."))
                            .tempfile_in(&self.dir)?,
                    ),
                };
                file.write_all(data)
            }
            Event::HostFinished {
                host,
                outcome,
                duration,
                ..
            } => self.finish_host(host, outcome, *duration),
            _ => Ok(()),
        }
    }

    fn finish(&mut self, end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let statuses = Counts(end.stats);
        let summary = SummaryFile {
            command: &self.command,
            hosts: &self.hosts,
            statuses,
            interrupted: end.stats.interrupted,
            exit_code: end.exit_code,
            duration_ms: millis(end.elapsed),
        };
        let mut json = serde_json::to_vec_pretty(&summary)?;
        json.push(b'\n');
        atomic_file::write(&self.dir.join("summary.json"), &json)?;
        writeln!(
            term.stderr(),
            "fleet: each host's output is in {}",
            self.dir.display()
        )
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(hosts: &[&str]) -> Vec<String> {
        let hosts: Vec<Arc<str>> = hosts.iter().map(|h| Arc::from(*h)).collect();
        let mut names = FileNames::new(&hosts);
        hosts.iter().map(|h| names.name(h).to_string()).collect()
    }

    #[test]
    fn safe_aliases_are_their_own_file_names() {
        assert_eq!(
            names(&["web-01", "db.example.com", "10.0.0.1", "fe80::1"]),
            ["web-01", "db.example.com", "10.0.0.1", "fe80::1"]
        );
    }

    #[test]
    fn unsafe_names_are_replaced_and_never_collide() {
        assert_eq!(
            names(&["a/b", "a_b", "a b", "..", ".hidden", "summary", "WEB", "web"]),
            [
                "a_b~2",
                "a_b",
                "a_b~3",
                "_.",
                "_hidden",
                "summary~2",
                "WEB",
                "web~2"
            ]
        );
    }

    #[test]
    fn a_host_named_late_takes_a_free_name() {
        let hosts: Vec<Arc<str>> = vec![Arc::from("a/b")];
        let mut names = FileNames::new(&hosts);
        assert_eq!(names.name(&Arc::from("a_b")), "a_b~2");
        assert_eq!(names.name(&hosts[0]), "a_b");
    }

    #[test]
    fn a_directory_with_files_is_refused_an_empty_one_taken() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("a/b");
        prepare(&new).unwrap();
        prepare(&new).unwrap();
        fs::write(new.join("web-01.out"), "old").unwrap();
        let error = prepare(&new).unwrap_err();
        assert!(error.contains("is not empty"), "{error}");
    }
}
