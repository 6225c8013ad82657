//! Splits a remote byte stream into lines for the reporters.
//!
//! Output arrives in arbitrary chunks; a line may span several. Only the
//! unfinished tail is kept, and a line longer than the cap is passed on in
//! pieces, so a host that prints gigabytes without a newline costs bounded
//! memory.

/// The longest piece of a single line held before it is passed on.
pub const MAX_LINE: usize = 16 * 1024;

/// The unfinished tail of one stream.
#[derive(Debug, Default)]
pub struct LineSplitter {
    tail: Vec<u8>,
}

impl LineSplitter {
    /// Feeds a chunk; returns the lines it completes, without terminators
    /// (`\n`, or `\r\n`).
    pub fn push(&mut self, mut chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(newline) = chunk.iter().position(|&b| b == b'\n') {
            self.tail.extend_from_slice(&chunk[..newline]);
            if self.tail.last() == Some(&b'\r') {
                self.tail.pop();
            }
            lines.push(self.take());
            chunk = &chunk[newline + 1..];
        }
        self.tail.extend_from_slice(chunk);
        while self.tail.len() >= MAX_LINE {
            let rest = self.tail.split_off(MAX_LINE);
            lines.push(self.take());
            self.tail = rest;
        }
        lines
    }

    /// The last line, when the stream ended without a newline.
    pub fn finish(&mut self) -> Option<String> {
        (!self.tail.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.tail).into_owned();
        self.tail.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_lines_split_across_chunks() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"hel").is_empty());
        assert_eq!(s.push(b"lo\nwor"), ["hello"]);
        assert_eq!(s.push(b"ld\n\nx"), ["world", ""]);
        assert_eq!(s.finish().as_deref(), Some("x"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn strips_crlf_but_keeps_lone_cr() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\r\nb\rc\n"), ["a", "b\rc"]);
    }

    #[test]
    fn caps_a_line_without_newline() {
        let mut s = LineSplitter::default();
        let big = vec![b'x'; MAX_LINE * 2 + 10];
        let lines = s.push(&big);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == MAX_LINE));
        assert_eq!(s.finish().map(|l| l.len()), Some(10));
    }

    #[test]
    fn replaces_invalid_utf8() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"\xffok\n"), ["\u{fffd}ok"]);
    }
}
