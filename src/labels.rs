//! Image labels: the OCI annotations, the pipeline metadata labels of the
//! built-in Docker task, and the user's own, in that order (later wins).

use crate::error::{Result, TaskError};
use crate::template::{civil_date, Tokens};
use serde::Deserialize;

/// The agent's variables the pipeline labels come from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineInfo {
    pub collection_uri: Option<String>,
    /// `System.HostType`: `build` adds the build's labels, anything else the release's.
    pub host_type: Option<String>,
    pub team_project: Option<String>,
    pub repository_name: Option<String>,
    pub repository_uri: Option<String>,
    pub source_branch_name: Option<String>,
    pub source_version: Option<String>,
    pub definition_name: Option<String>,
    pub build_number: Option<String>,
    pub build_uri: Option<String>,
    pub release_id: Option<String>,
    pub release_definition_name: Option<String>,
    pub release_web_url: Option<String>,
}

pub type Labels = Vec<(String, String)>;

/// What the OCI labels describe.
pub struct OciFacts<'a> {
    pub revision: Option<&'a str>,
    pub repository_uri: Option<&'a str>,
    pub created_epoch_seconds: i64,
    pub first_tag: Option<&'a str>,
    pub title: &'a str,
}

pub fn oci_labels(facts: &OciFacts) -> Labels {
    let mut labels = Vec::new();
    let mut add = |key: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            labels.push((format!("org.opencontainers.image.{key}"), value));
        }
    };
    add("revision", facts.revision.map(str::to_string));
    add("source", facts.repository_uri.map(without_userinfo));
    add("created", Some(rfc3339(facts.created_epoch_seconds)));
    add("version", facts.first_tag.map(str::to_string));
    add("title", Some(facts.title.to_string()));
    labels
}

/// The labels the built-in Docker@2 task adds with `addPipelineData`, in its
/// order: `<prefix>.image.<variable>`, where the prefix is the host of
/// `System.TeamFoundationCollectionUri` reversed (`https://dev.azure.com/contoso/`
/// → `com.azure.dev`). Without a collection URI it adds none.
pub fn pipeline_labels(info: &PipelineInfo) -> Labels {
    let Some(prefix) = info.collection_uri.as_deref().and_then(reversed_host) else {
        return Vec::new();
    };
    let mut labels = vec![
        ("system.teamfoundationcollectionuri", info.collection_uri.clone()),
        ("system.teamproject", info.team_project.clone()),
        ("build.repository.name", info.repository_name.clone()),
    ];
    let is_build = info.host_type.as_deref().is_none_or(|t| t.trim().eq_ignore_ascii_case("build"));
    if is_build {
        labels.extend([
            ("build.sourceversion", info.source_version.clone()),
            ("build.repository.uri", info.repository_uri.as_deref().map(without_userinfo)),
            ("build.sourcebranchname", info.source_branch_name.clone()),
            ("build.definitionname", info.definition_name.clone()),
            ("build.buildnumber", info.build_number.clone()),
            ("build.builduri", info.build_uri.clone()),
        ]);
    } else {
        labels.extend([
            ("release.releaseid", info.release_id.clone()),
            ("release.definitionname", info.release_definition_name.clone()),
            ("release.releaseweburl", info.release_web_url.clone()),
        ]);
    }
    labels
        .into_iter()
        .filter_map(|(key, value)| {
            let value = value?.trim().to_string();
            (!value.is_empty()).then(|| (format!("{prefix}.image.{key}"), value))
        })
        .collect()
}

/// `https://contoso.visualstudio.com/` → `com.visualstudio.contoso`: the URI's
/// host (no user, no port, lower case) with its labels in reverse order.
fn reversed_host(uri: &str) -> Option<String> {
    let (_, host_port, _) = split_authority(uri.trim())?;
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then(|| host.split('.').rev().collect::<Vec<_>>().join("."))
}

/// How a label value with `{{` that is not a token gets through.
const LABEL_LITERALLY: &str = "; to pass a value with {{ as it is, pass --label in arguments";

