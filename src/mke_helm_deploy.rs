//! MkeHelmDeploy@1: which cluster credentials to use, the inputs read into a
//! `helm upgrade --install` (see `helm_args`), and what the run's outcome is.
//!
//! The shim calls three steps: `prepare` (validate every input, choose the
//! credentials) before anything is written, `plan` (the commands, once the
//! kubeconfig and the Helm version are known) and `outcome` (result, outputs, summary).

use crate::error::{Result, TaskError};
use crate::helm_args::{self, HelmVersion, ReleaseState, Timeout, Upgrade};
use crate::inputs::Inputs;
use crate::shell_words;
use crate::summary;
use crate::template::{BuildInfo, Tokens};
use serde::{Deserialize, Serialize};

/// Where the kubeconfig comes from, in the order the task looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// The `bundle` input: the shim extracts it and uses its `kube.yml`.
    Bundle,
    Kubeconfig,
    /// The `KUBECONFIG` variable, set by an earlier step (MkeClientBundle).
    Variable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub source: Source,
    /// The bundle zip for `Bundle`, the kubeconfig file otherwise.
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareRequest {
    pub inputs: Inputs,
    pub build_info: BuildInfo,
    pub kubeconfig_variable: Option<String>,
    /// `:` or `;`: the agent OS's separator of path lists such as KUBECONFIG.
    pub path_list_separator: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    pub credentials: Credentials,
    /// Run in order until one exits 0 (see `helm_args::version_probes`).
    pub version_probes: Vec<Vec<String>>,
    pub warnings: Vec<String>,
}

/// Validates every input, so that a mistake fails the step before a bundle is
/// extracted or Helm runs, and chooses the credentials.
pub fn prepare(r: &PrepareRequest) -> Result<Prepared> {
    let (upgrade, _) = read_upgrade(&r.inputs, &r.build_info, String::new())?;
    let mut warnings = Vec::new();
    let credentials = if let Some(bundle) = r.inputs.optional("bundle") {
        if r.inputs.optional("kubeconfig").is_some() {
            warnings.push("Both 'bundle' and 'kubeconfig' are set: the bundle is used.".to_string());
        }
        Credentials { source: Source::Bundle, path: bundle.to_string() }
    } else if let Some(file) = r.inputs.optional("kubeconfig") {
        Credentials { source: Source::Kubeconfig, path: file.to_string() }
    } else if let Some(variable) = r.kubeconfig_variable.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        if !r.path_list_separator.is_empty() && variable.contains(r.path_list_separator.as_str()) {
            return Err(TaskError::other(format!(
                "The KUBECONFIG variable lists several files ({variable}); Helm's --kubeconfig takes one: set the input 'kubeconfig'."
            )));
        }
        Credentials { source: Source::Variable, path: variable.to_string() }
    } else {
        return Err(TaskError::other(
            "Input 'bundle' or 'kubeconfig': one is required when the KUBECONFIG variable is not set \
             (an earlier MkeClientBundle step sets it).",
        ));
    };
    Ok(Prepared { credentials, version_probes: helm_args::version_probes(&upgrade.helm), warnings })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRequest {
    pub inputs: Inputs,
    pub build_info: BuildInfo,
    pub source: Source,
    /// The kubeconfig file; for a bundle its `kube.yml`, `None` when it has none.
    pub kubeconfig: Option<String>,
    pub kubeconfig_exists: bool,
    /// The answer of the last version probe run.
    pub version_exit_code: i32,
    /// Why the version probe could not start (`ENOENT`, `EACCES`), when it could not.
    #[serde(default)]
    pub version_start_failure: Option<String>,
    pub version_stdout: String,
    pub version_stderr: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub helm: HelmVersion,
    pub upgrade_argv: Vec<String>,
    pub status_argv: Vec<String>,
    pub warnings: Vec<String>,
}

