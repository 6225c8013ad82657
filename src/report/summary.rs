//! The human summary printed on stderr when the run ends: one count line,
//! then the hosts that did not succeed, grouped by cause, with a hint for
//! each kind of failure.
//!
//! ```text
//! 52 hosts: 45 ok, 2 failed, 3 unreachable, 1 auth_failed, 1 host_key_changed (4.1s)
//! host_key_changed:
//!   host key differs from ~/.ssh/known_hosts:7: db-02
//!   hint: … then run `fleet known-hosts forget db-02` and run again …
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

use crate::event::{Event, RunEnd};
use crate::outcome::Status;
use crate::report::hint::{hint, HOSTS};
use crate::report::sanitize::sanitize;
use crate::report::{Output, Terminal};

/// Hosts named in one group line; folding keeps numbered hosts short
/// anyway, this bounds the line when names don't fold.
const MAX_LISTED: usize = 100;

/// Gathers how each host ended and prints the summary at the end of the
/// run. Keeps only the hosts that did not succeed, grouped as they arrive.
pub(crate) struct Summary {
    color: bool,
    /// (status, sanitized cause) → the group's hint and its hosts, in the
    /// order they finished.
    groups: BTreeMap<GroupKey, Group>,
}

/// Hosts are grouped on their status and what went wrong.
type GroupKey = (Status, String);

/// The hosts of one group line, and the hint for their cause.
struct Group {
    hint: Option<&'static str>,
    hosts: Vec<Arc<str>>,
}

impl Summary {
    pub(crate) fn new(color: bool) -> Summary {
        Summary {
            color,
            groups: BTreeMap::new(),
        }
    }

    fn write(&self, out: &mut Vec<u8>, end: &RunEnd) -> io::Result<()> {
        let n = end.stats.finished();
        write!(out, "{n} {}", if n == 1 { "host" } else { "hosts" })?;
        let breakdown = end.stats.breakdown();
        if !breakdown.is_empty() {
            write!(out, ": {breakdown}")?;
        }
        let interrupted = if end.stats.interrupted {
            "interrupted after "
        } else {
            ""
        };
        writeln!(out, " ({interrupted}{})", format_duration(end.elapsed))?;

        let mut groups: Vec<(&GroupKey, &Group)> = self.groups.iter().collect();
        groups.sort_by_key(|&(key, group)| (severity(key.0), Reverse(group.hosts.len()), &key.1));
        for block in groups.chunk_by(|(a, _), (b, _)| a.0 == b.0) {
            let Some(&((status, _), _)) = block.first() else {
                continue;
            };
            let style = self.status_style(*status);
            writeln!(out, "{style}{}{style:#}:", status.as_str())?;
            for ((_, cause), group) in block {
                writeln!(out, "  {cause}: {}", fold_listed(&group.hosts))?;
            }
            self.write_hints(out, block)?;
        }
        Ok(())
    }

