//! Wildcard matching as OpenSSH does it, shared by ssh_config (`Host`,
//! `Match`, `Include`) and known_hosts host patterns.
//!
//! Iterative with a single backtrack point, so a pattern full of `*` cannot
//! make a lookup take exponential time.

/// OpenSSH's `match_pattern()`: `*` matches any run of bytes (even none) and
/// `?` exactly one; everything else, brackets included, is literal. The
/// comparison is case-sensitive; callers lowercase where OpenSSH does.
///
/// The pattern comes first, as the name reads. OpenSSH's own
/// `match_pattern(s, pattern)` takes the text first, so a call ported from
/// its source must swap the arguments.
pub fn match_pattern(pattern: &[u8], text: &[u8]) -> bool {
    match_with(pattern, text, |p, pi, c| match p[pi] {
        b'?' => Some(pi + 1),
        literal => (literal == c).then_some(pi + 1),
    })
}

/// The backtracking skeleton: `*` is handled here; `one(pattern, pi, byte)`
/// matches one byte at pattern position `pi` (`pi` is in bounds) and returns
/// the position after it.
pub fn match_with(
    pattern: &[u8],
    text: &[u8],
    one: impl Fn(&[u8], usize, u8) -> Option<usize>,
) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it is currently assumed
    // to have consumed up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&b'*') {
            star = Some((p, t));
            p += 1;
            continue;
        }
        match (p < pattern.len())
            .then(|| one(pattern, p, text[t]))
            .flatten()
        {
            Some(next) => {
                p = next;
                t += 1;
            }
            None => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::match_pattern;

    #[test]
    fn stars_and_question_marks() {
        assert!(match_pattern(b"*", b""));
        assert!(match_pattern(b"web?", b"web1"));
        assert!(!match_pattern(b"web?", b"web10"));
        assert!(match_pattern(b"*.example.com", b"a.b.example.com"));
        assert!(!match_pattern(b"*.example.com", b"example.com"));
        assert!(match_pattern(b"a*b*c", b"aXbYbZc"));
        assert!(!match_pattern(b"a*b*c", b"aXbYbZ"));
    }

    #[test]
    fn brackets_are_literal() {
        assert!(match_pattern(b"[web*]:22*", b"[web3]:2222"));
        assert!(!match_pattern(b"web[1]", b"web1"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "*a".repeat(50) + "b";
        let text = "a".repeat(200);
        assert!(!match_pattern(pattern.as_bytes(), text.as_bytes()));
    }
}