/// `KEY=VALUE` lines with templates in VALUE; `input` names the input in errors.
pub fn user_labels(input: &str, text: &str, tokens: &Tokens) -> Result<Labels> {
    let mut labels = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once('=') else {
            return Err(TaskError::input(input, format!("\"{line}\" is not KEY=VALUE")));
        };
        let key = key.trim();
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TaskError::input(input, format!("\"{key}\" in \"{line}\" is not a valid label key")));
        }
        labels.push((key.to_string(), tokens.expand_with_hint(input, value.trim(), LABEL_LITERALLY)?.text));
    }
    Ok(labels)
}

/// Joins label sets in order; a later key replaces an earlier one in place.
pub fn merge(sets: impl IntoIterator<Item = Labels>) -> Labels {
    let mut out: Labels = Vec::new();
    for (key, value) in sets.into_iter().flatten() {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

/// `https://user:token@host/path` → `https://host/path`: credentials never go into an image.
pub fn without_userinfo(uri: &str) -> String {
    let uri = uri.trim();
    let Some((scheme, host, tail)) = split_authority(uri) else { return uri.to_string() };
    format!("{scheme}://{host}{tail}")
}

/// `scheme://user@host:port/path?q#f` → (`scheme`, `host:port`, `/path?q#f`):
/// the authority ends at the first `/`, `?` or `#`, and its user info (up to
/// the last `@`) is dropped.
fn split_authority(uri: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    Some((scheme, host, tail))
}

/// RFC 3339 UTC, seconds precision: `2026-12-03T19:40:53Z`.
pub fn rfc3339(epoch_seconds: i64) -> String {
    let (year, month, day) = civil_date(epoch_seconds);
    let seconds = epoch_seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) as seconds; `name` is the variable.
pub fn source_date_epoch(name: &str, value: &str) -> Result<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| TaskError::other(format!("{name} is \"{value}\", not a whole number of seconds since 1970.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::BuildInfo;
    use proptest::prelude::*;

    #[test]
    fn oci_labels_describe_the_build() {
        let labels = oci_labels(&OciFacts {
            revision: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"),
            repository_uri: Some("https://contoso@dev.azure.com/contoso/web/_git/techorama"),
            created_epoch_seconds: 1_764_790_853,
            first_tag: Some("9f86d08"),
            title: "techorama",
        });
        assert_eq!(
            labels,
            vec![
                ("org.opencontainers.image.revision".into(), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".into()),
                ("org.opencontainers.image.source".into(), "https://dev.azure.com/contoso/web/_git/techorama".into()),
                ("org.opencontainers.image.created".into(), "2025-12-03T19:40:53Z".into()),
                ("org.opencontainers.image.version".into(), "9f86d08".into()),
                ("org.opencontainers.image.title".into(), "techorama".into()),
            ]
        );
    }

    #[test]
    fn userinfo_is_removed_and_nothing_else() {
        assert_eq!(without_userinfo("https://u:p%40ss@host:8443/a@b?x=@#y"), "https://host:8443/a@b?x=@#y");
        assert_eq!(without_userinfo("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
        assert_eq!(without_userinfo("ssh://git@ssh.dev.azure.com/v3/o/p/r"), "ssh://ssh.dev.azure.com/v3/o/p/r");
    }

    #[test]
    fn pipeline_labels_skip_unknown_values() {
        let info = PipelineInfo {
            collection_uri: Some("https://dev.azure.com/contoso/".into()),
            team_project: Some("web".into()),
            repository_uri: Some("https://token@dev.azure.com/c/web/_git/r".into()),
            build_number: Some(" ".into()),
            ..PipelineInfo::default()
        };
        assert_eq!(
            pipeline_labels(&info),
            vec![
                ("com.azure.dev.image.system.teamfoundationcollectionuri".into(), "https://dev.azure.com/contoso/".into()),
                ("com.azure.dev.image.system.teamproject".into(), "web".into()),
                ("com.azure.dev.image.build.repository.uri".into(), "https://dev.azure.com/c/web/_git/r".into()),
            ]
        );
    }

    /// As Docker@2 (docker-common's pipelineutils): the prefix is the collection
    /// URI's host reversed, the names and order are its own, and without a
    /// collection URI there are no pipeline labels at all.
    #[test]
    fn pipeline_labels_match_the_docker_task() {
        let build = PipelineInfo {
            collection_uri: Some("https://contoso.visualstudio.com/".into()),
            host_type: Some("build".into()),
            team_project: Some("web".into()),
            repository_name: Some("techorama".into()),
            repository_uri: Some("https://contoso.visualstudio.com/web/_git/techorama".into()),
            source_branch_name: Some("main".into()),
            source_version: Some("9f86d08".into()),
            definition_name: Some("web-ci".into()),
            build_number: Some("20261203.1".into()),
            build_uri: Some("vstfs:///Build/Build/1234".into()),
            release_id: Some("7".into()),
            ..PipelineInfo::default()
        };
        let keys = |info: &PipelineInfo| pipeline_labels(info).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(&build),
            [
                "system.teamfoundationcollectionuri", "system.teamproject", "build.repository.name", "build.sourceversion",
                "build.repository.uri", "build.sourcebranchname", "build.definitionname", "build.buildnumber", "build.builduri",
            ]
            .map(|k| format!("com.visualstudio.contoso.image.{k}"))
        );
        let release = PipelineInfo {
            collection_uri: Some("https://TFS.Contoso.local:8080/tfs/DefaultCollection/".into()),
            host_type: Some("Release".into()),
            release_definition_name: Some("web-cd".into()),
            release_web_url: Some("https://tfs.contoso.local:8080/tfs/DefaultCollection/web/_release?releaseId=7".into()),
            ..build.clone()
        };
        assert_eq!(
            keys(&release),
            [
                "system.teamfoundationcollectionuri", "system.teamproject", "build.repository.name", "release.releaseid",
                "release.definitionname", "release.releaseweburl",
            ]
            .map(|k| format!("local.contoso.tfs.image.{k}"))
        );
        assert_eq!(reversed_host("https://dev.azure.com/contoso/").as_deref(), Some("com.azure.dev"));
        assert_eq!(reversed_host("http://user@[::1]:8080/tfs").as_deref(), Some("::1"));
        assert_eq!(reversed_host("not a uri"), None);
        assert!(pipeline_labels(&PipelineInfo { collection_uri: None, ..build.clone() }).is_empty());
        assert!(pipeline_labels(&PipelineInfo { collection_uri: Some(" ".into()), ..build }).is_empty());
    }

    #[test]
    fn user_labels_expand_templates_and_override() {
        let tokens = Tokens::new(&BuildInfo { source_version: Some("0123456789".into()), ..BuildInfo::default() });
        let user = user_labels("labels", "com.example.team = web\n\norg.opencontainers.image.title={{sha}}\n", &tokens).unwrap();
        let merged = merge([vec![("org.opencontainers.image.title".into(), "app".into())], user]);
        assert_eq!(
            merged,
            vec![
                ("org.opencontainers.image.title".into(), "0123456".into()),
                ("com.example.team".into(), "web".into()),
            ]
        );
        assert_eq!(user_labels("labels", "novalue", &tokens).unwrap_err().to_string(), "Input 'labels': \"novalue\" is not KEY=VALUE");
        assert!(user_labels("labels", "a b=c", &tokens).unwrap_err().to_string().contains("not a valid label key"));
    }

    #[test]
    fn source_date_epoch_must_be_seconds() {
        assert_eq!(source_date_epoch("SOURCE_DATE_EPOCH", " 0 ").unwrap(), 0);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert!(source_date_epoch("SOURCE_DATE_EPOCH", "yesterday").unwrap_err().to_string().contains("SOURCE_DATE_EPOCH is \"yesterday\""));
    }

    proptest! {
        #[test]
        fn rfc3339_is_well_formed_and_ordered(a in 0i64..4_102_444_800, b in 0i64..4_102_444_800) {
            let (ta, tb) = (rfc3339(a), rfc3339(b));
            let (year, month, day) = civil_date(a);
            prop_assert!(ta.starts_with(&format!("{year:04}-{month:02}-{day:02}T")), "{}", ta);
            prop_assert_eq!(ta.len(), 20);
            prop_assert_eq!(a.cmp(&b), ta.cmp(&tb));
        }

        #[test]
        fn credentials_never_survive(user in "[a-z]{1,8}", secret in "[A-Za-z0-9]{8,20}", path in "(/[a-z]{1,5}){0,3}") {
            let cleaned = without_userinfo(&format!("https://{user}:{secret}@dev.azure.com{path}"));
            prop_assert!(!cleaned.contains(&secret));
            prop_assert_eq!(cleaned, format!("https://dev.azure.com{path}"));
        }
    }
}
