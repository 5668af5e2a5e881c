#![no_main]
//! Tag and build-arg templates: any text, any branch ref.
use libfuzzer_sys::fuzz_target;
use mke_tasks::template::{BuildInfo, Tokens};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (branch, template) = text.split_once('\n').unwrap_or(("refs/heads/main", &text));
    let tokens = Tokens::new(&BuildInfo {
        source_version: Some("0123456789abcdef0123456789abcdef01234567".into()),
        source_branch: Some(branch.into()),
        build_id: Some("1".into()),
        build_number: Some("1".into()),
        now_epoch_seconds: 1_796_300_000,
    });
    if let Ok(tags) = tokens.expand_list("tags", template) {
        for tag in tags {
            assert!(!tag.contains("{{"), "a token survived expansion: {tag}");
        }
    }
});
