//! Everything the user sees of a run.
//!
//! One loop hands every [`Event`] to the [`Reporters`], which pass it to
//! each [`Output`] in turn, so outputs need no locks. [`build`] picks the
//! outputs for the [`ReportOptions`] the caller decided on:
//!
//! * [`OutputMode::Lines`] (default): remote lines prefixed with their host
//!   as they arrive (`stream`), the prefix chosen by [`Prefix`];
//! * [`OutputMode::Json`]: JSON Lines on stdout (`json`);
//! * [`OutputMode::Buffer`]: one block per host when it ends (`buffer`);
//! * [`OutputMode::Grouped`] and [`OutputMode::Diff`]: hosts with identical
//!   output once, at the end, the odd groups as diffs with `Diff` (`group`,
//!   `diff`);
//! * [`OutputMode::LiveGrouped`]: identical lines grouped as they come
//!   (`live`);
//!
//! then, whatever the mode, the files asked for ([`Files`]: `out_dir`,
//! `html`, and the run's record in `record`); notices such as Ctrl-C on
//! stderr (`notices`); a progress bar on a terminal (`progress`); and the
//! human summary with hints on stderr at the end (`summary`), followed by
//! the compliance lists when the run checks its output (`compliance`).
//!
//! Outputs that print at the end keep what hosts sent in bounded memory
//! (`spool`, `transcript`).
//!
//! Outputs write into one [`Terminal`], which hides the progress bar while
//! anything else is printed and keeps going on stderr when stdout is gone.

mod audit;
mod buffer;
mod compliance;
mod diff;
mod group;
mod hint;
mod html;
mod json;
mod keyscan;
pub(crate) mod lines;
pub mod listing;
mod live;
mod notices;
pub mod out_dir;
mod own_names;
mod prefix;
mod progress;
mod record;
pub mod replay;
pub mod sanitize;
#[cfg(test)]
mod snapshot_tests;
mod spool;
mod sshd;
mod stream;
mod summary;
mod terminal;
#[cfg(test)]
mod testing;
mod transcript;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressDrawTarget;

use crate::event::{Event, RunEnd};
use audit::AuditPrinter;
use buffer::BufferPrinter;
use compliance::Compliance;
use group::GroupPrinter;
use html::HtmlReport;
use json::JsonPrinter;
pub use keyscan::KeyFormat;
use keyscan::KeyscanPrinter;
use live::LiveGroups;
use notices::Notices;
use out_dir::OutDir;
pub use prefix::Prefix;
use progress::Progress;
use record::RunRecorder;
use sshd::SshdPrinter;
use stream::StreamPrinter;
use summary::Summary;
pub use terminal::Terminal;

/// One way of showing a run, modelled on ripgrep's `Sink`: told when the
/// run begins, given every event in between, and told when it ends, when
/// it writes out what it has kept back. What it writes goes into the
/// [`Terminal`]'s buffers, which the caller flushes.
pub trait Output: Send {
    /// The run begins with these hosts, in run order.
    fn begin(&mut self, _hosts: &[Arc<str>], _term: &mut Terminal) -> io::Result<()> {
        Ok(())
    }

    /// Anything that happens between the beginning and the end.
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()>;

    /// The run is over.
    fn finish(&mut self, _end: &RunEnd, _term: &mut Terminal) -> io::Result<()> {
        Ok(())
    }
}

/// How remote output is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// `host | line` as lines arrive.
    Lines,
    /// JSON Lines on stdout.
    Json,
    /// One block per host, when it finishes (`--buffer`).
    Buffer,
    /// Hosts with identical output once, at the end (`-b`).
    Grouped,
    /// As [`OutputMode::Grouped`], the odd groups as diffs (`--diff`).
    Diff,
    /// Identical lines grouped as they arrive (`--group=live`).
    LiveGrouped,
    /// keyscan: the collected host keys in this format.
    HostKeys(KeyFormat),
    /// audit: the answers folded per value, or as JSON.
    Audit { json: bool },
    /// sshd get/set: values, diffs and changes folded per host, or JSON.
    Sshd { json: bool },
}

impl OutputMode {
    /// Whether stdout holds JSON Lines.
    pub fn is_json(self) -> bool {
        matches!(
            self,
            OutputMode::Json
                | OutputMode::HostKeys(KeyFormat::Json)
                | OutputMode::Audit { json: true }
                | OutputMode::Sshd { json: true }
        )
    }
}

