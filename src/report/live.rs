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
//! text once with the folded hosts that printed it (each host's own name
//! and address read as `{host}` and `{address}`, as `-b` reads them; see
//! `own_names`), as soon as every running host has printed its n-th line
//! or finished; hosts that start later print their rows again when those
//! settle. Rows waiting for a slow
//! host are held up to [`PENDING_LIMIT`] bytes; past it the oldest row is
//! printed with the hosts it has, so memory stays bounded.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};

use crate::event::{Event, RunEnd, Stream};
use crate::report::lines::lines;
use crate::report::own_names::OwnNames;
use crate::report::sanitize::push_sanitized;
use crate::report::{Addresses, Output, Terminal};

/// Bytes of rows held back for slow hosts.
const PENDING_LIMIT: usize = 4 * 1024 * 1024;

/// Line rows of stdout and stderr, printed as they settle.
pub(crate) struct LiveGroups {
    color: bool,
    addresses: Addresses,
    /// Running hosts and how many lines of each stream they have printed.
    running: HashMap<Arc<str>, [usize; 2]>,
    /// The own names of hosts that printed something.
    names: HashMap<Arc<str>, OwnNames>,
    /// Rows not printed yet, by stream and line number.
    rows: BTreeMap<(usize, usize), Row>,
    pending: usize,
}

/// The n-th line of some hosts: each distinct text with its hosts, in the
/// order the texts first came.
#[derive(Default)]
struct Row {
    texts: Vec<Text>,
}

/// One text of a row: what identifies it, what is shown, and who printed
/// it.
struct Text {
    key: Vec<u8>,
    shown: Vec<u8>,
    hosts: Vec<Arc<str>>,
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

impl LiveGroups {
    pub(crate) fn new(color: bool, addresses: Addresses) -> LiveGroups {
        LiveGroups {
            color,
            addresses,
            running: HashMap::new(),
            names: HashMap::new(),
            rows: BTreeMap::new(),
            pending: 0,
        }
    }

    fn add(&mut self, host: &Arc<str>, stream: Stream, line: &[u8]) {
        let addresses = &self.addresses;
        let names = self.names.entry(host.clone()).or_insert_with(|| {
            let address = addresses.as_ref().and_then(|all| all.get(&**host));
            OwnNames::new(host, address.map(String::as_str))
        });
        let (mut key, mut shown) = (Vec::new(), Vec::new());
        names.normalize(line, &mut shown, &mut |part| key.extend_from_slice(part));
        let counts = self.running.entry(host.clone()).or_default();
        let number = counts[index(stream)];
        counts[index(stream)] += 1;
        let row = self.rows.entry((index(stream), number)).or_default();
        match row.texts.iter_mut().find(|text| text.key == key) {
            Some(text) => text.hosts.push(host.clone()),
            None => {
                self.pending += key.len() + shown.len();
                row.texts.push(Text {
                    key,
                    shown,
                    hosts: vec![host.clone()],
                });
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
            .sort_by_key(|text| std::cmp::Reverse(text.hosts.len()));
        let folded: Vec<String> = row
            .texts
            .iter()
            .map(|text| super::folded_hosts(&text.hosts))
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
        for (text, hosts) in row.texts.iter().zip(&folded) {
            self.pending -= text.key.len() + text.shown.len();
            let pad = width - hosts.chars().count();
            write!(out, "{hosts}{:pad$} {marker}{sign}{marker:#} ", "")?;
            push_sanitized(out, &text.shown);
            out.push(b'\n');
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
                self.names.remove(host);
                self.settle(term, false)
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        self.settle(term, true)
    }
}
