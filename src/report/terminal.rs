//! The one place that writes to stdout and stderr, so the progress bar can
//! be hidden while anything else is printed.
//!
//! Outputs append to per-stream buffers; [`Terminal::flush`] then clears the
//! bar, writes both buffers and redraws the bar, once per batch of events.
//! Writing straight to the streams instead would let a line land in the
//! middle of the bar, and a buffered writer that spills on its own when
//! full would do the same with long lines.
//!
//! A stream that fails (stdout closed by `| head -1` is the usual case) is
//! given up quietly, and what is printed for it afterwards is dropped; the
//! other stream goes on, so the summary still reaches stderr.

use std::io::{self, Write};

use indicatif::ProgressBar;

/// A buffer that grew past this for one huge batch is given back rather
/// than kept for the rest of the run; below it, a busy stream reuses its
/// buffer instead of growing it anew after every flush.
const KEPT_CAPACITY: usize = 1024 * 1024;

/// stdout and stderr plus the optional progress bar drawn on the terminal.
pub struct Terminal {
    stdout: Pending,
    stderr: Pending,
    bar: Option<ProgressBar>,
}

/// Bytes written by outputs and not yet handed to the stream.
struct Pending {
    buf: Vec<u8>,
    sink: Box<dyn Write + Send>,
    /// Set once a write failed: the stream is gone for good.
    closed: bool,
}

impl Terminal {
    pub fn new(
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
    pub fn stdout(&mut self) -> &mut Vec<u8> {
        &mut self.stdout.buf
    }

    /// Where to write for local stderr; reaches it at the next flush.
    pub fn stderr(&mut self) -> &mut Vec<u8> {
        &mut self.stderr.buf
    }

    /// How many bytes wait for the next flush.
    pub fn pending(&self) -> usize {
        self.stdout.buf.len() + self.stderr.buf.len()
    }

    /// The progress bar, while there is one.
    pub fn bar(&self) -> Option<&ProgressBar> {
        self.bar.as_ref()
    }

    /// Erases the bar for good, so what follows (the summary) is printed
    /// where the bar was.
    pub fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Writes out everything printed since the last flush, with the bar
    /// hidden meanwhile, and flushes both streams so output stays live.
    pub fn flush(&mut self) {
        if self.stdout.buf.is_empty() && self.stderr.buf.is_empty() {
            return;
        }
        let (stdout, stderr) = (&mut self.stdout, &mut self.stderr);
        let mut write = || {
            stdout.drain();
            stderr.drain();
        };
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
            closed: false,
        }
    }

    /// Hands the buffer to the stream. The buffer is emptied even on error,
    /// so a failed write is never repeated.
    fn drain(&mut self) {
        if !self.closed && !self.buf.is_empty() {
            let written: io::Result<()> = self
                .sink
                .write_all(&self.buf)
                .and_then(|()| self.sink.flush());
            // Whatever the error, there is nowhere left to report it: a
            // closed stdout is a reader that has seen enough, and a
            // failing stderr cannot carry its own complaint.
            self.closed = written.is_err();
        }
        self.buf.clear();
        self.buf.shrink_to(KEPT_CAPACITY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{Capture, ClosedPipe};

    #[test]
    fn stderr_is_written_even_when_stdout_fails() {
        let stderr = Capture::default();
        let mut term = Terminal::new(Box::new(ClosedPipe), Box::new(stderr.clone()), None);
        term.stdout().extend_from_slice(b"lost\n");
        term.stderr().extend_from_slice(b"kept\n");
        term.flush();
        term.stdout().extend_from_slice(b"dropped\n");
        term.stderr().extend_from_slice(b"still\n");
        term.flush();
        assert_eq!(stderr.text(), "kept\nstill\n");
        assert!(term.stdout.closed && term.stdout.buf.is_empty());
    }
}
