//! Raw task inputs as the shim reads them, and their typed reading.
//!
//! The shim hands over every input declared in `task.json` as the agent gives
//! it (task.json defaults applied); `filePath` inputs left empty arrive as `None`.

use crate::error::{Result, TaskError};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Inputs(BTreeMap<String, Option<String>>);

impl Inputs {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Inputs {
        Inputs(pairs.into_iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect())
    }

    /// The trimmed value, `None` when empty or absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name)?.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.optional(name).ok_or_else(|| TaskError::input(name, "a value is required"))
    }

    /// The value as typed, untrimmed (multi-line inputs, free-form arguments).
    pub fn raw(&self, name: &str) -> &str {
        self.0.get(name).and_then(|v| v.as_deref()).unwrap_or("")
    }

    pub fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(TaskError::input(name, format!("expected true or false, got \"{v}\""))),
        }
    }

    pub fn integer(&self, name: &str, default: i64) -> Result<i64> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| TaskError::input(name, format!("expected a whole number, got \"{v}\""))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_typed_values_and_names_the_input_in_errors() {
        let inputs = Inputs::from_pairs([("push", "True"), ("days", " 14 "), ("bad", "yes"), ("blank", "  ")]);
        assert!(inputs.boolean("push", false).unwrap());
        assert!(!inputs.boolean("missing", false).unwrap());
        assert_eq!(inputs.integer("days", 0).unwrap(), 14);
        assert_eq!(inputs.optional("blank"), None);
        assert_eq!(
            inputs.boolean("bad", true).unwrap_err().to_string(),
            "Input 'bad': expected true or false, got \"yes\""
        );
        assert_eq!(inputs.required("blank").unwrap_err().to_string(), "Input 'blank': a value is required");
    }
}
