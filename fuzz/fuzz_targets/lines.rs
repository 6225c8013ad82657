//! The line splitter: the input's first byte picks chunk sizes, the rest is
//! the stream. The pieces must give back the stream byte for byte, each
//! ending where its tail says.
#![no_main]

use bytes::Bytes;
use fleet::event::Tail;
use fleet::exec::lines::{LineCutter, MAX_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut cutter = LineCutter::default();
    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut size = usize::from(seed) + 1;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        pieces.extend(cutter.push(Bytes::copy_from_slice(chunk)));
        rest = after;
        // Sizes vary, some past MAX_LINE, so cuts happen inside chunks.
        size = (size * 7 + 13) % (2 * MAX_LINE + 3) + 1;
    }
    pieces.extend(cutter.finish());
    let mut joined = Vec::new();
    for (piece, tail) in &pieces {
        assert!(!piece.is_empty());
        match tail {
            Tail::Newline => assert_eq!(piece.last(), Some(&b'\n')),
            Tail::Cut => assert!(piece.len() <= MAX_LINE && !piece.contains(&b'\n')),
            Tail::Eof => assert!(!piece.contains(&b'\n')),
        }
        joined.extend_from_slice(piece);
    }
    assert_eq!(joined, stream);
});
