//! Target resolution: selectors → ssh_config + inventory → concrete hosts.
//!
//! Nothing here touches the network, so `fleet ls` can show exactly what a
//! run would do.

pub mod nodeset;
pub mod ssh_config;
