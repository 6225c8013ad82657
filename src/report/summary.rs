//! The human summary printed on stderr when the run ends: one count line,
//! then the hosts that did not succeed, grouped by cause, with a hint for
//! each kind of failure.
//!
//! ```text
//! 52 hosts: 45 ok, 2 failed, 3 unreachable, 1 auth_failed, 1 host_key_changed (4.1s)
//! host_key_changed:
//!   host key differs from ~/.ssh/known_hosts:7: db-02
//!   hint: … then delete that line (or `ssh-keygen -R HOST -f FILE`) and run db-02 again …
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
use crate::hosts::nodeset;
use crate::report::hint::{hint, HOSTS};
use crate::report::sanitize::sanitize;
use crate::report::tally::Tally;
use crate::report::terminal::Terminal;
use crate::report::{Printer, RunClock};

/// Hosts named in one group line; folding keeps numbered hosts short
/// anyway, this bounds the line when names don't fold.
const MAX_LISTED: usize = 100;

/// Gathers how each host ended and prints the summary at `RunFinished`.
/// Keeps only the hosts that did not succeed, grouped as they arrive.
pub(crate) struct Summary {
    color: bool,
    tally: Tally,
    /// (status, sanitized cause) → hosts in the order they finished.
    groups: BTreeMap<GroupKey, Vec<Arc<str>>>,
}

/// Hosts are grouped on their status and what went wrong.
type GroupKey = (Status, Option<String>);

