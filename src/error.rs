//! The one error type of the core: a sentence a pipeline author can act on.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    message: String,
}

impl TaskError {
    /// An error caused by the value of one task input; the message names the input.
    pub fn input(name: &str, problem: impl fmt::Display) -> Self {
        TaskError { message: format!("Input '{name}': {problem}") }
    }

    /// An error not tied to one input (a bundle's content, a tool's answer).
    pub fn other(message: impl Into<String>) -> Self {
        TaskError { message: message.into() }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TaskError {}

pub type Result<T> = std::result::Result<T, TaskError>;
