#![no_main]
//! Dockerfile analysis: any text, with a build-arg for each `KEY=VALUE` of its first line.
use libfuzzer_sys::fuzz_target;
use mke_tasks::dockerfile::{analyse, BuildArgs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    let build_args: BuildArgs = first
        .split_whitespace()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (pair.to_string(), None),
        })
        .collect();
    let analysis = analyse(&text, &build_args);
    let lines = text.split('\n').count();
    for finding in &analysis.findings {
        assert!(!finding.message.is_empty());
        assert!(finding.line.is_none_or(|l| l >= 1 && l <= lines), "line out of range: {finding:?}");
    }
    for stage in &analysis.stages {
        assert!(stage.uses_stages.iter().all(|&s| s < stage.index), "a stage uses a later one: {stage:?}");
    }
});