/// One group line: its cause and its hosts.
type Group<'a> = (&'a GroupKey, &'a Vec<Arc<str>>);

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

        let mut groups: Vec<Group<'_>> = self.groups.iter().collect();
        groups.sort_by_key(|&(key, hosts)| (severity(key.0), Reverse(hosts.len()), &key.1));
        for block in groups.chunk_by(|(a, _), (b, _)| a.0 == b.0) {
            let Some(&((status, _), _)) = block.first() else {
                continue;
            };
            let style = self.status_style(*status);
            writeln!(out, "{style}{}{style:#}:", status.as_str())?;
            for ((_, cause), hosts) in block {
                match cause {
                    Some(cause) => writeln!(out, "  {cause}: {}", fold_listed(hosts))?,
                    None => writeln!(out, "  {}", fold_listed(hosts))?,
                }
            }
            self.write_hints(out, block)?;
        }
        Ok(())
    }

    /// Each distinct hint of one status block once, after its groups.
    fn write_hints(&self, out: &mut Vec<u8>, block: &[Group<'_>]) -> io::Result<()> {
        let mut hints: Vec<&str> = Vec::new();
        for ((status, cause), _) in block {
            if let Some(text) = hint(*status, cause.as_deref().unwrap_or_default()) {
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
/// remote text such as a banner. None when the status says it all.
fn cause(outcome: &Outcome) -> Option<String> {
    match (&outcome.error, &outcome.signal) {
        (Some(error), _) => Some(sanitize(error).into_owned()),
        (None, Some(signal)) => Some(format!("killed by signal {}", sanitize(signal))),
        (None, None) => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{ended, exited, finished, run, run_finished, started, PLAIN};
    use crate::report::ReportOptions;

    fn summary(events: &[Event]) -> String {
        let (stdout, stderr) = run(PLAIN, events);
        assert_eq!(stdout, "", "the summary goes to stderr only");
        stderr
    }

    #[test]
    fn failures_are_grouped_by_cause_most_severe_first() {
        let hosts = [
            "web-01", "web-02", "web-03", "web-04", "web-05", "web-06", "web-07", "web-08",
            "web-09", "db-01", "db-02", "app-01",
        ];
        let stderr = summary(&[
            started(&hosts),
            exited("web-01", 0),
            exited("web-02", 0),
            exited("web-08", 1),
            exited("web-03", 1),
            exited("web-07", 1),
            exited("web-09", 2),
            finished("web-06", Status::Unreachable, Some("connection refused")),
            finished("web-05", Status::Unreachable, Some("connection timed out")),
            finished("web-04", Status::Unreachable, Some("connection timed out")),
            finished(
                "db-01",
                Status::AuthFailed,
                Some("Permission denied (publickey)"),
            ),
            finished(
                "db-02",
                Status::HostKeyChanged,
                Some("host key differs from ~/.ssh/known_hosts:7"),
            ),
            finished("app-01", Status::Timeout, Some("no exit after 30s")),
            run_finished(false),
        ]);
        assert_eq!(
            stderr,
            "\
12 hosts: 2 ok, 4 failed, 1 timeout, 3 unreachable, 1 host_key_changed, 1 auth_failed (4.1s)
host_key_changed:
  host key differs from ~/.ssh/known_hosts:7: db-02
  hint: the host key differs from the one known_hosts records at the line shown: a reinstalled \
host, or someone in the middle. Verify the new fingerprint out of band, then delete that line \
(or `ssh-keygen -R HOST -f FILE`) and run db-02 again with `-o StrictHostKeyChecking=accept-new`
auth_failed:
  Permission denied (publickey): db-01
  hint: check that IdentityFile names the right key, that its public key is in the remote \
user's ~/.ssh/authorized_keys (on a cloud instance: the key pair it was launched with), that \
User is right, and that the key file is private (chmod 400 or 600)
unreachable:
  connection timed out: web-[04-05]
  connection refused: web-06
  hint: check the address (HostName, DNS), that firewalls and security groups let the SSH port \
through, and that the machine is running
  hint: the host answered but nothing listens on that port: check that sshd is running and \
which Port it listens on
timeout:
  no exit after 30s: app-01
  hint: the command ran longer than --timeout allows: raise it, or check whether the command \
waits for input
failed:
  exit 1: web-[03,07-08]
  exit 2: web-09
  hint: the command ran but exited non-zero or was killed; to retry just these hosts: \
fleet run 'web-[03,07-09]' …
"
        );
    }

    #[test]
    fn all_ok_is_one_line() {
        let stderr = summary(&[
            started(&["a1", "a2"]),
            exited("a1", 0),
            exited("a2", 0),
            run_finished(false),
        ]);
        assert_eq!(stderr, "2 hosts: 2 ok (4.1s)\n");
        assert_eq!(
            summary(&[started(&["a1"]), exited("a1", 0), run_finished(false)]),
            "1 host: 1 ok (4.1s)\n"
        );
        assert_eq!(
            summary(&[started(&[]), run_finished(false)]),
            "0 hosts (4.1s)\n"
        );
    }

    #[test]
    fn nothing_is_printed_before_the_run_ends() {
        assert_eq!(summary(&[started(&["a"]), exited("a", 1)]), "");
    }

    #[test]
    fn interrupted_run_lists_skipped_hosts() {
        let stderr = summary(&[
            started(&["n1", "n2", "n3"]),
            exited("n1", 0),
            finished("n2", Status::Skipped, None),
            finished("n3", Status::Skipped, None),
            run_finished(true),
        ]);
        assert_eq!(
            stderr,
            "3 hosts: 1 ok, 2 skipped (interrupted after 4.1s)\n\
             skipped:\n  n[2-3]\n  hint: not started because the run was interrupted\n"
        );
    }

    #[test]
    fn remote_text_in_errors_is_sanitized() {
        let stderr = summary(&[
            ended(
                "h1",
                Outcome::failure(Status::Error, "bad banner \x1b]0;owned\x07\x1b[2J"),
            ),
            run_finished(false),
        ]);
        assert_eq!(
            stderr,
            "1 host: 1 error (4.1s)\nerror:\n  bad banner \\e]0;owned\\a\\e[2J: h1\n"
        );
    }

    #[test]
    fn signal_without_error_names_the_signal() {
        let killed = Outcome {
            status: Status::Failed,
            exit_code: None,
            signal: Some("KILL".to_string()),
            error: None,
        };
        let stderr = summary(&[ended("h1", killed), run_finished(false)]);
        assert!(
            stderr.contains("\n  killed by signal KILL: h1\n"),
            "{stderr}"
        );
    }

    #[test]
    fn groups_of_one_status_put_the_biggest_first() {
        let stderr = summary(&[
            finished("a1", Status::Unreachable, Some("b")),
            finished("a2", Status::Unreachable, Some("a")),
            finished("a3", Status::Unreachable, Some("c")),
            finished("a4", Status::Unreachable, Some("c")),
            run_finished(false),
        ]);
        assert!(
            stderr.contains("  c: a[3-4]\n  a: a2\n  b: a1\n"),
            "{stderr}"
        );
        // The generic hint appears once however many groups want it.
        assert_eq!(stderr.matches("hint:").count(), 1, "{stderr}");
    }

    #[test]
    fn long_host_lists_are_cut() {
        let hosts: Vec<Arc<str>> = (1..=MAX_LISTED + 3)
            .map(|i| Arc::from(format!("n{i:03}")))
            .collect();
        assert_eq!(fold_listed(&hosts), "n[001-100] and 3 more");
        assert_eq!(fold_listed(&hosts[..MAX_LISTED]), "n[001-100]");
    }

    #[test]
    fn durations_read_naturally() {
        let ms = Duration::from_millis;
        assert_eq!(format_duration(ms(0)), "0.0s");
        assert_eq!(format_duration(ms(4_130)), "4.1s");
        assert_eq!(format_duration(ms(59_999)), "59.9s");
        assert_eq!(format_duration(ms(60_000)), "1m00s");
        assert_eq!(format_duration(ms(125_400)), "2m05s");
    }

    #[test]
    fn color_marks_statuses_and_hints() {
        let opts = ReportOptions {
            color: true,
            ..PLAIN
        };
        let (_, stderr) = run(opts, &[exited("h1", 3), run_finished(false)]);
        assert!(
            stderr.contains("\x1b[1m\x1b[31mfailed\x1b[0m:\n"),
            "{stderr:?}"
        );
        assert!(
            stderr.contains("\x1b[1m\x1b[36mhint\x1b[0m: "),
            "{stderr:?}"
        );
    }
}
