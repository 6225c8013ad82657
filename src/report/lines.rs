//! Splits an output event's bytes into the lines a terminal or a JSON
//! record shows: without their `\n`, and without the `\r` of a CRLF end,
//! which would otherwise show on every line from a Windows-style host.

use crate::event::Tail;

/// The lines of `data`; the last one counts even without a newline when
/// the event says the stream was cut or ended there.
pub fn lines(data: &[u8], tail: Tail) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                Some(line.strip_suffix(b"\r").unwrap_or(line))
            }
            None => {
                let line = std::mem::take(&mut rest);
                (tail != Tail::Newline).then_some(line)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], tail: Tail) -> Vec<&[u8]> {
        lines(data, tail).collect()
    }

    #[test]
    fn splits_on_newlines_and_drops_one_carriage_return() {
        assert_eq!(
            split(b"a\r\nb\n\nc\r\r\n", Tail::Newline),
            [&b"a"[..], b"b", b"", b"c\r"]
        );
    }

    #[test]
    fn an_unfinished_last_line_counts_only_when_the_event_says_so() {
        assert_eq!(split(b"a\nrest", Tail::Eof), [&b"a"[..], b"rest"]);
        assert_eq!(split(b"piece", Tail::Cut), [&b"piece"[..]]);
        assert_eq!(split(b"a\nstray", Tail::Newline), [&b"a"[..]]);
        assert!(split(b"", Tail::Eof).is_empty());
    }
}
