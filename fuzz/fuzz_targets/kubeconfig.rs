#![no_main]
//! A bundle's kube.yml: any text is read, and its file references are rewritten.
use libfuzzer_sys::fuzz_target;
use mke_tasks::kubeconfig::{file_references, read, rewrite_file_references};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let config = read(&text);
    for value in [&config.server, &config.context, &config.user, &config.client_certificate_data, &config.client_key_data] {
        assert!(value.as_deref().is_none_or(|v| !v.is_empty() && !v.contains('\n')), "{value:?}");
    }
    let references = file_references(&text);
    let rewritten = rewrite_file_references(&text, |path| Ok(format!("/d/{path}"))).expect("the resolver never fails");
    assert_eq!(rewritten.split('\n').count(), text.split('\n').count(), "lines were added or lost");
    // Each reference now names the resolved path, as a YAML double-quoted (JSON) string.
    let after: Vec<String> = file_references(&rewritten)
        .iter()
        .map(|quoted| serde_json::from_str(&format!("\"{quoted}\"")).expect("a JSON string"))
        .collect();
    let expected: Vec<String> = references.iter().map(|path| format!("/d/{path}")).collect();
    assert_eq!(after, expected);
    if !references.is_empty() {
        assert_eq!(rewrite_file_references(&text, |path| Err(path.to_string())), Err(references[0].clone()));
    }
});
