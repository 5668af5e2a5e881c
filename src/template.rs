//! Template tokens (`{{sha}}`, `{{branch}}`, `{{version}}`, ...) shared by every task.
//!
//! The values come from the build's variables only, so every stage and every
//! agent expands a template to the same text.

use crate::error::{Result, TaskError};
use serde::Deserialize;

/// What the shim knows about the build. `source_version` is `Build.SourceVersion`,
/// or `git rev-parse HEAD` of the sources directory when that variable is absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    pub source_version: Option<String>,
    pub source_branch: Option<String>,
    pub build_id: Option<String>,
    pub build_number: Option<String>,
    /// Seconds since the Unix epoch when the task started, for `{{date}}`.
    pub now_epoch_seconds: i64,
}

pub const TOKENS: [&str; 11] = [
    "sha", "sha_long", "branch", "tag", "version", "major", "minor", "patch", "build_id",
    "build_number", "date",
];

/// Token values derived once from a [`BuildInfo`]. `None` means the value cannot
/// be known in this build (no commit); `Some("")` means it is empty here (no tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    sha_long: Option<String>,
    branch: String,
    tag: String,
    semver: Option<SemVer>,
    build_id: Option<String>,
    build_number: Option<String>,
    date: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SemVer {
    major: String,
    minor: String,
    patch: String,
    /// `1.4.2` or `1.4.2-rc.1`; build metadata (`+...`) is dropped because
    /// image tags cannot hold `+`.
    version: String,
}

/// One expanded template, and whether a token in it expanded to nothing (so that
/// `tags` can skip `{{version}}` on a build that is not a release, and
/// `{{branch}}-{{build_number}}` on a tag build, rather than push `-20261203.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    pub text: String,
    pub has_empty_token: bool,
}

impl Tokens {
    pub fn new(info: &BuildInfo) -> Tokens {
        let reference = info.source_branch.as_deref().map(str::trim).unwrap_or("");
        let tag_name = reference.strip_prefix("refs/tags/");
        Tokens {
            sha_long: non_empty(info.source_version.as_deref()),
            branch: if tag_name.is_some() { String::new() } else { branch_slug(reference) },
            tag: tag_name.map(slug).unwrap_or_default(),
            semver: tag_name.and_then(parse_semver),
            build_id: non_empty(info.build_id.as_deref()),
            build_number: non_empty(info.build_number.as_deref()),
            date: utc_date(info.now_epoch_seconds),
        }
    }

    fn value(&self, token: &str, input: &str, literal_hint: &str) -> Result<String> {
        let known = |value: &Option<String>, source: &str| {
            value.clone().ok_or_else(|| {
                TaskError::input(input, format!("{{{{{token}}}}} needs {source}, which this build does not have"))
            })
        };
        let semver_part = |pick: fn(&SemVer) -> &String| {
            self.semver.as_ref().map(pick).cloned().unwrap_or_default()
        };
        Ok(match token {
            "sha" => known(&self.sha_long, "the commit (Build.SourceVersion or a git checkout)")?
                .chars()
                .take(7)
                .collect(),
            "sha_long" => known(&self.sha_long, "the commit (Build.SourceVersion or a git checkout)")?,
            "branch" => self.branch.clone(),
            "tag" => self.tag.clone(),
            "version" => semver_part(|s| &s.version),
            "major" => semver_part(|s| &s.major),
            "minor" => semver_part(|s| &s.minor),
            "patch" => semver_part(|s| &s.patch),
            "build_id" => known(&self.build_id, "Build.BuildId")?,
            "build_number" => known(&self.build_number, "Build.BuildNumber")?,
            "date" => self.date.clone(),
            unknown => {
                return Err(TaskError::input(
                    input,
                    format!(
                        "unknown template token {{{{{unknown}}}}}; the tokens are {}{literal_hint}",
                        TOKENS.map(|t| format!("{{{{{t}}}}}")).join(", ")
                    ),
                ))
            }
        })
    }

    /// Expands every `{{token}}` in `template`; `input` names the task input in errors.
    pub fn expand(&self, input: &str, template: &str) -> Result<Expansion> {
        self.expand_with_hint(input, template, "")
    }

