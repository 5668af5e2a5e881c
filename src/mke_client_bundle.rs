//! MkeClientBundle@1: its inputs and what it exports and reports. (Its
//! post-job step asks `temp_paths` what it may remove.)

use crate::bundle::Variable;
use crate::error::{Result, TaskError};
use crate::inputs::Inputs;
use crate::summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub bundle: String,
    pub export_variables: bool,
    pub expiry_warning_days: i64,
}

pub fn settings(inputs: &Inputs) -> Result<Settings> {
    let expiry_warning_days = inputs.integer("expiryWarningDays", 14)?;
    if !(0..=3650).contains(&expiry_warning_days) {
        return Err(TaskError::input("expiryWarningDays", format!("expected 0 to 3650 days, got {expiry_warning_days}")));
    }
    Ok(Settings {
        bundle: inputs.required("bundle")?.to_string(),
        export_variables: inputs.boolean("exportVariables", true)?,
        expiry_warning_days,
    })
}

/// What extractBundle (task/common/bundle.mjs) returned.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extracted {
    pub directory: String,
    pub kubeconfig: Option<String>,
    pub docker_host: Option<String>,
    pub kubernetes_server: Option<String>,
    pub certificate_not_after: String,
    pub generation: String,
    pub variables: Vec<Variable>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRequest {
    pub bundle: Extracted,
    pub export_variables: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Job variables for later steps (none without exportVariables).
    pub variables: Vec<Variable>,
    pub outputs: BTreeMap<&'static str, Option<String>>,
    pub summary: String,
}

pub fn report(request: ReportRequest) -> Report {
    let bundle = request.bundle;
    let variables = if request.export_variables { bundle.variables } else { Vec::new() };
    let names: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
    let summary = summary::render(
        "MKE client bundle",
        &[
            ("Bundle", bundle.generation.clone()),
            ("Docker host", bundle.docker_host.clone().unwrap_or_default()),
            ("Kubernetes API server", bundle.kubernetes_server.clone().unwrap_or_default()),
            ("Certificate valid until", bundle.certificate_not_after.clone()),
            ("Variables set", names.join(", ")),
        ],
    );
    let outputs = BTreeMap::from([
        ("bundleDirectory", Some(bundle.directory)),
        ("kubeconfig", bundle.kubeconfig),
        ("dockerHost", bundle.docker_host),
        ("kubernetesServer", bundle.kubernetes_server),
        ("certificateNotAfter", Some(bundle.certificate_not_after)),
    ]);
    Report { variables, outputs, summary }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_names_bad_inputs() {
        let inputs = Inputs::from_pairs([("bundle", "/a/b.zip"), ("exportVariables", "false"), ("expiryWarningDays", "30")]);
        assert_eq!(
            settings(&inputs).unwrap(),
            Settings { bundle: "/a/b.zip".into(), export_variables: false, expiry_warning_days: 30 }
        );
        let missing = Inputs::from_pairs([("exportVariables", "true")]);
        assert_eq!(settings(&missing).unwrap_err().to_string(), "Input 'bundle': a value is required");
        let negative = Inputs::from_pairs([("bundle", "b.zip"), ("expiryWarningDays", "-1")]);
        assert!(settings(&negative).unwrap_err().to_string().starts_with("Input 'expiryWarningDays'"));
    }

    fn extracted() -> Extracted {
        Extracted {
            directory: "/t/mke-bundle-x".into(),
            kubeconfig: Some("/t/mke-bundle-x/kube.yml".into()),
            docker_host: Some("tcp://ucp:443".into()),
            kubernetes_server: Some("https://ucp:6443".into()),
            certificate_not_after: "2027-01-01T00:00:00Z".into(),
            generation: "UCP 3.2+ / MKE".into(),
            variables: vec![Variable { name: "KUBECONFIG".into(), value: "/t/mke-bundle-x/kube.yml".into() }],
        }
    }

    #[test]
    fn exports_only_when_asked_and_always_reports() {
        let exported = report(ReportRequest { bundle: extracted(), export_variables: true });
        assert_eq!(exported.variables.len(), 1);
        assert_eq!(exported.outputs["bundleDirectory"].as_deref(), Some("/t/mke-bundle-x"));
        assert!(exported.summary.contains("| Variables set | ` KUBECONFIG ` |"), "{}", exported.summary);
        let quiet = report(ReportRequest { bundle: extracted(), export_variables: false });
        assert!(quiet.variables.is_empty());
        assert_eq!(quiet.outputs["certificateNotAfter"].as_deref(), Some("2027-01-01T00:00:00Z"));
    }
}
