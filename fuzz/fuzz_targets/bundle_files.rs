#![no_main]
//! The whole client bundle plan on well-formed zips of any entries: the input
//! is entries separated by NUL bytes, each `name\ncontents` (a name ending in
//! `/` is a folder), so the fuzzer works on names and file texts, not zip headers.
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let entries: Vec<(String, &[u8])> = data
        .split(|&b| b == 0)
        .map(|record| {
            let split = record.iter().position(|&b| b == b'\n').unwrap_or(record.len());
            let contents = record.get(split + 1..).unwrap_or(&[]);
            (String::from_utf8_lossy(&record[..split]).into_owned(), contents)
        })
        .collect();
    if let Some(zip) = common::zip_of(entries.iter().map(|(n, c)| (n.as_str(), *c))) {
        common::check_plan(&zip);
    }
});
