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
    answer
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("Internal error: the core's answer could not be returned: {e}")))
}

#[wasm_bindgen(js_name = neutraliseLogLine)]
pub fn neutralise_log_line(line: &str) -> String {
    log_safety::neutralise_logging_commands(line)
}

#[derive(serde::Deserialize)]
struct RequiredInputsRequest {
    inputs: crate::inputs::Inputs,
    required: Vec<String>,
}

// Foundation placeholder until each task's plan lands: checks required inputs.
#[wasm_bindgen(js_name = checkRequiredInputs)]
pub fn check_required_inputs(request: JsValue) -> std::result::Result<JsValue, JsError> {
    call(request, |r: RequiredInputsRequest| {
        for name in &r.required {
            r.inputs.required(name)?;
        }
        Ok(())
    })
}
