//! Neutralises control characters in remote text before it reaches a terminal.
//!
//! Remote output is untrusted: a host that prints `ESC ] 0 ; … BEL` can retitle
//! the local window, `ESC [ 2 J` can wipe it, a bare `CR` can overwrite what a
//! line seemed to say, and bidi overrides can reorder it (Trojan Source). Each
//! such character is replaced by a visible escape, so the user sees that it was
//! there and what it was. Tab is kept: it is common in real output and moves
//! the cursor only forward on the same line.

use std::borrow::Cow;

/// Returns `text` with every control character replaced by a visible escape
/// (`\e`, `\r`, `\x01`, `\u{9b}`, `\u{202e}`…). Clean text, the usual case, is
/// borrowed rather than copied.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.contains(is_dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 8);
    push_sanitized(&mut out, text.as_bytes());
    // Valid UTF-8 in, valid UTF-8 and ASCII escapes out: never lossy.
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Appends raw remote `bytes` to `out` as [`sanitize`] would show them,
/// with invalid UTF-8 shown as U+FFFD as `String::from_utf8_lossy` does.
///
/// This is the hot path of every terminal output, so it works on bytes:
/// runs of printable ASCII are copied as they are, and only the rest is
/// decoded.
pub fn push_sanitized(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut i = 0;
    while i < bytes.len() {
        let plain = plain_prefix(&bytes[i..]);
        out.extend_from_slice(&bytes[i..i + plain]);
        i += plain;
        let Some(&b) = bytes.get(i) else {
            break;
        };
        if b.is_ascii() {
            let run = bytes[i..]
                .iter()
                .take_while(|&&b| b.is_ascii() && !is_plain(b))
                .count();
            push_ascii_escapes(out, &bytes[i..i + run]);
            i += run;
            continue;
        }
        // A character is at most four bytes long.
        let window = &bytes[i..bytes.len().min(i + 4)];
        let valid = match std::str::from_utf8(window) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
        };
        match valid.chars().next() {
            Some(c) => {
                if is_dangerous(c) {
                    push_escape(out, c);
                } else {
                    out.extend_from_slice(&window[..c.len_utf8()]);
                }
                i += c.len_utf8();
            }
            None => {
                out.extend_from_slice("\u{fffd}".as_bytes());
                // As from_utf8_lossy: one U+FFFD per maximal invalid prefix.
                i += invalid_len(window);
            }
        }
    }
}

/// Printable ASCII and tab: shown as they are.
fn is_plain(b: u8) -> bool {
    (b.wrapping_sub(0x20) < 0x5f) | (b == b'\t')
}

/// How many bytes at the start of `bytes` are plain. Whole blocks are
/// checked without stopping early, which the compiler turns into SIMD.
fn plain_prefix(bytes: &[u8]) -> usize {
    const BLOCK: usize = 32;
    let mut n = 0;
    for block in bytes.chunks_exact(BLOCK) {
        if !block.iter().fold(true, |plain, &b| plain & is_plain(b)) {
            break;
        }
        n += BLOCK;
    }
    n + bytes[n..].iter().take_while(|&&b| is_plain(b)).count()
}

/// How many bytes at the start of `window` (which does not start with a
/// valid character) one U+FFFD stands for.
fn invalid_len(window: &[u8]) -> usize {
    match std::str::from_utf8(window) {
        Err(e) => e.error_len().unwrap_or(window.len()),
        Ok(_) => window.len(),
    }
}

/// C0 controls but tab, DEL, C1 controls (`char::is_control` is exactly
/// these) and the bidi embeddings, overrides and isolates.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\t') || is_bidi_control(c)
}

/// LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI: the characters that let
/// text display in another order than it is stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The escape of each ASCII control character, and its length.
const ASCII_ESCAPES: [([u8; 4], usize); 128] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [([0u8; 4], 0); 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            0x1b => ([b'\\', b'e', 0, 0], 2),
            b'\r' => ([b'\\', b'r', 0, 0], 2),
            b'\n' => ([b'\\', b'n', 0, 0], 2),
            0x07 => ([b'\\', b'a', 0, 0], 2),
            0x08 => ([b'\\', b'b', 0, 0], 2),
            _ => ([b'\\', b'x', HEX[b >> 4], HEX[b & 0xf]], 4),
        };
        b += 1;
    }
    table
};

/// Escapes a run of ASCII control characters, a stack buffer at a time: a
/// binary stream can be nothing but such characters.
fn push_ascii_escapes(out: &mut Vec<u8>, run: &[u8]) {
    let mut buf = [0u8; 1024];
    for piece in run.chunks(buf.len() / 4) {
        let mut len = 0;
        for &b in piece {
            let (escape, n) = ASCII_ESCAPES[usize::from(b & 0x7f)];
            buf[len..len + 4].copy_from_slice(&escape);
            len += n;
        }
        out.extend_from_slice(&buf[..len]);
    }
}

