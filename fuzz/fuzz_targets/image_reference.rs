#![no_main]
//! Image names and tags: the first line is a repository, the rest a tags template.
use libfuzzer_sys::fuzz_target;
use mke_tasks::image_reference::{check_tag, parse_repository};
use mke_tasks::template::{BuildInfo, Tokens};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (name, tags) = text.split_once('\n').unwrap_or((&text, ""));
    let repository = parse_repository("repository", name);
    if let Ok(repository) = &repository {
        assert!(repository.name.len() <= 255 && !repository.name.contains(char::is_whitespace));
        assert!(!repository.path.is_empty() && !repository.path.contains(['@', ':']), "{repository:?}");
    }
    let tokens = Tokens::new(&BuildInfo {
        source_version: Some("0123456789abcdef0123456789abcdef01234567".into()),
        source_branch: Some(tags.lines().next().unwrap_or("").into()),
        build_id: Some("1".into()),
        build_number: Some("20261203.1".into()),
        now_epoch_seconds: 1_796_300_000,
    });
    for tag in tokens.expand_list("tags", tags).unwrap_or_default() {
        if check_tag("tags", &tag).is_ok() {
            assert!((1..=128).contains(&tag.len()) && !tag.starts_with(['.', '-']), "{tag}");
            assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)), "{tag}");
            if let Ok(repository) = &repository {
                assert_eq!(repository.with_tag(&tag), format!("{name}:{tag}"));
            }
        }
    }
});
