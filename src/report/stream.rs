//! The default human output: every remote line as it arrives, prefixed with
//! its host, `web-01 | text` on stdout and `web-01 ! text` on stderr.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use anstyle::{AnsiColor, Style};

use crate::event::{Event, Stream};
use crate::report::lines::lines;
use crate::report::prefix::Prefix;
use crate::report::sanitize::{push_sanitized, sanitize};
use crate::report::{Output, Terminal};
use crate::stable_hash::stable_hash;

/// Aliases are padded to the widest one so the text lines up, but one very
/// long alias should not push every line far right.
const MAX_PAD: usize = 32;

/// Host colors: distinguishable on dark and light backgrounds, and without
/// red, which is kept for the stderr marker.
const PALETTE: [AnsiColor; 10] = [
    AnsiColor::Cyan,
    AnsiColor::Green,
    AnsiColor::Yellow,
    AnsiColor::Blue,
    AnsiColor::Magenta,
    AnsiColor::BrightCyan,
    AnsiColor::BrightGreen,
    AnsiColor::BrightYellow,
    AnsiColor::BrightBlue,
    AnsiColor::BrightMagenta,
];

/// Prints output events line by line with a host prefix, to the local
/// stream matching the remote one.
pub(crate) struct StreamPrinter {
    color: bool,
    prefix: Prefix,
    width: usize,
    /// Each host's two prefixes (stdout, stderr), built once: this is the
    /// hot path, and a prefix is the same on every line.
    prefixes: HashMap<Arc<str>, [Vec<u8>; 2]>,
}

impl StreamPrinter {
    pub(crate) fn new(color: bool, prefix: Prefix) -> StreamPrinter {
        StreamPrinter {
            color,
            prefix,
            width: 0,
            prefixes: HashMap::new(),
        }
    }

    /// `web-01 | ` and `web-01 ! `, padded and colored, with the host's
    /// [`Prefix`] label; none at all without a prefix. The label comes from
    /// local files, which are escaped like remote text.
    fn prefixes(&self, host: &str) -> [Vec<u8>; 2] {
        let Some(label) = self.prefix.label(host) else {
            return [Vec::new(), Vec::new()];
        };
        let name = sanitize(label);
        let pad = self.width.saturating_sub(name.chars().count());
        let style = if self.color {
            host_color(host)
        } else {
            Style::new()
        };
        let marker = if self.color {
            AnsiColor::Red.on_default().bold()
        } else {
            Style::new()
        };
        let plain = Style::new();
        [(plain, '|'), (marker, '!')].map(|(marker, sign)| {
            format!(
                "{style}{name}{style:#}{:pad$} {marker}{sign}{marker:#} ",
                ""
            )
            .into_bytes()
        })
    }
}

impl Output for StreamPrinter {
    fn begin(&mut self, hosts: &[Arc<str>], _: &mut Terminal) -> io::Result<()> {
        let labels = hosts.iter().filter_map(|h| self.prefix.label(h));
        let widest = labels.map(|label| sanitize(label).chars().count()).max();
        self.width = widest.unwrap_or(0).min(MAX_PAD);
        self.prefixes.clear();
        Ok(())
    }

    fn event(&mut self, event: &Event, term: &mut Terminal) -> io::Result<()> {
        let Event::Output {
            host,
            stream,
            data,
            tail,
        } = event
        else {
            return Ok(());
        };
        if !self.prefixes.contains_key(host) {
            let prefixes = self.prefixes(host);
            self.prefixes.insert(host.clone(), prefixes);
        }
        let [stdout, stderr] = &self.prefixes[host];
        let (out, prefix) = match stream {
            Stream::Stdout => (term.stdout(), stdout),
            Stream::Stderr => (term.stderr(), stderr),
        };
        for line in lines(data, *tail) {
            out.extend_from_slice(prefix);
            push_sanitized(out, line);
            out.push(b'\n');
        }
        Ok(())
    }
}

