//! The wasm boundary: each export takes a serde request, calls the core and
//! returns a serde answer. Core errors become JS `Error`s here and nowhere else.

use crate::error::Result;
use crate::log_safety;
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

fn call<Request, Answer>(
    request: JsValue,
    decide: impl FnOnce(Request) -> Result<Answer>,
) -> std::result::Result<JsValue, JsError>
where
    Request: DeserializeOwned,
    Answer: Serialize,
{
    let request = serde_wasm_bindgen::from_value(request)
        .map_err(|e| JsError::new(&format!("Internal error: the task passed a malformed request to its core: {e}")))?;
    let answer = decide(request).map_err(|e| JsError::new(e.message()))?;
    // JSON-compatible, except that bytes become a Uint8Array.
    answer
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false))
        .map_err(|e| JsError::new(&format!("Internal error: the core's answer could not be returned: {e}")))
}

#[wasm_bindgen(js_name = neutraliseLogLine)]
pub fn neutralise_log_line(line: &str) -> String {
    log_safety::neutralise_logging_commands(line)
}

#[cfg(feature = "mke-helm-deploy")]
#[wasm_bindgen(js_name = helmPrepare)]
pub fn helm_prepare(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::mke_helm_deploy::PrepareRequest| crate::mke_helm_deploy::prepare(&r))
}

#[cfg(feature = "mke-helm-deploy")]
#[wasm_bindgen(js_name = helmPlan)]
pub fn helm_plan(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::mke_helm_deploy::PlanRequest| crate::mke_helm_deploy::plan(&r))
}

#[cfg(feature = "mke-helm-deploy")]
#[wasm_bindgen(js_name = helmOutcome)]
pub fn helm_outcome(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::mke_helm_deploy::OutcomeRequest| crate::mke_helm_deploy::outcome(&r))
}

/// Whether a post-job step may delete `candidate`: only strictly inside the
/// agent's temp directory (both real paths, resolved by the shim).
#[cfg(feature = "client-bundle")]
#[wasm_bindgen(js_name = removableInsideTemp)]
pub fn removable_inside_temp(temp_directory: &str, candidate: &str) -> bool {
    crate::temp_paths::removable_inside(temp_directory, candidate)
}

// MsrLogin@1: plan, one call per answer of the credentials check, the file to
// write, and the post-job step's phases (resolve, read, clean).
#[cfg(feature = "msr-login")]
#[wasm_bindgen(js_name = msrLoginPlan)]
pub fn msr_login_plan(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::msr_login::PlanRequest| crate::msr_login::plan(&r))
}

#[cfg(feature = "msr-login")]
#[wasm_bindgen(js_name = msrLoginVerify)]
pub fn msr_login_verify(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::msr_login::VerifyRequest| crate::msr_login::verify(&r))
}

#[cfg(feature = "msr-login")]
#[wasm_bindgen(js_name = msrLoginWrite)]
pub fn msr_login_write(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::msr_login::WriteRequest| crate::msr_login::write(&r))
}

#[cfg(feature = "msr-login")]
#[wasm_bindgen(js_name = msrLoginPostJob)]
pub fn msr_login_post_job(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::msr_login::PostJobRequest| Ok(crate::msr_login::post_job(&r)))
}

// Client bundles (MkeClientBundle, MkeHelmDeploy): the file's stat is judged
// before the shim reads it; then the zip bytes come beside the request.
#[cfg(feature = "client-bundle")]
#[wasm_bindgen(js_name = admitBundle)]
pub fn admit_bundle(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::bundle::BundleRequest| crate::bundle::admit(&r))
}

#[cfg(feature = "client-bundle")]
#[wasm_bindgen(js_name = planBundle)]
pub fn plan_bundle(request: JsValue, zip: &[u8]) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::bundle::BundleRequest| crate::bundle::plan(&r, zip))
}

#[cfg(feature = "mke-client-bundle")]
#[wasm_bindgen(js_name = mkeClientBundleSettings)]
pub fn mke_client_bundle_settings(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |inputs: crate::inputs::Inputs| crate::mke_client_bundle::settings(&inputs))
}

#[cfg(feature = "mke-client-bundle")]
#[wasm_bindgen(js_name = mkeClientBundleReport)]
pub fn mke_client_bundle_report(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: crate::mke_client_bundle::ReportRequest| Ok(crate::mke_client_bundle::report(r)))
}

// MsrBuildPush: where the Dockerfile is, the build and push plan, the outputs from the pushes.
#[cfg(feature = "msr-build-push")]
#[wasm_bindgen(js_name = msrBuildPushSource)]
pub fn msr_build_push_source(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, crate::msr_build_push::source)
}

#[cfg(feature = "msr-build-push")]
#[wasm_bindgen(js_name = msrBuildPushPlan)]
pub fn msr_build_push_plan(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, crate::msr_build_push::plan)
}

#[cfg(feature = "msr-build-push")]
#[wasm_bindgen(js_name = msrBuildPushFinish)]
pub fn msr_build_push_finish(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, crate::msr_build_push::finish)
}

/// Dockerfile analysis on its own (`{ text, buildArgs }` → stages, ARGs, findings).
#[cfg(feature = "msr-build-push")]
#[wasm_bindgen(js_name = analyseDockerfile)]
pub fn analyse_dockerfile(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, crate::dockerfile::analyse_request)
}
