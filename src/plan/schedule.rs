//! The order of a run: a canary stage, then batches, with a failure budget
//! checked between stages (`--canary`, `--batch`, `--max-failures`).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// How a run is split into stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Schedule {
    /// Hosts that run alone first.
    pub canary: usize,
    /// The size of each later stage; `None` is everything at once.
    pub batch: Option<Share>,
    /// How many hosts may fail before no further stage starts; `None` is
    /// no limit.
    pub max_failures: Option<Share>,
}

/// A number of hosts, absolute (`10`) or as a share of the run (`25%`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    Hosts(usize),
    Percent(u8),
}

impl Share {
    /// The number of hosts out of `total`; a percentage rounds up, so `1%`
    /// of a small run is still one host.
    pub fn of(self, total: usize) -> usize {
        match self {
            Share::Hosts(n) => n,
            Share::Percent(p) => (total * usize::from(p)).div_ceil(100),
        }
    }
}

impl FromStr for Share {
    type Err = String;

    fn from_str(text: &str) -> Result<Share, String> {
        let bad = || format!("'{text}' is not a number of hosts or a percentage (e.g. 10 or 25%)");
        match text.strip_suffix('%') {
            Some(percent) => match percent.parse::<u8>() {
                Ok(p) if p <= 100 => Ok(Share::Percent(p)),
                Ok(_) => Err(format!("'{text}': a percentage is at most 100%")),
                Err(_) => Err(bad()),
            },
            None => text.parse().map(Share::Hosts).map_err(|_| bad()),
        }
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Share::Hosts(n) => write!(f, "{n}"),
            Share::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Schedule {
    /// The stages over `total` hosts in run order, as index ranges: the
    /// canary (if any), then batches. Empty stages are left out.
    pub fn stages(&self, total: usize) -> Vec<Range<usize>> {
        let mut stages = Vec::new();
        let canary = self.canary.min(total);
        if canary > 0 {
            stages.push(0..canary);
        }
        let batch = self.batch.map_or(total, |b| b.of(total)).max(1);
        let mut start = canary;
        while start < total {
            let end = (start + batch).min(total);
            stages.push(start..end);
            start = end;
        }
        stages
    }

    /// How many failed hosts the run tolerates; `None` is no limit.
    pub fn allowed_failures(&self, total: usize) -> Option<usize> {
        self.max_failures.map(|m| m.of(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_counts_and_percentages() {
        assert_eq!("10".parse(), Ok(Share::Hosts(10)));
        assert_eq!("25%".parse(), Ok(Share::Percent(25)));
        assert!("101%".parse::<Share>().is_err());
        assert!("ten".parse::<Share>().is_err());
        assert!("-1".parse::<Share>().is_err());
        assert_eq!(Share::Percent(10).of(51), 6);
        assert_eq!(Share::Percent(1).of(3), 1);
        assert_eq!(Share::Percent(0).of(30), 0);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn default_is_one_stage_of_everything() {
        assert_eq!(Schedule::default().stages(5), [0..5]);
        assert!(Schedule::default().stages(0).is_empty());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn canary_then_batches() {
        let schedule = Schedule {
            canary: 1,
            batch: Some(Share::Hosts(10)),
            max_failures: Some(Share::Hosts(0)),
        };
        assert_eq!(schedule.stages(23), [0..1, 1..11, 11..21, 21..23]);
        assert_eq!(schedule.allowed_failures(23), Some(0));
        let percent = Schedule {
            canary: 0,
            batch: Some(Share::Percent(50)),
            max_failures: None,
        };
        assert_eq!(percent.stages(5), [0..3, 3..5]);
        // A canary bigger than the run is the whole run.
        let big = Schedule {
            canary: 9,
            ..Schedule::default()
        };
        assert_eq!(big.stages(2), [0..2]);
    }
}
