//! Writes the run's record for the next run (`@failed`, `@ok`; see
//! [`crate::last_run`]) and, with `--rerun-file FILE`, the failed hosts for
//! other tools, one per line. Both are written when the run ends, each file
//! replaced whole and atomically.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::SystemTime;

use crate::atomic_file;
use crate::event::{Event, RunEnd};
use crate::last_run::{HostRecord, LastRun};
use crate::outcome::Status;
use crate::report::{Output, Terminal};

/// The record of how every host ended.
pub(crate) struct RunRecorder {
    /// The last run's record, replaced at the end.
    record: Option<PathBuf>,
    /// `--rerun-file`.
    rerun_file: Option<PathBuf>,
    command: String,
    hosts: Vec<HostRecord>,
}

impl RunRecorder {
    pub(crate) fn new(
        record: Option<PathBuf>,
        rerun_file: Option<PathBuf>,
        command: String,
    ) -> RunRecorder {
        RunRecorder {
            record,
            rerun_file,
            command,
            hosts: Vec::new(),
        }
    }
}

impl Output for RunRecorder {
    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        if let Event::HostFinished { host, outcome, .. } = event {
            self.hosts.push(HostRecord {
                host: host.to_string(),
                status: outcome.status().as_str().to_string(),
                cause: outcome.cause().map(ToString::to_string),
            });
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let record = LastRun {
            command: std::mem::take(&mut self.command),
            finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            hosts: std::mem::take(&mut self.hosts),
        };
        if let Some(path) = &self.rerun_file {
            let failed = record
                .hosts
                .iter()
                .filter(|h| !Status::parse(&h.status).is_some_and(Status::is_success));
            let list: String = failed.map(|h| format!("{}\n", h.host)).collect();
            atomic_file::write(path, list.as_bytes())?;
        }
        if let Some(path) = &self.record {
            if let Err(e) = record.save(path) {
                // The run itself went fine; only re-runs lose their record.
                writeln!(
                    term.stderr(),
                    "fleet: warning: could not record this run in {} ({e}); @failed and @ok \
                     still mean the run before",
                    path.display()
                )?;
            }
        }
        Ok(())
    }
}