/// What to show. The caller decides from the flags, `NO_COLOR` and whether
/// the streams are terminals, so outputs never look at the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    pub mode: OutputMode,
    /// ANSI colors in human output.
    pub color: bool,
    /// A progress bar on stderr.
    pub progress: bool,
    /// What streamed lines and buffered blocks are headed with.
    pub prefix: Prefix,
    /// Whether the run checks its output (`--expect`), so that the summary
    /// sorts hosts by compliance.
    pub checks: bool,
    /// Files written besides the terminal output.
    pub files: Files,
    /// Each alias's address, which grouping reads as that host's own.
    pub addresses: Addresses,
}

/// The address (HostName) of each alias.
pub type Addresses = Option<Arc<std::collections::HashMap<String, String>>>;

/// The files a run writes, each only when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The command, as the files record it.
    pub command: String,
    /// `--out-dir`: a directory [`out_dir::prepare`] accepted.
    pub out_dir: Option<PathBuf>,
    /// `--report`: the HTML page.
    pub html: Option<PathBuf>,
    /// `--rerun-file`: the failed hosts, one per line.
    pub rerun_file: Option<PathBuf>,
    /// The run's record for `@failed` ([`crate::last_run`]).
    pub last_run: Option<PathBuf>,
}

impl Files {
    /// No files at all.
    pub const NONE: Files = Files {
        command: String::new(),
        out_dir: None,
        html: None,
        rerun_file: None,
        last_run: None,
    };
}

/// Host names folded into ranges (`web-[001-040]`) and escaped for the
/// terminal: aliases come from local files, which are escaped like remote
/// text.
pub(crate) fn folded_hosts<'a>(hosts: impl IntoIterator<Item = &'a Arc<str>>) -> String {
    sanitize::sanitize(&crate::hosts::nodeset::fold(
        hosts.into_iter().map(|h| &**h),
    ))
    .into_owned()
}

