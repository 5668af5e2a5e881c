#![no_main]
//! A bundle's kube.yml: any text is checked and read, its credentials found,
//! and its file references rewritten (or the file refused).
use libfuzzer_sys::fuzz_target;
use mke_tasks::kubeconfig::{check, file_references, read, rewrite_file_references, secrets};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = check(&text);
    let config = read(&text);
    for value in [&config.server, &config.context, &config.user, &config.client_certificate_data] {
        assert!(value.as_deref().is_none_or(|v| !v.is_empty() && !v.contains('\n')), "{value:?}");
    }
    assert!(secrets(&text).iter().all(|s| !s.is_empty()), "an empty secret would mask nothing");
    let references = file_references(&text);
    // A resolved path that holds no key-like text, so the references stay the same ones.
    match rewrite_file_references(&text, |path| Ok(format!("/d/{}", path.len()))) {
        Ok(rewritten) => {
            assert_eq!(rewritten.split('\n').count(), text.split('\n').count(), "lines were added or lost");
            let expected: Vec<String> = references.iter().map(|path| format!("/d/{}", path.len())).collect();
            assert_eq!(file_references(&rewritten), expected);
            if !references.is_empty() {
                assert_eq!(rewrite_file_references(&text, |path| Err(path.to_string())), Err(references[0].clone()));
            }
        }
        Err(error) => assert!(error.starts_with("kube.yml names its "), "{error}"),
    }
});
