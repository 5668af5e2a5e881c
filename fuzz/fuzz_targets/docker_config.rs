#![no_main]
//! Docker config.json: any existing file is merged, carried over or cleaned up,
//! and the post-job step reads any saved state. The first line is the registry.
use libfuzzer_sys::fuzz_target;
use mke_tasks::docker_config::{cleanup, create, merge, Cleanup};
use mke_tasks::msr_login::{post_job, PostJob, PostJobPhase, PostJobRequest};
use serde_json::Value;

const TEMP: &str = "/w/_temp";

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("the task writes JSON")
}

/// serde_json (without `float_roundtrip`) may read a float back one unit in
/// the last place off, so configs holding floats are not compared exactly.
fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (registry, existing) = text.split_once('\n').unwrap_or(("msr.example.com", &text));
    let auth = "bmV3OnRva2Vu";
    for auth in [Some(auth), None] {
        let created = json(&create(Some(existing), "/home/agent/.docker/config.json", None, registry, auth).contents);
        if let Some(auth) = auth {
            assert_eq!(created["auths"][registry]["auth"], auth);
        }
    }
    // The saved state is a task variable a later step may have overwritten.
    for phase in [PostJobPhase::Resolve, PostJobPhase::Read, PostJobPhase::Clean] {
        let saved: Option<Value> = serde_json::from_str(existing).ok();
        let directory = saved.as_ref().and_then(|s| s["directory"].as_str()).map(str::to_string);
        let answer = post_job(&PostJobRequest {
            phase,
            agent_temp_directory: TEMP.into(),
            saved: Some(existing.to_string()),
            resolved_directory: directory,
            existing: Some(registry.to_string()),
        });
        let inside = |path: &str| {
            let parts: Vec<&str> = path.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
            parts.len() > 2 && parts[..2] == ["w", "_temp"] && !parts.iter().any(|c| *c == ".." || *c == ".")
        };
        match answer {
            PostJob::Nothing { .. } => {}
            PostJob::Resolve { directory } => assert!(inside(&directory), "{directory}"),
            PostJob::Read { config_file, .. } => assert!(inside(&config_file), "{config_file}"),
            PostJob::RemoveDirectory { path, .. } => assert!(inside(&path), "{path}"),
            PostJob::Rewrite { path, .. } => assert!(inside(&path), "{path}"),
        }
    }
    if let Ok(written) = merge(existing, "/w/_temp/d/config.json", registry, Some(auth)) {
        let before: Value = if existing.trim().is_empty() { Value::Object(Default::default()) } else { json(existing) };
        let after = json(&written.contents);
        if has_float(&before) {
            return;
        }
        // Every other key and every other registry is kept as it was.
        for (key, value) in before.as_object().expect("merge accepts objects only") {
            if key != "auths" {
                assert_eq!(&after[key], value, "{key} changed");
            }
        }
        if let Some(auths) = before["auths"].as_object() {
            for (other, value) in auths.iter().filter(|(r, _)| r.as_str() != registry) {
                assert_eq!(&after["auths"][other], value, "{other} changed");
            }
        }
        assert_eq!(after["auths"][registry]["auth"], auth);
        match cleanup(TEMP, "/w/_temp/d", false, registry, Some(&written.contents)) {
            Cleanup::Rewrite(cleaned) => {
                let cleaned = json(&cleaned);
                assert!(cleaned["auths"].get(registry).is_none());
                if before["auths"].get(registry).is_none() {
                    assert_eq!(cleaned, before.as_object().map(|o| {
                        let mut o = o.clone();
                        o.entry("auths").or_insert_with(|| Value::Object(Default::default()));
                        Value::Object(o)
                    }).unwrap());
                }
            }
            other => panic!("the entry just merged is not removed: {other:?}"),
        }
    }
});
