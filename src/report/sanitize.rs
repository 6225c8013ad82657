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
    let Some(first) = text.find(is_dangerous) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if is_dangerous(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`sanitize`] for raw remote bytes: invalid UTF-8 becomes U+FFFD first.
pub fn sanitize_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(text) => sanitize(text),
        Cow::Owned(text) => Cow::Owned(sanitize(&text).into_owned()),
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

/// Writes the escape for one dangerous character: the familiar short form
/// where there is one, else its code point.
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let short = match c {
        '\x1b' => "\\e",
        '\r' => "\\r",
        '\n' => "\\n",
        '\x07' => "\\a",
        '\x08' => "\\b",
        _ => "",
    };
    if !short.is_empty() {
        out.push_str(short);
    } else if u32::from(c) <= 0x7f {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\x{:02x}", u32::from(c));
    } else {
        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
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

    #[test]
    fn escaping_keeps_surrounding_text_and_tabs() {
        assert_eq!(sanitize("é\t\x1b[31mred\x1b[0m ✓"), "é\t\\e[31mred\\e[0m ✓");
    }
}
