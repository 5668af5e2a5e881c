//! Decision core of the MKE/MSR/MCR Azure Pipelines tasks.
//!
//! Every decision lives here: input validation, templates, command lines, file
//! contents. The core performs no I/O; the task shims under `task/` read inputs,
//! call it through the wasm boundary (`wasm.rs`) and carry out what it returns.

pub mod error;
pub mod helm_args;
pub mod inputs;
pub mod log_safety;
pub mod mke_helm_deploy;
pub mod shell_words;
pub mod summary;
pub mod temp_paths;
pub mod template;
pub mod registry_auth;
pub mod docker_config;
pub mod msr_login;
pub mod bundle;
pub mod certificate;
pub mod env_files;
pub mod kubeconfig;
pub mod mke_client_bundle;
pub mod dockerfile;
pub mod image_reference;
pub mod labels;
pub mod build_plan;
pub mod msr_build_push;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Result, TaskError};