/// Writes the escape for one dangerous character: the familiar short form
/// where there is one, else its code point.
fn push_escape(out: &mut Vec<u8>, c: char) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let code = u32::from(c);
    match u8::try_from(code) {
        Ok(byte) if byte.is_ascii() => push_ascii_escapes(out, &[byte]),
        _ => {
            out.extend_from_slice(b"\\u{");
            let digits = (32 - code.leading_zeros()).div_ceil(4);
            for shift in (0..digits).rev() {
                out.push(HEX[((code >> (shift * 4)) & 0xf) as usize]);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        for text in [
            "",
            "load average: 0.01",
            "tab\tseparated",
            "héllo wörld ✓",
            r"C:\path\e",
        ] {
            assert!(
                matches!(sanitize(text), Cow::Borrowed(t) if t == text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn window_title_sequence_is_visible() {
        assert_eq!(sanitize("\x1b]0;pwned\x07ok"), r"\e]0;pwned\aok");
    }

    #[test]
    fn screen_clear_is_visible() {
        assert_eq!(sanitize("\x1b[2J\x1b[H"), r"\e[2J\e[H");
    }

    #[test]
    fn carriage_return_cannot_overwrite_the_line() {
        assert_eq!(
            sanitize("rm -rf / failed\rall good     "),
            r"rm -rf / failed\rall good     "
        );
    }

    #[test]
    fn backspace_cannot_erase() {
        assert_eq!(sanitize("error\x08\x08\x08\x08\x08"), r"error\b\b\b\b\b");
    }

    #[test]
    fn other_c0_and_del_use_hex() {
        assert_eq!(
            sanitize("\x00\x01\x0b\x0c\x1f\x7f"),
            r"\x00\x01\x0b\x0c\x1f\x7f"
        );
        assert_eq!(sanitize("a\nb"), r"a\nb");
    }

    #[test]
    fn c1_controls_use_code_points() {
        // U+009B is the single-character CSI: `\u{9b}2J` clears some terminals.
        assert_eq!(sanitize("\u{9b}2J"), r"\u{9b}2J");
        assert_eq!(sanitize("\u{80}\u{9f}"), r"\u{80}\u{9f}");
        // Just past the C1 block is an ordinary character.
        assert_eq!(sanitize("\u{a0}"), "\u{a0}");
    }

    #[test]
    fn bidi_overrides_and_isolates_are_visible() {
        assert_eq!(
            sanitize("access\u{202e}nimda\u{202c}"),
            r"access\u{202e}nimda\u{202c}"
        );
        for c in [
            '\u{202a}', '\u{202b}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(
                sanitize(&c.to_string()),
                format!("\\u{{{:x}}}", u32::from(c))
            );
        }
        // Neighbours of those ranges are left alone.
        assert_eq!(
            sanitize("\u{2029}\u{202f}\u{2065}\u{206a}"),
            "\u{2029}\u{202f}\u{2065}\u{206a}"
        );
    }

    /// The byte-level path, against decoding first and escaping per char.
    #[test]
    fn bytes_are_shown_as_lossy_decoding_then_escaping_would() {
        let reference = |bytes: &[u8]| -> String {
            let mut out = Vec::new();
            for c in String::from_utf8_lossy(bytes).chars() {
                if is_dangerous(c) {
                    push_escape(&mut out, c);
                } else {
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            String::from_utf8(out).unwrap()
        };
        for input in [
            &b"plain ascii\tline"[..],
            b"\x00\x01\x1b[31m\x7f",
            "é✓\u{9b}\u{202e}x\u{2069}".as_bytes(),
            b"\xff\xfe ok \xc3",
            b"\xe2\x82",
            b"\xe2\x82\xac\xe2\x28\xa1",
            b"\xf0\x9f\x98\x80 \xf0\x9f\x98",
            b"\xed\xa0\x80 surrogate",
            b"\xc0\xaf overlong",
        ] {
            let mut out = Vec::new();
            push_sanitized(&mut out, input);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                reference(input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn escaping_keeps_surrounding_text_and_tabs() {
        assert_eq!(sanitize("é\t\x1b[31mred\x1b[0m ✓"), "é\t\\e[31mred\\e[0m ✓");
    }

    proptest::proptest! {
        /// Whatever the bytes, the escaped text is UTF-8 with no control
        /// character but tab and no bidi control, and plain text is kept.
        #[test]
        fn escaping_never_emits_a_control_character(bytes: Vec<u8>) {
            let mut out = Vec::new();
            push_sanitized(&mut out, &bytes);
            let text = String::from_utf8(out).expect("escaped text is UTF-8");
            proptest::prop_assert!(!text.contains(is_dangerous), "{:?}", text);
            if let Ok(plain) = std::str::from_utf8(&bytes) {
                if !plain.contains(is_dangerous) {
                    proptest::prop_assert_eq!(&text, plain);
                }
            }
        }
    }
}
