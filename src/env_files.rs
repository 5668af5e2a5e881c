//! Reads a client bundle's `env.sh`, `env.cmd` and `env.ps1` without running them.
//!
//! Only assignments are read (`export NAME=value` and the other assigning
//! builtins, `set NAME=value`, `$Env:NAME = value`), and only values made of
//! text and the bundle's own directory (`$PWD`, `${PWD}`, `$(pwd)`, `%~dp0`, the
//! PowerShell path idioms). A value that needs a shell to evaluate is an error
//! naming its line. The `if kubectl ...` blocks are not used: sourcing them
//! would rewrite the agent's `~/.kube/config` (in `env.sh` their assignments are
//! still checked). Other lines are never executed, so they are not read.

use crate::log_safety::neutralise_logging_commands;

/// A piece of an assigned value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// The directory the bundle is extracted to.
    Directory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: Vec<Part>,
}

impl Assignment {
    /// The value with the bundle directory substituted (see [`join`]).
    pub fn resolve(&self, directory: &str) -> String {
        let mut out = String::new();
        let mut parts = self.value.iter().peekable();
        while let Some(part) = parts.next() {
            match (part, parts.peek()) {
                (Part::Directory, Some(Part::Text(rest))) => {
                    out.push_str(&join(directory, rest));
                    parts.next();
                }
                (Part::Directory, _) => out.push_str(&join(directory, "")),
                (Part::Text(text), _) => out.push_str(text),
            }
        }
        out
    }
}

/// `relative` under `directory`, with the directory's own separator style
/// (a Windows agent's temp directory has backslashes).
pub fn join(directory: &str, relative: &str) -> String {
    let separator = if directory.contains('\\') && !directory.contains('/') { "\\" } else { "/" };
    let directory = directory.trim_end_matches(['/', '\\']);
    let relative = relative.trim_start_matches(['/', '\\']);
    if relative.is_empty() {
        return directory.to_string();
    }
    format!("{directory}{separator}{}", relative.replace(['/', '\\'], separator))
}

/// Why a line was refused: `file` line `line` (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    pub file: &'static str,
    pub line: usize,
    pub text: String,
    pub problem: &'static str,
}

impl EnvError {
    pub fn sentence(&self) -> String {
        let mut text: String = self.text.trim().chars().take(100).collect();
        if self.text.trim().chars().count() > 100 {
            text.push('…');
        }
        format!(
            "{} line {} {} (`{}`); the bundle is not used",
            self.file,
            self.line,
            self.problem,
            neutralise_logging_commands(&text)
        )
    }
}

type Parsed = Result<Vec<Assignment>, EnvError>;

const NEEDS_SHELL: &str = "needs a shell to evaluate";

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().map(|(i, l)| (i + 1, l))
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn push_text(parts: &mut Vec<Part>, c: char) {
    if let Some(Part::Text(text)) = parts.last_mut() {
        text.push(c);
    } else {
        parts.push(Part::Text(c.to_string()));
    }
}

/// The builtins that assign like `export` (`declare -x NAME=...` and so on).
const SH_ASSIGNING: [&str; 5] = ["export", "readonly", "declare", "local", "typeset"];

/// `NAME` and the value text of an assignment line (`export NAME=value`,
/// `readonly`, `declare -x`, ..., or a bare `NAME=value`).
fn sh_assignment(line: &str) -> Option<(&str, &str)> {
    let mut rest = line;
    if let Some((_, after)) = line.split_once([' ', '\t']).filter(|(first, _)| SH_ASSIGNING.contains(first)) {
        rest = after.trim_start();
        // Options such as `-x`, `-r`.
        while rest.starts_with('-') {
            rest = rest.split_once([' ', '\t'])?.1.trim_start();
        }
    }
    let (name, value) = rest.split_once('=')?;
    is_name(name).then_some((name, value))
}

