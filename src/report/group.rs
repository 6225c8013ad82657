//! `-b/--group`: hosts whose output is identical, shown once under a
//! header with their folded names and count, largest group first; with
//! `--diff`, every other group as a unified diff against the largest.
//!
//! ```text
//! ── web-[001-037,039-050] (49) ──
//! PasswordAuthentication no
//! ── web-038 (1) · differs · exit 1 ──
//! PasswordAuthentication yes
//! ```
//!
//! "Identical" is the same stdout, the same stderr and the same exit
//! status, once each host's own name and address are read as `{host}` and
//! `{address}` ([`OwnNames`]). Each host's output is hashed (SHA-256) as it
//! streams and kept in a [`Transcript`] until the host ends; then it joins the group with its
//! key, and only the first host of each group keeps its copy. Memory stays
//! bounded by the [`SpoolStore`] budget: past it, copies go to a temporary
//! file. Hosts that never ran the command (unreachable, skipped) are in no
//! group: the summary lists them.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use anstyle::{AnsiColor, Style};
use sha2::{Digest, Sha256};

use crate::event::{Event, RunEnd, Stream};
use crate::outcome::{Outcome, Status};
use crate::report::diff::unified_diff;
use crate::report::own_names::OwnNames;
use crate::report::sanitize::sanitize;
use crate::report::spool::SpoolStore;
use crate::report::transcript::{dim, Transcript};
use crate::report::Addresses;
use crate::report::{Output, Terminal};

/// Memory kept for outputs before they spill to a temporary file.
pub(crate) const MEMORY_BUDGET: usize = 32 * 1024 * 1024;

/// Collects hosts into groups of identical output, in bounded memory.
pub(crate) struct Grouper {
    store: SpoolStore,
    addresses: Addresses,
    running: HashMap<Arc<str>, Running>,
    groups: Vec<Group>,
    by_key: HashMap<Key, usize>,
    /// Each host's place in the run, which orders groups of one size.
    order: HashMap<Arc<str>, usize>,
}

/// What makes two hosts' outputs identical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    stdout: [u8; 32],
    stderr: [u8; 32],
    /// How the command ended, as the summary words it (`exit 3`…); empty
    /// for ok.
    ending: String,
}

/// A host's output so far.
struct Running {
    names: OwnNames,
    transcript: Transcript,
    stdout: Sha256,
    stderr: Sha256,
}

impl Running {
    fn new(host: &str, addresses: &Addresses) -> Running {
        let address = addresses.as_ref().and_then(|all| all.get(host));
        Running {
            names: OwnNames::new(host, address.map(String::as_str)),
            transcript: Transcript::default(),
            stdout: Sha256::new(),
            stderr: Sha256::new(),
        }
    }
}

/// Hosts with identical output, and one copy of it.
pub(crate) struct Group {
    /// In the order they finished.
    pub(crate) hosts: Vec<Arc<str>>,
    /// The status its hosts share.
    pub(crate) status: Status,
    /// How the command ended (`exit 3`, a mismatch…); empty when ok.
    pub(crate) ending: String,
    pub(crate) transcript: Transcript,
}

impl Grouper {
    /// Groups kept in `budget` bytes of memory, each host's own name and
    /// its address from `addresses` read as placeholders.
    pub(crate) fn new(budget: usize, addresses: Addresses) -> Grouper {
        Grouper {
            store: SpoolStore::new(budget),
            addresses,
            running: HashMap::new(),
            groups: Vec::new(),
            by_key: HashMap::new(),
            order: HashMap::new(),
        }
    }

    /// The run's hosts, in run order.
    pub(crate) fn begin(&mut self, hosts: &[Arc<str>]) {
        self.order = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
    }

