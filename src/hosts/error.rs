//! The one error type of target resolution.
//!
//! Every one of these stops a run before it starts: a run only begins once
//! the user's selector and inventories mean exactly one list of hosts. Each
//! message names the thing at fault and, where there is one, the fix.

use std::path::PathBuf;

use super::ssh_config::ConfigError;
use crate::location::Location;

/// Why selectors and inventories could not become a list of targets.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("inventory {} does not exist; check the -i path", path.display())]
    InventoryMissing { path: PathBuf },

    #[error("cannot read inventory {}", path.display())]
    InventoryRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// TOML syntax, an unknown field, a bad value, a bad name.
    #[error("{at}: {message}")]
    Inventory { at: Location, message: String },

    #[error("{at}: group name '{group}' is reserved: @failed, @failed:STATUS and @ok select hosts by how the last run ended; rename the group")]
    ReservedGroup { at: Location, group: String },

    #[error("{at}: group '{group}' includes unknown group '{child}'; define [groups.{child}] or fix the name")]
    UnknownChild {
        at: Location,
        group: String,
        child: String,
    },

    #[error("{at}: groups include each other in a cycle: {cycle}; remove one of these children")]
    GroupCycle { at: Location, cycle: String },

    #[error("no hosts selected: the selector is empty; give a name, a glob like 'web-*', a range like 'web-[01-20]' or a group like '@db'")]
    EmptySelector,

    /// `problem` starts with the quoted item.
    #[error("selector {problem}")]
    BadPattern { problem: String },

    #[error("selector '{item}' matches no known host (known: {known}; try fleet ls '*')")]
    NoMatch { item: String, known: String },

    #[error("unknown group '@{group}' ({groups})")]
    UnknownGroup { group: String, groups: String },

    #[error("group '@{group}' ({at}) has no hosts; add hosts or children to it")]
    EmptyGroup { group: String, at: Location },

    #[error("{at}: group '{group}': '{item}' matches no known host (known: {known})")]
    GroupMemberNoMatch {
        at: Location,
        group: String,
        item: String,
        known: String,
    },

    #[error("selector '{item}'")]
    LastRun {
        item: String,
        source: crate::last_run::LastRunError,
    },

    #[error("selector '{item}' matches no host: {last_run}")]
    LastRunNoMatch { item: String, last_run: String },

    #[error("exclusion '!{item}' matches no known or selected host; fix it so the host you meant is really left out")]
    ExcludesNothing { item: String },

    #[error(
        "selector '{selector}' only excludes hosts; say what to include too, e.g. '*,{selector}'"
    )]
    OnlyExclusions { selector: String },

    #[error("every host selected by '{selector}' is excluded; nothing to run on")]
    AllExcluded { selector: String },

    /// An alias that ssh would refuse as a host name, where it is defined.
    #[error("{at}: Host '{host}' cannot be a host name: {problem}; rename the alias")]
    BadAlias {
        at: Location,
        host: String,
        problem: String,
    },

    /// The message is the host; the cause says what is wrong with it.
    #[error("{host}")]
    SshConfig { host: String, source: ConfigError },

    #[error("{host}: ProxyJump '{spec}' {problem}")]
    Jump {
        host: String,
        spec: String,
        problem: &'static str,
    },
}