/// What sh would see in one line of `env.sh`, as far as blocks go: how the
/// line changes the depth of `if`/`case`/`for`/`while`/`until` blocks (their
/// keywords count only where a command starts, not quoted, not in a comment,
/// also several on one line), and whether an assignment starts anywhere but at
/// the start of the line (`if ...; then export X=$(...); fi`). Quotes may span
/// lines, so the open one is carried over.
fn sh_line(line: &str, quote: &mut Option<char>) -> (isize, bool) {
    let mut change = 0;
    let mut assignment_inside = false;
    let mut command_start = quote.is_none();
    let mut first = true;
    let mut word = String::new();
    let mut literal = quote.is_some();
    let mut chars = line.chars().chain(['\n']);
    while let Some(c) = chars.next() {
        if let Some(open) = *quote {
            if c == open {
                *quote = None;
            } else if c == '\\' && open == '"' {
                chars.next();
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
                literal = true;
            }
            '\'' | '"' => {
                *quote = Some(c);
                literal = true;
            }
            '#' if word.is_empty() && !literal => break,
            c if c.is_whitespace() || ";&|()".contains(c) => {
                if !word.is_empty() || literal {
                    if command_start {
                        let keyword = if literal { "" } else { word.as_str() };
                        command_start = match keyword {
                            "if" | "while" | "until" => {
                                change += 1;
                                true
                            }
                            "case" | "for" => {
                                change += 1;
                                false
                            }
                            "fi" | "esac" | "done" => {
                                change -= 1;
                                false
                            }
                            "then" | "do" | "else" | "elif" | "{" | "}" | "!" | "time" => true,
                            _ => {
                                assignment_inside |= !first
                                    && (SH_ASSIGNING.contains(&word.as_str()) || sh_assignment(&word).is_some());
                                false
                            }
                        };
                    }
                    first = false;
                    word.clear();
                    literal = false;
                }
                if c != ' ' && c != '\t' && c != '\n' {
                    command_start = true;
                    first = false;
                }
            }
            c => word.push(c),
        }
    }
    (change, assignment_inside)
}

/// `env.sh`: POSIX shell. Assignments inside blocks are checked as well, so
/// that nothing a shell would evaluate hides there, but only those outside are used.
pub fn parse_sh(text: &str) -> Parsed {
    let mut out = Vec::new();
    let mut depth = 0isize;
    let mut quote = None;
    for (number, line) in lines(text) {
        let fail = |problem| EnvError { file: "env.sh", line: number, text: line.to_string(), problem };
        let (change, assignment_inside) = sh_line(line, &mut quote);
        if assignment_inside {
            return Err(fail(NEEDS_SHELL));
        }
        if let Some((name, value)) = sh_assignment(line.trim()) {
            let value = sh_word(value).map_err(fail)?;
            if depth == 0 {
                out.push(Assignment { name: name.to_string(), value });
            }
        }
        depth = (depth + change).max(0);
    }
    Ok(out)
}

/// One shell word made of text, quotes and the `$PWD` spellings; anything else is refused.
fn sh_word(word: &str) -> Result<Vec<Part>, &'static str> {
    let mut parts = Vec::new();
    let mut rest = word;
    let mut quoted = false;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = ["$PWD", "${PWD}", "$(pwd)"].iter().find_map(|p| rest.strip_prefix(p)) {
            // `$PWDX` would be another variable.
            if rest.starts_with("$PWD") && after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                return Err(NEEDS_SHELL);
            }
            parts.push(Part::Directory);
            rest = after;
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '"' => quoted = !quoted,
            '\'' if !quoted => {
                let Some(end) = rest.find('\'') else { return Err("has an unterminated quote") };
                for c in rest[..end].chars() {
                    push_text(&mut parts, c);
                }
                rest = &rest[end + 1..];
            }
            '$' | '`' | '\\' => return Err(NEEDS_SHELL),
            // `[` stays: an IPv6 DOCKER_HOST (tcp://[fd00::10]:443) is literal text to sh, since
            // an assignment is never globbed.
            ' ' | '\t' | ';' | '&' | '|' | '<' | '>' | '(' | ')' | '*' | '?' | '~' | '#' if !quoted => {
                return Err(NEEDS_SHELL)
            }
            c => push_text(&mut parts, c),
        }
    }
    if quoted {
        return Err("has an unterminated quote");
    }
    Ok(parts)
}