    /// [`Tokens::expand`], with `literal_hint` ending an unknown-token error: how
    /// this input can carry `{{` as it is (there is no escape inside a template).
    pub fn expand_with_hint(&self, input: &str, template: &str, literal_hint: &str) -> Result<Expansion> {
        let mut text = String::with_capacity(template.len());
        let mut rest = template;
        let mut has_empty_token = false;
        while let Some(open) = rest.find("{{") {
            text.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                TaskError::input(input, format!("'{{{{' without a closing '}}}}' in \"{template}\""))
            })?;
            let value = self.value(after[..close].trim(), input, literal_hint)?;
            has_empty_token |= value.is_empty();
            text.push_str(&value);
            rest = &after[close + 2..];
        }
        text.push_str(rest);
        Ok(Expansion { text, has_empty_token })
    }

    /// A list input (`tags`): one entry per line or comma-separated, trimmed,
    /// expanded, de-duplicated in order; an entry with a token that is empty here is skipped.
    pub fn expand_list(&self, input: &str, text: &str) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for entry in text.split(['\n', ',']).map(str::trim).filter(|e| !e.is_empty()) {
            let expansion = self.expand(input, entry)?;
            let value = expansion.text.trim();
            if expansion.has_empty_token || value.is_empty() {
                continue;
            }
            if !out.iter().any(|v| v == value) {
                out.push(value.to_string());
            }
        }
        Ok(out)
    }

    pub fn sha_long(&self) -> Option<&str> {
        self.sha_long.as_deref()
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// `refs/heads/feature/Login` → `feature-Login`; `refs/pull/12/merge` → `pr-12`.
fn branch_slug(reference: &str) -> String {
    if let Some(pull) = reference.strip_prefix("refs/pull/") {
        let number = pull.split('/').next().unwrap_or("");
        return if number.is_empty() { String::new() } else { format!("pr-{}", slug(number)) };
    }
    let name = reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("refs/"))
        .unwrap_or(reference);
    slug(name)
}

/// Makes a ref name usable inside an image tag: characters outside
/// `[A-Za-z0-9_.-]` become `-`, and a tag cannot start with `.` or `-`.
fn slug(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .collect();
    replaced.trim_start_matches(['.', '-']).to_string()
}

fn parse_semver(tag: &str) -> Option<SemVer> {
    let bare = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let without_build = bare.split('+').next()?;
    let (core, prerelease) = match without_build.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (without_build, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let is_number = |n: &&str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0'))
    };
    if numbers.len() != 3 || !numbers.iter().all(is_number) {
        return None;
    }
    if let Some(pre) = prerelease {
        let valid = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !pre.split('.').all(valid) {
            return None;
        }
    }
    Some(SemVer {
        major: numbers[0].to_string(),
        minor: numbers[1].to_string(),
        patch: numbers[2].to_string(),
        version: without_build.to_string(),
    })
}

/// `YYYYMMDD` in UTC.
fn utc_date(epoch_seconds: i64) -> String {
    let (year, month, day) = civil_date(epoch_seconds);
    format!("{year:04}{month:02}{day:02}")
}

