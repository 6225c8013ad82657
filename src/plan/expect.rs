//! Compliance checks on a command's output: `--expect REGEX` (some line
//! must match) and `--expect-not REGEX` (no line may match).
//!
//! The executor feeds every piece of a streamed step's stdout to an
//! [`ExpectMatcher`] as it arrives, so a check costs a few flags and at
//! most one partial line per host, whatever the host prints. The plan reads
//! the [`Missed`] from the step's result and decides the outcome.

use std::fmt;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use crate::event::Tail;
use crate::report::lines::lines;

/// A line longer than this is checked on its first this-many bytes only:
/// enough for any line a compliance check is about, and it bounds what is
/// held of a line that arrives in pieces.
pub const MAX_CHECKED_LINE: usize = 64 * 1024;

/// The checks of a run, compiled once and shared by every host.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// Each must match at least one stdout line.
    expect: Vec<Regex>,
    /// None may match any stdout line.
    expect_not: Vec<Regex>,
}

/// What a host's output missed: the checks it did not pass, by their
/// pattern text, in the order they were given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Missed {
    /// `--expect` patterns no line matched.
    pub missing: Vec<String>,
    /// `--expect-not` patterns some line matched.
    pub forbidden: Vec<String>,
}

impl Expectations {
    /// Compiles the patterns; the error names the pattern that is not a
    /// valid regular expression.
    pub fn new(expect: &[String], expect_not: &[String]) -> Result<Expectations, String> {
        let compile = |flag: &str, patterns: &[String]| {
            patterns
                .iter()
                .map(|pattern| Regex::new(pattern).map_err(|e| format!("{flag} '{pattern}': {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Expectations {
            expect: compile("--expect", expect)?,
            expect_not: compile("--expect-not", expect_not)?,
        })
    }

    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.expect.is_empty() && self.expect_not.is_empty()
    }

    /// A fresh matcher for one host's output.
    pub fn matcher(&self) -> ExpectMatcher<'_> {
        ExpectMatcher {
            checks: self,
            found: vec![false; self.expect.len()],
            forbidden_found: vec![false; self.expect_not.len()],
            partial: Vec::new(),
        }
    }
}

/// The state of the checks over one host's stdout while it streams.
#[derive(Debug)]
pub struct ExpectMatcher<'a> {
    checks: &'a Expectations,
    /// Which `--expect` patterns some line matched.
    found: Vec<bool>,
    /// Which `--expect-not` patterns some line matched.
    forbidden_found: Vec<bool>,
    /// The start of a line that goes on in the next piece ([`Tail::Cut`]).
    partial: Vec<u8>,
}

impl ExpectMatcher<'_> {
    /// Checks the lines of one output piece, as [`crate::event::Event::Output`]
    /// carries them.
    pub fn feed(&mut self, data: &[u8], tail: Tail) {
        let mut pieces = lines(data, tail).peekable();
        while let Some(line) = pieces.next() {
            let last = pieces.peek().is_none();
            if last && tail == Tail::Cut {
                let room = MAX_CHECKED_LINE.saturating_sub(self.partial.len());
                self.partial
                    .extend_from_slice(&line[..line.len().min(room)]);
            } else if self.partial.is_empty() {
                self.check(line);
            } else {
                let room = MAX_CHECKED_LINE.saturating_sub(self.partial.len());
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(&line[..line.len().min(room)]);
                self.check(&whole);
            }
        }
    }

    fn check(&mut self, line: &[u8]) {
        let line = &line[..line.len().min(MAX_CHECKED_LINE)];
        for (regex, found) in self.checks.expect.iter().zip(&mut self.found) {
            *found = *found || regex.is_match(line);
        }
        let forbidden = self.checks.expect_not.iter();
        for (regex, found) in forbidden.zip(&mut self.forbidden_found) {
            *found = *found || regex.is_match(line);
        }
    }

    /// The verdict once the output has ended; `None` when every check
    /// passed.
    pub fn finish(mut self) -> Option<Missed> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.check(&line);
        }
        let pick = |regexes: &[Regex], flags: &[bool], wanted: bool| -> Vec<String> {
            regexes
                .iter()
                .zip(flags)
                .filter(|(_, &flag)| flag == wanted)
                .map(|(regex, _)| regex.as_str().to_string())
                .collect()
        };
        let verdict = Missed {
            missing: pick(&self.checks.expect, &self.found, false),
            forbidden: pick(&self.checks.expect_not, &self.forbidden_found, true),
        };
        (!verdict.missing.is_empty() || !verdict.forbidden.is_empty()).then_some(verdict)
    }
}

impl fmt::Display for Missed {
    /// `no line matches '^a$'; a line matches '^b$' (--expect-not)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for pattern in &self.missing {
            parts.push(format!("no line matches '{pattern}'"));
        }
        for pattern in &self.forbidden {
            parts.push(format!("a line matches '{pattern}' (--expect-not)"));
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(expect: &[&str], expect_not: &[&str]) -> Expectations {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Expectations::new(&owned(expect), &owned(expect_not)).unwrap()
    }

    #[test]
    fn every_expect_must_match_some_line_and_no_expect_not_any() {
        let checks = checks(
            &["^passwordauthentication no$", "^port 22$"],
            &["^permitrootlogin yes$"],
        );
        let mut ok = checks.matcher();
        ok.feed(b"port 22\r\npasswordauthentication no\n", Tail::Newline);
        assert_eq!(ok.finish(), None);

        let mut bad = checks.matcher();
        bad.feed(
            b"passwordauthentication yes\npermitrootlogin yes\n",
            Tail::Newline,
        );
        let verdict = bad.finish().unwrap();
        assert_eq!(
            verdict.to_string(),
            "no line matches '^passwordauthentication no$'; no line matches '^port 22$'; \
             a line matches '^permitrootlogin yes$' (--expect-not)"
        );
    }

    #[test]
    fn a_line_cut_across_pieces_is_checked_whole() {
        let checks = checks(&["^abcdef$"], &[]);
        let mut matcher = checks.matcher();
        matcher.feed(b"abc", Tail::Cut);
        matcher.feed(b"def\n", Tail::Newline);
        assert_eq!(matcher.finish(), None);
        // Nor does a piece's end count as a line's end.
        let mut matcher = checks.matcher();
        matcher.feed(b"abcdef", Tail::Cut);
        matcher.feed(b"g", Tail::Eof);
        assert!(matcher.finish().is_some());
    }

    #[test]
    fn a_last_line_without_newline_is_checked() {
        let checks = checks(&["^done$"], &[]);
        let mut matcher = checks.matcher();
        matcher.feed(b"x\ndone", Tail::Eof);
        assert_eq!(matcher.finish(), None);
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let error = Expectations::new(&["(".into()], &[]).unwrap_err();
        assert!(error.starts_with("--expect '(': "), "{error}");
    }
}
