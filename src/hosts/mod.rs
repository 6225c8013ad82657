//! Target resolution: selectors → ssh_config + inventory → concrete hosts.
//!
//! Nothing here touches the network, so `fleet ls` can show exactly what a
//! run would do. [`Inventory::load`] reads the inventories, and
//! [`Catalog::resolve`] turns a selector into [`Target`]s.

pub mod catalog;
pub mod error;
pub mod inventory;
pub mod nodeset;
pub mod port_moves;
mod selector;
pub mod shard;
pub mod ssh_config;

pub use catalog::Catalog;
pub use error::TargetError;
pub use inventory::{Inventory, InventoryDefaults, InventoryFile};
pub use selector::split_items;

use std::path::PathBuf;

use crate::known_hosts::HostId;
use ssh_config::HostOptions;

/// One host to run on, fully resolved: everything the executor needs to
/// connect, with ssh_config and inventory already merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The name the user knows the host by; every report line is keyed on it.
    pub alias: String,
    /// The connection options, exactly as `ssh -G alias` would compute them
    /// (inventory values applied like `-o` options).
    pub options: HostOptions,
    /// The ProxyJump hosts to go through, first hop first, each resolved
    /// with its own ssh_config; empty for a direct connection.
    pub jumps: Vec<Target>,
}

impl Target {
    /// The known_hosts files to consult: the user's, then the global ones.
    pub fn known_hosts_files(&self) -> Vec<PathBuf> {
        let o = &self.options;
        o.user_known_hosts_files
            .iter()
            .chain(&o.global_known_hosts_files)
            .cloned()
            .collect()
    }

    /// How known_hosts names this host, as OpenSSH looks it up: its
    /// HostKeyAlias alone, else its HostName (not the alias) with the port.
    pub fn host_id(&self) -> HostId {
        let o = &self.options;
        match &o.host_key_alias {
            Some(alias) => HostId::alias(alias),
            None => HostId::new(&o.hostname, o.port),
        }
    }
}
