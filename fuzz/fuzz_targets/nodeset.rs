//! Ranges: expanding a pattern, and folding the names back, which must
//! expand to the same names again.
#![no_main]

use std::collections::BTreeSet;

use fleet::hosts::nodeset::{expand, fold};
use libfuzzer_sys::fuzz_target;

/// Splits a folded list at the commas outside brackets.
fn items(folded: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in folded.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&folded[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&folded[start..]);
    items
}

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(names) = expand(pattern) else {
        return;
    };
    // Only names a fold can spell (no brackets or commas of their own), and
    // few enough that folding and expanding again stays quick.
    if names.len() > 10_000 || names.iter().any(|name| name.contains([',', '[', ']'])) {
        return;
    }
    let folded = fold(names.iter().map(String::as_str));
    let again: BTreeSet<String> = items(&folded)
        .into_iter()
        .flat_map(|item| expand(item).expect("a folded item expands"))
        .collect();
    let names: BTreeSet<String> = names.into_iter().collect();
    assert_eq!(again, names, "{pattern:?} folded to {folded:?}");
});
