#![no_main]
//! A client certificate: PEM text as is, or any other bytes as the DER inside a PEM.
use libfuzzer_sys::fuzz_target;
use mke_tasks::certificate::validity;

fuzz_target!(|data: &[u8]| {
    let pem = if data.starts_with(b"-----BEGIN") {
        data.to_vec()
    } else {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(data);
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n").into_bytes()
    };
    if let Ok(validity) = validity(&pem) {
        let t = validity.not_after.as_bytes();
        assert!(t.len() == 20 && t[4] == b'-' && t[10] == b'T' && t[19] == b'Z', "{}", validity.not_after);
    }
});
