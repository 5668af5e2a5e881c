//! Keeps tool output from issuing Azure Pipelines logging commands.
//!
//! The agent reads `##vso[` anywhere in a line (case-insensitively) and `##[`
//! formatting commands; a build step's output (a Dockerfile `RUN echo`, a chart
//! hook) must not be able to set variables or fail the task.

/// Zero-width space: the line reads the same in the log but no longer matches.
const BREAK: char = '\u{200B}';

pub fn neutralise_logging_commands(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, c) in line.char_indices() {
        out.push(c);
        if c == '#' && starts_command(&line[i + 1..]) {
            out.push(BREAK);
        }
    }
    out
}

/// Whether the text after a `#` completes `##[` or `##vso[`.
fn starts_command(rest: &str) -> bool {
    rest.starts_with("#[") || rest.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("#vso["))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn is_command(line: &str) -> bool {
        let lower = line.to_ascii_lowercase();
        lower.contains("##vso[") || lower.contains("##[")
    }

    #[test]
    fn breaks_commands_anywhere_in_the_line() {
        for line in [
            "##vso[task.setvariable variable=x]y",
            "step 3: ##vso[task.complete result=Failed]",
            "##VSO[task.setvariable variable=x]y",
            "##[error]boom",
            "###vso[task.setsecret]x",
        ] {
            let safe = neutralise_logging_commands(line);
            assert!(!is_command(&safe), "{safe:?}");
            assert_eq!(safe.replace(BREAK, ""), line);
        }
    }

    #[test]
    fn leaves_ordinary_lines_alone() {
        for line in ["Step 1/3 : FROM scratch", "## heading", "#5 [2/3] RUN make", ""] {
            assert_eq!(neutralise_logging_commands(line), line);
        }
    }

    proptest! {
        #[test]
        fn output_never_carries_a_command(line in "(##|vso|VSO|\\[|#|[a-z ])*") {
            let safe = neutralise_logging_commands(&line);
            prop_assert!(!is_command(&safe));
            prop_assert_eq!(safe.replace(BREAK, ""), line);
        }
    }
}
