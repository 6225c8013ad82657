//! What `fleet sshd` prints: effective values, planned diffs and changed
//! files, each folded over the hosts that share them, so a fleet reads as
//! a few lines however many hosts it has.
//!
//! ```text
//! web-[001-040]: passwordauthentication no
//! web-[041-050]: passwordauthentication yes
//! ```
//!
//! With `--json`, one `sshd` object per host instead, before its result.
//! Everything shown came from the hosts (their files, their `sshd -T`), so
//! it is escaped like any other remote output.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde_json::json;

use crate::event::{Event, RunEnd};
use crate::finding::{Finding, SshdFinding};
use crate::report::sanitize::sanitize;
use crate::report::{folded_hosts, Output, Terminal};

/// A value → the hosts that have it.
type Hosts<K> = BTreeMap<K, Vec<Arc<str>>>;

/// Gathers every host's finding and prints them folded at the end, or
/// each host's as JSON as it finishes.
pub(crate) struct SshdPrinter {
    json: bool,
    /// `sshd get`: keyword → its lines → hosts, keywords in the order met.
    effective: Vec<(String, Hosts<String>)>,
    /// `sshd set --check`: (reload, diff) → hosts.
    planned: Hosts<(String, String)>,
    /// `sshd set`: files written (and the new port) → hosts.
    changed: Hosts<String>,
}

impl SshdPrinter {
    pub(crate) fn new(json: bool) -> SshdPrinter {
        SshdPrinter {
            json,
            effective: Vec::new(),
            planned: BTreeMap::new(),
            changed: BTreeMap::new(),
        }
    }

    fn gather(&mut self, host: &Arc<str>, finding: &SshdFinding) {
        match finding {
            SshdFinding::Effective(lines) => {
                for line in lines {
                    let keyword = line.split(' ').next().unwrap_or_default();
                    let at = match self.effective.iter().position(|(k, _)| k == keyword) {
                        Some(at) => at,
                        None => {
                            self.effective.push((keyword.to_string(), BTreeMap::new()));
                            self.effective.len() - 1
                        }
                    };
                    let hosts = self.effective[at].1.entry(line.clone()).or_default();
                    if hosts.last() != Some(host) {
                        hosts.push(host.clone());
                    }
                }
            }
            SshdFinding::Planned { diff, reload } => self
                .planned
                .entry((reload.clone(), diff.clone()))
                .or_default()
                .push(host.clone()),
            SshdFinding::Changed { files, moved } => {
                let mut what = files.join(", ");
                if let Some((port, _)) = moved {
                    what.push_str(&format!("; sshd now listens on port {port}"));
                }
                self.changed.entry(what).or_default().push(host.clone());
            }
        }
    }
}

/// Rows with the most hosts first.
fn commonest_first<K: Ord>(rows: &Hosts<K>) -> Vec<(&K, &Vec<Arc<str>>)> {
    let mut rows: Vec<_> = rows.iter().collect();
    rows.sort_by_key(|(_, hosts)| std::cmp::Reverse(hosts.len()));
    rows
}

impl Output for SshdPrinter {
    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let Event::HostFinished { host, outcome, .. } = event else {
            return Ok(());
        };
        let Some(Finding::Sshd(finding)) = outcome.finding() else {
            return Ok(());
        };
        if !self.json {
            self.gather(host, finding);
            return Ok(());
        }
        let record = match finding {
            SshdFinding::Effective(lines) => {
                json!({"type": "sshd", "host": &**host, "effective": lines})
            }
            SshdFinding::Planned { diff, reload } => {
                json!({"type": "sshd", "host": &**host, "diff": diff, "reload": reload})
            }
            SshdFinding::Changed { files, moved } => json!({
                "type": "sshd",
                "host": &**host,
                "files": files,
                "port": moved.as_ref().map(|(port, _)| port),
            }),
        };
        let out = term.stdout();
        serde_json::to_writer(&mut *out, &record)?;
        out.push(b'\n');
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        let out = term.stdout();
        for (_, lines) in &self.effective {
            for (line, hosts) in commonest_first(lines) {
                writeln!(out, "{}: {}", folded_hosts(hosts), sanitize(line))?;
            }
        }
        for ((reload, diff), hosts) in commonest_first(&self.planned) {
            writeln!(
                out,
                "{}: would reload with {}",
                folded_hosts(hosts),
                sanitize(reload)
            )?;
            for line in diff.lines() {
                writeln!(out, "  {}", sanitize(line))?;
            }
        }
        for (what, hosts) in commonest_first(&self.changed) {
            writeln!(out, "{}: changed {}", folded_hosts(hosts), sanitize(what))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::report::testing::{ended, run, run_finished, PLAIN};
    use crate::report::{OutputMode, ReportOptions};

    fn finished(host: &str, finding: SshdFinding) -> Event {
        ended(host, Outcome::ok().with_finding(Finding::Sshd(finding)))
    }

    /// What a run of `events` prints on stdout.
    fn run_output(mut events: Vec<Event>) -> String {
        events.push(run_finished());
        let opts = ReportOptions {
            mode: OutputMode::Sshd { json: false },
            ..PLAIN
        };
        run(opts, &events).0
    }

    #[test]
    fn values_fold_over_hosts_commonest_first() {
        let mut events = Vec::new();
        for n in 1..=4 {
            let value = if n == 3 { "yes" } else { "no" };
            events.push(finished(
                &format!("web-{n:02}"),
                SshdFinding::Effective(vec![
                    format!("passwordauthentication {value}"),
                    "port 22".into(),
                ]),
            ));
        }
        let text = run_output(events);
        assert_eq!(
            text,
            "web-[01-02,04]: passwordauthentication no\nweb-03: passwordauthentication yes\n\
             web-[01-04]: port 22\n"
        );
    }

    #[test]
    fn planned_diffs_fold_and_host_text_is_escaped() {
        let diff = "--- a\n+++ b\n+PasswordAuthentication no\x1b[2J\n".to_string();
        let events: Vec<Event> = ["a1", "a2"]
            .iter()
            .map(|h| {
                finished(
                    h,
                    SshdFinding::Planned {
                        diff: diff.clone(),
                        reload: "systemctl reload ssh".into(),
                    },
                )
            })
            .collect();
        let text = run_output(events);
        assert!(text.starts_with("a[1-2]: would reload with systemctl reload ssh\n  --- a\n"));
        assert!(!text.contains('\x1b'), "{text:?}");
    }
}
