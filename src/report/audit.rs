//! What `fleet audit` prints: each answer folded over the hosts that gave
//! it, so a fleet reads as a few lines however many hosts it has.
//!
//! ```text
//! version:
//!   web-[001-200]: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7
//! auth:
//!   web-[001-040]: publickey
//!   web-[041-050]: publickey,password
//! ```
//!
//! With `--json`, one `audit` object per host instead, before its result.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde_json::json;

use crate::event::{Event, RunEnd};
use crate::finding::Finding;
use crate::plan::audit::AuditReport;
use crate::report::sanitize::sanitize;
use crate::report::{Output, Terminal};

/// How a report answers one aspect: one value, or several (warnings).
type Answer = fn(&AuditReport) -> Vec<String>;

/// The aspects shown, in order, each with how a report answers it.
const ASPECTS: &[(&str, Answer)] = &[
    ("version", |r| vec![r.version.clone()]),
    ("host keys", |r| vec![r.host_keys.join(",")]),
    ("kex", |r| vec![r.kex.join(",")]),
    ("ciphers", |r| vec![r.ciphers.join(",")]),
    ("macs", |r| vec![r.macs.join(",")]),
    ("auth", |r| vec![r.auth_methods.join(",")]),
    ("known_hosts", |r| vec![r.known_hosts.to_string()]),
    ("warnings", |r| r.warnings.clone()),
];

/// Gathers every host's answers and prints them folded at the end, or each
/// host's as JSON as it finishes.
pub(crate) struct AuditPrinter {
    json: bool,
    /// Per aspect: answer → hosts.
    answers: Vec<BTreeMap<String, Vec<Arc<str>>>>,
}

impl AuditPrinter {
    pub(crate) fn new(json: bool) -> AuditPrinter {
        AuditPrinter {
            json,
            answers: vec![BTreeMap::new(); ASPECTS.len()],
        }
    }
}

impl Output for AuditPrinter {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let Event::HostFinished { host, outcome, .. } = event else {
            return Ok(());
        };
        let Some(Finding::Audit(report)) = outcome.finding() else {
            return Ok(());
        };
        if self.json {
            let record = json!({
                "type": "audit",
                "host": &**host,
                "version": report.version,
                "host_keys": report.host_keys,
                "kex": report.kex,
                "ciphers": report.ciphers,
                "macs": report.macs,
                "auth_methods": report.auth_methods,
                "known_hosts": report.known_hosts,
                "warnings": report.warnings,
            });
            let out = term.stdout();
            serde_json::to_writer(&mut *out, &record)?;
            out.push(b'\n');
            return Ok(());
        }
        for ((_, answer), answers) in ASPECTS.iter().zip(&mut self.answers) {
            for value in answer(report) {
                answers.entry(value).or_default().push(host.clone());
            }
        }
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let out = term.stdout();
        for ((name, _), answers) in ASPECTS.iter().zip(&self.answers) {
            if answers.is_empty() {
                continue;
            }
            writeln!(out, "{name}:")?;
            let mut rows: Vec<(&String, &Vec<Arc<str>>)> = answers.iter().collect();
            // The most common answer first.
            rows.sort_by_key(|(value, hosts)| (std::cmp::Reverse(hosts.len()), *value));
            for (value, hosts) in rows {
                let value = if value.is_empty() { "(none)" } else { value };
                writeln!(out, "  {}: {}", super::folded_hosts(hosts), sanitize(value))?;
            }
        }
        Ok(())
    }
}
