//! Ranges: expanding a pattern, and folding the names back, which must
//! expand to the same names again.
#![no_main]

use std::collections::BTreeSet;

use fleet::hosts::nodeset::{expand, fold};
use fleet::hosts::split_items;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pattern) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(names) = expand(pattern) else {
        return;
    };
    // Only names a fold can spell (not empty, and no brackets, braces,
    // commas or edge spaces of their own), and few enough that folding and
    // expanding again stays quick.
    let unspellable = |name: &String| {
        name.is_empty() || name.contains([',', '[', ']', '{', '}']) || name.trim() != name.as_str()
    };
    if names.len() > 10_000 || names.iter().any(unspellable) {
        return;
    }
    let folded = fold(names.iter().map(String::as_str));
    let again: BTreeSet<String> = split_items(&folded)
        .into_iter()
        .flat_map(|item| expand(item).expect("a folded item expands"))
        .collect();
    let names: BTreeSet<String> = names.into_iter().collect();
    assert_eq!(again, names, "{pattern:?} folded to {folded:?}");
});
