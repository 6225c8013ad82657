//! ssh_config with Include and Match: the input is up to four files split
//! at NUL bytes, `config` and the `a`, `b` and `c` it may Include (all in
//! `~/.ssh`). Every concrete alias, and one other name, is then resolved.
#![no_main]

use fleet::hosts::ssh_config::{LocalEnv, SshConfig};
use libfuzzer_sys::fuzz_target;

mod scratch;

const FILES: [&str; 4] = ["config", "a", "b", "c"];

fuzz_target!(|data: &[u8]| {
    let home = scratch::dir();
    for (name, text) in FILES.iter().zip(data.splitn(FILES.len(), |&b| b == 0)) {
        scratch::write(&format!(".ssh/{name}"), text);
    }
    let env = LocalEnv {
        home: home.to_path_buf(),
        user: "fuzz".to_string(),
    };
    let Ok(config) = SshConfig::load(&home.join(".ssh/config"), &env) else {
        return;
    };
    let mut names = config.aliases();
    names.truncate(16);
    names.push("other.example".to_string());
    for name in names {
        let _ = config.resolve(&name, &[]);
    }
});
