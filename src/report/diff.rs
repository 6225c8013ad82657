//! Unified diffs of two groups' outputs, as `diff -u` prints them, for
//! `--diff` and the HTML report.

use std::fmt::Write as _;

use anstyle::AnsiColor;
use similar::{ChangeTag, TextDiff};

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// One line of a unified diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffLine<'a> {
    /// `--- old` or `+++ new`.
    File(&'a str),
    /// `@@ -1,3 +1,4 @@`.
    Hunk(&'a str),
    Context(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The diff from `old` (named `old_name`) to `new`, line by line, each
/// without its newline.
pub(crate) fn diff_lines<'a>(
    old: &'a str,
    new: &'a str,
    old_name: &'a str,
    new_name: &'a str,
    mut each: impl FnMut(DiffLine<'_>),
) {
    let diff = TextDiff::from_lines(old, new);
    each(DiffLine::File(&format!("--- {old_name}")));
    each(DiffLine::File(&format!("+++ {new_name}")));
    for hunk in diff.unified_diff().context_radius(CONTEXT).iter_hunks() {
        each(DiffLine::Hunk(&hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let text = change.value().strip_suffix('\n').unwrap_or(change.value());
            each(match change.tag() {
                ChangeTag::Equal => DiffLine::Context(text),
                ChangeTag::Delete => DiffLine::Removed(text),
                ChangeTag::Insert => DiffLine::Added(text),
            });
        }
    }
}

/// The diff as text, colored for a terminal when `color` is set.
pub(crate) fn unified_diff(
    old: &str,
    new: &str,
    old_name: &str,
    new_name: &str,
    color: bool,
) -> String {
    let mut out = String::new();
    diff_lines(old, new, old_name, new_name, |line| {
        let (style, sign, text) = match line {
            DiffLine::File(text) => (AnsiColor::White.on_default().bold(), "", text),
            DiffLine::Hunk(text) => (AnsiColor::Cyan.on_default(), "", text),
            DiffLine::Context(text) => (anstyle::Style::new(), " ", text),
            DiffLine::Removed(text) => (AnsiColor::Red.on_default(), "-", text),
            DiffLine::Added(text) => (AnsiColor::Green.on_default(), "+", text),
        };
        let style = if color { style } else { anstyle::Style::new() };
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{style}{sign}{text}{style:#}");
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_with_its_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\n";
        assert_eq!(
            unified_diff(old, new, "web-[1-3]", "web-4", false),
            "--- web-[1-3]\n+++ web-4\n@@ -1,7 +1,8 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n+h\n"
        );
    }
}
