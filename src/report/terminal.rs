//! The one place that writes to stdout and stderr, so the progress bar can be
//! hidden while anything else is printed.
//!
//! Printers append to per-stream buffers; [`Terminal::flush`] then clears the
//! bar, writes both buffers and redraws the bar, once per event. Writing
//! straight to the streams instead would let a line land in the middle of the
//! bar, and a buffered writer that spills on its own when full would do the
//! same with long lines.

use std::io::{self, Write};

use indicatif::ProgressBar;

/// A buffer that grew past this for one huge line is given back rather than
/// kept for the rest of the run.
const KEPT_CAPACITY: usize = 64 * 1024;

/// stdout and stderr plus the optional progress bar drawn on the terminal.
pub(crate) struct Terminal {
    stdout: Pending,
    stderr: Pending,
    bar: Option<ProgressBar>,
}

/// Bytes written by printers and not yet handed to the stream.
struct Pending {
    buf: Vec<u8>,
    sink: Box<dyn Write + Send>,
}

impl Terminal {
    pub(crate) fn new(
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
        bar: Option<ProgressBar>,
    ) -> Terminal {
        Terminal {
            stdout: Pending::new(stdout),
            stderr: Pending::new(stderr),
            bar,
        }
    }

    /// Where to write for local stdout; reaches it at the next flush.
    pub(crate) fn stdout(&mut self) -> &mut Vec<u8> {
        &mut self.stdout.buf
    }

    /// Where to write for local stderr; reaches it at the next flush.
    pub(crate) fn stderr(&mut self) -> &mut Vec<u8> {
        &mut self.stderr.buf
    }

    /// The progress bar, while there is one.
    pub(crate) fn bar(&self) -> Option<&ProgressBar> {
        self.bar.as_ref()
    }

    /// Erases the bar for good, so what follows (the summary) is printed
    /// where the bar was.
    pub(crate) fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Writes out everything printed since the last flush, with the bar
    /// hidden meanwhile, and flushes both streams so output stays live.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if self.stdout.buf.is_empty() && self.stderr.buf.is_empty() {
            return Ok(());
        }
        let (stdout, stderr) = (&mut self.stdout, &mut self.stderr);
        let mut write = || stdout.drain().and(stderr.drain());
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl Pending {
    fn new(sink: Box<dyn Write + Send>) -> Pending {
        Pending {
            buf: Vec::new(),
            sink,
        }
    }

    /// Hands the buffer to the stream. The buffer is emptied even on error,
    /// so a failed write is never repeated.
    fn drain(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self
            .sink
            .write_all(&self.buf)
            .and_then(|()| self.sink.flush());
        self.buf.clear();
        self.buf.shrink_to(KEPT_CAPACITY);
        written
    }
}
