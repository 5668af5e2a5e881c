#![no_main]
//! A registry's WWW-Authenticate header, any text.
use libfuzzer_sys::fuzz_target;
use mke_tasks::registry_auth::parse_challenges;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    for challenge in parse_challenges(&header) {
        assert!(!challenge.scheme.is_empty());
        assert!(challenge.params.keys().all(|k| !k.is_empty() && *k == k.to_ascii_lowercase()), "{challenge:?}");
    }
});