    /// Takes output and host ends in; other events are no concern of it.
    pub(crate) fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Output {
                host,
                stream,
                data,
                tail,
            } => {
                let addresses = &self.addresses;
                let running = self
                    .running
                    .entry(host.clone())
                    .or_insert_with(|| Running::new(host, addresses));
                let hasher = match stream {
                    Stream::Stdout => &mut running.stdout,
                    Stream::Stderr => &mut running.stderr,
                };
                let mut text = Vec::with_capacity(data.len());
                running
                    .names
                    .normalize(data, &mut text, &mut |key| hasher.update(key));
                running
                    .transcript
                    .push(&mut self.store, *stream, &text, *tail)
            }
            Event::HostFinished { host, outcome, .. } => {
                let running = match self.running.remove(host) {
                    Some(running) => running,
                    None => Running::new(host, &self.addresses),
                };
                self.finish(host, outcome, running)
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self, host: &Arc<str>, outcome: &Outcome, running: Running) -> io::Result<()> {
        if !ran(outcome) {
            running.transcript.release(&mut self.store);
            return Ok(());
        }
        let key = Key {
            stdout: running.stdout.finalize().into(),
            stderr: running.stderr.finalize().into(),
            ending: outcome.cause().map(ToString::to_string).unwrap_or_default(),
        };
        match self.by_key.get(&key) {
            Some(&index) => {
                self.groups[index].hosts.push(host.clone());
                running.transcript.release(&mut self.store);
            }
            None => {
                let mut transcript = running.transcript;
                transcript.seal(&mut self.store)?;
                self.by_key.insert(key.clone(), self.groups.len());
                self.groups.push(Group {
                    hosts: vec![host.clone()],
                    status: outcome.status(),
                    ending: key.ending,
                    transcript,
                });
            }
        }
        Ok(())
    }

    /// `host`'s place in the run; after every listed host if not listed.
    pub(crate) fn place(&self, host: &str) -> usize {
        self.order.get(host).copied().unwrap_or(usize::MAX)
    }

    /// The groups, largest first (ties: the one with the host that comes
    /// first in the run), and the store that holds their outputs.
    pub(crate) fn groups(&mut self) -> (&[Group], &SpoolStore) {
        let order = &self.order;
        let first = |group: &Group| {
            let places = group.hosts.iter().map(|h| order.get(h).copied());
            places.flatten().min().unwrap_or(usize::MAX)
        };
        // A stable sort keeps the finishing order among hosts not listed.
        self.groups
            .sort_by_key(|group| (std::cmp::Reverse(group.hosts.len()), first(group)));
        (&self.groups, &self.store)
    }
}

/// Whether the host ran the command, so that it has an output to group:
/// hosts never reached or never started have none.
pub(crate) fn ran(outcome: &Outcome) -> bool {
    !outcome.unreached() && !matches!(outcome.status(), Status::Skipped | Status::Interrupted)
}

impl Group {
    /// `web-[001-037,039-050]`, escaped for display: aliases come from
    /// local files, which are escaped like remote text.
    pub(crate) fn folded(&self) -> String {
        super::folded_hosts(&self.hosts)
    }
}

/// Prints the groups once the run is over.
pub(crate) struct GroupPrinter {
    grouper: Grouper,
    color: bool,
    diff: bool,
}

/// Outputs larger than this are not diffed: a diff of them would not be
/// read, and would cost their size in memory.
const DIFF_LIMIT: u64 = 4 * 1024 * 1024;

impl GroupPrinter {
    /// Groups as `-b` shows them, or with `diff`, as `--diff` does.
    pub(crate) fn new(color: bool, diff: bool, addresses: Addresses) -> GroupPrinter {
        GroupPrinter {
            grouper: Grouper::new(MEMORY_BUDGET, addresses),
            color,
            diff,
        }
    }
}

/// `── web-038 (1) · differs · exit 1 ──`
fn header(out: &mut Vec<u8>, group: &Group, differs: bool, color: bool) -> io::Result<()> {
    let (bold, odd) = if color {
        (Style::new().bold(), AnsiColor::Yellow.on_default().bold())
    } else {
        (Style::new(), Style::new())
    };
    write!(
        out,
        "{bold}── {} ({}){bold:#}",
        group.folded(),
        group.hosts.len()
    )?;
    if differs {
        write!(out, " · {odd}differs{odd:#}")?;
    }
    if !group.ending.is_empty() {
        write!(out, " · {}", sanitize(&group.ending))?;
    }
    writeln!(out, " {bold}──{bold:#}")
}

