#![no_main]
//! A bundle's env.sh, env.cmd and env.ps1: any text, each parser.
use libfuzzer_sys::fuzz_target;
use mke_tasks::env_files::{parse_cmd, parse_ps1, parse_sh, Part};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    for parse in [parse_sh, parse_cmd, parse_ps1] {
        match parse(&text) {
            Ok(assignments) => {
                for assignment in assignments {
                    let name = &assignment.name;
                    assert!(name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'), "{name:?}");
                    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name:?}");
                    for directory in ["/t/b", "C:\\t\\b"] {
                        let value = assignment.resolve(directory);
                        if assignment.value.first() == Some(&Part::Directory) {
                            assert!(value.starts_with(directory), "{value:?}");
                        }
                    }
                }
            }
            Err(error) => {
                assert!((1..=lines).contains(&error.line), "line {} of {lines}", error.line);
                let sentence = error.sentence();
                assert!(!sentence.contains('\n'), "{sentence:?}");
                assert!(sentence.starts_with(error.file));
            }
        }
    }
});
