#![no_main]
//! The whole client bundle plan on any bytes (seeded with real bundles, so
//! mutations of structurally valid zips are covered too).
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    common::check_plan(data);
});