impl Output for GroupPrinter {
    fn begin(&mut self, hosts: &[Arc<str>], _: &mut Terminal) -> io::Result<()> {
        self.grouper.begin(hosts);
        Ok(())
    }

    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        self.grouper.event(event)
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let (color, diff) = (self.color, self.diff);
        let (groups, store) = self.grouper.groups();
        let Some((largest, others)) = groups.split_first() else {
            return Ok(());
        };
        header(term.stdout(), largest, false, color)?;
        largest.transcript.write_lines(store, term, color)?;
        let reference = if diff {
            diffable(&largest.transcript, store)?
        } else {
            None
        };
        for group in others {
            header(term.stdout(), group, true, color)?;
            if !diff {
                group.transcript.write_lines(store, term, color)?;
                continue;
            }
            let text = diffable(&group.transcript, store)?;
            write_diff(
                term.stdout(),
                reference.as_deref(),
                text.as_deref(),
                largest,
                group,
                color,
            )?;
        }
        Ok(())
    }
}

/// The display text of `transcript`, unless it is too large to diff.
pub(crate) fn diffable(transcript: &Transcript, store: &SpoolStore) -> io::Result<Option<String>> {
    if transcript.bytes() > DIFF_LIMIT {
        return Ok(None);
    }
    Ok(Some(transcript.text(store, usize::MAX)?.0))
}

/// The diff of `group` against `largest`, or why there is none to show.
fn write_diff(
    out: &mut Vec<u8>,
    reference: Option<&str>,
    text: Option<&str>,
    largest: &Group,
    group: &Group,
    color: bool,
) -> io::Result<()> {
    let note = dim(color);
    match (reference, text) {
        (Some(reference), Some(text)) if reference == text => writeln!(
            out,
            "{note}(the same output as {}; only the exit status differs){note:#}",
            largest.folded()
        ),
        (Some(reference), Some(text)) => {
            let diff = unified_diff(reference, text, &largest.folded(), &group.folded(), color);
            out.write_all(diff.as_bytes())
        }
        _ => writeln!(
            out,
            "{note}(too large to diff: {} bytes against {}; --out-dir keeps each host's output \
             in files to compare){note:#}",
            group.transcript.bytes(),
            largest.transcript.bytes()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use crate::report::testing::{exited, out, run, run_finished, started, PLAIN};
    use crate::report::{OutputMode, ReportOptions};

    #[test]
    fn hosts_that_differ_only_in_their_own_names_are_one_group() {
        let addresses = HashMap::from([
            ("web-1".to_string(), "10.0.0.1".to_string()),
            ("web-2".to_string(), "10.0.0.2".to_string()),
            ("web-3".to_string(), "10.0.0.3".to_string()),
        ]);
        let opts = ReportOptions {
            mode: OutputMode::Grouped,
            addresses: Some(Arc::new(addresses)),
            ..PLAIN
        };
        let (stdout, _) = run(
            opts,
            &[
                started(&["web-1", "web-2", "web-3"]),
                out("web-1", "# web-1\nListenAddress 10.0.0.1"),
                out("web-2", "# web-2\nListenAddress 10.0.0.2"),
                // web-3 carries web-1's file: that must stand out.
                out("web-3", "# web-1\nListenAddress 10.0.0.1"),
                exited("web-1", 0),
                exited("web-2", 0),
                exited("web-3", 0),
                run_finished(),
            ],
        );
        assert_eq!(
            stdout,
            "── web-[1-2] (2) ──\n# {host}\nListenAddress {address}\n\
             ── web-3 (1) · differs ──\n# web-1\nListenAddress 10.0.0.1\n"
        );
    }
}
