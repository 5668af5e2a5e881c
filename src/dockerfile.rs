//! Dockerfile parsing and the checks MsrBuildPush runs before anything is built.
//!
//! The parser follows the BuildKit frontend closely enough for real files:
//! parser directives (`# escape=`), line continuations with the file's escape
//! character, comments inside continuations, JSON and shell forms, heredocs,
//! `ARG` with several names and defaults, global `ARG`s, stages and references
//! to them, and the `${VAR}`, `${VAR:-x}`, `${VAR:+x}` substitutions.
//! It never runs anything; it tells the user, with line numbers, what the
//! build would silently get wrong.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const INSTRUCTIONS: [&str; 18] = [
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
];

/// Instructions whose arguments the builder expands with ARG and ENV values.
const EXPANDED_BY_BUILDER: [&str; 11] =
    ["ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

/// ARGs every build has without declaring them; never reported.
const PREDEFINED_ARGS: [&str; 18] = [
    "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
    "ftp_proxy", "no_proxy", "all_proxy", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
];

/// Values the builder sets in the global scope without a declaration.
const AUTOMATIC_PLATFORM_ARGS: [&str; 8] = [
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH",
    "BUILDVARIANT",
];

fn is_predefined(name: &str) -> bool {
    PREDEFINED_ARGS.contains(&name)
}

/// Build-args the builder itself consumes (BuildKit settings, reproducible builds).
fn consumed_by_builder(name: &str) -> bool {
    is_predefined(name) || name.starts_with("BUILDKIT_") || name == "SOURCE_DATE_EPOCH"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The Dockerfile cannot be built as written.
    Error,
    /// The build runs but does something the author did not mean.
    Warning,
}

/// One finding; `message` is a complete sentence that starts with the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    pub line: Option<usize>,
    /// The stage it is in; `None` for the global part and the whole file.
    pub stage: Option<usize>,
    pub message: String,
}

impl Finding {
    fn at(severity: Severity, line: usize, stage: Option<usize>, problem: impl std::fmt::Display) -> Finding {
        let problem = problem.to_string();
        let stop = if problem.ends_with('.') { "" } else { "." };
        Finding { severity, line: Some(line), stage, message: format!("Dockerfile line {line}: {problem}{stop}") }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
    /// An unquoted delimiter: the builder expands variables in the body.
    pub expands: bool,
}

/// One logical instruction: continuation lines joined, flags split off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The physical line the instruction starts on (1-based).
    pub line: usize,
    /// Upper case.
    pub keyword: String,
    /// `--name=value` flags of FROM, COPY, ADD and RUN.
    pub flags: Vec<(String, String)>,
    /// The rest of the instruction after the flags.
    pub arguments: String,
    /// The strings of a JSON (exec) form, when the arguments are one.
    pub json: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub escape: char,
    pub instructions: Vec<Instruction>,
}

/// A parse error: the line it is on and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub problem: String,
}

impl ParseError {
    fn new(line: usize, problem: impl Into<String>) -> ParseError {
        ParseError { line, problem: problem.into() }
    }
}

/// Splits `text` into instructions.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let (escape, mut index) = parser_directives(&lines)?;
    let mut instructions = Vec::new();
    while index < lines.len() {
        let trimmed = lines[index].trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            index += 1;
            continue;
        }
        let line = index + 1;
        let mut logical = String::new();
        loop {
            let (content, continues) = without_continuation(lines[index], escape);
            logical.push_str(content);
            index += 1;
            if !continues {
                break;
            }
            // Comment and empty lines inside a continuation are dropped, as the builder does.
            while index < lines.len() && {
                let t = lines[index].trim_start();
                t.is_empty() || t.starts_with('#')
            } {
                index += 1;
            }
            if index == lines.len() {
                break;
            }
        }
        let mut instruction = split_instruction(line, &logical)?;
        if can_hold_heredocs(&instruction) {
            for (name, strip_tabs, expands) in heredoc_markers(&instruction.arguments) {
                let mut body = String::new();
                loop {
                    let Some(raw) = lines.get(index) else {
                        return Err(ParseError::new(
                            line,
                            format!("the heredoc <<{name} is never closed: no line reads \"{name}\""),
                        ));
                    };
                    index += 1;
                    let content = if strip_tabs { raw.trim_start_matches('\t') } else { raw };
                    if content == name {
                        break;
                    }
                    body.push_str(content);
                    body.push('\n');
                }
                instruction.heredocs.push(Heredoc { name, body, expands });
            }
        }
        instructions.push(instruction);
    }
    Ok(Dockerfile { escape, instructions })
}

/// Reads the `# directive=value` lines at the top; returns the escape
/// character and the index of the first line after them.
fn parser_directives(lines: &[&str]) -> Result<(char, usize), ParseError> {
    let mut escape = None;
    for (index, raw) in lines.iter().enumerate() {
        let Some((name, value)) = directive(raw) else {
            return Ok((escape.unwrap_or('\\'), index));
        };
        if name == "escape" {
            if escape.is_some() {
                return Err(ParseError::new(index + 1, "only one escape directive is allowed"));
            }
            escape = Some(match value {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(ParseError::new(
                        index + 1,
                        format!("the escape directive must be \\ or `, not \"{other}\""),
                    ))
                }
            });
        }
    }
    Ok((escape.unwrap_or('\\'), lines.len()))
}

fn directive(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim()))
}

/// The line without a trailing escape character (and whitespace after it).
fn without_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(content) => (content, true),
        None => (line, false),
    }
}

fn split_instruction(line: usize, logical: &str) -> Result<Instruction, ParseError> {
    let logical = logical.trim();
    let (keyword, rest) = logical.split_once(char::is_whitespace).unwrap_or((logical, ""));
    let keyword = keyword.to_ascii_uppercase();
    if !INSTRUCTIONS.contains(&keyword.as_str()) {
        return Err(ParseError::new(line, format!("unknown instruction {keyword}")));
    }
    let mut arguments = rest.trim_start();
    let mut flags = Vec::new();
    if matches!(keyword.as_str(), "FROM" | "COPY" | "ADD" | "RUN") {
        while let Some(flag) = arguments.strip_prefix("--") {
            let end = flag.find(char::is_whitespace).unwrap_or(flag.len());
            let (name, value) = flag[..end].split_once('=').unwrap_or((&flag[..end], ""));
            flags.push((name.to_ascii_lowercase(), value.to_string()));
            arguments = flag[end..].trim_start();
        }
    }
    let json = if arguments.starts_with('[') { serde_json::from_str::<Vec<String>>(arguments).ok() } else { None };
    Ok(Instruction { line, keyword, flags, arguments: arguments.to_string(), json, heredocs: Vec::new() })
}

/// RUN, COPY and ADD in shell form, also under ONBUILD (`ONBUILD RUN <<EOF`).
fn can_hold_heredocs(instruction: &Instruction) -> bool {
    let (keyword, json) = if instruction.keyword == "ONBUILD" {
        let (inner, rest) = instruction.arguments.split_once(char::is_whitespace).unwrap_or((&instruction.arguments, ""));
        let rest = rest.trim();
        (inner.to_ascii_uppercase(), rest.starts_with('[') && serde_json::from_str::<Vec<String>>(rest).is_ok())
    } else {
        (instruction.keyword.clone(), instruction.json.is_some())
    };
    matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") && !json
}

