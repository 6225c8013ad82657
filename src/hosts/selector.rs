//! Selectors: the one comma-separated argument that says which hosts to run
//! on, e.g. `web-*,@db,web-[01-20],!web-03`.
//!
//! Each item is one of
//!
//! * a glob over known names (`web-*`, `db-?`, `{web,db}-1*`): it must match
//!   at least one, so a typo never quietly selects nothing;
//! * `@group`: an inventory group, with its nested children;
//! * `@failed`, `@failed:STATUS`, `@ok`: hosts by how they ended in the
//!   last run ([`crate::last_run`]);
//! * a range (`web-[01-20]`, `web-[1,3,5]`): plain names, zero padding kept;
//! * a plain name, which need not be known anywhere, exactly as with `ssh`;
//! * any of these after `!`, which removes hosts whatever its position.
//!
//! Commas inside `[...]` and `{...}` belong to the item, so `web-[1,3]` is
//! one item. `[` always starts a range, never a glob character class: a
//! range is what operators mean by brackets in a host name.

use globset::{ErrorKind, Glob, GlobSet, GlobSetBuilder};

use super::error::TargetError;
use super::nodeset;
use crate::last_run::RunFilter;

/// A parsed selector argument plus the `--exclude` patterns.
#[derive(Debug)]
pub(crate) struct Selector {
    /// The argument as typed, for error messages.
    text: String,
    include: Vec<Item>,
    exclude: Vec<Item>,
}

/// One item of a selector, without its `!`.
#[derive(Debug)]
pub(crate) struct Item {
    /// The item as typed, for error messages.
    pub(crate) text: String,
    pub(crate) pattern: Pattern,
}

/// What an item stands for.
#[derive(Debug)]
pub(crate) enum Pattern {
    /// `@name`
    Group(String),
    /// `@failed`, `@failed:STATUS`, `@ok`.
    LastRun(RunFilter),
    /// Names and globs, after ranges are expanded.
    Hosts(HostPattern),
}

/// Host names and globs; `web-[1-2]*` becomes the two globs `web-1*` and
/// `web-2*`, `web-[1-2]` the two names `web-1` and `web-2`.
#[derive(Debug)]
pub(crate) struct HostPattern {
    /// Names that stand for themselves, known or not.
    pub(crate) names: Vec<String>,
    /// Globs, matched against known names only.
    pub(crate) globs: GlobSet,
}

/// What makes a name a glob.
const GLOB_CHARS: [char; 4] = ['*', '?', '{', '}'];

/// Globs one item may expand to (`r[1-20]n*` is twenty). Names are cheap,
/// a glob is not: compiling a hundred thousand of them took minutes.
const MAX_GLOBS: usize = 256;

impl Selector {
    /// Parses the selector argument and every `--exclude` value (each of
    /// which may itself be a comma list, without `!`).
    pub(crate) fn parse(selectors: &str, excludes: &[String]) -> Result<Selector, TargetError> {
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        let mut budget = nodeset::EXPANSION_LIMIT;
        for text in split_items(selectors) {
            match text.strip_prefix('!') {
                Some(rest) => exclude.push(Item::parse(rest, &mut budget)?),
                None => include.push(Item::parse(text, &mut budget)?),
            }
        }
        for text in excludes.iter().flat_map(|list| split_items(list)) {
            if text.starts_with('!') {
                return Err(TargetError::BadPattern {
                    problem: format!("'{text}': --exclude already excludes; drop the '!'"),
                });
            }
            exclude.push(Item::parse(text, &mut budget)?);
        }
        if include.is_empty() {
            return Err(if exclude.is_empty() {
                TargetError::EmptySelector
            } else {
                TargetError::OnlyExclusions {
                    selector: selectors.to_string(),
                }
            });
        }
        Ok(Selector {
            text: selectors.to_string(),
            include,
            exclude,
        })
    }

    /// The argument as typed.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Items that add hosts.
    pub(crate) fn include(&self) -> &[Item] {
        &self.include
    }

    /// Items that remove hosts, from `!item` and from `--exclude`.
    pub(crate) fn exclude(&self) -> &[Item] {
        &self.exclude
    }
}

impl Item {
    /// Parses one item, whose names count against `budget`: what is left
    /// of the names all items together may stand for. Each item is capped
    /// on its own while it expands, so at most two items' names are held.
    fn parse(text: &str, budget: &mut usize) -> Result<Item, TargetError> {
        let pattern =
            Pattern::parse(text).map_err(|problem| TargetError::BadPattern { problem })?;
        if let Pattern::Hosts(hosts) = &pattern {
            let count = hosts.names.len() + hosts.globs.len();
            *budget = budget
                .checked_sub(count)
                .ok_or_else(|| TargetError::BadPattern {
                    problem: format!(
                        "'{text}': the selector's items expand to more than {} names in all; \
                         select fewer, or use globs or groups",
                        nodeset::EXPANSION_LIMIT
                    ),
                })?;
        }
        Ok(Item {
            text: text.to_string(),
            pattern,
        })
    }
}