/// The same color for a host on every run: a stable hash of the alias,
/// which (unlike `DefaultHasher`) won't change between builds.
fn host_color(host: &str) -> Style {
    let hash = stable_hash(host);
    // The remainder is below PALETTE.len(), so it fits in usize.
    let index = (hash % PALETTE.len() as u64) as usize;
    PALETTE[index].on_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{err, out, run, started, PLAIN};
    use crate::report::ReportOptions;

    const COLOR: ReportOptions = ReportOptions {
        mode: crate::report::OutputMode::Lines,
        color: true,
        progress: false,
        prefix: crate::report::Prefix::Alias,
        checks: false,
        files: crate::report::Files::NONE,
        addresses: None,
    };

    #[test]
    fn lines_are_prefixed_aligned_and_split_by_stream() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["web-01", "db-primary", "x"]),
                out("web-01", " 10:02:11 up 41 days"),
                err("db-primary", "warning: disk 91% full"),
                out("x", ""),
                out("db-primary", "\tindented"),
            ],
        );
        assert_eq!(
            stdout,
            "web-01     |  10:02:11 up 41 days\n\
             x          | \n\
             db-primary | \tindented\n"
        );
        assert_eq!(stderr, "db-primary ! warning: disk 91% full\n");
    }

    #[test]
    fn remote_control_sequences_are_shown_not_obeyed() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["web-01"]),
                out("web-01", "\x1b]0;owned\x07\x1b[2Jcleared"),
                err("web-01", "FAILED\rOK    "),
            ],
        );
        assert_eq!(stdout, "web-01 | \\e]0;owned\\a\\e[2Jcleared\n");
        assert_eq!(stderr, "web-01 ! FAILED\\rOK    \n");
    }

    #[test]
    fn one_trailing_carriage_return_is_dropped() {
        let (stdout, _) = run(
            PLAIN,
            &[started(&["w"]), out("w", "crlf\r"), out("w", "a\rb\r\r")],
        );
        assert_eq!(stdout, "w | crlf\nw | a\\rb\\r\n");
    }

    #[test]
    fn padding_is_capped() {
        let long = "a-very-long-host-name-from-some-cloud-provider";
        let (stdout, _) = run(
            PLAIN,
            &[started(&[long, "b"]), out("b", "hi"), out(long, "yo")],
        );
        assert_eq!(
            stdout,
            format!("b{} | hi\n{long} | yo\n", " ".repeat(MAX_PAD - 1))
        );
    }

    #[test]
    fn lines_before_run_started_are_unpadded() {
        let (stdout, _) = run(PLAIN, &[out("web-01", "early")]);
        assert_eq!(stdout, "web-01 | early\n");
    }

    #[test]
    fn color_marks_hosts_and_stderr() {
        let (stdout, stderr) = run(
            COLOR,
            &[
                started(&["web-01", "db-1"]),
                out("web-01", "up"),
                err("db-1", "oops"),
            ],
        );
        // Pinned: a host's color must not change between releases.
        assert_eq!(stdout, "\x1b[34mweb-01\x1b[0m | up\n");
        assert_eq!(
            stderr,
            "\x1b[95mdb-1\x1b[0m   \x1b[1m\x1b[31m!\x1b[0m oops\n"
        );
    }

    #[test]
    fn hosts_get_stable_distinct_colors() {
        let hosts: Vec<String> = (1..=20).map(|i| format!("web-{i:02}")).collect();
        let colors: Vec<Style> = hosts.iter().map(|h| host_color(h)).collect();
        let mut distinct = colors.clone();
        distinct.sort_by_key(|s| s.get_fg_color().map(|c| format!("{c:?}")));
        distinct.dedup();
        assert!(
            distinct.len() >= 6,
            "20 hosts share {} colors",
            distinct.len()
        );
        assert!(colors
            .iter()
            .all(|c| c.get_fg_color() != Some(AnsiColor::Red.into())));
    }

    #[test]
    fn labels_replace_aliases_and_no_prefix_leaves_bare_lines() {
        let labels = std::collections::HashMap::from([("w1".to_string(), "10.0.0.1".to_string())]);
        let opts = ReportOptions {
            prefix: Prefix::Labels(std::sync::Arc::new(labels)),
            ..PLAIN
        };
        let events = [started(&["w1", "w2"]), out("w1", "a"), out("w2", "b")];
        assert_eq!(run(opts, &events).0, "10.0.0.1 | a\nw2       | b\n");
        let bare = ReportOptions {
            prefix: Prefix::None,
            ..PLAIN
        };
        let events = [started(&["w1"]), out("w1", "\x1b[2Ja"), err("w1", "b")];
        assert_eq!(run(bare, &events), ("\\e[2Ja\n".into(), "b\n".into()));
    }

    #[test]
    fn no_escape_codes_without_color() {
        let (stdout, stderr) = run(
            PLAIN,
            &[
                started(&["web-01"]),
                out("web-01", "up"),
                err("web-01", "oops"),
            ],
        );
        assert!(!stdout.contains('\x1b') && !stderr.contains('\x1b'));
    }
}