/// `env.cmd`: Windows batch.
pub fn parse_cmd(text: &str) -> Parsed {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (number, line) in lines(text) {
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        let fail = |problem| EnvError { file: "env.cmd", line: number, text: line.to_string(), problem };
        if depth > 0 || lower.starts_with("if ") {
            depth = (depth + trimmed.matches('(').count()).saturating_sub(trimmed.matches(')').count());
            continue;
        }
        let Some(assignment) = lower.strip_prefix("set ").map(|_| trimmed[4..].trim_start()) else { continue };
        if assignment.starts_with('/') {
            return Err(fail(NEEDS_SHELL));
        }
        let assignment = match assignment.strip_prefix('"') {
            Some(inner) => inner.strip_suffix('"').ok_or_else(|| fail("has an unterminated quote"))?,
            None => assignment,
        };
        let Some((name, value)) = assignment.split_once('=') else { continue };
        if !is_name(name) {
            return Err(fail(NEEDS_SHELL));
        }
        let mut parts = Vec::new();
        let mut rest = value;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("%~dp0") {
                parts.push(Part::Directory);
                rest = after;
                continue;
            }
            match c {
                '%' | '!' | '^' | '&' | '|' | '<' | '>' | '"' => return Err(fail(NEEDS_SHELL)),
                c => push_text(&mut parts, c),
            }
            rest = &rest[c.len_utf8()..];
        }
        out.push(Assignment { name: name.to_string(), value: trim_end(parts) });
    }
    Ok(out)
}

fn trim_end(mut parts: Vec<Part>) -> Vec<Part> {
    if let Some(Part::Text(text)) = parts.last_mut() {
        let kept = text.trim_end().len();
        text.truncate(kept);
        if text.is_empty() {
            parts.pop();
        }
    }
    parts
}

/// `env.ps1`: PowerShell.
pub fn parse_ps1(text: &str) -> Parsed {
    let mut out = Vec::new();
    let mut directory_variables: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut in_comment = false;
    for (number, line) in lines(text) {
        let trimmed = line.trim();
        let fail = |problem| EnvError { file: "env.ps1", line: number, text: line.to_string(), problem };
        if in_comment || trimmed.starts_with("<#") {
            in_comment = !trimmed.ends_with("#>");
            continue;
        }
        if depth > 0 || trimmed.to_ascii_lowercase().starts_with("if") && trimmed.ends_with('{') {
            depth = (depth + trimmed.matches('{').count()).saturating_sub(trimmed.matches('}').count());
            continue;
        }
        if !trimmed.starts_with('$') {
            continue;
        }
        let Some((target, value)) = trimmed.split_once('=') else { continue };
        let target = target.trim();
        // `$Env:NAME = $null` unsets: nothing to export.
        if value.trim().eq_ignore_ascii_case("$null") {
            continue;
        }
        let value = ps1_value(value.trim(), &directory_variables).ok_or_else(|| fail(NEEDS_SHELL))?;
        if let Some(name) = target.get(..5).filter(|p| p.eq_ignore_ascii_case("$env:")).map(|_| &target[5..]) {
            if !is_name(name) {
                return Err(fail(NEEDS_SHELL));
            }
            out.push(Assignment { name: name.to_string(), value });
        } else if value == [Part::Directory] && is_name(&target[1..]) {
            directory_variables.push(target[1..].to_ascii_lowercase());
        } else {
            return Err(fail(NEEDS_SHELL));
        }
    }
    Ok(out)
}

