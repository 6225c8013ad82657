//! Shards: a stable share of the targets, so one fleet of tens of thousands
//! of hosts splits across CI matrix jobs or a Kubernetes Indexed Job.
//!
//! A host belongs to shard `hash(alias) mod N`, whatever else is in the
//! list, so the same host always lands in the same shard and N shards of
//! one selection cover it exactly once.

use std::fmt;
use std::str::FromStr;

use crate::stable_hash::stable_hash;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, 1-based; `None` unless 1 ≤ index ≤ count.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index >= 1 && index <= count).then_some(Shard { index, count })
    }

    /// Whether the host called `alias` falls in this shard.
    pub fn contains(&self, alias: &str) -> bool {
        stable_hash(alias) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, as `--shard 2/5` and `FLEET_SHARD=2/5` write it.
    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("'{text}' is not a shard: write K/N with 1 <= K <= N, e.g. 2/5");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            index.trim().parse().map_err(|_| bad())?,
            count.trim().parse().map_err(|_| bad())?,
        );
        Shard::new(index, count).ok_or_else(bad)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_as_k_of_n() {
        assert_eq!("2/5".parse(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["0/5", "6/5", "5", "a/b", "1/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_host_falls_in_exactly_one_shard_whatever_the_list() {
        let hosts: Vec<String> = (1..=1000).map(|i| format!("web-{i:04}")).collect();
        let shards: Vec<Shard> = (1..=3).map(|k| Shard::new(k, 3).unwrap()).collect();
        let mut sizes = [0; 3];
        for host in &hosts {
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].contains(host)).collect();
            assert_eq!(owners.len(), 1, "{host}");
            sizes[owners[0]] += 1;
        }
        // Roughly even: none is far from a third.
        assert!(sizes.iter().all(|&n| (250..=420).contains(&n)), "{sizes:?}");
        // A host's shard does not depend on the others.
        assert!(shards.iter().any(|s| s.contains("web-0042")));
        let alone = shards.iter().position(|s| s.contains("web-0042"));
        assert_eq!(alone, (0..3).find(|&k| shards[k].contains(&hosts[41])));
    }
}
