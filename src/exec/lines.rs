//! Cuts a remote byte stream into pieces that hold whole lines.
//!
//! Output arrives in arbitrary chunks; a line may span several. Each piece
//! handed on holds the exact bytes, ending at a newline, so outputs can
//! split it into lines without keeping state per host, and a diff or a
//! file can reproduce it byte for byte. Only the unfinished tail is kept:
//! a line longer than [`MAX_LINE`] is passed on in pieces (cut on a UTF-8
//! character boundary), so a host that prints gigabytes without a newline
//! costs bounded memory.

use bytes::{Bytes, BytesMut};

use crate::event::Tail;

/// The longest unfinished line held before it is passed on.
pub const MAX_LINE: usize = 16 * 1024;

/// The unfinished tail of one stream.
#[derive(Debug, Default)]
pub struct LineCutter {
    tail: BytesMut,
}

impl LineCutter {
    /// Takes a chunk in; returns the pieces it completes. A chunk costs a
    /// copy only when a line from an earlier chunk is waiting.
    pub fn push(&mut self, mut chunk: Bytes) -> Vec<(Bytes, Tail)> {
        let mut pieces = Vec::new();
        if !self.tail.is_empty() {
            let Some(newline) = memchr::memchr(b'\n', &chunk) else {
                self.tail.extend_from_slice(&chunk);
                self.cut_long(&mut pieces);
                return pieces;
            };
            self.tail.extend_from_slice(&chunk[..=newline]);
            pieces.push((self.tail.split().freeze(), Tail::Newline));
            chunk = chunk.slice(newline + 1..);
        }
        match memchr::memrchr(b'\n', &chunk) {
            Some(last) => {
                self.tail.extend_from_slice(&chunk[last + 1..]);
                pieces.push((chunk.slice(..=last), Tail::Newline));
            }
            None => self.tail.extend_from_slice(&chunk),
        }
        self.cut_long(&mut pieces);
        pieces
    }

    /// The last line, when the stream ended without a newline.
    pub fn finish(&mut self) -> Option<(Bytes, Tail)> {
        (!self.tail.is_empty()).then(|| (self.tail.split().freeze(), Tail::Eof))
    }

    fn cut_long(&mut self, pieces: &mut Vec<(Bytes, Tail)>) {
        while self.tail.len() >= MAX_LINE {
            let at = char_boundary(&self.tail, MAX_LINE);
            pieces.push((self.tail.split_to(at).freeze(), Tail::Cut));
        }
    }
}

/// The largest cut point at most `at` that does not split a UTF-8
/// character; `at` itself when the bytes there are not UTF-8 anyway.
fn char_boundary(bytes: &[u8], at: usize) -> usize {
    let is_continuation = |b: u8| b & 0xc0 == 0x80;
    (at.saturating_sub(3)..=at)
        .rev()
        .find(|&i| i < bytes.len() && !is_continuation(bytes[i]))
        .filter(|&i| i > 0)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(cutter: &mut LineCutter, chunk: &[u8]) -> Vec<(Vec<u8>, Tail)> {
        cutter
            .push(Bytes::copy_from_slice(chunk))
            .into_iter()
            .map(|(bytes, tail)| (bytes.to_vec(), tail))
            .collect()
    }

    #[test]
    fn joins_lines_split_across_chunks() {
        let mut c = LineCutter::default();
        assert!(push(&mut c, b"hel").is_empty());
        assert_eq!(
            push(&mut c, b"lo\nwor"),
            [(b"hello\n".to_vec(), Tail::Newline)]
        );
        assert_eq!(
            push(&mut c, b"ld\n\nx\ny\nz"),
            [
                (b"world\n".to_vec(), Tail::Newline),
                (b"\nx\ny\n".to_vec(), Tail::Newline)
            ]
        );
        assert_eq!(c.finish(), Some((Bytes::from_static(b"z"), Tail::Eof)));
        assert_eq!(c.finish(), None);
    }

    #[test]
    fn keeps_the_exact_bytes() {
        let mut c = LineCutter::default();
        let mut all = Vec::new();
        for chunk in [&b"a\r\nb\rc"[..], b"\n\xff\x00", b"\x1b[2J\n"] {
            for (bytes, _) in push(&mut c, chunk) {
                all.extend(bytes);
            }
        }
        assert_eq!(all, b"a\r\nb\rc\n\xff\x00\x1b[2J\n");
    }

    #[test]
    fn caps_a_line_without_newline() {
        let mut c = LineCutter::default();
        let pieces = push(&mut c, &vec![b'x'; MAX_LINE * 2 + 10]);
        assert_eq!(pieces.len(), 2);
        assert!(pieces
            .iter()
            .all(|(bytes, tail)| bytes.len() == MAX_LINE && *tail == Tail::Cut));
        assert_eq!(c.finish().map(|(b, _)| b.len()), Some(10));
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let mut c = LineCutter::default();
        // 'é' is two bytes; put one across the cap.
        let mut line = vec![b'x'; MAX_LINE - 1];
        line.extend("é tail".as_bytes());
        let pieces = push(&mut c, &line);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].0.len(), MAX_LINE - 1);
        assert!(std::str::from_utf8(&pieces[0].0).is_ok());
        assert_eq!(c.finish().map(|(b, _)| b.to_vec()), Some("é tail".into()));
    }
}
