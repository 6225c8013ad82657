//! `--group=live`: output grouped line by line while the run goes, as
//! `clush -bL` does, for commands that run long.
//!
//! ```text
//! web-[001-050] | Reading package lists...
//! web-[001-049] | 0 upgraded, 0 newly installed
//! web-050       | 3 upgraded, 0 newly installed
//! ```
//!
//! The n-th line of every host is one row. A row is printed, each distinct
//! text once with the folded hosts that printed it, as soon as every
//! running host has printed its n-th line or finished; hosts that start
//! later print their rows again when those settle. Rows waiting for a slow
//! host are held up to [`PENDING_LIMIT`] bytes; past it the oldest row is
//! printed with the hosts it has, so memory stays bounded.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};

use crate::event::{Event, RunEnd, Stream};
use crate::hosts::nodeset;
use crate::report::lines::lines;
use crate::report::sanitize::sanitize_bytes;
use crate::report::{Output, Terminal};

/// Bytes of rows held back for slow hosts.
const PENDING_LIMIT: usize = 4 * 1024 * 1024;

/// Line rows of stdout and stderr, printed as they settle.
pub(crate) struct LiveGroups {
    color: bool,
    /// Running hosts and how many lines of each stream they have printed.
    running: HashMap<Arc<str>, [usize; 2]>,
    /// Rows not printed yet, by stream and line number.
    rows: BTreeMap<(usize, usize), Row>,
    pending: usize,
}

/// The n-th line of some hosts: each distinct text with its hosts, in the
/// order the texts first came.
#[derive(Default)]
struct Row {
    texts: Vec<(Vec<u8>, Vec<Arc<str>>)>,
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

impl LiveGroups {
    pub(crate) fn new(color: bool) -> LiveGroups {
        LiveGroups {
            color,
            running: HashMap::new(),
            rows: BTreeMap::new(),
            pending: 0,
        }
    }

    fn add(&mut self, host: &Arc<str>, stream: Stream, line: &[u8]) {
        let counts = self.running.entry(host.clone()).or_default();
        let number = counts[index(stream)];
        counts[index(stream)] += 1;
        let row = self.rows.entry((index(stream), number)).or_default();
        match row.texts.iter_mut().find(|(text, _)| text == line) {
            Some((_, hosts)) => hosts.push(host.clone()),
            None => {
                self.pending += line.len();
                row.texts.push((line.to_vec(), vec![host.clone()]));
            }
        }
    }

    /// Prints every row that no running host can add to any more, in
    /// order per stream; with `all`, every row.
    fn settle(&mut self, term: &mut Terminal, all: bool) -> io::Result<()> {
        for stream in [0, 1] {
            let reached = self.running.values().map(|counts| counts[stream]).min();
            let range = (stream, 0)..(stream + 1, 0);
            while let Some((&key, _)) = self.rows.range(range.clone()).next() {
                let settled = reached.is_none_or(|reached| key.1 < reached);
                if !(all || settled || self.pending > PENDING_LIMIT) {
                    break;
                }
                if let Some(row) = self.rows.remove(&key) {
                    self.print(term, stream, row)?;
                }
            }
        }
        Ok(())
    }

    fn print(&mut self, term: &mut Terminal, stream: usize, mut row: Row) -> io::Result<()> {
        // The text most hosts share first; equals keep their order.
        row.texts
            .sort_by_key(|(_, hosts)| std::cmp::Reverse(hosts.len()));
        let folded: Vec<String> = row
            .texts
            .iter()
            .map(|(_, hosts)| nodeset::fold(hosts.iter().map(|h| &**h)))
            .collect();
        let width = folded.iter().map(|f| f.chars().count()).max().unwrap_or(0);
        let (out, sign, marker) = if stream == 0 {
            (term.stdout(), '|', Style::new())
        } else {
            let marker = if self.color {
                AnsiColor::Red.on_default().bold()
            } else {
                Style::new()
            };
            (term.stderr(), '!', marker)
        };
        for ((text, _), hosts) in row.texts.iter().zip(&folded) {
            self.pending -= text.len();
            let pad = width - hosts.chars().count();
            writeln!(
                out,
                "{hosts}{:pad$} {marker}{sign}{marker:#} {}",
                "",
                sanitize_bytes(text)
            )?;
        }
        Ok(())
    }
}

impl Output for LiveGroups {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        match event {
            Event::HostStarted { host, .. } => {
                self.running.insert(host.clone(), [0, 0]);
                Ok(())
            }
            Event::Output {
                host,
                stream,
                data,
                tail,
            } => {
                for line in lines(data, *tail) {
                    self.add(host, *stream, line);
                }
                self.settle(term, false)
            }
            Event::HostFinished { host, .. } => {
                self.running.remove(host);
                self.settle(term, false)
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        self.settle(term, true)
    }
}