/// The PowerShell values a bundle uses: a quoted string, the script's
/// directory (`Split-Path [-Parent] $[script:]MyInvocation.MyCommand.Path`,
/// `$PSScriptRoot`, a variable holding it) and `Join-Path <directory> <name>`.
fn ps1_value(value: &str, directory_variables: &[String]) -> Option<Vec<Part>> {
    let value = value.strip_prefix("$(").and_then(|v| v.strip_suffix(')')).unwrap_or(value).trim();
    let value = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')).unwrap_or(value).trim();
    let words: Vec<&str> = value.split_whitespace().collect();
    let is_directory = |word: &str| {
        let lower = word.to_ascii_lowercase();
        lower == "$psscriptroot"
            || lower.strip_prefix('$').is_some_and(|v| directory_variables.iter().any(|d| d == v))
    };
    match words.as_slice() {
        [split, rest @ ..] if split.eq_ignore_ascii_case("split-path") => {
            let rest: Vec<String> = rest.iter().map(|w| w.to_ascii_lowercase()).collect();
            let path = ["$myinvocation.mycommand.path", "$script:myinvocation.mycommand.path"];
            match rest.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                [p] | ["-parent", p] | [p, "-parent"] if path.contains(p) => Some(vec![Part::Directory]),
                _ => None,
            }
        }
        [join, directory, name] if join.eq_ignore_ascii_case("join-path") && is_directory(directory) => {
            match ps1_string(name, directory_variables)?.as_slice() {
                [Part::Text(name)] => Some(vec![Part::Directory, Part::Text(format!("/{name}"))]),
                _ => None,
            }
        }
        [word] if is_directory(word) => Some(vec![Part::Directory]),
        _ => ps1_string(value, directory_variables),
    }
}

/// A quoted string (`"..."` may hold a directory variable) or a bare word.
fn ps1_string(word: &str, directory_variables: &[String]) -> Option<Vec<Part>> {
    if let Some(inner) = word.strip_prefix('\'').and_then(|w| w.strip_suffix('\'')) {
        return (!inner.contains('\'')).then(|| vec![Part::Text(inner.to_string())]).map(non_empty);
    }
    let (inner, quoted) = match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) => (inner, true),
        None => (word, false),
    };
    let mut parts = Vec::new();
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            let name_len = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len() - 1);
            let name = rest[1..1 + name_len].to_ascii_lowercase();
            if name_len == 0 || !(name == "psscriptroot" || directory_variables.contains(&name)) {
                return None;
            }
            parts.push(Part::Directory);
            rest = &rest[1 + name_len..];
            continue;
        }
        if c == '`' || c == '"' || !(quoted || c.is_ascii_alphanumeric() || "._-/\\:".contains(c)) {
            return None;
        }
        push_text(&mut parts, c);
        rest = &rest[c.len_utf8()..];
    }
    Some(non_empty(parts))
}