impl Pattern {
    /// Parses one item (without `!`). The error is a sentence that starts
    /// with the quoted item, for the caller to place.
    pub(crate) fn parse(text: &str) -> Result<Pattern, String> {
        if let Some(group) = text.strip_prefix('@') {
            if let Some(filter) = RunFilter::parse(group) {
                return filter.map(Pattern::LastRun);
            }
            check_name(group).map_err(|problem| format!("'{text}': {problem}"))?;
            return Ok(Pattern::Group(group.to_string()));
        }
        if text.contains('@') {
            return Err(format!(
                "'{text}': user@host is not supported; set the user in the inventory or in ssh_config"
            ));
        }
        if text.contains('!') {
            return Err(format!(
                "'{text}': '!' excludes only at the start of an item"
            ));
        }
        if text.contains(char::is_whitespace) {
            return Err(format!(
                "'{text}': a host name has no spaces; separate items with commas"
            ));
        }
        let expanded = if text.contains(['[', ']']) {
            nodeset::expand(text).map_err(|err| err.to_string())?
        } else {
            vec![text.to_string()]
        };
        let glob_count = expanded
            .iter()
            .filter(|name| name.contains(GLOB_CHARS))
            .count();
        if glob_count > MAX_GLOBS {
            return Err(format!(
                "'{text}': expands to {glob_count} globs, more than {MAX_GLOBS}: a range in a glob \
                 makes one glob per number; write '*' for that part instead"
            ));
        }
        let mut names = Vec::new();
        let mut globs = GlobSetBuilder::new();
        for name in expanded {
            if name.contains(GLOB_CHARS) {
                let glob = Glob::new(&name).map_err(|err| glob_problem(text, &err))?;
                globs.add(glob);
            } else {
                names.push(name);
            }
        }
        let globs = globs.build().map_err(|err| glob_problem(text, &err))?;
        Ok(Pattern::Hosts(HostPattern { names, globs }))
    }
}

/// globset's own words for unbalanced braces suggest escaping `{` as
/// `[{]`, which a selector would read as a range.
fn glob_problem(text: &str, err: &globset::Error) -> String {
    match err.kind() {
        ErrorKind::UnclosedAlternates => format!("'{text}': '{{' is never closed"),
        ErrorKind::UnopenedAlternates => format!("'{text}': '}}' without '{{'"),
        kind => format!("'{text}': {kind}"),
    }
}

/// Splits a comma list into trimmed, non-empty items, leaving commas inside
/// `[...]` (ranges) and `{...}` (glob alternatives) alone.
pub fn split_items(list: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// Checks that `name` can be a host or group name: one that a selector can
/// spell without it being read as a pattern.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name cannot be empty".to_string());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "'{name}' cannot be a name: it holds the control character {c:?}"
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "'{name}' cannot be a name: it holds the blank {c:?}"
        ));
    }
    match name.chars().find(|c| "*?[]{},!@".contains(*c)) {
        Some(c) => Err(format!(
            "'{name}' cannot be a name: selectors would read {c:?} in it as syntax"
        )),
        None => Ok(()),
    }
}

