//! The one duration syntax, read alike from the command line
//! (`--timeout 1m30s`) and from inventories (`timeout = "5m"`).
//!
//! A bare integer is seconds, as ssh_config's `ConnectTimeout` is; anything
//! else is numbers with units, `500ms`, `10s`, `1m30s`, `5m`, `1h`, without
//! spaces. A duration is more than zero: a limit of nothing would fail every
//! host, and no one means that.

use std::time::Duration;

/// The longest duration accepted, OpenSSH's limit for a time value
/// (`INT_MAX` seconds, about 68 years): nobody means a longer limit, and
/// one near `u64::MAX` seconds would overflow a deadline computed from it.
const MAX_SECONDS: u64 = i32::MAX as u64;

/// Units in milliseconds; `ms` before `m`, which it starts with.
const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];

/// Why a text is not a duration; each message quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "'{0}' is not a duration; write seconds (\"10\") or a number and a unit: \
         \"500ms\", \"10s\", \"1m30s\", \"5m\" or \"1h\""
    )]
    Malformed(String),
    #[error("'{0}': a duration must be more than zero")]
    NotPositive(String),
    #[error("'{0}' is too long; a duration must be at most {MAX_SECONDS}s")]
    TooLong(String),
}

/// What is wrong, before the error quotes the text.
enum Problem {
    Malformed,
    TooLong,
}

/// Parses `10`, `500ms`, `10s`, `1m30s`, `5m` or `1h`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let error = match (millis(magnitude), negative) {
        (Err(Problem::Malformed), _) => DurationError::Malformed,
        (_, true) | (Ok(0), false) => DurationError::NotPositive,
        (Err(Problem::TooLong), false) => DurationError::TooLong,
        (Ok(millis), false) => return Ok(Duration::from_millis(millis)),
    };
    Err(error(text.to_string()))
}

/// The length of an unsigned duration in milliseconds.
fn millis(text: &str) -> Result<u64, Problem> {
    if text.is_empty() {
        return Err(Problem::Malformed);
    }
    let millis = if text.bytes().all(|b| b.is_ascii_digit()) {
        number(text)?.checked_mul(1000)
    } else {
        with_units(text)?
    };
    millis
        .filter(|&ms| ms <= MAX_SECONDS * 1000)
        .ok_or(Problem::TooLong)
}

/// The sum of `NUMBER UNIT` pairs in milliseconds; `None` on overflow.
fn with_units(mut rest: &str) -> Result<Option<u64>, Problem> {
    let mut total = Some(0u64);
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(Problem::Malformed);
        }
        let value = number(&rest[..digits])?;
        rest = &rest[digits..];
        let (unit, millis) = UNITS
            .iter()
            .find(|(unit, _)| {
                rest.starts_with(unit) && !rest[unit.len()..].starts_with(char::is_alphabetic)
            })
            .ok_or(Problem::Malformed)?;
        rest = &rest[unit.len()..];
        total = total
            .zip(value.checked_mul(*millis))
            .and_then(|(sum, part)| sum.checked_add(part));
    }
    Ok(total)
}

/// A run of digits; one too long for a `u64` is too long a duration.
fn number(digits: &str) -> Result<u64, Problem> {
    digits.parse().map_err(|_| Problem::TooLong)
}

/// Texts and what they mean (`None`: refused), shared by the tests of every
/// place that reads a duration, so that they all hold to this syntax.
#[cfg(test)]
pub(crate) const EXAMPLES: &[(&str, Option<Duration>)] = &[
    ("10", Some(Duration::from_secs(10))),
    ("500ms", Some(Duration::from_millis(500))),
    ("10s", Some(Duration::from_secs(10))),
    ("1m30s", Some(Duration::from_secs(90))),
    ("5m", Some(Duration::from_secs(300))),
    ("2h", Some(Duration::from_secs(7200))),
    ("1s500ms", Some(Duration::from_millis(1500))),
    ("0", None),
    ("0s", None),
    ("-5", None),
    ("-5s", None),
    ("", None),
    ("s", None),
    ("10 s", None),
    ("10sec", None),
    ("1.5s", None),
    ("+5", None),
    ("10d", None),
    ("soon", None),
    ("99999999999999999999", None),
    ("3000000000s", None),
];

#[cfg(test)]
mod tests {
    use super::{parse, DurationError, EXAMPLES};

    #[test]
    fn examples() {
        for &(text, expected) in EXAMPLES {
            assert_eq!(parse(text).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn messages_quote_the_text_and_say_what_to_write() {
        let message = |text| parse(text).unwrap_err().to_string();
        assert_eq!(message("0s"), "'0s': a duration must be more than zero");
        assert_eq!(message("-5"), "'-5': a duration must be more than zero");
        assert_eq!(
            message("10 s"),
            "'10 s' is not a duration; write seconds (\"10\") or a number and a unit: \
             \"500ms\", \"10s\", \"1m30s\", \"5m\" or \"1h\""
        );
        assert_eq!(parse("-x"), Err(DurationError::Malformed("-x".into())));
        assert_eq!(
            message("3000000000s"),
            "'3000000000s' is too long; a duration must be at most 2147483647s"
        );
    }
}
