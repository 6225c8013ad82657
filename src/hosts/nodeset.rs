//! Node sets: `web-[01-20]` expands to twenty names and twenty names fold
//! back into `web-[01-20]`.
//!
//! The bracket syntax follows pdsh and ClusterShell, which operators already
//! know: comma lists and inclusive ranges, zero padding taken from the range's
//! first bound, several bracket groups multiplying out.

use std::collections::BTreeMap;

/// Why a node set pattern could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodesetError {
    #[error("'{0}': '[' is never closed")]
    Unclosed(String),
    #[error("'{0}': ']' without '['")]
    Unopened(String),
    #[error("'{pattern}': '{item}' is not a number or a range like 01-20")]
    BadItem { pattern: String, item: String },
    #[error("'{pattern}': range {item} runs backwards")]
    Backwards { pattern: String, item: String },
    #[error("'{pattern}': expands to more than {limit} names")]
    TooLarge { pattern: String, limit: usize },
}

/// More names than any fleet has; stops `x[0-99999999]` from eating memory.
/// A selector's items together are held to it as well.
pub const EXPANSION_LIMIT: usize = 1_000_000;

/// Expands every bracket group in `pattern`, in order: `web-[1,3]-[a]` is not
/// valid (items are numbers), `r[1-2]n[01-02]` gives `r1n01 r1n02 r2n01 r2n02`.
pub fn expand(pattern: &str) -> Result<Vec<String>, NodesetError> {
    let mut names = vec![String::new()];
    let mut rest = pattern;
    while let Some(open) = rest.find(['[', ']']) {
        if rest.as_bytes()[open] == b']' {
            return Err(NodesetError::Unopened(pattern.to_string()));
        }
        let close = rest[open..]
            .find(']')
            .map(|i| open + i)
            .ok_or_else(|| NodesetError::Unclosed(pattern.to_string()))?;
        let literal = &rest[..open];
        let items = expand_group(pattern, &rest[open + 1..close])?;
        if names.len().saturating_mul(items.len()) > EXPANSION_LIMIT {
            return Err(NodesetError::TooLarge {
                pattern: pattern.to_string(),
                limit: EXPANSION_LIMIT,
            });
        }
        names = names
            .iter()
            .flat_map(|head| {
                items
                    .iter()
                    .map(move |item| format!("{head}{literal}{item}"))
            })
            .collect();
        rest = &rest[close + 1..];
    }
    for name in &mut names {
        name.push_str(rest);
    }
    Ok(names)
}

/// Expands the inside of one bracket group: `01-03,7` → `01 02 03 7`.
fn expand_group(pattern: &str, group: &str) -> Result<Vec<String>, NodesetError> {
    let mut out = Vec::new();
    for item in group.split(',') {
        let bad = || NodesetError::BadItem {
            pattern: pattern.to_string(),
            item: item.to_string(),
        };
        let (lo, hi) = item.split_once('-').unwrap_or((item, item));
        if !is_number(lo) || !is_number(hi) {
            return Err(bad());
        }
        let width = if lo.len() > 1 && lo.starts_with('0') {
            lo.len()
        } else {
            0
        };
        let (lo_n, hi_n): (u64, u64) = (
            lo.parse().map_err(|_| bad())?,
            hi.parse().map_err(|_| bad())?,
        );
        if lo_n > hi_n {
            return Err(NodesetError::Backwards {
                pattern: pattern.to_string(),
                item: item.to_string(),
            });
        }
        if out.len() as u64 + (hi_n - lo_n) >= EXPANSION_LIMIT as u64 {
            return Err(NodesetError::TooLarge {
                pattern: pattern.to_string(),
                limit: EXPANSION_LIMIT,
            });
        }
        out.extend((lo_n..=hi_n).map(|n| format!("{n:0width$}")));
    }
    Ok(out)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Folds names into the shortest readable node set: `web-03 web-07 web-08
/// web-09 db` → `db,web-[03,07-09]`. Names are grouped on their last run of
/// digits; zero-padded numbers only fold with numbers of the same width.
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    // (prefix, suffix) → numbers as written, then split by padding.
    let mut families: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    let mut plain: Vec<&str> = Vec::new();
    for name in names {
        match last_digit_run(name) {
            Some((start, end)) => families
                .entry((&name[..start], &name[end..]))
                .or_default()
                .push(&name[start..end]),
            None => plain.push(name),
        }
    }
    let mut parts: Vec<String> = plain.iter().map(|s| s.to_string()).collect();
    for ((prefix, suffix), numbers) in families {
        let padded = numbers.iter().any(|n| n.len() > 1 && n.starts_with('0'));
        let mut by_width: BTreeMap<usize, Vec<(u64, &str)>> = BTreeMap::new();
        for n in numbers {
            let width = if padded { n.len() } else { 0 };
            // A run of digits too long for u64 can't be folded; keep it whole.
            match n.parse::<u64>() {
                Ok(value) => by_width.entry(width).or_default().push((value, n)),
                Err(_) => parts.push(format!("{prefix}{n}{suffix}")),
            }
        }
        for (_, mut nums) in by_width {
            nums.sort_unstable();
            nums.dedup();
            if let [(_, only)] = nums[..] {
                parts.push(format!("{prefix}{only}{suffix}"));
            } else {
                parts.push(format!("{prefix}[{}]{suffix}", ranges(&nums)));
            }
        }
    }
    parts.sort();
    parts.dedup();
    parts.join(",")
}

