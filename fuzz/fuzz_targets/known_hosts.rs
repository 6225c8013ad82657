//! known_hosts: load a file, ask about a few hosts, forget one name.
#![no_main]

use fleet::known_hosts::{forget, HostId, KnownHosts};
use libfuzzer_sys::fuzz_target;

mod scratch;

fuzz_target!(|data: &[u8]| {
    let path = scratch::write("known_hosts", data);
    if let Ok(known) = KnownHosts::load(std::slice::from_ref(&path)) {
        for host in [
            HostId::new("web-01", 22),
            HostId::new("10.0.0.1", 2222),
            HostId::alias("alias"),
        ] {
            let _ = known.describe(&host);
            let _ = known.knows(&host);
            let _ = known.known_algorithms(&host);
        }
    }
    let _ = forget(
        &path,
        &["web-01".to_string(), "[10.0.0.1]:2222".to_string()],
    );
});
