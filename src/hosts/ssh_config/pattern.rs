//! OpenSSH's comma-separated pattern lists (`Match`, `IgnoreUnknown`), built
//! on [`crate::wildcard::match_pattern`], and the glob(3) expansion behind
//! `Include`. Every function takes the patterns first and the text second,
//! as `match_pattern` does.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::wildcard::{match_pattern, match_with};

/// How a comma-separated pattern list matched, as `match_pattern_list()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListMatch {
    /// A `!pattern` matched: this overrides any positive match.
    Negated,
    NoMatch,
    Matched,
}

/// Matches `s` against `list`, such as `a,b,!c`; with `lower`, the patterns
/// are lowercased first. A sub-pattern of 1023 bytes or more fails the whole
/// list, as in OpenSSH's fixed buffer. (OpenSSH's `match_pattern_list(s,
/// list, lower)` takes the text first.)
pub(super) fn match_pattern_list(list: &str, s: &str, lower: bool) -> ListMatch {
    let list = list.as_bytes();
    let mut positive = false;
    let mut i = 0;
    // Walked by hand rather than with `split(',')`: OpenSSH skips an empty
    // sub-pattern after a trailing comma but tries one between two commas.
    while i < list.len() {
        let negated = list[i] == b'!';
        if negated {
            i += 1;
        }
        let start = i;
        while i < list.len() && list[i] != b',' {
            i += 1;
        }
        let sub = &list[start..i];
        if i < list.len() {
            i += 1;
        }
        if sub.len() >= 1023 {
            return ListMatch::NoMatch;
        }
        let matched = if lower {
            match_pattern(&sub.to_ascii_lowercase(), s.as_bytes())
        } else {
            match_pattern(sub, s.as_bytes())
        };
        if matched {
            if negated {
                return ListMatch::Negated;
            }
            positive = true;
        }
    }
    if positive {
        ListMatch::Matched
    } else {
        ListMatch::NoMatch
    }
}

/// `match_hostname()`: the name and the patterns compare case-insensitively.
pub(super) fn match_hostname(list: &str, host: &str) -> bool {
    match_pattern_list(list, &host.to_ascii_lowercase(), true) == ListMatch::Matched
}

/// Expands an `Include` pattern (already `~`-expanded and anchored) like
/// glob(3): `*`, `?`, `[…]` and `\` escapes in any component, dot files
/// only for a literal leading dot, results sorted bytewise. Nothing matching
/// is an empty list, not an error.
pub(super) fn glob(pattern: &str) -> Vec<PathBuf> {
    let (mut paths, rest) = match pattern.strip_prefix('/') {
        Some(rest) => (vec![PathBuf::from("/")], rest),
        None => (vec![PathBuf::new()], pattern),
    };
    let components: Vec<&str> = rest.split('/').collect();
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        if component.is_empty() {
            // `a//b` is `a/b`; a trailing `/` asks for directories.
            if last {
                paths.retain(|p| p.is_dir());
            }
            continue;
        }
        let pat = component.as_bytes();
        if !is_magic(pat) {
            let literal = unescape(pat);
            for p in &mut paths {
                p.push(std::ffi::OsStr::from_bytes(&literal));
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &paths {
            let listing = if dir.as_os_str().is_empty() {
                fs::read_dir(".")
            } else {
                fs::read_dir(dir)
            };
            let Ok(entries) = listing else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if fnmatch(pat, name.as_bytes()) {
                    next.push(dir.join(&name));
                }
            }
        }
        paths = next;
    }
    // Literal components are only checked here, like glob(3) does.
    paths.retain(|p| fs::symlink_metadata(p).is_ok());
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    paths.dedup();
    paths
}

fn is_magic(component: &[u8]) -> bool {
    let mut i = 0;
    while i < component.len() {
        match component[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn unescape(component: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(component.len());
    let mut bytes = component.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            if let Some(&escaped) = bytes.next() {
                out.push(escaped);
                continue;
            }
        }
        out.push(b);
    }
    out
}

/// fnmatch(3) with FNM_PERIOD for one path component.
fn fnmatch(p: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && !(p.starts_with(b".") || p.starts_with(b"\\.")) {
        return false;
    }
    match_with(p, name, match_one)
}

/// Matches one byte at pattern position `pi`; returns the next position.
fn match_one(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    match *p.get(pi)? {
        b'?' => Some(pi + 1),
        b'\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
        b'[' => match bracket(p, pi, c) {
            Some((matched, next)) => matched.then_some(next),
            // No closing `]`: the `[` is an ordinary character.
            None => (c == b'[').then_some(pi + 1),
        },
        literal => (literal == c).then_some(pi + 1),
    }
}

/// Evaluates `[…]` at `pi`: whether `c` is in the set, and where the set
/// ends; `None` when the bracket never closes.
fn bracket(p: &[u8], pi: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = pi + 1;
    let negate = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if lo == b'\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&b| b != b']') {
            let mut hi = p[i + 1];
            i += 2;
            if hi == b'\\' {
                hi = *p.get(i)?;
                i += 1;
            }
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{match_hostname, match_pattern_list, ListMatch};

    #[test]
    fn lists_take_the_patterns_first_and_a_negation_wins() {
        assert_eq!(
            match_pattern_list("web*,!web3", "web1", false),
            ListMatch::Matched
        );
        assert_eq!(
            match_pattern_list("web*,!web3", "web3", false),
            ListMatch::Negated
        );
        assert_eq!(
            match_pattern_list("web*,!web3", "db1", false),
            ListMatch::NoMatch
        );
        assert_eq!(
            match_pattern_list("WEB*", "web1", false),
            ListMatch::NoMatch
        );
        assert_eq!(match_pattern_list("WEB*", "web1", true), ListMatch::Matched);
        assert!(match_hostname("*.Example.com", "Web1.EXAMPLE.com"));
    }
}