/// The heredocs a line opens, as BuildKit finds them: each word (quotes kept)
/// that matches `^(\d*)<<(-?)([^<]*)$`; the delimiter is the rest with its quotes
/// removed, and a quoted delimiter keeps the body from being expanded.
/// Returns (delimiter, strip leading tabs, expands).
fn heredoc_markers(arguments: &str) -> Vec<(String, bool, bool)> {
    let words = words(arguments, '\\');
    // BuildKit finds no heredoc at all on a line with an unclosed quote.
    if words.iter().any(|w| unquote(w).is_none()) {
        return Vec::new();
    }
    let mut markers = Vec::new();
    for word in words {
        let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(rest) = rest.strip_prefix("<<") else { continue };
        let (strip_tabs, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        // `<<<` is a shell here-string.
        if rest.contains('<') {
            continue;
        }
        match unquote(rest) {
            Some((name, quoted)) if !name.is_empty() => markers.push((name, strip_tabs, !quoted)),
            _ => {}
        }
    }
    markers
}

/// A word without its quotes and `\` escapes, and whether it had quotes;
/// `None` when a quote is not closed.
fn unquote(word: &str) -> Option<(String, bool)> {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '\'' => {
                quoted = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => out.push(c),
                    }
                }
            }
            '"' => {
                quoted = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => {
                            let next = chars.next()?;
                            if !matches!(next, '"' | '$' | '\\') {
                                out.push('\\');
                            }
                            out.push(next);
                        }
                        c => out.push(c),
                    }
                }
            }
            c => out.push(c),
        }
    }
    Some((out, quoted))
}