/// Checks that `name` can name a host: a name ([`check_name`]) that ssh
/// would also take as a host name.
pub(crate) fn check_host_name(name: &str) -> Result<(), String> {
    check_name(name)?;
    match super::ssh_config::host_name_problem(name) {
        Some(problem) => Err(format!("'{name}' cannot be a host name: {problem}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> HostPattern {
        match Pattern::parse(text).unwrap() {
            Pattern::Hosts(hosts) => hosts,
            other => panic!("{text} parsed as {other:?}"),
        }
    }

    #[test]
    fn splits_on_commas_outside_brackets_and_braces() {
        assert_eq!(
            split_items("web-*, @db,web-[01-03,7],!web-03,{a,b}-1*,"),
            ["web-*", "@db", "web-[01-03,7]", "!web-03", "{a,b}-1*"]
        );
        assert!(split_items(" , ").is_empty());
    }

    #[test]
    fn ranges_expand_to_names_keeping_padding() {
        let pattern = hosts("web-[08-10]");
        assert_eq!(pattern.names, ["web-08", "web-09", "web-10"]);
        assert!(pattern.globs.is_empty());
        assert_eq!(hosts("web-[1,3,5]").names, ["web-1", "web-3", "web-5"]);
    }

    #[test]
    fn globs_and_ranged_globs() {
        let pattern = hosts("db-?");
        assert!(pattern.names.is_empty());
        assert!(pattern.globs.is_match("db-1"));
        assert!(!pattern.globs.is_match("db-10"));
        let pattern = hosts("r[1-2]n*");
        assert_eq!(pattern.globs.len(), 2);
        assert!(pattern.globs.is_match("r2n07"));
        assert!(!pattern.globs.is_match("r3n07"));
    }

    #[test]
    fn plain_names_stand_for_themselves() {
        assert_eq!(
            hosts("somehost.example.com").names,
            ["somehost.example.com"]
        );
    }

    #[test]
    fn groups_and_exclusions() {
        let selector = Selector::parse("@web,!web-03", &["db-*,@canary".to_string()]).unwrap();
        assert_eq!(selector.text(), "@web,!web-03");
        assert!(matches!(&selector.include()[0].pattern, Pattern::Group(g) if g == "web"));
        let excluded: Vec<_> = selector.exclude().iter().map(|i| i.text.as_str()).collect();
        assert_eq!(excluded, ["web-03", "db-*", "@canary"]);
    }

    #[test]
    fn the_last_run_is_selected_by_status() {
        use crate::outcome::Status;
        let parse = |text| Pattern::parse(text).unwrap();
        assert!(matches!(
            parse("@failed"),
            Pattern::LastRun(RunFilter::Failed)
        ));
        assert!(matches!(
            parse("@failed:unreachable"),
            Pattern::LastRun(RunFilter::Status(Status::Unreachable))
        ));
        assert!(matches!(
            parse("@ok"),
            Pattern::LastRun(RunFilter::Succeeded)
        ));
        assert!(matches!(parse("@oks"), Pattern::Group(_)));
        assert!(Pattern::parse("@failed:fine").is_err());
    }

    #[test]
    fn rejects_what_cannot_select() {
        let error = |text: &str| Selector::parse(text, &[]).unwrap_err().to_string();
        assert_eq!(
            error(""),
            "no hosts selected: the selector is empty; give a name, a glob like 'web-*', \
             a range like 'web-[01-20]' or a group like '@db'"
        );
        assert_eq!(
            error("!web-03"),
            "selector '!web-03' only excludes hosts; say what to include too, e.g. '*,!web-03'"
        );
        assert_eq!(
            error("web-[1-x]"),
            "selector 'web-[1-x]': '1-x' is not a number or a range like 01-20"
        );
        assert_eq!(error("web-01]"), "selector 'web-01]': ']' without '['");
        assert_eq!(
            error("root@web-1"),
            "selector 'root@web-1': user@host is not supported; set the user in the inventory or in ssh_config"
        );
        assert_eq!(
            error("web-1!"),
            "selector 'web-1!': '!' excludes only at the start of an item"
        );
        assert_eq!(
            error("web 1"),
            "selector 'web 1': a host name has no spaces; separate items with commas"
        );
        assert_eq!(error("@"), "selector '@': a name cannot be empty");
        assert_eq!(error("web-{a"), "selector 'web-{a': '{' is never closed");
        assert_eq!(error("web-a}*"), "selector 'web-a}*': '}' without '{'");
        assert_eq!(
            Selector::parse("web-*", &["!web-1".to_string()])
                .unwrap_err()
                .to_string(),
            "selector '!web-1': --exclude already excludes; drop the '!'"
        );
    }

    /// Found by fuzzing: `x[1-55553]*` compiled 55,553 globs, which took
    /// longer than a run should take to start.
    #[test]
    fn a_ranged_glob_that_makes_too_many_globs_is_refused() {
        let error = Pattern::parse("+[1-55553]le*").map(|_| ()).unwrap_err();
        assert_eq!(
            error,
            "'+[1-55553]le*': expands to 55553 globs, more than 256: a range in a glob makes \
             one glob per number; write '*' for that part instead"
        );
        assert!(Pattern::parse("r[1-256]n*").is_ok());
    }

    /// Issue 10, defect 17: each item was capped at a million names, but
    /// four such items took 1.3 GB.
    #[test]
    fn the_names_of_all_items_together_are_capped() {
        let error = |selectors: &str, excludes: &[String]| {
            Selector::parse(selectors, excludes)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let error_all = error("a[1-600000],b[1-600000]", &[]);
        assert_eq!(
            error_all,
            "selector 'b[1-600000]': the selector's items expand to more than 1000000 names in all; \
             select fewer, or use globs or groups"
        );
        let excluded = error("a[1-600000]", &["b[1-600000]".to_string()]);
        assert!(
            excluded.contains("more than 1000000 names in all"),
            "{excluded}"
        );
        assert!(Selector::parse("a[1-500000],b[1-500000]", &[]).is_ok());
    }

    #[test]
    fn names_must_not_look_like_patterns() {
        assert!(check_name("web-01.example.com").is_ok());
        assert_eq!(
            check_name("web*").unwrap_err(),
            "'web*' cannot be a name: selectors would read '*' in it as syntax"
        );
        assert!(check_name("a b").is_err());
        assert!(check_name("").is_err());
    }
}
