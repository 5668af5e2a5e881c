#![no_main]
//! The `arguments` inputs: any text splits or is refused, and the words quoted again split back the same.
use libfuzzer_sys::fuzz_target;
use mke_tasks::shell_words::split;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(words) = split("arguments", &text) {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{}'", w.replace('\'', r"'\''"))).collect();
        assert_eq!(split("arguments", &quoted.join(" ")).expect("quoted words split"), words);
    }
});