pub fn plan(r: &PlanRequest) -> Result<Plan> {
    let kubeconfig = match (&r.kubeconfig, r.source) {
        (None, _) => {
            return Err(TaskError::input(
                "bundle",
                "the client bundle has no kube.yml (bundles made by UCP 3.0 and later have one), so Helm cannot reach Kubernetes with it",
            ))
        }
        (Some(file), _) if r.kubeconfig_exists => file.clone(),
        (Some(file), Source::Variable) => {
            return Err(TaskError::other(format!("The KUBECONFIG variable points to {file}, which does not exist.")))
        }
        (Some(file), Source::Kubeconfig) => return Err(TaskError::input("kubeconfig", format!("{file} does not exist"))),
        (Some(file), Source::Bundle) => return Err(TaskError::input("bundle", format!("its kubeconfig {file} was not extracted"))),
    };
    let (upgrade, mut warnings) = read_upgrade(&r.inputs, &r.build_info, kubeconfig)?;
    if let Some(failure) = &r.version_start_failure {
        let on_path = !upgrade.helm.contains(['/', '\\']);
        let why = match failure.as_str() {
            "ENOENT" if on_path => "it is not on the agent's PATH".to_string(),
            "ENOENT" => "there is no such file".to_string(),
            "EACCES" => "it is not executable".to_string(),
            other => format!("it could not be started: {other}"),
        };
        return Err(TaskError::input(
            "helmPath",
            format!("{} cannot be run ({why}); install Helm 2, 3 or 4 on the agent or give the path of its binary", upgrade.helm),
        ));
    }
    if r.version_exit_code != 0 {
        let said = r.version_stderr.lines().map(str::trim).find(|l| !l.is_empty());
        return Err(TaskError::input(
            "helmPath",
            format!(
                "`{} version` failed with exit code {}{}; is it Helm 2, 3 or 4?",
                upgrade.helm,
                r.version_exit_code,
                said.map(|l| format!(" ({l})")).unwrap_or_default()
            ),
        ));
    }
    let helm = helm_args::parse_version(&r.version_stdout)?;
    let (upgrade_argv, major_warnings) = upgrade.argv(helm.major)?;
    warnings.extend(major_warnings);
    Ok(Plan { status_argv: upgrade.status_argv(helm.major), helm, upgrade_argv, warnings })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeRequest {
    pub inputs: Inputs,
    pub build_info: BuildInfo,
    pub source: Source,
    pub helm: HelmVersion,
    pub upgrade_exit_code: i32,
    pub status_exit_code: i32,
    pub status_stdout: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Why the step fails, or `None` when it succeeds.
    pub failure: Option<String>,
    /// `releaseRevision`, `releaseStatus` when Helm reported them.
    pub outputs: Option<Outputs>,
    pub warnings: Vec<String>,
    pub summary: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub release_revision: String,
    pub release_status: String,
}

pub fn outcome(r: &OutcomeRequest) -> Result<Outcome> {
    let (upgrade, _) = read_upgrade(&r.inputs, &r.build_info, String::new())?;
    let state = if r.status_exit_code == 0 {
        helm_args::parse_status(r.helm.major, &r.status_stdout)
    } else {
        Err(TaskError::other(format!("`helm status` failed with exit code {}.", r.status_exit_code)))
    };
    let mut warnings = Vec::new();
    let failure = (r.upgrade_exit_code != 0).then(|| {
        let now = match &state {
            Ok(s) => format!(" The release is {} at revision {}.", s.status, s.revision),
            Err(_) => String::new(),
        };
        format!(
            "helm upgrade of release '{}' failed with exit code {} (see the Helm output above).{now}",
            upgrade.release, r.upgrade_exit_code
        )
    });
    if let (Err(e), None) = (&state, &failure) {
        warnings.push(format!("releaseRevision and releaseStatus are not set: {e}"));
    }
    let summary = render_summary(&upgrade, r, state.as_ref().ok());
    let outputs = state.ok().map(|s| Outputs { release_revision: s.revision.to_string(), release_status: s.status });
    Ok(Outcome { failure, outputs, warnings, summary })
}

fn render_summary(upgrade: &Upgrade, r: &OutcomeRequest, state: Option<&ReleaseState>) -> String {
    let credentials = match r.source {
        Source::Bundle => "MKE client bundle",
        Source::Kubeconfig => "kubeconfig",
        Source::Variable => "KUBECONFIG variable",
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("Release", upgrade.release.clone()),
        ("Namespace", upgrade.namespace.clone().unwrap_or_default()),
        ("Chart", upgrade.chart.clone()),
    ];
    if let Some(version) = &upgrade.chart_version {
        rows.push(("Chart version", version.clone()));
    }
    if let Some((key, tag)) = &upgrade.image_tag {
        rows.push(("Image tag", format!("{key}={tag}")));
    }
    if let Some(state) = state {
        rows.push(("Revision", state.revision.to_string()));
        rows.push(("Status", state.status.clone()));
    }
    if r.upgrade_exit_code != 0 {
        rows.push(("Result", format!("helm upgrade failed with exit code {}", r.upgrade_exit_code)));
    }
    rows.push(("Helm", r.helm.version.clone()));
    rows.push(("Credentials", credentials.to_string()));
    summary::render("MKE Helm deploy", &rows)
}

/// Reads every input into the upgrade; the warnings are about inputs that expand to nothing.
fn read_upgrade(inputs: &Inputs, info: &BuildInfo, kubeconfig: String) -> Result<(Upgrade, Vec<String>)> {
    let mut warnings = Vec::new();
    let release = inputs.required("releaseName")?;
    check_release_name(release)?;
    let chart = inputs.required("chart")?;
    if chart.starts_with('-') {
        return Err(TaskError::input("chart", format!("\"{chart}\" would be read as a Helm flag")));
    }
    let namespace = inputs.optional("namespace").map(String::from);
    if let Some(namespace) = &namespace {
        if !is_dns_label(namespace, 63) {
            return Err(TaskError::input(
                "namespace",
                format!("\"{namespace}\" is not a Kubernetes namespace (lower-case letters, digits and '-', at most 63)"),
            ));
        }
    }
    let image_tag_key = inputs.optional("imageTagKey").unwrap_or("image.tag");
    check_key("imageTagKey", image_tag_key)?;
    let image_tag = match inputs.optional("imageTag") {
        None => None,
        Some(template) => {
            let tag = Tokens::new(info).expand("imageTag", template)?.text.trim().to_string();
            if tag.is_empty() {
                warnings.push(format!("imageTag \"{template}\" expands to nothing in this build: {image_tag_key} is not set."));
                None
            } else {
                Some((image_tag_key.to_string(), tag))
            }
        }
    };
    let history_max = inputs.integer("historyMax", i64::from(helm_args::DEFAULT_HISTORY_MAX))?;
    let history_max = u32::try_from(history_max)
        .map_err(|_| TaskError::input("historyMax", format!("expected 0 (no limit) or more, got {history_max}")))?;
    let upgrade = Upgrade {
        helm: inputs.optional("helmPath").unwrap_or("helm").to_string(),
        release: release.to_string(),
        chart: chart.to_string(),
        kubeconfig,
        kube_context: inputs.optional("kubeContext").map(String::from),
        chart_version: inputs.optional("chartVersion").map(String::from),
        namespace,
        create_namespace: inputs.boolean("createNamespace", false)?,
        image_tag,
        set_values: key_values(inputs, "setValues")?,
        set_string_values: key_values(inputs, "setStringValues")?,
        value_files: lines(inputs.raw("valueFiles")).map(String::from).collect(),
        atomic: inputs.boolean("atomic", true)?,
        wait: inputs.boolean("wait", true)?,
        timeout: Timeout::parse("timeout", inputs.optional("timeout").unwrap_or("5m0s"))?,
        history_max,
        tiller_namespace: inputs.optional("tillerNamespace").map(String::from),
        arguments: shell_words::split("arguments", inputs.raw("arguments"))?,
    };
    Ok((upgrade, warnings))
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// `key=value` lines; white space around `=` is not part of either (`replicaCount = 3`
/// must stay the number 3). Errors count every line, blank ones too.
fn key_values(inputs: &Inputs, input: &str) -> Result<Vec<(String, String)>> {
    inputs
        .raw(input)
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .map(|(number, line)| {
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| TaskError::input(input, format!("line {number} \"{line}\" is not key=value")))?;
            let key = key.trim();
            check_key(input, key)?;
            Ok((key.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// A values key as Helm's `--set` reads it: `image.tag`, `hosts[0].name`.
fn check_key(input: &str, key: &str) -> Result<()> {
    if key.is_empty() || key.contains([',', '=']) || key.chars().any(char::is_whitespace) {
        return Err(TaskError::input(input, format!("\"{key}\" is not a values key such as image.tag")));
    }
    Ok(())
}

/// Helm's rule for release names: DNS-1123 labels joined by dots, at most 53 characters.
fn check_release_name(name: &str) -> Result<()> {
    if name.len() > 53 || !name.split('.').all(|label| is_dns_label(label, 53)) {
        return Err(TaskError::input(
            "releaseName",
            format!("\"{name}\" is not a Helm release name (lower-case letters, digits, '-' and '.', at most 53)"),
        ));
    }
    Ok(())
}

fn is_dns_label(label: &str, max: usize) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= max
        && ok(bytes[0])
        && ok(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| ok(b) || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHA: &str = "1234567a9f86d081884c7d659a2feaa0c55ad015";

    fn info() -> BuildInfo {
        BuildInfo { source_version: Some(SHA.into()), source_branch: Some("refs/heads/main".into()), ..BuildInfo::default() }
    }

    fn inputs(extra: &[(&str, &str)]) -> Inputs {
        let mut pairs = vec![("releaseName", "web"), ("chart", "./chart"), ("imageTag", "{{sha}}")];
        pairs.extend_from_slice(extra);
        Inputs::from_pairs(pairs)
    }

    fn prepare_with(extra: &[(&str, &str)], variable: Option<&str>) -> Result<Prepared> {
        prepare(&PrepareRequest {
            inputs: inputs(extra),
            build_info: info(),
            kubeconfig_variable: variable.map(String::from),
            path_list_separator: ":".into(),
        })
    }

    fn plan_with(extra: &[(&str, &str)], version: &str) -> Result<Plan> {
        plan(&PlanRequest {
            inputs: inputs(extra),
            build_info: info(),
            source: Source::Kubeconfig,
            kubeconfig: Some("/t/kube.yml".into()),
            kubeconfig_exists: true,
            version_exit_code: 0,
            version_start_failure: None,
            version_stdout: version.into(),
            version_stderr: String::new(),
        })
    }

    #[test]
    fn credentials_in_order_bundle_kubeconfig_variable() {
        let p = prepare_with(&[("bundle", "/t/b.zip"), ("kubeconfig", "/t/k")], Some("/v")).unwrap();
        assert_eq!(p.credentials, Credentials { source: Source::Bundle, path: "/t/b.zip".into() });
        assert_eq!(p.warnings, ["Both 'bundle' and 'kubeconfig' are set: the bundle is used."]);
        assert_eq!(p.version_probes, [vec!["helm", "version", "--client", "--short"], vec!["helm", "version", "--short"]]);
        let p = prepare_with(&[("kubeconfig", "/t/k")], Some("/v")).unwrap();
        assert_eq!(p.credentials, Credentials { source: Source::Kubeconfig, path: "/t/k".into() });
        let p = prepare_with(&[("helmPath", "/opt/helm3/helm")], Some(" /v/kube.yml ")).unwrap();
        assert_eq!(p.credentials, Credentials { source: Source::Variable, path: "/v/kube.yml".into() });
        assert!(p.version_probes.iter().all(|argv| argv[0] == "/opt/helm3/helm"));
        for none in [None, Some(""), Some("  ")] {
            assert_eq!(
                prepare_with(&[], none).unwrap_err().to_string(),
                "Input 'bundle' or 'kubeconfig': one is required when the KUBECONFIG variable is not set \
                 (an earlier MkeClientBundle step sets it)."
            );
        }
        assert!(prepare_with(&[], Some("/a:/b")).unwrap_err().to_string().contains("lists several files (/a:/b)"));
    }

    #[test]
    fn every_input_is_checked_before_anything_runs() {
        let bad: &[(&[(&str, &str)], &str)] = &[
            (&[("releaseName", "")], "Input 'releaseName': a value is required"),
            (&[("releaseName", "Web_1")], "Input 'releaseName': \"Web_1\" is not a Helm release name"),
            (&[("releaseName", "--dry-run")], "Input 'releaseName'"),
            (&[("chart", "--repo=x")], "Input 'chart': \"--repo=x\" would be read as a Helm flag"),
            (&[("namespace", "Prod")], "Input 'namespace'"),
            (&[("imageTag", "{{shaa}}")], "Input 'imageTag': unknown template token {{shaa}}"),
            (&[("imageTagKey", "image tag")], "Input 'imageTagKey'"),
            (&[("setValues", "a=1\nnovalue")], "Input 'setValues': line 2 \"novalue\" is not key=value"),
            (&[("setValues", "a=1\n\n  \nnovalue")], "Input 'setValues': line 4 \"novalue\" is not key=value"),
            (&[("setStringValues", "=x")], "Input 'setStringValues': \"\" is not a values key"),
            (&[("timeout", "soon")], "Input 'timeout'"),
            (&[("historyMax", "-1")], "Input 'historyMax': expected 0 (no limit) or more, got -1"),
            (&[("atomic", "maybe")], "Input 'atomic'"),
            (&[("arguments", "--description 'x")], "Input 'arguments': a ' quote is not closed"),
        ];
        for (extra, message) in bad {
            let error = prepare_with(extra, Some("/k")).unwrap_err().to_string();
            assert!(error.starts_with(message), "{error}");
        }
        let long = "a".repeat(54);
        assert!(prepare_with(&[("releaseName", &long)], Some("/k")).is_err());
        assert!(prepare_with(&[("releaseName", "web.v2-blue")], Some("/k")).is_ok());
    }

    #[test]
    fn plans_the_commands_for_the_helm_found() {
        let extra = [
            ("namespace", "web"),
            ("setValues", "ingress.annotations.x=a,b\n\n  replicas=3  \n"),
            ("setStringValues", "build.id=0012"),
            ("valueFiles", "values.yaml\r\n values-prod.yaml \r\n"),
            ("arguments", "--description \"deploy {{sha}}\""),
        ];
        let p = plan_with(&extra, "v3.14.0+g3fc9f4b\n").unwrap();
        assert_eq!(p.helm, HelmVersion { major: 3, version: "v3.14.0".into() });
        assert_eq!(
            p.upgrade_argv.join(" "),
            "helm upgrade --install web ./chart --kubeconfig /t/kube.yml --namespace web --atomic --wait --timeout 5m0s \
             --history-max 10 --set-string image.tag=1234567 --set ingress.annotations.x=a\\,b --set replicas=3 \
             --set-string build.id=0012 --values values.yaml --values values-prod.yaml --description deploy {{sha}}"
        );
        assert_eq!(p.upgrade_argv.last().unwrap(), "deploy {{sha}}", "arguments are passed as they are");
        assert_eq!(p.status_argv.join(" "), "helm status web -o json --kubeconfig /t/kube.yml --namespace web");
        let p = plan_with(&[("tillerNamespace", "tiller")], "Client: v2.16.1+gbbdfe5e").unwrap();
        assert!(p.upgrade_argv.join(" ").contains("--tiller-namespace tiller --atomic --wait --timeout 300 --set-string"));
        assert_eq!(
            plan_with(&[("tillerNamespace", "tiller")], "v4.0.0+g1").unwrap_err().to_string(),
            "Input 'tillerNamespace': Helm 4 has no Tiller; leave this input empty (it is for Helm 2 only)"
        );
    }

    #[test]
    fn an_image_tag_that_expands_to_nothing_is_left_out_with_a_warning() {
        let p = plan_with(&[("imageTag", "{{tag}}")], "v3.14.0").unwrap();
        assert!(!p.upgrade_argv.iter().any(|a| a.starts_with("image.tag")));
        assert_eq!(p.warnings, ["imageTag \"{{tag}}\" expands to nothing in this build: image.tag is not set."]);
    }

    #[test]
    fn a_missing_kubeconfig_or_a_broken_helm_names_the_cause() {
        let request = |source, kubeconfig: Option<&str>, exists, code| PlanRequest {
            inputs: inputs(&[]),
            build_info: info(),
            source,
            kubeconfig: kubeconfig.map(String::from),
            kubeconfig_exists: exists,
            version_exit_code: code,
            version_start_failure: None,
            version_stdout: "v3.14.0".into(),
            version_stderr: "\nError: permission denied\n".into(),
        };
        let error = |r| plan(&r).unwrap_err().to_string();
        assert!(error(request(Source::Bundle, None, false, 0)).starts_with("Input 'bundle': the client bundle has no kube.yml"));
        assert_eq!(error(request(Source::Kubeconfig, Some("/k"), false, 0)), "Input 'kubeconfig': /k does not exist");
        assert_eq!(
            error(request(Source::Variable, Some("/k"), false, 0)),
            "The KUBECONFIG variable points to /k, which does not exist."
        );
        assert_eq!(
            error(request(Source::Kubeconfig, Some("/k"), true, 127)),
            "Input 'helmPath': `helm version` failed with exit code 127 (Error: permission denied); is it Helm 2, 3 or 4?"
        );
        let start_failure = |helm: &str, failure: &str| {
            let mut r = request(Source::Kubeconfig, Some("/k"), true, -1);
            r.inputs = inputs(&[("helmPath", helm)]);
            r.version_start_failure = Some(failure.into());
            error(r)
        };
        let advice = "install Helm 2, 3 or 4 on the agent or give the path of its binary";
        assert_eq!(start_failure("helm", "ENOENT"), format!("Input 'helmPath': helm cannot be run (it is not on the agent's PATH); {advice}"));
        assert_eq!(start_failure("/opt/helm", "ENOENT"), format!("Input 'helmPath': /opt/helm cannot be run (there is no such file); {advice}"));
        assert_eq!(start_failure("/opt/helm", "EACCES"), format!("Input 'helmPath': /opt/helm cannot be run (it is not executable); {advice}"));
    }

    fn outcome_with(upgrade_exit_code: i32, status_exit_code: i32, status_stdout: &str) -> Outcome {
        outcome(&OutcomeRequest {
            inputs: inputs(&[("namespace", "web")]),
            build_info: info(),
            source: Source::Bundle,
            helm: HelmVersion { major: 3, version: "v3.14.0".into() },
            upgrade_exit_code,
            status_exit_code,
            status_stdout: status_stdout.into(),
        })
        .unwrap()
    }

    const DEPLOYED: &str = r#"{"name":"web","info":{"status":"deployed"},"version":3}"#;

    #[test]
    fn a_successful_upgrade_reports_revision_and_status() {
        let o = outcome_with(0, 0, DEPLOYED);
        assert_eq!(o.failure, None);
        let outputs = o.outputs.unwrap();
        assert_eq!((outputs.release_revision.as_str(), outputs.release_status.as_str()), ("3", "deployed"));
        assert!(o.warnings.is_empty());
        assert_eq!(
            o.summary,
            "### MKE Helm deploy\n\n| | |\n| --- | --- |\n| Release | ` web ` |\n| Namespace | ` web ` |\n\
             | Chart | ` ./chart ` |\n| Image tag | ` image.tag=1234567 ` |\n| Revision | ` 3 ` |\n\
             | Status | ` deployed ` |\n| Helm | ` v3.14.0 ` |\n| Credentials | ` MKE client bundle ` |\n"
        );
    }

    #[test]
    fn a_failed_upgrade_fails_the_step_and_still_reports_the_release() {
        let o = outcome_with(1, 0, r#"{"info":{"status":"failed"},"version":4}"#);
        assert_eq!(
            o.failure.unwrap(),
            "helm upgrade of release 'web' failed with exit code 1 (see the Helm output above). The release is failed at revision 4."
        );
        assert_eq!(o.outputs.unwrap().release_status, "failed");
        let o = outcome_with(1, 1, "");
        assert_eq!(o.failure.unwrap(), "helm upgrade of release 'web' failed with exit code 1 (see the Helm output above).");
        assert!(o.outputs.is_none() && o.warnings.is_empty());
    }

    #[test]
    fn an_unreadable_status_after_success_is_a_warning() {
        let o = outcome_with(0, 1, "");
        assert_eq!(o.failure, None);
        assert_eq!(o.warnings, ["releaseRevision and releaseStatus are not set: `helm status` failed with exit code 1."]);
    }

    #[test]
    fn set_values_lose_the_space_around_equals_and_keep_braces_literal() {
        let p = plan_with(&[("setValues", "replicaCount = 3"), ("setStringValues", "config={\"a\":1,\"b\":2}")], "v3.14.0").unwrap();
        let set = |key: &str| {
            let at = p.upgrade_argv.iter().position(|a| a.starts_with(&format!("{key}="))).unwrap();
            (p.upgrade_argv[at - 1].as_str(), p.upgrade_argv[at].as_str())
        };
        assert_eq!(set("replicaCount"), ("--set", "replicaCount=3"));
        assert_eq!(set("config"), ("--set-string", r#"config=\{"a":1\,"b":2}"#));
    }

    proptest! {
        #[test]
        fn set_values_reach_helm_whole(value in "[ -~]{0,20}") {
            let text = format!("k={value}");
            let p = plan_with(&[("setValues", &text)], "v3.14.0").unwrap();
            let at = p.upgrade_argv.iter().position(|a| a == "--set").unwrap();
            let expected = format!("k={}", helm_args::escape_set_value(value.trim()));
            prop_assert_eq!(&p.upgrade_argv[at + 1], &expected);
        }
    }
}
