//! With `--expect`, the run is a compliance check: after the summary,
//! the folded lists of hosts that passed, failed, and could not be checked.
//!
//! ```text
//! compliant (49): web-[001-037,039-050]
//! not compliant (1): web-038
//! not checked (2): bad-down,bad-tarpit
//! ```

use std::io::{self, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};

use crate::event::{Event, RunEnd};
use crate::outcome::Status;
use crate::report::{Output, Terminal};

/// Sorts hosts by whether they passed the checks.
pub(crate) struct Compliance {
    color: bool,
    compliant: Vec<Arc<str>>,
    not_compliant: Vec<Arc<str>>,
    not_checked: Vec<Arc<str>>,
}

impl Compliance {
    pub(crate) fn new(color: bool) -> Compliance {
        Compliance {
            color,
            compliant: Vec::new(),
            not_compliant: Vec::new(),
            not_checked: Vec::new(),
        }
    }
}

impl Output for Compliance {
    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        if let Event::HostFinished { host, outcome, .. } = event {
            let list = match outcome.status() {
                Status::Ok => &mut self.compliant,
                Status::Mismatch => &mut self.not_compliant,
                _ => &mut self.not_checked,
            };
            list.push(host.clone());
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let paint = |color: AnsiColor| {
            if self.color {
                color.on_default().bold()
            } else {
                Style::new()
            }
        };
        let out = term.stderr();
        for (label, hosts, style) in [
            ("compliant", &self.compliant, paint(AnsiColor::Green)),
            ("not compliant", &self.not_compliant, paint(AnsiColor::Red)),
            ("not checked", &self.not_checked, paint(AnsiColor::Yellow)),
        ] {
            if hosts.is_empty() && label == "not checked" {
                continue;
            }
            let folded = super::folded_hosts(hosts);
            let folded = if folded.is_empty() { "none" } else { &folded };
            writeln!(out, "{style}{label}{style:#} ({}): {folded}", hosts.len())?;
        }
        Ok(())
    }
}
