//! What the bundle targets share: the request, a zip writer, and the checks
//! every plan must pass whatever the archive held.
#![allow(dead_code)] // each target uses part of it

use mke_tasks::bundle::{entry_path, plan, BundlePlan, BundleRequest, MAX_ENTRIES};
use std::io::{Cursor, Write};
use zip::write::{SimpleFileOptions, ZipWriter};

pub const DIRECTORY: &str = "/agent/_temp/mke-bundle-Ab12";

/// A client certificate of the seed bundles (`node fuzz/seeds.mjs` writes it).
pub const CERT: &str = include_str!("../seeds/certificate/cert.pem");

/// Epoch 0: every certificate in the seeds is still valid, so fuzzing gets past the expiry check.
pub fn request() -> BundleRequest {
    BundleRequest {
        input_name: "bundle".into(),
        directory: DIRECTORY.into(),
        expiry_warning_days: 14,
        now_epoch_seconds: 0,
        given: true,
        size: 0,
        regular_file: true,
    }
}

/// A zip of `(name, contents)`; a name ending in `/` is a folder. None when
/// the zip writer itself refuses the entries (a duplicate name).
pub fn zip_of<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Option<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        if name.ends_with('/') {
            writer.add_directory(name, options).ok()?;
        } else {
            writer.start_file(name, options).ok()?;
            writer.write_all(data).ok()?;
        }
    }
    Some(writer.finish().ok()?.into_inner())
}

/// Plans the bundle and checks what any plan must hold.
pub fn check_plan(zip: &[u8]) -> Option<BundlePlan> {
    let plan = match plan(&request(), zip) {
        Ok(plan) => plan,
        Err(error) => {
            assert!(error.message().starts_with("Input 'bundle': "), "{error}");
            return None;
        }
    };
    assert!(plan.files.len() <= MAX_ENTRIES);
    for path in plan.files.iter().map(|f| &f.path).chain(&plan.directories) {
        assert_eq!(entry_path(path).map(|c| c.join("/")).as_ref(), Ok(path), "a planned path leaves the bundle");
    }
    for file in &plan.files {
        if file.path.ends_with("key.pem") || file.path == "kube.yml" {
            assert_eq!(file.mode, 0o600, "{} is readable by others", file.path);
        }
    }
    assert!(plan.secrets.iter().all(|s| !s.is_empty()), "an empty secret would mask nothing");
    for variable in &plan.variables {
        match variable.name.as_str() {
            "DOCKER_CERT_PATH" => assert_eq!(variable.value, DIRECTORY),
            "KUBECONFIG" => assert_eq!(variable.value, format!("{DIRECTORY}/kube.yml")),
            "DOCKER_HOST" | "DOCKER_TLS_VERIFY" | "COMPOSE_TLS_VERSION" => assert!(!variable.value.is_empty()),
            other => panic!("unexpected variable {other}"),
        }
    }
    Some(plan)
}
