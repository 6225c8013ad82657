//! The terminal escaper: whatever the bytes, the result is UTF-8 with no
//! control character but tab and no bidi control.
#![no_main]

use fleet::report::sanitize::push_sanitized;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    push_sanitized(&mut out, data);
    let text = std::str::from_utf8(&out).expect("escaped text is UTF-8");
    let bad = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    assert!(!text.contains(bad), "{data:?} gave {text:?}");
});