/// The result of expanding a word: its text, the variables it referred to, and
/// the first substitution error (the text then keeps the bad part literally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    pub references: Vec<String>,
    /// Variables whose unset or empty value went into the text as it is
    /// (`$V`, `${V}`, `${V#p}`, `${V%p}`, `${V/p/r}`), never through a
    /// default or an alternative (`${V:-x}`, `${V:+x}`): only these make a
    /// text wrong because the value is empty.
    pub empty_uses: Vec<String>,
    pub error: Option<String>,
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}`,
/// `${VAR:?x}` and `${VAR?x}` the way the builder does, removing quotes;
/// `escape` escapes the next character. `lookup` gives the real values, so a
/// `?` substitution of an unset (or, with `:`, empty) variable is an error.
pub fn expand(word: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>) -> Expansion {
    run_expander(word, escape, lookup, true)
}

/// The references and syntax errors of a word whose values are not known here
/// (a stage's ARG and ENV values): `?` substitutions are not evaluated.
pub fn scan(word: &str, escape: char) -> Expansion {
    run_expander(word, escape, &|_| None, false)
}

fn run_expander(word: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>, values_known: bool) -> Expansion {
    let chars: Vec<char> = word.chars().collect();
    let mut expander = Expander {
        chars: &chars,
        pos: 0,
        escape,
        lookup,
        values_known,
        references: Vec::new(),
        empty_uses: Vec::new(),
        error: None,
        depth: 0,
    };
    let text = expander.word(false);
    Expansion { text, references: expander.references, empty_uses: expander.empty_uses, error: expander.error }
}

struct Expander<'a> {
    chars: &'a [char],
    pos: usize,
    escape: char,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    values_known: bool,
    references: Vec<String>,
    empty_uses: Vec<String>,
    error: Option<String>,
    /// `${A:-${B:-...}}` nesting; bounded so that hostile text cannot exhaust
    /// the (small) WebAssembly stack.
    depth: usize,
}

const MAX_NESTING: usize = 32;

impl Expander<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn fail(&mut self, problem: String) {
        self.error.get_or_insert(problem);
    }

    /// Reads until the end, or (inside `${...}`) until its unbalanced `}`.
    fn word(&mut self, in_braces: bool) -> String {
        let mut out = String::new();
        let mut single = false;
        let mut double = false;
        while let Some(c) = self.peek() {
            if single {
                self.pos += 1;
                if c == '\'' {
                    single = false;
                } else {
                    out.push(c);
                }
                continue;
            }
            if c == '}' && in_braces && !double {
                break;
            }
            self.pos += 1;
            match c {
                c if c == self.escape => match self.peek() {
                    Some(next) => {
                        self.pos += 1;
                        // Inside double quotes the escape only escapes what quoting would change.
                        if double && !matches!(next, '"' | '$') && next != self.escape {
                            out.push(c);
                        }
                        out.push(next);
                    }
                    None => out.push(c),
                },
                '\'' if !double => single = true,
                '"' => double = !double,
                '$' => out.push_str(&self.variable()),
                c => out.push(c),
            }
        }
        out
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn value_of(&mut self, name: &str) -> Option<String> {
        if !self.references.iter().any(|r| r == name) {
            self.references.push(name.to_string());
        }
        (self.lookup)(name)
    }

    /// `value` goes into the text as it is: note it when it is unset or empty.
    fn used_as_is(&mut self, name: &str, value: Option<String>) -> String {
        let value = value.unwrap_or_default();
        if value.is_empty() && !self.empty_uses.iter().any(|n| n == name) {
            self.empty_uses.push(name.to_string());
        }
        value
    }

    /// After a `$`: the variable's expansion, or the `$` itself when none follows.
    fn variable(&mut self) -> String {
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return "$".to_string();
            }
            let value = self.value_of(&name);
            return self.used_as_is(&name, value);
        }
        let open = self.pos;
        self.pos += 1;
        let name = self.name();
        if name.is_empty() {
            self.fail("a ${...} substitution has no variable name".to_string());
            self.pos = open;
            return "$".to_string();
        }
        let value = self.value_of(&name);
        let modifier = match self.peek() {
            Some('}') => {
                self.pos += 1;
                return self.used_as_is(&name, value);
            }
            Some(':') => {
                self.pos += 1;
                self.peek().map(|m| (true, m))
            }
            other => other.map(|m| (false, m)),
        };
        let Some((colon, modifier)) = modifier else {
            self.fail(format!("${{{name} is missing its closing }}"));
            return value.unwrap_or_default();
        };
        if !matches!(modifier, '-' | '+' | '?' | '#' | '%' | '/') {
            self.fail(format!("unsupported modifier '{modifier}' in ${{{name}...}}"));
        }
        self.pos += 1;
        if self.depth == MAX_NESTING {
            self.fail(format!("substitutions are nested more than {MAX_NESTING} deep"));
            self.pos = self.chars.len();
            return value.unwrap_or_default();
        }
        self.depth += 1;
        // What the word uses counts only when the word goes into the text.
        let uses_before_word = self.empty_uses.len();
        let word = self.word(true);
        self.depth -= 1;
        if self.peek() == Some('}') {
            self.pos += 1;
        } else {
            self.fail(format!("${{{name} is missing its closing }}"));
        }
        let set = match &value {
            Some(v) => !colon || !v.is_empty(),
            None => false,
        };
        let word_used = match modifier {
            '-' => !set,
            '+' => set,
            _ => false,
        };
        if !word_used {
            self.empty_uses.truncate(uses_before_word);
        }
        match modifier {
            '-' => if set { value.unwrap_or_default() } else { word },
            '+' => if set { word } else { String::new() },
            '?' => {
                // BuildKit's wording; only where the values are known.
                let problem = match &value {
                    None => Some("is not allowed to be unset"),
                    Some(v) if colon && v.is_empty() => Some("is not allowed to be empty"),
                    Some(_) => None,
                };
                if let (Some(problem), true) = (problem, self.values_known) {
                    let message = if word.is_empty() { problem } else { word.as_str() };
                    let colon = if colon { ":" } else { "" };
                    self.fail(format!("${{{name}{colon}?}} stops the build: \"{name}: {message}\""));
                }
                value.unwrap_or_default()
            }
            // Pattern removal and replacement keep the value, or what is left of it.
            _ => self.used_as_is(&name, value),
        }
    }
}

/// Splits arguments into words at unquoted whitespace, keeping quotes and
/// escapes for [`expand`].
fn words(text: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            word.push(c);
            if let Some(next) = chars.next() {
                word.push(next);
            }
            continue;
        }
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                continue;
            }
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A stage of a multi-stage build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub index: usize,
    /// Lower case, as the builder compares names.
    pub name: Option<String>,
    pub line: usize,
    /// The image as written after FROM.
    pub image: String,
    /// The earlier stage this one builds on, when its FROM names one.
    pub base_stage: Option<usize>,
    /// Earlier stages this one copies or mounts from (`--from=`).
    pub uses_stages: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgDeclaration {
    pub name: String,
    pub line: usize,
    /// None: declared before the first FROM.
    pub stage: Option<usize>,
    pub has_default: bool,
}

/// What the analysis found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub stages: Vec<Stage>,
    pub args: Vec<ArgDeclaration>,
    /// Errors first, then warnings, each in line order.
    pub findings: Vec<Finding>,
}

impl Analysis {
    pub fn declares_arg(&self, name: &str) -> bool {
        self.args.iter().any(|a| a.name == name)
    }

    pub fn stage_named(&self, name: &str) -> Option<&Stage> {
        let name = name.to_ascii_lowercase();
        self.stages.iter().find(|s| s.name.as_deref() == Some(name.as_str()))
    }

    /// The stage names for messages: `build, runtime` (unnamed ones by index).
    pub fn stage_list(&self) -> String {
        self.stages
            .iter()
            .map(|s| s.name.clone().unwrap_or_else(|| format!("#{} (unnamed)", s.index)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The stages a build of `target` runs: it, the stages it builds on and
    /// copies from, and theirs (BuildKit skips the rest).
    pub fn stages_built_for(&self, target: usize) -> BTreeSet<usize> {
        let mut built = BTreeSet::new();
        let mut pending = vec![target];
        while let Some(index) = pending.pop() {
            if let Some(stage) = self.stages.get(index) {
                if built.insert(index) {
                    pending.extend(stage.base_stage);
                    pending.extend(stage.uses_stages.iter().copied());
                }
            }
        }
        built
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Warning)
    }
}

/// The build-args a build passes: a value, or `None` when the builder takes it
/// from its environment (unknown here, assumed set).
pub type BuildArgs = BTreeMap<String, Option<String>>;

/// Parses and checks a Dockerfile for a build with `build_args`.
pub fn analyse(text: &str, build_args: &BuildArgs) -> Analysis {
    let dockerfile = match parse(text) {
        Ok(d) => d,
        Err(e) => {
            return Analysis {
                stages: Vec::new(),
                args: Vec::new(),
                findings: vec![Finding::at(Severity::Error, e.line, None, e.problem)],
            }
        }
    };
    let mut checker = Checker::new(dockerfile.escape, build_args);
    for instruction in &dockerfile.instructions {
        checker.instruction(instruction);
    }
    checker.finish()
}

/// The value a build-arg from the environment stands for while checking.
const FROM_ENVIRONMENT: &str = "(from the environment)";

struct Checker<'a> {
    escape: char,
    build_args: &'a BuildArgs,
    findings: Vec<Finding>,
    stages: Vec<Stage>,
    args: Vec<ArgDeclaration>,
    /// Global ARG values as FROM sees them.
    global: BTreeMap<String, String>,
    /// ENV names each stage sets (inherited by stages built on it).
    stage_env: Vec<BTreeSet<String>>,
    /// Names defined in the current stage so far (ARG and ENV).
    defined: BTreeSet<String>,
    reported: BTreeSet<String>,
    /// The stage whose instructions are being read (from its FROM on).
    current: Option<usize>,
}

impl<'a> Checker<'a> {
    fn new(escape: char, build_args: &'a BuildArgs) -> Self {
        Checker {
            escape,
            build_args,
            findings: Vec::new(),
            stages: Vec::new(),
            args: Vec::new(),
            global: BTreeMap::new(),
            stage_env: Vec::new(),
            defined: BTreeSet::new(),
            reported: BTreeSet::new(),
            current: None,
        }
    }

    fn error(&mut self, line: usize, problem: impl std::fmt::Display) {
        self.findings.push(Finding::at(Severity::Error, line, self.current, problem));
    }

    fn warning(&mut self, line: usize, problem: impl std::fmt::Display) {
        self.findings.push(Finding::at(Severity::Warning, line, self.current, problem));
    }

    fn global_value(&self, name: &str) -> Option<String> {
        self.global.get(name).cloned().or_else(|| {
            AUTOMATIC_PLATFORM_ARGS.contains(&name).then(|| "linux/amd64".to_string())
        })
    }

    /// Expands with the global scope; substitution errors are reported.
    fn expand_global(&mut self, line: usize, word: &str) -> Expansion {
        let expansion = expand(word, self.escape, &|name| self.global_value(name));
        if let Some(problem) = &expansion.error {
            self.error(line, problem);
        }
        expansion
    }

    fn instruction(&mut self, instruction: &Instruction) {
        let line = instruction.line;
        match instruction.keyword.as_str() {
            "FROM" => return self.from(instruction),
            "ARG" => return self.arg(instruction),
            _ if self.stages.is_empty() => {
                return self.error(
                    line,
                    format!("{} comes before the first FROM; only ARG may come before FROM", instruction.keyword),
                )
            }
            _ => {}
        }
        let current = self.stages.len() - 1;
        for (flag, value) in &instruction.flags {
            let source = match flag.as_str() {
                "from" => Some(value.as_str()),
                "mount" => value.split(',').find_map(|part| part.strip_prefix("from=")),
                _ => None,
            };
            if let Some(source) = source {
                self.stage_reference(line, current, source);
            }
        }
        if instruction.keyword == "ENV" {
            self.check_references(instruction);
            let names = env_names(&instruction.arguments, self.escape);
            self.stage_env[current].extend(names.iter().cloned());
            self.defined.extend(names);
            return;
        }
        if EXPANDED_BY_BUILDER.contains(&instruction.keyword.as_str()) || instruction.keyword == "RUN" {
            self.check_references(instruction);
        }
    }

    /// `COPY --from=` / `RUN --mount=from=`: an index must be an earlier stage.
    fn stage_reference(&mut self, line: usize, current: usize, source: &str) {
        if let Ok(index) = source.parse::<usize>() {
            if index >= current {
                let earlier = if current == 0 {
                    "no stage comes before it".to_string()
                } else {
                    format!("only stages 0 to {} come before it", current - 1)
                };
                self.error(line, format!("--from={source} does not refer to an earlier stage; {earlier}"));
            } else {
                self.stages[current].uses_stages.push(index);
            }
        } else if let Some(stage) = self.stages[..current]
            .iter()
            .find(|s| s.name.as_deref() == Some(source.to_ascii_lowercase().as_str()))
        {
            let index = stage.index;
            self.stages[current].uses_stages.push(index);
        }
    }

    fn from(&mut self, instruction: &Instruction) {
        let line = instruction.line;
        let parts = words(&instruction.arguments, self.escape);
        let (image, name) = match parts.as_slice() {
            [image] => (image.clone(), None),
            [image, as_word, name] if as_word.eq_ignore_ascii_case("as") => (image.clone(), Some(name.clone())),
            _ => {
                return self.error(line, "FROM takes an image and optionally AS <name>, as in FROM alpine:3.20 AS build")
            }
        };
        let index = self.stages.len();
        // BuildKit resolves the FROM of every stage, built or not: findings here concern the whole build.
        self.current = None;
        let name = name.map(|n| n.to_ascii_lowercase());
        if let Some(name) = &name {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                self.error(
                    line,
                    format!(
                        "\"{name}\" is not a valid stage name: it must start with a letter \
                         and hold only letters, digits, '-', '_' and '.'"
                    ),
                );
            } else if let Some(earlier) = self.stages.iter().find(|s| s.name.as_ref() == Some(name)) {
                let earlier_line = earlier.line;
                self.error(line, format!("the stage name \"{name}\" is already used by the stage on line {earlier_line}"));
            }
        }
        for (flag, value) in &instruction.flags {
            if flag == "platform" {
                self.expand_global(line, value);
            }
        }
        let expansion = self.expand_global(line, &image);
        // Only a value the image takes as it is: `${TAG:-3.20}` and `${S:+-$S}` are fine empty.
        for reference in &expansion.empty_uses {
            if AUTOMATIC_PLATFORM_ARGS.contains(&reference.as_str()) {
                continue;
            }
            let declaration = self.args.iter().rev().find(|a| a.stage.is_none() && &a.name == reference);
            let why = match declaration {
                None => "no ARG before the first FROM declares it",
                Some(a) if !a.has_default && !self.build_args.contains_key(reference) => {
                    "its ARG before the first FROM has no default and no build-arg sets it"
                }
                // Set to nothing on purpose (`ARG SUFFIX=` or an empty build-arg).
                Some(_) => continue,
            };
            self.warning(line, format!("FROM {image} uses ${reference}, which is empty: {why}"));
        }
        let image_text = expansion.text;
        let repository = image_text.split(['@']).next().unwrap_or("");
        let repository = match repository.rfind(':') {
            Some(colon) if !repository[colon..].contains('/') => &repository[..colon],
            _ => repository,
        };
        if repository.is_empty() && expansion.error.is_none() {
            self.warning(
                line,
                format!("FROM {image} expands to an empty image name; give the ARG a default or pass it as a build-arg"),
            );
        }
        let lowered = image_text.to_ascii_lowercase();
        let base_stage = self.stages.iter().find(|s| s.name.as_deref() == Some(lowered.as_str())).map(|s| s.index);
        let inherited = base_stage.map(|b| self.stage_env[b].clone()).unwrap_or_default();
        self.defined = inherited.clone();
        self.stage_env.push(inherited);
        self.stages.push(Stage { index, name, line, image, base_stage, uses_stages: Vec::new() });
        self.current = Some(index);
    }

    fn arg(&mut self, instruction: &Instruction) {
        let line = instruction.line;
        let stage = self.stages.len().checked_sub(1);
        let declarations = words(&instruction.arguments, self.escape);
        if declarations.is_empty() {
            return self.error(line, "ARG needs a name, as in ARG VERSION or ARG VERSION=1.0");
        }
        for declaration in declarations {
            let (name, default) = match declaration.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (declaration.clone(), None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.error(line, format!("\"{name}\" is not a valid ARG name: use letters, digits and '_'"));
                continue;
            }
            match stage {
                None => {
                    let given =
                        self.build_args.get(&name).map(|v| v.clone().unwrap_or_else(|| FROM_ENVIRONMENT.to_string()));
                    // BuildKit sets a global ARG without a default or build-arg to
                    // the empty string: `${NAME-x}` is then empty, `${NAME?}` passes.
                    let value = match (given, &default) {
                        (Some(v), _) => v,
                        (None, Some(d)) => self.expand_global(line, d).text,
                        (None, None) => String::new(),
                    };
                    self.global.insert(name.clone(), value);
                }
                Some(_) => {
                    if let Some(d) = &default {
                        let expansion = scan(d, self.escape);
                        self.report_globals(line, &expansion.references);
                        if let Some(problem) = expansion.error {
                            self.error(line, problem);
                        }
                    }
                    self.defined.insert(name.clone());
                }
            }
            self.args.push(ArgDeclaration { name, line, stage, has_default: default.is_some() });
        }
    }

    /// Reports global ARGs that an instruction of a stage uses without redeclaring them.
    fn check_references(&mut self, instruction: &Instruction) {
        let builder_expands = EXPANDED_BY_BUILDER.contains(&instruction.keyword.as_str());
        let mut texts: Vec<&str> = match &instruction.json {
            Some(strings) => strings.iter().map(String::as_str).collect(),
            None => vec![instruction.arguments.as_str()],
        };
        for heredoc in &instruction.heredocs {
            if heredoc.expands || instruction.keyword == "RUN" {
                texts.push(&heredoc.body);
            }
        }
        let mut references = Vec::new();
        for text in texts {
            // A stage's values are not known here: only syntax errors are reported.
            let expansion = scan(text, self.escape);
            // A RUN line is shell (or PowerShell) syntax, which the builder does not expand.
            if builder_expands && instruction.json.is_none() {
                if let Some(problem) = &expansion.error {
                    self.error(instruction.line, problem);
                }
            }
            references.extend(expansion.references);
            if instruction.keyword == "RUN" {
                references.extend(windows_shell_references(text));
            }
        }
        self.report_globals(instruction.line, &references);
    }

    fn report_globals(&mut self, line: usize, references: &[String]) {
        let stage = self.stages.len() - 1;
        for name in references {
            if self.defined.contains(name) || is_predefined(name) {
                continue;
            }
            let Some(global) = self.args.iter().find(|a| a.stage.is_none() && &a.name == name) else {
                continue;
            };
            if !self.reported.insert(format!("{stage}/{name}")) {
                continue;
            }
            let (global_line, from_line) = (global.line, self.stages[stage].line);
            self.warning(line, format!(
                "${name} is empty here: the global ARG {name} (line {global_line}) is not redeclared \
                 in this stage; add `ARG {name}` after the FROM on line {from_line}"
            ));
        }
    }

    fn finish(mut self) -> Analysis {
        if self.stages.is_empty() && !self.findings.iter().any(|f| f.severity == Severity::Error) {
            self.findings.push(Finding {
                severity: Severity::Error,
                line: None,
                stage: None,
                message: "The Dockerfile has no FROM instruction.".to_string(),
            });
        }
        for name in self.build_args.keys() {
            if !consumed_by_builder(name) && !self.args.iter().any(|a| &a.name == name) {
                let suggestion = self
                    .args
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(name) || edit_distance(&a.name, name) <= 2)
                    .map(|a| format!("; did you mean {}?", a.name))
                    .unwrap_or_else(|| ".".to_string());
                self.findings.push(Finding {
                    severity: Severity::Warning,
                    line: None,
                    stage: None,
                    message: format!(
                        "The build-arg {name} is not declared by any ARG in the Dockerfile, so the build ignores it{suggestion}"
                    ),
                });
            }
        }
        self.findings.sort_by_key(|f| (f.severity == Severity::Warning, f.line.is_none(), f.line));
        Analysis { stages: self.stages, args: self.args, findings: self.findings }
    }
}

/// Levenshtein distance, for suggesting the ARG a mistyped build-arg meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            current.push((previous[j] + usize::from(ca != *cb)).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// ARG values reach RUN as environment variables, which PowerShell reads as
/// `$env:NAME` and cmd as `%NAME%`.
fn windows_shell_references(text: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let lower = text.to_ascii_lowercase();
    for (at, _) in lower.match_indices("$env:").chain(lower.match_indices("${env:")) {
        let rest = &text[at..];
        let start = rest.find(':').map_or(0, |c| c + 1);
        let name: String = rest[start..].chars().take_while(|c| is_name(*c)).collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    let mut parts = text.split('%');
    parts.next();
    // Between an odd and the next even '%': `%NAME%`.
    while let (Some(name), Some(_)) = (parts.next(), parts.next()) {
        if !name.is_empty() && name.chars().all(is_name) {
            found.push(name.to_string());
        }
    }
    found
}

/// The variable names an ENV instruction sets (`ENV A=1 B=2` or `ENV A 1`).
fn env_names(arguments: &str, escape: char) -> Vec<String> {
    let parts = words(arguments, escape);
    match parts.first() {
        Some(first) if !first.contains('=') => vec![first.clone()],
        _ => parts.iter().filter_map(|p| p.split_once('=').map(|(k, _)| k.to_string())).collect(),
    }
}

/// Request of the `analyseDockerfile` export: the text and the build-args a
/// build would pass (`null` values come from the environment).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRequest {
    pub text: String,
    #[serde(default)]
    pub build_args: BuildArgs,
}

pub fn analyse_request(request: AnalysisRequest) -> crate::Result<Analysis> {
    Ok(analyse(&request.text, &request.build_args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_args() -> BuildArgs {
        BuildArgs::new()
    }

    fn args(pairs: &[(&str, Option<&str>)]) -> BuildArgs {
        pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
    }

    fn messages(analysis: &Analysis) -> Vec<String> {
        analysis.findings.iter().map(|f| f.message.clone()).collect()
    }

    fn corpus(name: &str) -> String {
        let path = format!("{}/tests/data/dockerfiles/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn continuations_comments_and_line_numbers() {
        let text = "# syntax=docker/dockerfile:1\nFROM alpine:3.20\n\nRUN apk add \\\n    # a comment inside\n    curl \\\n\n    git\nUSER nobody\n";
        let parsed = parse(text).unwrap();
        let run = &parsed.instructions[1];
        assert_eq!((run.line, run.keyword.as_str()), (4, "RUN"));
        assert_eq!(run.arguments, "apk add     curl     git");
        assert_eq!(parsed.instructions[2].line, 9);
    }

    #[test]
    fn escape_directive_switches_to_backtick() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo done\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.escape, '`');
        assert_eq!(parsed.instructions[1].arguments, "dir C:\\     && echo done");
        let bad = parse("# escape=x\nFROM a\n").unwrap_err();
        assert_eq!(bad.line, 1);
        assert!(bad.problem.contains("must be \\ or `"));
    }

    #[test]
    fn directives_only_count_at_the_top() {
        let parsed = parse("FROM a\n# escape=`\nRUN echo \\\n  b\n").unwrap();
        assert_eq!(parsed.escape, '\\');
        assert_eq!(parsed.instructions[1].arguments, "echo   b");
    }

    #[test]
    fn json_and_shell_forms() {
        let parsed = parse("FROM a\nCMD [\"dotnet\", \"app.dll\"]\nCMD [not json\nSHELL [\"pwsh\", \"-Command\"]\n").unwrap();
        assert_eq!(parsed.instructions[1].json, Some(vec!["dotnet".into(), "app.dll".into()]));
        assert_eq!(parsed.instructions[2].json, None);
        assert_eq!(parsed.instructions[3].json.as_ref().unwrap()[0], "pwsh");
    }

    #[test]
    fn heredocs_are_bodies_not_instructions() {
        let text = "FROM a\nRUN <<EOF\n#!/bin/sh\nFOO bar\nEOF\nCOPY <<-\"CONF\" <<OTHER /etc/\n\tx=$HOME\n\tCONF\ny\nOTHER\nUSER app\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed.instructions.len(), 4);
        assert_eq!(parsed.instructions[1].heredocs[0].body, "#!/bin/sh\nFOO bar\n");
        let copy = &parsed.instructions[2].heredocs;
        assert_eq!((copy[0].name.as_str(), copy[0].body.as_str(), copy[0].expands), ("CONF", "x=$HOME\n", false));
        assert_eq!((copy[1].name.as_str(), copy[1].expands), ("OTHER", true));
        assert_eq!(parsed.instructions[3].line, 11);
        let open = parse("FROM a\nRUN <<EOF\necho\n").unwrap_err();
        assert_eq!(open.line, 2);
        assert!(open.problem.contains("<<EOF is never closed"));
    }

    #[test]
    fn heredoc_delimiters_are_any_word_without_a_less_than() {
        // BuildKit: `^(\d*)<<(-?)([^<]*)$` on the word, quotes removed from the delimiter.
        let text = "FROM a\nRUN <<END-OF-SCRIPT\necho hi\nEND-OF-SCRIPT\nCOPY <<\"END-X\" 2<<-'conf.d' /etc/\n$HOME\nEND-X\n\tx\n\tconf.d\nRUN cat <<<\"not a heredoc\" && echo \"<<QUOTED\"\nUSER app\n";
        let parsed = parse(text).unwrap();
        let keywords: Vec<_> = parsed.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(keywords, ["FROM", "RUN", "COPY", "RUN", "USER"]);
        assert_eq!(parsed.instructions[1].heredocs[0].name, "END-OF-SCRIPT");
        assert_eq!(parsed.instructions[1].heredocs[0].body, "echo hi\n");
        let copy = &parsed.instructions[2].heredocs;
        assert_eq!((copy[0].name.as_str(), copy[0].body.as_str(), copy[0].expands), ("END-X", "$HOME\n", false));
        assert_eq!((copy[1].name.as_str(), copy[1].body.as_str(), copy[1].expands), ("conf.d", "x\n", false));
        assert!(parsed.instructions[3].heredocs.is_empty());
        assert_eq!(parsed.instructions[4].line, 11);
        let open = parse("FROM a\nRUN <<END-OF-SCRIPT\necho\nEND\n").unwrap_err();
        assert_eq!(open.problem, "the heredoc <<END-OF-SCRIPT is never closed: no line reads \"END-OF-SCRIPT\"");
        // An unclosed quote on the line: BuildKit finds no heredoc there.
        assert!(parse("FROM a\nRUN echo \"it's <<EOF\nUSER x\n").unwrap().instructions[1].heredocs.is_empty());
    }

    #[test]
    fn onbuild_heredocs_are_bodies_too() {
        let text = "FROM a\nONBUILD RUN <<EOF\nFROM evil\nUSER root\nEOF\nonbuild copy <<-CONF /etc/x\n\tFROM b\n\tCONF\nONBUILD RUN [\"echo\", \"<<EOF\"]\nUSER app\n";
        let parsed = parse(text).unwrap();
        let keywords: Vec<_> = parsed.instructions.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(keywords, ["FROM", "ONBUILD", "ONBUILD", "ONBUILD", "USER"]);
        assert_eq!(parsed.instructions[1].heredocs[0].body, "FROM evil\nUSER root\n");
        assert_eq!(parsed.instructions[2].heredocs[0].body, "FROM b\n");
        assert!(parsed.instructions[3].heredocs.is_empty());
        let analysis = analyse(text, &no_args());
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        assert_eq!(analysis.stages.len(), 1);
    }

    #[test]
    fn defaults_and_alternatives_in_from_are_not_empty_uses() {
        for text in [
            "ARG TAG\nFROM alpine:${TAG:-3.20}\n",
            "ARG REG\nFROM ${REG:-docker.io}/alpine\n",
            "ARG S\nFROM alpine${S:+-$S}\n",
            "FROM ${UNDECLARED:-alpine}\n",
        ] {
            let analysis = analyse(text, &no_args());
            assert!(analysis.findings.is_empty(), "{text:?}: {:?}", analysis.findings);
        }
        // A value the image takes as it is, also after a pattern removal, is reported.
        assert_eq!(
            messages(&analyse("ARG TAG\nFROM alpine:${TAG%-*}\n", &no_args())),
            ["Dockerfile line 2: FROM alpine:${TAG%-*} uses $TAG, which is empty: its ARG before the first FROM has no default and no build-arg sets it."]
        );
        // The word of an alternative that applies counts.
        assert!(messages(&analyse("ARG S=1\nARG T\nFROM alpine${S:+-$T}\n", &no_args()))[0].contains("uses $T, which is empty"));
        // BuildKit sets a global ARG without a default to "", so `-` keeps it empty:
        // only the empty image name is reported, not a use of an empty value.
        assert_eq!(
            messages(&analyse("ARG BASE\nFROM ${BASE-alpine}\n", &no_args())),
            ["Dockerfile line 2: FROM ${BASE-alpine} expands to an empty image name; give the ARG a default or pass it as a build-arg."]
        );
        // Set to nothing on purpose.
        assert!(analyse("ARG SUFFIX=\nFROM alpine${SUFFIX}\n", &no_args()).findings.is_empty());
    }

    #[test]
    fn required_substitutions_are_checked_only_where_values_are_known() {
        // In a stage the value is not known here (a build-arg, ENV): no error.
        let text = "ARG APP_VERSION=1\nFROM a\nARG APP_VERSION\nENV APP_VERSION=${APP_VERSION:?pass it} B=${B?}\nARG C=${APP_VERSION:?x}\nWORKDIR /${APP_VERSION?}\n";
        let analysis = analyse(text, &args(&[("APP_VERSION", Some("2"))]));
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        // Syntax errors are still errors there.
        let broken = analyse("FROM a\nENV A=${B:?\n", &no_args());
        assert_eq!(messages(&broken), ["Dockerfile line 2: ${B is missing its closing }."]);
        // In FROM and the global scope the values are known, and BuildKit's rules apply.
        let from = "ARG TAG\nFROM alpine:${TAG:?pass-TAG}\n";
        assert_eq!(
            analyse(from, &no_args()).errors().map(|f| f.message.as_str()).collect::<Vec<_>>(),
            ["Dockerfile line 2: ${TAG:?} stops the build: \"TAG: pass-TAG\"."]
        );
        assert!(analyse(from, &args(&[("TAG", Some("3.20"))])).findings.is_empty());
        assert!(analyse(from, &args(&[("TAG", None)])).findings.is_empty());
        // Declared without a default is set (to ""), so `?` without `:` passes.
        assert_eq!(analyse("ARG TAG\nFROM alpine${TAG?}\n", &no_args()).errors().count(), 0);
        let unset = analyse("FROM alpine:${NOPE?}\n", &no_args());
        assert_eq!(unset.errors().next().unwrap().message, "Dockerfile line 1: ${NOPE?} stops the build: \"NOPE: is not allowed to be unset\".");
        let global = analyse("ARG A\nARG B=${A:?}\nFROM alpine\n", &no_args());
        assert_eq!(global.errors().next().unwrap().message, "Dockerfile line 2: ${A:?} stops the build: \"A: is not allowed to be empty\".");
    }

    #[test]
    fn corpus_defaults_and_heredocs() {
        let text = corpus("defaults-and-heredocs.Dockerfile");
        let analysis = analyse(&text, &args(&[("APP_VERSION", Some("2.1.0"))]));
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        assert_eq!(analysis.stage_list(), "build, runtime");
        let lenient = analyse(&text, &no_args());
        assert!(lenient.findings.is_empty(), "{:?}", lenient.findings);
    }

    #[test]
    fn unknown_instructions_and_flags() {
        let error = parse("FROM a\nRUNN echo\n").unwrap_err();
        assert_eq!((error.line, error.problem.as_str()), (2, "unknown instruction RUNN"));
        let parsed = parse("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nCOPY --from=build --chown=1:1 /a /b\n").unwrap();
        assert_eq!(parsed.instructions[0].flags, vec![("platform".into(), "$BUILDPLATFORM".into())]);
        assert_eq!(parsed.instructions[0].arguments, "golang:1.22 AS build");
        assert_eq!(parsed.instructions[1].flags.len(), 2);
    }

    #[test]
    fn substitutions() {
        let lookup = |n: &str| match n {
            "SET" => Some("v".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let e = |w: &str| expand(w, '\\', &lookup).text;
        assert_eq!(e("${SET}-$SET"), "v-v");
        assert_eq!(e("${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}|${SET:-d}"), "d|d||v");
        assert_eq!(e("${SET:+alt}|${UNSET:+alt}|${EMPTY+alt}"), "alt||alt");
        assert_eq!(e("${UNSET:-${SET}x}"), "vx");
        assert_eq!(e("'$SET' \"$SET\" \\$SET"), "$SET v $SET");
        assert_eq!(e("a$ b $"), "a$ b $");
        let bad = expand("${SET:x}", '\\', &lookup);
        assert_eq!(bad.error.unwrap(), "unsupported modifier 'x' in ${SET...}");
        assert!(expand("${SET", '\\', &lookup).error.unwrap().contains("missing its closing }"));
        assert_eq!(expand("${A}${B:-$C}", '\\', &lookup).references, vec!["A", "B", "C"]);
        let deep = expand(&"${A:-".repeat(100_000), '\\', &lookup);
        assert_eq!(deep.error.unwrap(), "substitutions are nested more than 32 deep");
        assert_eq!(expand(&format!("{}x{}", "${U:-".repeat(32), "}".repeat(32)), '\\', &lookup).text, "x");
    }

    #[test]
    fn global_args_drive_from_and_must_be_redeclared() {
        let text = "ARG REGISTRY=mcr.microsoft.com\nARG DOTNET_VERSION=8.0\nFROM ${REGISTRY}/dotnet/sdk:${DOTNET_VERSION} AS build\nRUN echo $DOTNET_VERSION\nFROM build AS test\nARG DOTNET_VERSION\nRUN echo ${DOTNET_VERSION}\n";
        let analysis = analyse(text, &no_args());
        assert_eq!(
            messages(&analysis),
            vec!["Dockerfile line 4: $DOTNET_VERSION is empty here: the global ARG DOTNET_VERSION (line 2) is not redeclared in this stage; add `ARG DOTNET_VERSION` after the FROM on line 3."]
        );
        assert_eq!(analysis.stages[1].base_stage, Some(0));
    }

    #[test]
    fn env_in_a_stage_or_its_base_defines_the_name() {
        let text = "ARG V=1\nFROM a AS base\nENV V=2 OTHER=3\nFROM base\nRUN echo $V\n";
        assert!(analyse(text, &no_args()).findings.is_empty());
    }

    #[test]
    fn from_that_expands_to_nothing() {
        let text = "ARG BASE\nFROM ${BASE}\n";
        let analysis = analyse(text, &no_args());
        assert_eq!(
            messages(&analysis),
            vec![
                "Dockerfile line 2: FROM ${BASE} uses $BASE, which is empty: its ARG before the first FROM has no default and no build-arg sets it.",
                "Dockerfile line 2: FROM ${BASE} expands to an empty image name; give the ARG a default or pass it as a build-arg.",
            ]
        );
        assert!(analyse(text, &args(&[("BASE", Some("alpine"))])).findings.is_empty());
        assert!(analyse(text, &args(&[("BASE", None)])).findings.is_empty());
        let undeclared = analyse("FROM ${REG}/app:1\n", &no_args());
        assert!(messages(&undeclared)[0].contains("no ARG before the first FROM declares it"));
        assert!(analyse("FROM --platform=$BUILDPLATFORM alpine\n", &no_args()).findings.is_empty());
    }

    #[test]
    fn undeclared_build_args_are_reported_but_not_builder_args() {
        let text = "FROM a\nARG COMMIT_ID\n";
        let analysis = analyse(
            text,
            &args(&[("COMMIT_ID", Some("x")), ("NOPE", Some("1")), ("HTTP_PROXY", None), ("BUILDKIT_INLINE_CACHE", Some("1"))]),
        );
        assert_eq!(
            messages(&analysis),
            vec!["The build-arg NOPE is not declared by any ARG in the Dockerfile, so the build ignores it."]
        );
    }

    #[test]
    fn stages_a_target_builds() {
        let text = "FROM a AS deps\nFROM b AS build\nCOPY --from=deps /x /x\nFROM build AS test\nFROM c AS unrelated\nFROM d AS final\nCOPY --from=build /o /o\n";
        let analysis = analyse(text, &no_args());
        assert_eq!(analysis.stages_built_for(4).into_iter().collect::<Vec<_>>(), vec![0, 1, 4]);
        assert_eq!(analysis.stages_built_for(2).into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(analysis.stages_built_for(3).into_iter().collect::<Vec<_>>(), vec![3]);
        let warned = analyse("ARG V=1\nFROM a AS test\nRUN echo $V\nFROM b\n", &no_args());
        assert_eq!(warned.findings[0].stage, Some(0));
        let empty_from = analyse("ARG BASE\nFROM ${BASE} AS unused\nFROM b\n", &no_args());
        assert!(empty_from.findings.iter().all(|f| f.stage.is_none()), "{:?}", empty_from.findings);
    }

    #[test]
    fn a_mistyped_build_arg_gets_a_suggestion() {
        let analysis = analyse("FROM a\nARG DOTNET_VERSION\nARG COMMIT_ID\n", &args(&[("DOTNET_VERSON", Some("8.0")), ("commit_id", None)]));
        assert_eq!(
            messages(&analysis),
            vec![
                "The build-arg DOTNET_VERSON is not declared by any ARG in the Dockerfile, so the build ignores it; did you mean DOTNET_VERSION?",
                "The build-arg commit_id is not declared by any ARG in the Dockerfile, so the build ignores it; did you mean COMMIT_ID?",
            ]
        );
        assert_eq!((edit_distance("", "ab"), edit_distance("kitten", "sitting")), (2, 3));
    }

    #[test]
    fn several_names_in_one_arg_with_quoted_defaults() {
        let analysis = analyse("ARG A=1 B=\"two words\" C\nFROM x:${B:+y}\nARG A B\n", &no_args());
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        let names: Vec<_> = analysis.args.iter().map(|a| (a.name.as_str(), a.stage, a.has_default)).collect();
        assert_eq!(names, vec![("A", None, true), ("B", None, true), ("C", None, false), ("A", Some(0), false), ("B", Some(0), false)]);
    }

    #[test]
    fn structural_errors() {
        let cases = [
            ("RUN echo\nFROM a\n", "line 1: RUN comes before the first FROM"),
            ("FROM a b\n", "line 1: FROM takes an image"),
            ("FROM a AS 1x\n", "\"1x\" is not a valid stage name"),
            ("FROM a AS b\nFROM c AS B\n", "line 2: the stage name \"b\" is already used by the stage on line 1"),
            ("FROM a\nCOPY --from=1 /x /y\n", "line 2: --from=1 does not refer to an earlier stage; no stage comes before it"),
            ("FROM a\nFROM b\nCOPY --from=2 /x /y\n", "only stages 0 to 0 come before it"),
            ("FROM a\nWORKDIR ${X\n", "line 2: ${X is missing its closing }"),
            ("# just a comment\n", "The Dockerfile has no FROM instruction."),
            ("FROM a\nARG\n", "ARG needs a name"),
        ];
        for (text, expected) in cases {
            let analysis = analyse(text, &no_args());
            let errors: Vec<_> = analysis.errors().map(|f| f.message.clone()).collect();
            assert!(errors.iter().any(|m| m.contains(expected)), "{text:?}: {errors:?}");
        }
    }

    #[test]
    fn stage_references_by_name_and_index() {
        let analysis = analyse("FROM a AS deps\nFROM b AS build\nCOPY --from=deps /x /x\nRUN --mount=type=cache,from=0,target=/c true\nFROM c\nCOPY --from=BUILD /o /o\n", &no_args());
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        assert_eq!(analysis.stages[1].uses_stages, vec![0, 0]);
        assert_eq!(analysis.stages[2].uses_stages, vec![1]);
        assert_eq!(analysis.stage_named("Build").unwrap().index, 1);
        assert_eq!(analysis.stage_list(), "deps, build, #2 (unnamed)");
    }

    #[test]
    fn powershell_and_cmd_read_args_from_the_environment() {
        let text = "# escape=`\nARG AGENT_VERSION=4.264.2\nARG DRIVE=C\nFROM servercore AS a\nRUN Write-Host $env:AGENT_VERSION\nFROM servercore AS b\nRUN echo %DRIVE%\nFROM servercore AS c\nARG AGENT_VERSION\nRUN Write-Host ${env:agent_version} $Env:AGENT_VERSION\n";
        let lines: Vec<_> = analyse(text, &no_args()).findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![Some(5), Some(7)]);
        assert_eq!(windows_shell_references("echo 100%% %A% %B C% x%"), vec!["A"]);
    }

    #[test]
    fn runtime_instructions_and_shell_text_are_not_errors() {
        let text = "ARG V=1\nFROM a\nRUN echo ${V:x} $(date) ${#}\nCMD echo $V\nENTRYPOINT [\"sh\", \"-c\", \"echo $V\"]\n";
        let analysis = analyse(text, &no_args());
        assert_eq!(analysis.errors().count(), 0, "{:?}", analysis.findings);
        // RUN is evaluated at build time, CMD and ENTRYPOINT at run time.
        assert_eq!(analysis.warnings().count(), 1);
    }

    #[test]
    fn corpus_dotnet_multi_stage() {
        let text = corpus("dotnet-multistage.Dockerfile");
        let build_args = args(&[("DOTNET_VERSION", Some("8.0")), ("COMMIT_ID", Some("abc1234"))]);
        let analysis = analyse(&text, &build_args);
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        assert_eq!(analysis.stage_list(), "base, build, publish, runtime");
        assert!(analysis.declares_arg("COMMIT_ID"));
    }

    #[test]
    fn corpus_linux_agent() {
        let analysis = analyse(&corpus("linux-agent.Dockerfile"), &no_args());
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        let runtime = analysis.stages.last().unwrap();
        assert_eq!(runtime.name.as_deref(), Some("agent"));
        assert_eq!(runtime.uses_stages, vec![0, 1, 2]);
    }

    #[test]
    fn corpus_windows_agent() {
        let text = corpus("windows-agent.Dockerfile");
        assert_eq!(parse(&text).unwrap().escape, '`');
        let analysis = analyse(&text, &args(&[("AGENT_VERSION", Some("4.264.2"))]));
        assert!(analysis.findings.is_empty(), "{:?}", analysis.findings);
        assert_eq!(analysis.stage_list(), "download, agent");
    }

    #[test]
    fn corpus_mistakes_are_found_with_lines() {
        let analysis = analyse(&corpus("mistakes.Dockerfile"), &args(&[("VERSON", Some("1"))]));
        let found: Vec<_> = analysis.findings.iter().map(|f| (f.severity, f.line)).collect();
        assert_eq!(
            found,
            vec![
                (Severity::Warning, Some(4)),
                (Severity::Warning, Some(4)),
                (Severity::Warning, Some(9)),
                (Severity::Warning, None),
            ],
            "{:?}",
            analysis.findings
        );
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = analyse(&text, &no_args());
        }

        #[test]
        fn dockerfile_like_text_never_panics(
            lines in proptest::collection::vec(
                "(FROM|RUN|ARG|COPY|ENV|#|)[ ]?(\\$\\{?[A-Z]{0,3}(:[-+?x])?\\}?|<<-?\"?EOF\"?|--from=[0-9a-z]|[a-z=\"' \\\\`]){0,8}",
                0..12,
            )
        ) {
            let _ = analyse(&lines.join("\n"), &no_args());
        }

        /// Breaking an instruction over lines with the escape character changes nothing.
        #[test]
        fn continuations_join_back(
            escape in prop_oneof![Just('\\'), Just('`')],
            // A leading "--" would make a word a RUN flag.
            parts in proptest::collection::vec("[a-z0-9_=./][a-z0-9_=./-]{0,7}", 1..8),
            breaks in proptest::collection::vec(any::<bool>(), 8),
        ) {
            let mut broken = String::new();
            for (i, part) in parts.iter().enumerate() {
                broken.push(' ');
                broken.push_str(part);
                // A break after the last part would join the next instruction, as in the builder.
                if breaks[i] && i + 1 < parts.len() {
                    broken.push(escape);
                    broken.push_str("\n  # comment\n");
                }
            }
            let directive = if escape == '`' { "# escape=`\n" } else { "" };
            let parsed = parse(&format!("{directive}FROM a\nRUN{broken}\nUSER x\n")).unwrap();
            let words: Vec<_> = parsed.instructions[1].arguments.split_whitespace().collect();
            prop_assert_eq!(words, parts.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(parsed.instructions[2].keyword.as_str(), "USER");
        }

        #[test]
        fn defaults_apply_exactly_when_unset_or_empty(value in proptest::option::of("[a-z0-9]{0,5}"), default in "[a-z0-9]{1,5}") {
            let lookup = |_: &str| value.clone();
            let got = expand(&format!("${{V:-{default}}}"), '\\', &lookup).text;
            let expected = match &value { Some(v) if !v.is_empty() => v.clone(), _ => default.clone() };
            prop_assert_eq!(got, expected);
        }

        /// A global ARG used in a stage is reported exactly when the stage neither
        /// redeclares it nor sets it with ENV, whichever instruction uses it.
        #[test]
        fn global_args_reported_unless_redeclared(
            name in "[A-Z][A-Z0-9_]{0,8}",
            definition in 0..3usize,
            usage in prop_oneof![
                // "{N}" stands for the name: "${N}" becomes $NAME, "${{N}}" ${NAME}.
                Just("RUN echo ${N}"), Just("RUN echo \"${{N}}\""), Just("WORKDIR /x/${{N}:-d}"),
                Just("LABEL a=${N}"), Just("COPY ${N} /x"), Just("RUN <<EOF\necho ${N}\nEOF"),
                Just("ENV B=${{N}:+set}"), Just("USER ${{N}}"), Just("RUN Write-Host $env:{N}"),
            ],
        ) {
            prop_assume!(!is_predefined(&name));
            let define = ["", "ARG {N}\n", "ENV {N}=2\n"][definition].replace("{N}", &name);
            let text = format!("ARG {name}=1\nFROM a\n{define}{}\n", usage.replace("{N}", &name));
            let analysis = analyse(&text, &no_args());
            prop_assert_eq!(analysis.errors().count(), 0, "{:?}", analysis.findings);
            prop_assert_eq!(analysis.warnings().count(), usize::from(definition == 0), "{}", text);
        }

        /// A declared build-arg is never reported; an undeclared one always is.
        #[test]
        fn build_arg_declarations(name in "[A-Z][A-Z0-9_]{0,10}", declared in any::<bool>()) {
            prop_assume!(!consumed_by_builder(&name));
            let text = if declared { format!("FROM a\nARG {name}\n") } else { "FROM a\n".to_string() };
            let analysis = analyse(&text, &args(&[(name.as_str(), Some("1"))]));
            prop_assert_eq!(analysis.warnings().count(), usize::from(!declared));
        }
    }
}
