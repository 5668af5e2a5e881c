//! Decision core of the MKE/MSR/MCR Azure Pipelines tasks.
//!
//! Every decision lives here: input validation, templates, command lines, file
//! contents. The core performs no I/O; the task shims under `task/` read inputs,
//! call it through the wasm boundary (`wasm.rs`) and carry out what it returns.

pub mod error;
pub mod inputs;
pub mod log_safety;
pub mod summary;
pub mod template;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Result, TaskError};
