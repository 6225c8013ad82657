//! What each streamed line, and each `--buffer` block, is headed with
//! (`--format`, `-N`): the alias, another label per host worked out from
//! its target (its address, or user@alias), or nothing at all.

use std::collections::HashMap;
use std::sync::Arc;

/// The per-host prefix of human output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Prefix {
    /// The alias the host was selected by.
    #[default]
    Alias,
    /// A label for each alias; an alias without one is shown as itself.
    Labels(Arc<HashMap<String, String>>),
    /// No prefix: each line as the host printed it (escaped).
    None,
}

impl Prefix {
    /// What `host`'s lines are prefixed with; `None` for no prefix.
    pub fn label<'a>(&'a self, host: &'a str) -> Option<&'a str> {
        match self {
            Prefix::Alias => Some(host),
            Prefix::Labels(labels) => Some(labels.get(host).map_or(host, String::as_str)),
            Prefix::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fall_back_to_the_alias() {
        let labels = HashMap::from([("web-1".to_string(), "root@web-1".to_string())]);
        let prefix = Prefix::Labels(Arc::new(labels));
        assert_eq!(prefix.label("web-1"), Some("root@web-1"));
        assert_eq!(prefix.label("web-2"), Some("web-2"));
        assert_eq!(Prefix::Alias.label("web-2"), Some("web-2"));
        assert_eq!(Prefix::None.label("web-2"), None);
    }
}
