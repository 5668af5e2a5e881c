#![no_main]
//! A bundle's meta.json: any bytes beside a minimal valid env.sh and cert.pem.
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|data: &[u8]| {
    let env_sh = b"export DOCKER_TLS_VERIFY=1\nexport DOCKER_CERT_PATH=$PWD\n";
    let zip = common::zip_of([("env.sh", &env_sh[..]), ("cert.pem", common::CERT.as_bytes()), ("meta.json", data)])
        .expect("fixed names");
    let Some(plan) = common::check_plan(&zip) else {
        // Valid JSON is refused only for a docker endpoint that is no DOCKER_HOST address.
        if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
            let error = mke_tasks::bundle::plan(&common::request(), &zip).expect_err("refused above").to_string();
            assert!(error.contains("its DOCKER_HOST"), "valid JSON refused: {error}");
        }
        return;
    };
    let meta: serde_json::Value = serde_json::from_slice(data).expect("accepted meta.json is JSON");
    let host = |name: &str| {
        meta.pointer(&format!("/Endpoints/{name}/Host")).and_then(|h| h.as_str()).filter(|h| !h.is_empty()).map(str::to_string)
    };
    assert_eq!(plan.docker_host, host("docker"));
    assert_eq!(plan.kubernetes_server, host("kubernetes"));
});
