//! The default human output: every remote line as it arrives, prefixed with
//! its host, `web-01 | text` on stdout and `web-01 ! text` on stderr.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::event::{Event, Stream};
use crate::report::sanitize::sanitize;
use crate::report::terminal::Terminal;
use crate::report::{Printer, RunClock};

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

/// Prints `Line` events with a host prefix, to the local stream matching
/// the remote one.
pub(crate) struct StreamPrinter {
    color: bool,
    width: usize,
}

impl StreamPrinter {
    pub(crate) fn new(color: bool) -> StreamPrinter {
        StreamPrinter { color, width: 0 }
    }

    fn host_style(&self, host: &str) -> Style {
        if self.color {
            host_color(host)
        } else {
            Style::new()
        }
    }

    fn marker_style(&self) -> Style {
        if self.color {
            AnsiColor::Red.on_default().bold()
        } else {
            Style::new()
        }
    }
}

impl Printer for StreamPrinter {
    fn print(&mut self, event: &Event, _: &RunClock, term: &mut Terminal) -> io::Result<()> {
        match event {
            Event::RunStarted { hosts } => {
                let widest = hosts.iter().map(|h| h.chars().count()).max();
                self.width = widest.unwrap_or(0).min(MAX_PAD);
            }
            Event::Line { host, stream, text } => {
                // A CRLF line end from the remote would otherwise show as a
                // trailing `\r` on every line; alone at the end it can't
                // overwrite anything.
                let text = sanitize(text.strip_suffix('\r').unwrap_or(text));
                let pad = self.width.saturating_sub(host.chars().count());
                let style = self.host_style(host);
                let (out, sign, marker) = match stream {
                    Stream::Stdout => (term.stdout(), '|', Style::new()),
                    Stream::Stderr => (term.stderr(), '!', self.marker_style()),
                };
                writeln!(
                    out,
                    "{style}{host}{style:#}{:pad$} {marker}{sign}{marker:#} {text}",
                    ""
                )?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The same color for a host on every run: FNV-1a of the alias, which
/// (unlike `DefaultHasher`) is specified and won't change between builds.
fn host_color(host: &str) -> Style {
    let hash = host.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    // The remainder is below PALETTE.len(), so it fits in usize.
    let index = (hash % PALETTE.len() as u64) as usize;
    PALETTE[index].on_default()
}
