//! Splits one ssh_config line into a keyword and its words, the way OpenSSH
//! does it.
//!
//! OpenSSH uses two different splitters on the same line: `strdelim()` for the
//! keyword and the `Match` criteria (whitespace, one `=`, double quotes only)
//! and `argv_split()` for everything else (single and double quotes,
//! backslash escapes, `#` comments). Odd lines such as `Match host "a` or
//! `Host a\"b` only come out the same as in `ssh` if both are reproduced.

/// OpenSSH's `WHITESPACE` set.
const WHITESPACE: &[u8] = b" \t\r\n";

/// A line split into its keyword and the text after it.
#[derive(Debug)]
pub(super) struct RawLine {
    /// The keyword as written, for messages.
    pub keyword: String,
    /// Everything after the keyword and its separator, as OpenSSH's `str`.
    pub rest: String,
    /// `rest` split like OpenSSH's `argv_split(…, terminate_on_comment)`.
    pub args: Vec<String>,
}

/// Splits a line; `Ok(None)` for blank and comment lines.
pub(super) fn split_line(line: &str) -> Result<Option<RawLine>, String> {
    // Trailing whitespace (and form feeds) go, except at index 0, exactly
    // as readconf.c trims them.
    let bytes = line.as_bytes();
    let mut end = bytes.len();
    while end > 1 && b" \t\r\n\x0c".contains(&bytes[end - 1]) {
        end -= 1;
    }
    let mut words = Words::new(&line[..end]);
    let mut keyword = words.next();
    if keyword.as_deref() == Some("") {
        keyword = words.next();
    }
    let keyword = match keyword {
        Some(k) if !k.is_empty() && !k.starts_with('#') => k,
        _ => return Ok(None),
    };
    let rest = words.rest();
    if rest.is_empty() {
        return Err(format!("'{keyword}' needs a value"));
    }
    let args =
        argv_split(&rest).ok_or_else(|| "unterminated quote; close it or remove it".to_string())?;
    Ok(Some(RawLine {
        keyword,
        rest,
        args,
    }))
}

/// A cursor handing out words like OpenSSH's `strdelim()`: words end at
/// whitespace, a double quote or one `=`; `"…"` groups words.
pub(super) struct Words {
    /// The line as a C string: always NUL-terminated, edited in place.
    buf: Vec<u8>,
    /// Where the next word starts; `None` once the line is used up.
    pos: Option<usize>,
}

impl Words {
    pub(super) fn new(s: &str) -> Words {
        let mut buf = s.as_bytes().to_vec();
        if let Some(nul) = buf.iter().position(|&b| b == 0) {
            buf.truncate(nul);
        }
        buf.push(0);
        Words { buf, pos: Some(0) }
    }

    /// The next word; `None` when the line is used up or a quote is
    /// unterminated (as `strdelim()` returns NULL).
    pub(super) fn next(&mut self) -> Option<String> {
        let old = self.pos?;
        let end = self.c_end(old);
        let found = (old..end).find(|&i| b" \t\r\n\"=".contains(&self.buf[i]));
        let Some(i) = found else {
            self.pos = None;
            return Some(self.text(old, end));
        };
        if self.buf[i] == b'"' {
            self.buf.remove(i);
            let end = self.c_end(i);
            let Some(close) = (i..end).find(|&j| self.buf[j] == b'"') else {
                self.pos = None;
                return None;
            };
            self.buf[close] = 0;
            self.pos = Some(close + 1 + self.span_ws(close + 1));
            return Some(self.text(old, close));
        }
        let was_equals = self.buf[i] == b'=';
        self.buf[i] = 0;
        let mut next = i + 1 + self.span_ws(i + 1);
        if self.buf[next] == b'=' && !was_equals {
            next += 1 + self.span_ws(next + 1);
        }
        self.pos = Some(next);
        Some(self.text(old, i))
    }

    /// The unread remainder after skipping whitespace (empty when none).
    pub(super) fn rest(&mut self) -> String {
        match self.pos {
            Some(p) => {
                let start = p + self.span_ws(p);
                self.pos = Some(start);
                let end = self.c_end(start);
                self.text(start, end)
            }
            None => String::new(),
        }
    }

    /// Whether nothing but an empty remainder is left.
    pub(super) fn is_used_up(&self) -> bool {
        self.pos.is_none_or(|p| self.buf[p] == 0)
    }

    /// Marks the line as used up, as OpenSSH does at a `#` comment.
    pub(super) fn finish(&mut self) {
        self.pos = None;
    }

    fn c_end(&self, from: usize) -> usize {
        from + self.buf[from..].iter().position(|&b| b == 0).unwrap_or(0)
    }

    fn span_ws(&self, from: usize) -> usize {
        self.buf[from..]
            .iter()
            .take_while(|b| WHITESPACE.contains(b))
            .count()
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.buf[from..to]).into_owned()
    }
}

/// OpenSSH's `argv_split()` with comments ending the line; `None` for an
/// unterminated quote.
pub(super) fn argv_split(s: &str) -> Option<Vec<String>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        if b[i] == b'#' {
            break;
        }
        let mut quote = 0u8;
        let mut arg = Vec::new();
        while i < b.len() {
            let c = b[i];
            if c == b'\\' {
                match b.get(i + 1) {
                    Some(&n)
                        if n == b'\'' || n == b'"' || n == b'\\' || (quote == 0 && n == b' ') =>
                    {
                        i += 1;
                        arg.push(n);
                    }
                    _ => arg.push(c),
                }
            } else if quote == 0 && (c == b' ' || c == b'\t') {
                break;
            } else if quote == 0 && (c == b'"' || c == b'\'') {
                quote = c;
            } else if quote != 0 && c == quote {
                quote = 0;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        out.push(String::from_utf8_lossy(&arg).into_owned());
        if i >= b.len() && quote != 0 {
            return None;
        }
    }
    Some(out)
}
