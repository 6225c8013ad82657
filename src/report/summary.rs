//! The human summary printed on stderr when the run ends: one count line,
//! then the hosts that did not succeed, grouped by cause, with a hint for
//! each kind of failure.
//!
//! ```text
//! 52 hosts: 45 ok, 2 failed, 3 unreachable, 1 auth_failed, 1 host_key_changed (4.1s)
//! host_key_changed:
//!   host key differs from ~/.ssh/known_hosts:7: db-02
//!   hint: … then run `fleet known-hosts forget db-02` (or remove that line)
//! unreachable:
//!   connection timed out: web-[04-05]
//!   connection refused: web-06
//!   hint: check the address (HostName, DNS), …
//!   hint: the host answered but nothing listens on that port: …
//! ```

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::event::{Event, Outcome, Status};
use crate::report::hint::{hint, HOSTS};
use crate::report::sanitize::sanitize;
use crate::report::tally::Tally;
use crate::report::terminal::Terminal;
use crate::report::{Printer, RunClock};
use crate::target::nodeset;

/// Hosts named in one group line; folding keeps numbered hosts short
/// anyway, this bounds the line when names don't fold.
const MAX_LISTED: usize = 100;

/// Gathers how each host ended and prints the summary at `RunFinished`.
/// Keeps only the hosts that did not succeed, grouped as they arrive.
pub(crate) struct Summary {
    color: bool,
    tally: Tally,
    /// (status, sanitized cause) → hosts in the order they finished.
    groups: BTreeMap<(Status, String), Vec<Arc<str>>>,
}

impl Summary {
    pub(crate) fn new(color: bool) -> Summary {
        Summary {
            color,
            tally: Tally::default(),
            groups: BTreeMap::new(),
        }
    }

    fn write(&self, out: &mut Vec<u8>, elapsed: Duration) -> io::Result<()> {
        let n = self.tally.hosts();
        write!(out, "{n} {}", if n == 1 { "host" } else { "hosts" })?;
        let breakdown = self.tally.breakdown();
        if !breakdown.is_empty() {
            write!(out, ": {breakdown}")?;
        }
        let interrupted = if self.tally.interrupted() {
            "interrupted after "
        } else {
            ""
        };
        writeln!(out, " ({interrupted}{})", format_duration(elapsed))?;

        let mut groups: Vec<_> = self.groups.iter().collect();
        groups.sort_by_key(|&(key, hosts)| (severity(key.0), Reverse(hosts.len()), &key.1));
        for block in groups.chunk_by(|a, b| a.0 .0 == b.0 .0) {
            let Some(&((status, _), _)) = block.first() else {
                continue;
            };
            let style = self.status_style(*status);
            writeln!(out, "{style}{}{style:#}:", status.as_str())?;
            for ((_, cause), hosts) in block {
                writeln!(out, "  {cause}: {}", fold_listed(hosts))?;
            }
            self.write_hints(out, block)?;
        }
        Ok(())
    }

    /// Each distinct hint of one status block once, after its groups.
    fn write_hints(
        &self,
        out: &mut Vec<u8>,
        block: &[(&(Status, String), &Vec<Arc<str>>)],
    ) -> io::Result<()> {
        let mut hints: Vec<&str> = Vec::new();
        for ((status, cause), _) in block {
            if let Some(text) = hint(*status, cause) {
                if !hints.contains(&text) {
                    hints.push(text);
                }
            }
        }
        let style = self.hint_style();
        for text in hints {
            let text = if text.contains(HOSTS) {
                let all = block.iter().flat_map(|(_, hosts)| hosts.iter());
                text.replace(HOSTS, &nodeset::fold(all.map(|h| &**h)))
            } else {
                text.to_string()
            };
            writeln!(out, "  {style}hint{style:#}: {text}")?;
        }
        Ok(())
    }

    fn status_style(&self, status: Status) -> Style {
        match (self.color, status) {
            (false, _) => Style::new(),
            (true, Status::Skipped) => AnsiColor::Yellow.on_default().bold(),
            (true, _) => AnsiColor::Red.on_default().bold(),
        }
    }

    fn hint_style(&self) -> Style {
        if self.color {
            AnsiColor::Cyan.on_default().bold()
        } else {
            Style::new()
        }
    }
}

impl Printer for Summary {
    fn print(&mut self, event: &Event, clock: &RunClock, term: &mut Terminal) -> io::Result<()> {
        self.tally.record(event);
        match event {
            Event::HostFinished { host, outcome, .. } if outcome.status != Status::Ok => {
                let key = (outcome.status, cause(outcome));
                self.groups.entry(key).or_default().push(host.clone());
            }
            Event::RunFinished { .. } => self.write(term.stderr(), clock.elapsed())?,
            _ => {}
        }
        Ok(())
    }
}

/// What the group line says went wrong, safe to print: the error may carry
/// remote text such as a banner.
fn cause(outcome: &Outcome) -> String {
    match (&outcome.error, &outcome.signal) {
        (Some(error), _) => sanitize(error).into_owned(),
        (None, Some(signal)) => format!("killed by signal {}", sanitize(signal)),
        (None, None) => outcome.status.as_str().to_string(),
    }
}

/// Most severe first: a changed host key may be an attack, and hosts never
/// reached matter more than commands that ran and failed.
fn severity(status: Status) -> u8 {
    match status {
        Status::HostKeyChanged => 0,
        Status::HostKeyUnknown => 1,
        Status::AuthFailed => 2,
        Status::Unreachable => 3,
        Status::Error => 4,
        Status::Timeout => 5,
        Status::Failed => 6,
        Status::Skipped => 7,
        Status::Ok => 8,
    }
}

/// `web-[03,07-09]`, or `web-[01-99],… and 12 more` past [`MAX_LISTED`].
fn fold_listed(hosts: &[Arc<str>]) -> String {
    let folded = nodeset::fold(hosts.iter().take(MAX_LISTED).map(|h| &**h));
    match hosts.len().checked_sub(MAX_LISTED) {
        Some(more) if more > 0 => format!("{folded} and {more} more"),
        _ => folded,
    }
}

/// `0.3s`, `41.0s`, `2m05s`: tenths matter for quick runs, not long ones.
/// Rounds down, so a run of 59.99s never reads `60.0s`.
fn format_duration(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    if tenths < 600 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        let secs = d.as_secs();
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}
