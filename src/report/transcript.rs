//! One host's output kept for later: every output piece in arrival order,
//! stdout and stderr interleaved as they came, in a [`Spool`], and shown
//! later as a block of lines.
//!
//! Each piece is stored as a record: one byte saying its stream and how
//! its last line ends, its length (u32, little-endian), and its bytes.

use std::io::{self, BufReader, Read, Write};

use anstyle::{AnsiColor, Style};

use crate::event::{Stream, Tail};
use crate::report::lines::lines;
use crate::report::sanitize::push_sanitized;
use crate::report::spool::{Spool, SpoolStore};
use crate::report::Terminal;

/// Rendered lines are handed on in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Output waiting for the terminal is written out past this size, while a
/// long transcript is shown.
const FLUSH_AT: usize = 256 * 1024;

/// A host's output pieces, in order.
#[derive(Debug, Default)]
pub(crate) struct Transcript {
    spool: Spool,
    /// Bytes of remote output (without the record headers).
    bytes: u64,
}

/// One piece read back.
pub(crate) struct Piece {
    pub(crate) stream: Stream,
    pub(crate) tail: Tail,
    pub(crate) data: Vec<u8>,
}

impl Transcript {
    /// Appends one output piece.
    pub(crate) fn push(
        &mut self,
        store: &mut SpoolStore,
        stream: Stream,
        data: &[u8],
        tail: Tail,
    ) -> io::Result<()> {
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::other("an output piece of more than 4 GiB"))?;
        let mut header = [0u8; 5];
        header[0] = tag(stream, tail);
        header[1..].copy_from_slice(&len.to_le_bytes());
        store.push(&mut self.spool, &header)?;
        store.push(&mut self.spool, data)?;
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Bytes of output the host sent.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The transcript is complete.
    pub(crate) fn seal(&mut self, store: &mut SpoolStore) -> io::Result<()> {
        store.seal(&mut self.spool)
    }

    /// Forgets the transcript.
    pub(crate) fn release(self, store: &mut SpoolStore) {
        store.release(self.spool);
    }

    /// Calls `each` with every piece, in order, until it returns false.
    pub(crate) fn for_each_piece(
        &self,
        store: &SpoolStore,
        mut each: impl FnMut(Piece) -> io::Result<bool>,
    ) -> io::Result<()> {
        let mut reader = BufReader::with_capacity(64 * 1024, store.reader(&self.spool));
        let mut header = [0u8; 5];
        loop {
            match reader.read_exact(&mut header) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
            let (stream, tail) = untag(header[0])?;
            let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
            let mut data = vec![0; len as usize];
            reader.read_exact(&mut data)?;
            if !each(Piece { stream, tail, data })? {
                return Ok(());
            }
        }
    }

    /// Writes the transcript to local stdout as display lines: stdout
    /// lines bare, stderr lines after `! `, control characters escaped;
    /// `(no output)` when there is none. Output is flushed as it goes, so
    /// showing a huge transcript costs no more memory than a small one.
    pub(crate) fn write_lines(
        &self,
        store: &SpoolStore,
        term: &mut Terminal,
        color: bool,
    ) -> io::Result<()> {
        self.render(store, color, None, |text| {
            term.stdout().append(text);
            if term.pending() >= FLUSH_AT {
                term.flush();
            }
        })?;
        Ok(())
    }

    /// The display lines as plain text, at most about `limit` bytes of
    /// them; says whether the rest was left out.
    pub(crate) fn text(&self, store: &SpoolStore, limit: usize) -> io::Result<(String, bool)> {
        let mut all = Vec::new();
        let cut = self.render(store, false, Some(limit), |text| all.append(text))?;
        Ok((String::from_utf8_lossy(&all).into_owned(), cut))
    }

    /// Renders the display lines, handing them to `out` in chunks; stops
    /// once more than `limit` bytes were rendered and returns true then.
    fn render(
        &self,
        store: &SpoolStore,
        color: bool,
        limit: Option<usize>,
        mut out: impl FnMut(&mut Vec<u8>),
    ) -> io::Result<bool> {
        let mut text = Vec::new();
        if self.bytes == 0 {
            let style = dim(color);
            writeln!(text, "{style}(no output){style:#}")?;
            out(&mut text);
            return Ok(false);
        }
        let mark = if color {
            AnsiColor::Red.on_default().bold()
        } else {
            Style::new()
        };
        let mut rendered = 0;
        let mut cut = false;
        self.for_each_piece(store, |piece| {
            for line in lines(&piece.data, piece.tail) {
                if limit.is_some_and(|limit| rendered + text.len() > limit) {
                    cut = true;
                    return Ok(false);
                }
                if piece.stream == Stream::Stderr {
                    write!(text, "{mark}!{mark:#} ")?;
                }
                push_sanitized(&mut text, line);
                text.push(b'\n');
            }
            if text.len() >= CHUNK {
                rendered += text.len();
                out(&mut text);
            }
            Ok(true)
        })?;
        out(&mut text);
        Ok(cut)
    }
}

/// A style for fleet's own remarks among remote lines.
pub(crate) fn dim(color: bool) -> Style {
    if color {
        Style::new().dimmed()
    } else {
        Style::new()
    }
}

fn tag(stream: Stream, tail: Tail) -> u8 {
    let stream = match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    };
    let tail = match tail {
        Tail::Newline => 0,
        Tail::Cut => 2,
        Tail::Eof => 4,
    };
    stream | tail
}

fn untag(tag: u8) -> io::Result<(Stream, Tail)> {
    let stream = if tag & 1 == 0 {
        Stream::Stdout
    } else {
        Stream::Stderr
    };
    let tail = match tag & !1 {
        0 => Tail::Newline,
        2 => Tail::Cut,
        4 => Tail::Eof,
        _ => return Err(io::Error::other("a corrupt record in the output spool")),
    };
    Ok((stream, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_come_back_in_order_with_their_stream_and_tail() {
        let mut store = SpoolStore::new(16);
        let mut transcript = Transcript::default();
        let pieces: [(Stream, &[u8], Tail); 3] = [
            (Stream::Stdout, b"one\ntwo\n", Tail::Newline),
            (Stream::Stderr, b"warn \x1b[31m\n", Tail::Newline),
            (Stream::Stdout, b"last", Tail::Eof),
        ];
        for (stream, data, tail) in pieces {
            transcript.push(&mut store, stream, data, tail).unwrap();
        }
        transcript.seal(&mut store).unwrap();
        assert_eq!(transcript.bytes(), 23);
        let (text, cut) = transcript.text(&store, 1000).unwrap();
        assert_eq!(text, "one\ntwo\n! warn \\e[31m\nlast\n");
        assert!(!cut);
        let (text, cut) = transcript.text(&store, 3).unwrap();
        assert_eq!((text.as_str(), cut), ("one\n", true));
    }

    #[test]
    fn an_empty_transcript_says_so() {
        let store = SpoolStore::new(16);
        let (text, cut) = Transcript::default().text(&store, 100).unwrap();
        assert_eq!((text.as_str(), cut), ("(no output)\n", false));
    }
}