/// (year, month, day) in UTC (the days-to-civil algorithm from Howard Hinnant's date library).
pub fn civil_date(epoch_seconds: i64) -> (i64, i64, i64) {
    let days = epoch_seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn info(branch: &str) -> BuildInfo {
        BuildInfo {
            source_version: Some(SHA.into()),
            source_branch: Some(branch.into()),
            build_id: Some("4711".into()),
            build_number: Some("20261203.3".into()),
            now_epoch_seconds: 1_796_300_000, // 2026-12-03T...Z
        }
    }

    fn expand(branch: &str, template: &str) -> String {
        Tokens::new(&info(branch)).expand("tags", template).unwrap().text
    }

    #[test]
    fn commit_tokens_are_fixed_length() {
        assert_eq!(expand("refs/heads/main", "{{sha}}"), "0123456");
        assert_eq!(expand("refs/heads/main", "{{ sha_long }}"), SHA);
    }

    #[test]
    fn branch_names_become_tag_safe() {
        assert_eq!(expand("refs/heads/feature/Login", "{{branch}}"), "feature-Login");
        assert_eq!(expand("refs/pull/12/merge", "{{branch}}"), "pr-12");
        assert_eq!(expand("refs/tags/v1.4.2", "{{branch}}"), "");
        assert_eq!(expand("refs/heads/fix/ü+x", "{{branch}}"), "fix---x");
        assert_eq!(expand("refs/heads/.hidden", "{{branch}}"), "hidden");
    }

    #[test]
    fn release_tags_give_version_tokens() {
        let t = "{{tag}} {{version}} {{major}}.{{minor}}.{{patch}}";
        assert_eq!(expand("refs/tags/v1.4.2", t), "v1.4.2 1.4.2 1.4.2");
        assert_eq!(expand("refs/tags/2.0.0-rc.1+b5", t), "2.0.0-rc.1-b5 2.0.0-rc.1 2.0.0");
        assert_eq!(expand("refs/tags/release-7", t), "release-7  .."); // not semver
        assert_eq!(expand("refs/heads/main", t), "  ..");
        assert_eq!(expand("refs/tags/v01.2.3", "{{version}}"), "");
    }

    #[test]
    fn build_tokens_and_date() {
        assert_eq!(expand("refs/heads/main", "{{build_id}}-{{build_number}}"), "4711-20261203.3");
        assert_eq!(expand("refs/heads/main", "{{date}}"), "20261203");
        assert_eq!(utc_date(0), "19700101");
        assert_eq!(utc_date(951_782_400), "20000229");
        assert_eq!(utc_date(-1), "19691231");
    }

    #[test]
    fn unknown_and_unterminated_tokens_are_errors_naming_the_input() {
        let tokens = Tokens::new(&info("refs/heads/main"));
        let err = tokens.expand("imageTag", "{{commit}}").unwrap_err().to_string();
        assert!(err.starts_with("Input 'imageTag': unknown template token {{commit}}"), "{err}");
        assert!(err.contains("{{sha}}"));
        let err = tokens.expand("tags", "v{{sha").unwrap_err().to_string();
        assert!(err.contains("without a closing"), "{err}");
    }

    #[test]
    fn missing_commit_is_an_error_only_when_used() {
        let tokens = Tokens::new(&BuildInfo { source_version: None, ..info("refs/heads/main") });
        assert_eq!(tokens.expand("tags", "latest").unwrap().text, "latest");
        let err = tokens.expand("tags", "{{sha}}").unwrap_err().to_string();
        assert!(err.contains("{{sha}} needs the commit"), "{err}");
    }

    #[test]
    fn tag_lists_split_trim_dedupe_and_skip_empty_release_tokens() {
        let tokens = Tokens::new(&info("refs/heads/main"));
        let tags = tokens
            .expand_list("tags", "{{sha}}, latest\n\n  {{branch}} \n{{version}}\nv{{major}}\nlatest\r\n")
            .unwrap();
        assert_eq!(tags, ["0123456", "latest", "main"]);
        let release = Tokens::new(&info("refs/tags/v3.1.0"));
        let tags = release
            .expand_list("tags", "{{version}}\nv{{major}}\n{{branch}}\n{{branch}}-{{build_number}}\n{{tag}}-{{sha}}")
            .unwrap();
        assert_eq!(tags, ["3.1.0", "v3", "v3.1.0-0123456"]);
        let branch_build = tokens.expand_list("tags", "{{version}}-{{sha}}\n{{branch}}-{{build_number}}").unwrap();
        assert_eq!(branch_build, ["main-20261203.3"]);
    }

    proptest! {
        #[test]
        fn expansion_never_leaves_a_token(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(TOKENS.to_vec()).prop_map(|t| format!("{{{{{t}}}}}")),
                    "[a-z0-9._-]{0,6}",
                ],
                0..8,
            ),
            branch in "(refs/heads/|refs/tags/|refs/pull/)[ -~]{0,20}",
        ) {
            let template = parts.concat();
            let out = Tokens::new(&info(&branch)).expand("tags", &template).unwrap();
            prop_assert!(!out.text.contains("{{"));
        }

        #[test]
        fn branch_and_tag_values_fit_the_image_tag_alphabet(branch in "refs/(heads|tags|pull)/\\PC{0,40}") {
            let tokens = Tokens::new(&info(&branch));
            for token in ["branch", "tag", "version", "major", "minor", "patch"] {
                let value = tokens.expand("tags", &format!("{{{{{token}}}}}")).unwrap().text;
                prop_assert!(value.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)), "{token}: {value}");
                prop_assert!(!value.starts_with(['.', '-']));
            }
        }

        #[test]
        fn no_token_survives_expansion(
            template in "([{}]|\\{\\{ ?[a-z_]{0,10} ?\\}\\}|[a-z0-9._ -]){0,20}",
            branch in "(refs/heads/|refs/tags/|refs/pull/)\\PC{0,20}",
        ) {
            if let Ok(out) = Tokens::new(&info(&branch)).expand("tags", &template) {
                prop_assert!(!out.text.contains("{{"), "{:?} gave {:?}", template, out.text);
            }
        }

        #[test]
        fn unknown_tokens_are_refused_by_name(
            before in "[a-z0-9._ -]{0,8}",
            name in "[a-z_]{1,12}".prop_filter("not a token", |n| !TOKENS.contains(&n.as_str())),
            after in "[a-z0-9._ -]{0,8}",
        ) {
            let error = Tokens::new(&info("refs/heads/main")).expand("tags", &format!("{before}{{{{{name}}}}}{after}")).unwrap_err();
            let expected = format!("unknown template token {{{{{name}}}}}");
            prop_assert!(error.to_string().contains(&expected), "{}", error);
        }

        #[test]
        fn arbitrary_templates_never_panic(template in "\\PC{0,60}") {
            let _ = Tokens::new(&info("refs/heads/main")).expand("tags", &template);
        }
    }
}
