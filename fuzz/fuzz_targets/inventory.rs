//! The TOML inventory: load it, then resolve every host and group it names.
#![no_main]

use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory, InventoryFile};
use libfuzzer_sys::fuzz_target;

mod scratch;

fuzz_target!(|data: &[u8]| {
    let path = scratch::write("fleet.toml", data);
    let file = InventoryFile {
        path,
        explicit: true,
    };
    let Ok(inventory) = Inventory::load(&[file]) else {
        return;
    };
    let env = LocalEnv {
        home: scratch::dir().to_path_buf(),
        user: "fuzz".to_string(),
    };
    let catalog = Catalog::new(SshConfig::empty(&env), inventory);
    let _ = catalog.resolve("*", &[]);
});