    /// Each distinct hint of one status block once, after its groups.
    fn write_hints(&self, out: &mut Vec<u8>, block: &[(&GroupKey, &Group)]) -> io::Result<()> {
        let mut hints: Vec<&str> = Vec::new();
        for (_, group) in block {
            if let Some(text) = group.hint.filter(|text| !hints.contains(text)) {
                hints.push(text);
            }
        }
        let style = self.hint_style();
        for text in hints {
            let text = if text.contains(HOSTS) {
                let all = block.iter().flat_map(|(_, group)| group.hosts.iter());
                text.replace(HOSTS, &super::folded_hosts(all))
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

impl Output for Summary {
    fn event(&mut self, event: &Event, _: &mut Terminal) -> io::Result<()> {
        if let Event::HostFinished { host, outcome, .. } = event {
            if let Some(cause) = outcome.cause() {
                // The cause may carry remote text, such as a banner.
                let key = (outcome.status(), sanitize(&cause.to_string()).into_owned());
                let group = self.groups.entry(key).or_insert_with(|| Group {
                    hint: hint(cause),
                    hosts: Vec::new(),
                });
                group.hosts.push(host.clone());
            }
        }
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd, term: &mut Terminal) -> io::Result<()> {
        self.write(term.stderr(), end)
    }
}

/// Most severe first: a changed host key may be an attack, and hosts never
/// reached matter more than commands that ran and failed.
fn severity(status: Status) -> u8 {
    match status {
        Status::HostKeyRevoked => 0,
        Status::HostKeyChanged => 1,
        Status::HostKeyUnknown => 2,
        Status::AuthFailed => 3,
        Status::Unreachable => 4,
        Status::Error => 5,
        Status::Timeout => 6,
        Status::Mismatch => 7,
        Status::Failed => 8,
        Status::Interrupted => 9,
        Status::Skipped => 10,
        Status::RolledBack => 0,
        Status::Ok | Status::Changed | Status::Unchanged => 11,
    }
}

/// `web-[03,07-09]`, or `web-[01-99],… and 12 more` past [`MAX_LISTED`],
/// escaped: names come from local files.
fn fold_listed(hosts: &[Arc<str>]) -> String {
    let folded = super::folded_hosts(hosts.iter().take(MAX_LISTED));
    match hosts.len().checked_sub(MAX_LISTED) {
        Some(more) if more > 0 => format!("{folded} and {more} more"),
        _ => folded,
    }
}

/// `0.3s`, `41.0s`, `2m05s`: tenths matter for quick runs, not long ones.
/// Rounds down, so a run of 59.99s never reads `60.0s`.
pub(crate) fn format_duration(d: Duration) -> String {
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
    use crate::cause::{Cause, SkipReason};
    use crate::location::Location;
    use crate::outcome::Outcome;
    use crate::report::testing::{
        ended, exited, finished, interrupted, run, run_finished, started, PLAIN,
    };
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
        let changed = Cause::HostKeyChanged {
            name: "db-02.example.com".into(),
            fingerprint: "ssh-ed25519 SHA256:new".into(),
            known_at: vec![Location::new("~/.ssh/known_hosts", 7)],
        };
        let stderr = summary(&[
            started(&hosts),
            exited("web-01", 0),
            exited("web-02", 0),
            exited("web-08", 1),
            exited("web-03", 1),
            exited("web-07", 1),
            exited("web-09", 2),
            finished("web-06", Cause::Refused),
            finished("web-05", Cause::ConnectTimedOut),
            finished("web-04", Cause::ConnectTimedOut),
            finished(
                "db-01",
                Cause::AuthDenied {
                    methods: vec!["publickey".into()],
                },
            ),
            finished("db-02", changed),
            finished("app-01", Cause::Timeout(Duration::from_secs(30))),
            run_finished(),
        ]);
        assert_eq!(
            stderr,
            "\
12 hosts: 2 ok, 4 failed, 1 timeout, 3 unreachable, 1 host_key_changed, 1 auth_failed (4.1s)
host_key_changed:
  host key for db-02.example.com changed: now ssh-ed25519 SHA256:new, known_hosts has another \
key (~/.ssh/known_hosts:7): db-02
  hint: the host key differs from the one known_hosts records at the lines shown: a reinstalled \
host, or someone in the middle. Verify the new fingerprint out of band (`fleet keyscan \
--fingerprints db-02` shows it), then run `fleet known-hosts forget db-02` and run again with \
`-o StrictHostKeyChecking=accept-new`
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
  command still running after 30s: app-01
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
    fn a_revoked_key_comes_first_with_its_own_hint() {
        let revoked = Cause::HostKeyRevoked {
            fingerprint: "ssh-ed25519 SHA256:old".into(),
            at: Location::new("kh", 3),
        };
        let stderr = summary(&[
            started(&["a", "b"]),
            finished("a", Cause::Refused),
            finished("b", revoked),
            run_finished(),
        ]);
        assert!(
            stderr.starts_with(
                "2 hosts: 1 unreachable, 1 host_key_revoked (4.1s)\nhost_key_revoked:\n  \
                 host key ssh-ed25519 SHA256:old is revoked by kh:3: b\n  hint: this \
                 key was deliberately marked @revoked"
            ),
            "{stderr}"
        );
    }

    #[test]
    fn all_ok_is_one_line() {
        let stderr = summary(&[
            started(&["a1", "a2"]),
            exited("a1", 0),
            exited("a2", 0),
            run_finished(),
        ]);
        assert_eq!(stderr, "2 hosts: 2 ok (4.1s)\n");
        assert_eq!(
            summary(&[started(&["a1"]), exited("a1", 0), run_finished()]),
            "1 host: 1 ok (4.1s)\n"
        );
        assert_eq!(summary(&[started(&[]), run_finished()]), "0 hosts (4.1s)\n");
    }

    #[test]
    fn nothing_is_printed_before_the_run_ends() {
        assert_eq!(summary(&[started(&["a"]), exited("a", 1)]), "");
    }

    #[test]
    fn interrupted_run_lists_skipped_and_abandoned_hosts() {
        let stderr = summary(&[
            started(&["n1", "n2", "n3", "n4"]),
            exited("n1", 0),
            finished("n4", Cause::Interrupted),
            finished("n2", Cause::Skipped(SkipReason::Interrupted)),
            finished("n3", Cause::Skipped(SkipReason::Interrupted)),
            interrupted(),
        ]);
        assert_eq!(
            stderr,
            "4 hosts: 1 ok, 1 interrupted, 2 skipped (interrupted after 4.1s)\n\
             interrupted:\n  interrupted: n4\n  hint: abandoned by the second Ctrl-C: the \
             command may still be running on these hosts\n\
             skipped:\n  not started: interrupted: n[2-3]\n  \
             hint: not started because the run was interrupted\n"
        );
    }

    #[test]
    fn hosts_over_the_failure_budget_say_so() {
        let stderr = summary(&[
            finished("a1", Cause::Exited(1)),
            finished("a2", Cause::Skipped(SkipReason::FailureBudget)),
            finished("a3", Cause::Skipped(SkipReason::FailureBudget)),
            run_finished(),
        ]);
        assert!(
            stderr.contains(
                "skipped:\n  not started: the failure budget was used up: a[2-3]\n  hint: not \
                 started because earlier stages failed on more hosts than --max-failures \
                 allows: look at those first, then run 'a[2-3]' again\n"
            ),
            "{stderr}"
        );
    }

    #[test]
    fn remote_text_in_errors_is_sanitized() {
        let stderr = summary(&[
            finished(
                "h1",
                Cause::Protocol("bad banner \x1b]0;owned\x07\x1b[2J".into()),
            ),
            run_finished(),
        ]);
        assert_eq!(
            stderr,
            "1 host: 1 error (4.1s)\nerror:\n  bad banner \\e]0;owned\\a\\e[2J: h1\n"
        );
    }

    #[test]
    fn a_signal_is_named() {
        let killed = Outcome::failed(Cause::Killed("KILL".into()));
        let stderr = summary(&[ended("h1", killed), run_finished()]);
        assert!(
            stderr.contains("\n  killed by signal KILL: h1\n"),
            "{stderr}"
        );
    }

    #[test]
    fn groups_of_one_status_put_the_biggest_first() {
        let stderr = summary(&[
            finished("a1", Cause::Network("b".into())),
            finished("a2", Cause::Network("a".into())),
            finished("a3", Cause::Network("c".into())),
            finished("a4", Cause::Network("c".into())),
            run_finished(),
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
        let (_, stderr) = run(opts, &[exited("h1", 3), run_finished()]);
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
