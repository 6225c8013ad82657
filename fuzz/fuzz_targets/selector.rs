//! Selectors and ranges, against a fixed set of ssh_config aliases and
//! inventory groups: the input is the selector, then `--exclude` values,
//! split at NUL bytes.
#![no_main]

use std::sync::OnceLock;

use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use fleet::hosts::{Catalog, Inventory, InventoryFile};
use libfuzzer_sys::fuzz_target;

mod scratch;

const SSH_CONFIG: &str = "Host web-01 web-02 web-10 db-1 db-2 bastion\n    User ops\n\
                          Host *.lan\n    Port 2222\n";
const INVENTORY: &str = "[hosts.app-1]\n[hosts.app-2]\n\
                         [groups.web]\nhosts = [\"web-*\", \"app-[1-2]\"]\n\
                         [groups.all]\nhosts = [\"db-1\"]\nchildren = [\"web\"]\n";

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let env = LocalEnv {
            home: scratch::dir().to_path_buf(),
            user: "fuzz".to_string(),
        };
        let config = SshConfig::load(&scratch::write("config", SSH_CONFIG.as_bytes()), &env)
            .expect("the fixed ssh_config");
        let inventory = Inventory::load(&[InventoryFile {
            path: scratch::write("fleet.toml", INVENTORY.as_bytes()),
            explicit: true,
        }])
        .expect("the fixed inventory");
        Catalog::new(config, inventory)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let selector = parts.next().unwrap_or_default();
    let excludes: Vec<String> = parts.map(str::to_string).collect();
    let _ = catalog().select(selector, &excludes);
});
