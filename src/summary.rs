//! The markdown summary each task uploads to the run's Extensions tab.

/// A heading and a two-column table; values are shown as code so image
/// references and digests survive markdown rendering unchanged.
pub fn render(title: &str, rows: &[(&str, String)]) -> String {
    let mut out = format!("### {}\n\n| | |\n| --- | --- |\n", escape_text(title));
    for (name, value) in rows {
        out.push_str(&format!("| {} | {} |\n", escape_text(name), code_span(value)));
    }
    out
}

fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn code_span(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    // Inside a table cell a pipe ends the cell even in a code span; newlines end the row.
    let value = value.replace('|', "\\|").replace(['\r', '\n'], " ");
    let longest_run = value
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    format!("{fence} {value} {fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_table_with_code_values() {
        let md = render(
            "MSR build and push",
            &[("Image", "msr.example.com/web/app:abc1234".into()), ("Digest", String::new())],
        );
        assert_eq!(
            md,
            "### MSR build and push\n\n| | |\n| --- | --- |\n\
             | Image | ` msr.example.com/web/app:abc1234 ` |\n| Digest |  |\n"
        );
    }

    #[test]
    fn values_cannot_break_the_table() {
        let md = render("t", &[("a|b", "x|y`z\nnext".into())]);
        let row = md.lines().last().unwrap();
        assert_eq!(row, "| a\\|b | `` x\\|y`z next `` |");
        assert_eq!(md.lines().count(), 5);
    }
}