/// Builds the outputs for `opts`, writing to `stdout` and `stderr`. Output
/// is buffered until [`Reporters::flush`], so the writers need no buffering
/// of their own.
pub fn build(
    opts: &ReportOptions,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
) -> Reporters {
    let bar = wants_bar(opts).then(|| {
        let bar = progress::bar(ProgressDrawTarget::stderr());
        // Keeps the spinner and elapsed time moving while hosts are silent.
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    Reporters::new(opts, Terminal::new(stdout, stderr, bar))
}

/// A bar would share stderr with nothing useful in JSON mode, and JSON
/// users are scripts.
fn wants_bar(opts: &ReportOptions) -> bool {
    opts.progress && !opts.mode.is_json()
}

/// The outputs of one run, fed in turn and flushed together.
pub struct Reporters {
    terminal: Terminal,
    outputs: Vec<Box<dyn Output>>,
    /// Outputs that failed are left out from then on; the others go on.
    failed: Vec<bool>,
}

impl Reporters {
    fn new(opts: &ReportOptions, terminal: Terminal) -> Reporters {
        let (color, addresses) = (opts.color, &opts.addresses);
        let mut outputs: Vec<Box<dyn Output>> = Vec::new();
        outputs.push(match opts.mode {
            OutputMode::Lines => Box::new(StreamPrinter::new(color, opts.prefix.clone())),
            OutputMode::Json => Box::new(JsonPrinter),
            OutputMode::Buffer => Box::new(BufferPrinter::new(color, opts.prefix.clone())),
            OutputMode::Grouped => Box::new(GroupPrinter::new(color, false, addresses.clone())),
            OutputMode::Diff => Box::new(GroupPrinter::new(color, true, addresses.clone())),
            OutputMode::LiveGrouped => Box::new(LiveGroups::new(color, addresses.clone())),
            OutputMode::HostKeys(format) => Box::new(KeyscanPrinter::new(format)),
            OutputMode::Audit { json } => Box::new(AuditPrinter::new(json)),
            OutputMode::Sshd { json } => Box::new(SshdPrinter::new(json)),
        });
        if opts.mode.is_json() && opts.mode != OutputMode::Json {
            // The per-host results and the summary, after each host's keys
            // or answers.
            outputs.push(Box::new(JsonPrinter));
        }
        let files = &opts.files;
        if let Some(dir) = &files.out_dir {
            outputs.push(Box::new(OutDir::new(dir.clone(), files.command.clone())));
        }
        if let Some(path) = &files.html {
            outputs.push(Box::new(HtmlReport::new(
                path.clone(),
                files.command.clone(),
                addresses.clone(),
            )));
        }
        if files.last_run.is_some() || files.rerun_file.is_some() {
            outputs.push(Box::new(RunRecorder::new(
                files.last_run.clone(),
                files.rerun_file.clone(),
                files.command.clone(),
            )));
        }
        outputs.push(Box::new(Notices));
        if terminal.bar().is_some() {
            outputs.push(Box::new(Progress));
        }
        // Last, so the bar is already gone when the summary is printed.
        outputs.push(Box::new(Summary::new(color)));
        if opts.checks {
            outputs.push(Box::new(Compliance::new(color)));
        }
        let failed = vec![false; outputs.len()];
        Reporters {
            terminal,
            outputs,
            failed,
        }
    }

    /// Hands `event` to every output that still works.
    pub fn report(&mut self, event: &Event) {
        for (output, failed) in self.outputs.iter_mut().zip(&mut self.failed) {
            if *failed {
                continue;
            }
            let result = match event {
                Event::RunStarted { hosts } => output.begin(hosts, &mut self.terminal),
                Event::RunFinished(end) => output.finish(end, &mut self.terminal),
                other => output.event(other, &mut self.terminal),
            };
            if let Err(e) = result {
                *failed = true;
                let _ = writeln!(
                    self.terminal.stderr(),
                    "fleet: warning: an output failed and stops here: {e}"
                );
            }
        }
    }

    /// How many bytes of output wait for [`Reporters::flush`].
    pub fn pending(&self) -> usize {
        self.terminal.pending()
    }

    /// Writes out everything reported so far. The caller flushes after each
    /// batch of events, so a busy run costs one write per batch, not one per
    /// line. A closed stdout only ends what goes there.
    pub fn flush(&mut self) {
        self.terminal.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testing::{
        err, exited, feed, finished, out, run, run_finished, started, Capture, ClosedPipe, Counter,
        PLAIN,
    };

    #[test]
    fn human_run_streams_lines_then_summarizes() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["web-1", "web-2", "web-10"]),
                out("web-10", "ready"),
                err("web-2", "df: /mnt: No such file or directory"),
                exited("web-10", 0),
                exited("web-2", 1),
                finished(
                    "web-1",
                    crate::cause::Cause::HostKeyUnknown {
                        name: "10.0.0.1".into(),
                        fingerprint: "ssh-ed25519 SHA256:abc".into(),
                    },
                ),
                run_finished(),
            ],
        );
        assert_eq!(stdout, "web-10 | ready\n");
        assert_eq!(
            stderr,
            "\
web-2  ! df: /mnt: No such file or directory
3 hosts: 1 ok, 1 failed, 1 host_key_unknown (4.1s)
host_key_unknown:
  host key for 10.0.0.1 is not in known_hosts (ssh-ed25519 SHA256:abc): web-1
  hint: known_hosts has no key for these hosts: verify their fingerprints out of band, then \
add them to known_hosts or run again with `-o StrictHostKeyChecking=accept-new`
failed:
  exit 1: web-2
  hint: the command ran but exited non-zero or was killed; to retry just these hosts: \
fleet run 'web-2' …
"
        );
    }

    #[test]
    fn a_closed_stdout_leaves_stderr_and_the_summary_working() {
        let stderr = Capture::default();
        let term = Terminal::new(Box::new(ClosedPipe), Box::new(stderr.clone()), None);
        let mut reporters = Reporters::new(&PLAIN, term);
        let events = [
            started(&["a"]),
            out("a", "x"),
            err("a", "y"),
            out("a", "z"),
            exited("a", 0),
            run_finished(),
        ];
        feed(&mut reporters, &mut Counter::default(), &events);
        assert_eq!(stderr.text(), "a ! y\n1 host: 1 ok (4.1s)\n");
    }

    #[test]
    fn bar_only_for_human_output_when_asked() {
        let bar = |mode, progress| {
            wants_bar(&ReportOptions {
                mode,
                progress,
                ..PLAIN
            })
        };
        assert!(bar(OutputMode::Lines, true));
        assert!(!bar(OutputMode::Lines, false));
        assert!(!bar(OutputMode::Json, true));
    }
}
