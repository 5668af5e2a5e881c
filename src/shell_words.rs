//! Splits a free-form `arguments` input into an argument vector the way a POSIX
//! shell would, without running a shell: nothing is expanded or executed.
//!
//! Whitespace separates words; `'...'` is literal; `"..."` keeps spaces and
//! takes `\` before `"`, `\`, `$` and `` ` `` as an escape; a `\` outside quotes
//! escapes the next character. `''` and `""` make an empty word.

use crate::error::{Result, TaskError};

/// The words of `text`; `input` names the task input in errors.
pub fn split(input: &str, text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started even if it is still empty (after `""`).
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unterminated(input, '\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            // A backslash-newline inside double quotes is a line continuation.
                            Some('\n') => {}
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(unterminated(input, '"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unterminated(input, '"')),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(escaped) => {
                    in_word = true;
                    word.push(escaped);
                }
                None => return Err(TaskError::input(input, "ends with a lone backslash")),
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unterminated(input: &str, quote: char) -> TaskError {
    TaskError::input(input, format!("a {quote} quote is not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        split("arguments", text).unwrap()
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(words("  --debug   --description 'first deploy' "), ["--debug", "--description", "first deploy"]);
        assert_eq!(words(r#"--set-json "a={\"b\": 1}""#), ["--set-json", r#"a={"b": 1}"#]);
        assert_eq!(words(r"a\ b c\\d"), ["a b", r"c\d"]);
        assert_eq!(words(r#"x="a b"'c d'"#), ["x=a bc d"]);
        assert_eq!(words(r#"'' "" k="#), ["", "", "k="]);
        assert_eq!(words("a\\\nb\tc\r\nd"), ["ab", "c", "d"]);
        assert_eq!(words(r#""keep \n and \a""#), [r"keep \n and \a"]);
        assert_eq!(words("'$(rm -rf /)' `id`"), ["$(rm -rf /)", "`id`"]);
        assert!(words("  \n ").is_empty());
    }

    #[test]
    fn unclosed_quotes_name_the_input() {
        assert_eq!(split("arguments", "--description 'oops").unwrap_err().to_string(), "Input 'arguments': a ' quote is not closed");
        assert_eq!(split("arguments", r#"a "b\""#).unwrap_err().to_string(), "Input 'arguments': a \" quote is not closed");
        assert_eq!(split("arguments", "a \\").unwrap_err().to_string(), "Input 'arguments': ends with a lone backslash");
    }

    /// Quotes a word the way `sh` would read it back as the same word.
    fn quote(word: &str) -> String {
        format!("'{}'", word.replace('\'', r"'\''"))
    }

    proptest! {
        #[test]
        fn quoted_words_come_back_unchanged(list in proptest::collection::vec(".*", 0..6)) {
            let text = list.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
            prop_assert_eq!(split("arguments", &text).unwrap(), list);
        }

        #[test]
        fn never_panics_and_words_have_no_unquoted_spaces(text in r#"[ a-z'"\\\n]*"#) {
            if let Ok(words) = split("arguments", &text) {
                if !text.contains(['\'', '"', '\\']) {
                    prop_assert!(words.iter().all(|w| !w.contains(' ') && !w.is_empty()));
                }
            }
        }
    }
}
