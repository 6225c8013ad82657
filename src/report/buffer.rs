//! `--buffer`: one block per host, printed whole when the host finishes,
//! so hosts' lines never interleave (as `pssh -i` shows them).
//!
//! ```text
//! ── web-01 ──
//! Linux web-01 6.1.0-18-amd64
//! ── web-02 · exit 1 ──
//! ! uname: unknown option
//! ```
//!
//! A host's output waits in a [`Transcript`] while it runs; the
//! [`SpoolStore`] keeps memory bounded however much the hosts print.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use anstyle::Style;

use crate::event::Event;
use crate::report::group::{ran, MEMORY_BUDGET};
use crate::report::prefix::Prefix;
use crate::report::sanitize::sanitize;
use crate::report::spool::SpoolStore;
use crate::report::transcript::Transcript;
use crate::report::{Output, Terminal};

/// Holds each host's output until it finishes.
pub(crate) struct BufferPrinter {
    color: bool,
    prefix: Prefix,
    store: SpoolStore,
    running: HashMap<Arc<str>, Transcript>,
}

impl BufferPrinter {
    /// Blocks headed by each host's [`Prefix`] label.
    pub(crate) fn new(color: bool, prefix: Prefix) -> BufferPrinter {
        BufferPrinter {
            color,
            prefix,
            store: SpoolStore::new(MEMORY_BUDGET),
            running: HashMap::new(),
        }
    }
}

impl Output for BufferPrinter {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        match event {
            Event::Output {
                host,
                stream,
                data,
                tail,
            } => self.running.entry(host.clone()).or_default().push(
                &mut self.store,
                *stream,
                data,
                *tail,
            ),
            Event::HostFinished { host, outcome, .. } => {
                let transcript = self.running.remove(host).unwrap_or_default();
                if ran(outcome) {
                    let out = term.stdout();
                    let bold = if self.color {
                        Style::new().bold()
                    } else {
                        Style::new()
                    };
                    let label = sanitize(self.prefix.label(host).unwrap_or(host));
                    write!(out, "{bold}── {label}{bold:#}")?;
                    if let Some(cause) = outcome.cause() {
                        write!(out, " · {}", sanitize(&cause.to_string()))?;
                    }
                    writeln!(out, " {bold}──{bold:#}")?;
                    transcript.write_lines(&self.store, term, self.color)?;
                }
                transcript.release(&mut self.store);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