fn non_empty(parts: Vec<Part>) -> Vec<Part> {
    parts.into_iter().filter(|p| !matches!(p, Part::Text(t) if t.is_empty())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UCP3_SH: &str = r#"export DOCKER_TLS_VERIFY=1
export COMPOSE_TLS_VERSION=TLSv1_2
export DOCKER_CERT_PATH=$PWD
export DOCKER_HOST=tcp://ucp.example.com:443

if kubectl >/dev/null 2>&1; then
    unset KUBECONFIG
    kubectl config set-cluster ucp_ucp.example.com:6443_azure-devops --server https://ucp.example.com:6443 --certificate-authority "$PWD/ca.pem" --embed-certs
    export KUBE_ONLY=1
fi
export KUBECONFIG=$PWD/kube.yml

#
# Bundle for user azure-devops
# eval "$(<env.sh)"
"#;

    fn resolved(assignments: &[Assignment], dir: &str) -> Vec<(String, String)> {
        assignments.iter().map(|a| (a.name.clone(), a.resolve(dir))).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    const EXPECTED: &[(&str, &str)] = &[
        ("DOCKER_TLS_VERIFY", "1"),
        ("COMPOSE_TLS_VERSION", "TLSv1_2"),
        ("DOCKER_CERT_PATH", "/t/b"),
        ("DOCKER_HOST", "tcp://ucp.example.com:443"),
        ("KUBECONFIG", "/t/b/kube.yml"),
    ];

    #[test]
    fn reads_a_ucp3_env_sh_and_skips_the_kubectl_block() {
        assert_eq!(resolved(&parse_sh(UCP3_SH).unwrap(), "/t/b"), pairs(EXPECTED));
        let crlf = UCP3_SH.replace('\n', "\r\n");
        assert_eq!(resolved(&parse_sh(&crlf).unwrap(), "/t/b"), pairs(EXPECTED));
    }

    #[test]
    fn understands_every_spelling_of_the_bundle_directory() {
        for value in ["$PWD", "${PWD}", "$(pwd)", "\"$PWD\"", "\"${PWD}\""] {
            let parsed = parse_sh(&format!("export DOCKER_CERT_PATH={value}\n")).unwrap();
            assert_eq!(parsed[0].resolve("/d"), "/d", "{value}");
        }
        let ipv6 = parse_sh("export DOCKER_HOST=tcp://[fd00::10]:443\n").unwrap();
        assert_eq!(ipv6[0].resolve("/d"), "tcp://[fd00::10]:443");
        let parsed = parse_sh("export KUBECONFIG=\"$(pwd)/kube.yml\"\nexport X='a $b'\n").unwrap();
        assert_eq!(resolved(&parsed, "C:\\agent\\_temp\\b"), pairs(&[("KUBECONFIG", "C:\\agent\\_temp\\b\\kube.yml"), ("X", "a $b")]));
    }

    #[test]
    fn refuses_what_needs_a_shell_and_names_the_line() {
        for value in ["$(touch /tmp/marker)", "`id`", "$HOME/x", "tcp://h:1; rm -rf /", "$PWDX", "a b", "\"$(id)\"", "${PWD:-/}"] {
            let text = format!("export DOCKER_TLS_VERIFY=1\nexport DOCKER_HOST={value}\n");
            let error = parse_sh(&text).unwrap_err();
            assert_eq!((error.file, error.line), ("env.sh", 2), "{value}");
            assert!(error.sentence().starts_with("env.sh line 2 needs a shell to evaluate"), "{}", error.sentence());
        }
    }

    #[test]
    fn follows_blocks_opened_and_closed_on_one_line() {
        let hostile = "if true; then echo hi; fi\nexport KUBECONFIG=$(curl evil)\n";
        let error = parse_sh(hostile).unwrap_err();
        assert_eq!((error.line, error.problem), (2, NEEDS_SHELL));
        let text = "for i in 1 2; do echo $i; done\nwhile false; do :; done\ncase x in if) echo ;; esac\n\
            if a; then if b; then c; fi; fi\nuntil true; do :; done; export DOCKER_TLS_VERIFY=1 2>/dev/null || true\n\
            { echo; }\nexport DOCKER_HOST=tcp://h:443\n";
        // The last line but one is refused (an assignment after a command); without it, all are followed.
        assert_eq!(parse_sh(text).unwrap_err().line, 5);
        let text = text.replace("; export DOCKER_TLS_VERIFY=1 2>/dev/null || true", "");
        assert_eq!(resolved(&parse_sh(&text).unwrap(), "/d"), pairs(&[("DOCKER_HOST", "tcp://h:443")]));
    }

    #[test]
    fn keywords_in_quotes_and_comments_open_no_block() {
        for line in ["echo \"if\"", "echo 'x; if y'", "echo fi # if", "X='if'", "echo \\if", "echo \"\nif\n\"", "echo if", "test -f x && [ if ]"] {
            let text = format!("{line}\nexport KUBECONFIG=$(curl evil)\n");
            assert!(parse_sh(&text).is_err(), "{line}");
        }
    }

    #[test]
    fn every_assigning_builtin_is_read_and_checked_also_inside_blocks() {
        for line in ["readonly X=$(id)", "declare -x X=$(id)", "local X=`id`", "typeset -r -x X=$(id)", "export -n X=$(id)"] {
            let error = parse_sh(&format!("export DOCKER_TLS_VERIFY=1\n{line}\n")).unwrap_err();
            assert_eq!((error.line, error.problem), (2, NEEDS_SHELL), "{line}");
        }
        let parsed = parse_sh("readonly DOCKER_HOST=tcp://h:443\ndeclare -x DOCKER_TLS_VERIFY=1\n").unwrap();
        assert_eq!(resolved(&parsed, "/d"), pairs(&[("DOCKER_HOST", "tcp://h:443"), ("DOCKER_TLS_VERIFY", "1")]));
        for (text, line) in [
            ("if kubectl >/dev/null 2>&1; then\n    export EVIL=$(touch /tmp/never)\nfi\n", 2),
            ("if kubectl >/dev/null 2>&1\nthen export EVIL=$(touch /tmp/never)\nfi\n", 2),
            ("if true; then export EVIL=1; fi\n", 1),
            ("true && KUBECONFIG=/tmp/x\n", 1),
        ] {
            assert_eq!(parse_sh(text).unwrap_err().line, line, "{text}");
        }
    }

    #[test]
    fn reads_env_cmd() {
        let text = "@echo off\r\nset DOCKER_TLS_VERIFY=1\r\nset COMPOSE_TLS_VERSION=TLSv1_2\r\nset DOCKER_CERT_PATH=%~dp0\r\n\
            set DOCKER_HOST=tcp://ucp.example.com:443\r\nkubectl >nul 2>&1\r\nif %ERRORLEVEL% == 0 (\r\n    \
            kubectl config set-cluster x --certificate-authority \"%~dp0ca.pem\"\r\n    set X=%EVIL%\r\n)\r\n\
            set KUBECONFIG=%~dp0kube.yml\r\n";
        assert_eq!(resolved(&parse_cmd(text).unwrap(), "/t/b"), pairs(EXPECTED));
        let error = parse_cmd("set DOCKER_HOST=%COMPUTERNAME%\n").unwrap_err();
        assert_eq!((error.file, error.line), ("env.cmd", 1));
        assert!(parse_cmd("set DOCKER_HOST=x & calc\n").is_err());
    }

    #[test]
    fn reads_env_ps1_path_idioms() {
        let text = "$Env:DOCKER_TLS_VERIFY = \"1\"\n$Env:COMPOSE_TLS_VERSION = \"TLSv1_2\"\n\
            $Env:DOCKER_CERT_PATH = Split-Path -Parent $MyInvocation.MyCommand.Path\n\
            $Env:DOCKER_HOST = \"tcp://ucp.example.com:443\"\n\n$d = Split-Path $script:MyInvocation.MyCommand.Path\n\
            if (Get-Command kubectl -ErrorAction SilentlyContinue) {\n    kubectl config set-cluster x \"$d\\ca.pem\"\n    \
            $Env:X = $(Invoke-Evil)\n}\n$Env:KUBECONFIG = Join-Path $d kube.yml\n";
        assert_eq!(resolved(&parse_ps1(text).unwrap(), "/t/b"), pairs(EXPECTED));
        let parsed = parse_ps1("$Env:DOCKER_TLS_VERIFY = 1\n$Env:KUBECONFIG = $null\n").unwrap();
        assert_eq!(resolved(&parsed, "/d"), pairs(&[("DOCKER_TLS_VERIFY", "1")]));
        for value in ["$PSScriptRoot", "$(Split-Path $MyInvocation.MyCommand.Path)", "\"$PSScriptRoot\""] {
            let parsed = parse_ps1(&format!("$env:DOCKER_CERT_PATH = {value}\n")).unwrap();
            assert_eq!(parsed[0].resolve("/d"), "/d", "{value}");
        }
        let parsed = parse_ps1("$d = $PSScriptRoot\n$Env:KUBECONFIG = \"$d\\kube.yml\"\n").unwrap();
        assert_eq!(parsed[0].resolve("/d"), "/d/kube.yml");
        for value in ["$(Invoke-WebRequest x)", "\"$(calc)\"", "$HOME", "\"a`nb\"", "Get-Content x"] {
            let error = parse_ps1(&format!("\n$Env:DOCKER_HOST = {value}\n")).unwrap_err();
            assert_eq!((error.file, error.line), ("env.ps1", 2), "{value}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_refuses_command_substitution(prefix in "[a-z:/.]{0,8}", body in "[ -~]{0,20}") {
            let text = format!("export DOCKER_HOST={prefix}$({body})\n");
            prop_assert!(parse_sh(&text).is_err());
            let _ = parse_cmd(&text);
            let _ = parse_ps1(&text);
        }
    }
}