/// `1 2 3 5` → `1-3,5`, keeping each bound as it was written.
fn ranges(nums: &[(u64, &str)]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1].0 == nums[j].0 + 1 {
            j += 1;
        }
        out.push(if i == j {
            nums[i].1.to_string()
        } else {
            format!("{}-{}", nums[i].1, nums[j].1)
        });
        i = j + 1;
    }
    out.join(",")
}

/// Byte range of the last run of ASCII digits in `name`.
fn last_digit_run(name: &str) -> Option<(usize, usize)> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_padded_ranges_and_lists() {
        assert_eq!(
            expand("web-[01-03]").unwrap(),
            ["web-01", "web-02", "web-03"]
        );
        assert_eq!(expand("web-[1,3,5]").unwrap(), ["web-1", "web-3", "web-5"]);
        assert_eq!(expand("web-[8-10]").unwrap(), ["web-8", "web-9", "web-10"]);
        assert_eq!(
            expand("web-[098-100]").unwrap(),
            ["web-098", "web-099", "web-100"]
        );
        assert_eq!(expand("plain").unwrap(), ["plain"]);
    }

    #[test]
    fn expands_several_groups_in_order() {
        assert_eq!(
            expand("r[1-2]n[01-02].dc").unwrap(),
            ["r1n01.dc", "r1n02.dc", "r2n01.dc", "r2n02.dc"]
        );
    }

    #[test]
    fn rejects_malformed_ranges() {
        assert!(matches!(
            expand("web-[01-03"),
            Err(NodesetError::Unclosed(_))
        ));
        assert!(matches!(expand("web-01]"), Err(NodesetError::Unopened(_))));
        assert!(matches!(
            expand("web-[a-c]"),
            Err(NodesetError::BadItem { .. })
        ));
        assert!(matches!(
            expand("web-[]"),
            Err(NodesetError::BadItem { .. })
        ));
        assert!(matches!(
            expand("web-[5-1]"),
            Err(NodesetError::Backwards { .. })
        ));
        assert!(matches!(
            expand("x[0-99999999]"),
            Err(NodesetError::TooLarge { .. })
        ));
        assert_eq!(
            expand("web-[1-x]").unwrap_err().to_string(),
            "'web-[1-x]': '1-x' is not a number or a range like 01-20"
        );
    }

    #[test]
    fn folds_runs_and_singletons() {
        let names = ["web-03", "web-07", "web-08", "web-09", "db", "web-03"];
        assert_eq!(fold(names), "db,web-[03,07-09]");
        assert_eq!(fold(["web-01"]), "web-01");
        assert_eq!(fold(["a1", "a2", "b1"]), "a[1-2],b1");
    }

    #[test]
    fn folds_unpadded_numbers_across_widths() {
        assert_eq!(fold(["web-9", "web-10", "web-11"]), "web-[9-11]");
    }

    #[test]
    fn keeps_padded_widths_apart() {
        assert_eq!(fold(["n01", "n02", "n003"]), "n003,n[01-02]");
    }

    #[test]
    fn folds_on_the_last_number_only() {
        assert_eq!(fold(["r1n01", "r1n02", "r2n01"]), "r1n[01-02],r2n01");
    }

    #[test]
    fn fold_inverts_expand() {
        for pattern in ["web-[001-050]", "h[1-3,7,9-12]", "x-[08-11].lan"] {
            let names = expand(pattern).unwrap();
            assert_eq!(fold(names.iter().map(String::as_str)), pattern);
        }
    }

    proptest::proptest! {
        /// Any names fold into items that expand back to exactly them.
        #[test]
        fn fold_then_expand_gives_the_same_names(
            names in proptest::collection::btree_set("[a-c]{0,2}-?[0-9]{0,3}[a-b.]{0,2}", 1..40)
        ) {
            let names: std::collections::BTreeSet<String> =
                names.into_iter().filter(|name| !name.is_empty()).collect();
            proptest::prop_assume!(!names.is_empty());
            let folded = fold(names.iter().map(String::as_str));
            let again: std::collections::BTreeSet<String> = super::super::selector::split_items(&folded)
                .into_iter()
                .flat_map(|item| expand(item).expect("a folded item expands"))
                .collect();
            proptest::prop_assert_eq!(again, names, "folded to {}", folded);
        }
    }
}
