//! `keyscan --verify` files: ssh-keygen -l output, cloud-init console
//! fingerprint blocks, `HOST FINGERPRINT` lists and `# host:` lines.
#![no_main]

use fleet::plan::reference::References;
use libfuzzer_sys::fuzz_target;

mod scratch;

fuzz_target!(|data: &[u8]| {
    let path = scratch::write("fingerprints", data);
    if let Ok(references) = References::load(&path) {
        let _ = references.for_host(&["web-01", "10.0.0.1"]);
    }
});
