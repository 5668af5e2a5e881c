#![no_main]
//! What Helm prints: `helm version` text, and `helm status`/`helm history` JSON
//! read through the task's plan and outcome steps. The first line is also tried as a --timeout.
use libfuzzer_sys::fuzz_target;
use mke_tasks::helm_args::{parse_status, parse_version, HelmVersion, Timeout};
use mke_tasks::inputs::Inputs;
use mke_tasks::mke_helm_deploy::{outcome, plan, OutcomeRequest, PlanRequest, Source};
use mke_tasks::template::BuildInfo;

fn inputs(timeout: &str) -> Inputs {
    Inputs::from_pairs([("releaseName", "web"), ("chart", "./chart"), ("timeout", timeout)])
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    if let Ok(version) = parse_version(&text) {
        assert!((2..=4).contains(&version.major) && version.version.starts_with('v'), "{version:?}");
    }
    for major in 2..=4 {
        let _ = parse_status(major, &text);
    }
    // The input is trimmed, and an empty one is the default.
    let timeout = first.trim().is_empty() || Timeout::parse("timeout", first.trim()).is_ok();
    let planned = plan(&PlanRequest {
        inputs: inputs(first),
        build_info: BuildInfo::default(),
        source: Source::Kubeconfig,
        kubeconfig: Some("/t/kube.yml".into()),
        kubeconfig_exists: true,
        version_exit_code: 0,
        version_start_failure: None,
        version_stdout: text.to_string(),
        version_stderr: String::new(),
    });
    if let Ok(planned) = &planned {
        assert!(timeout);
        let at = planned.upgrade_argv.iter().position(|a| a == "--timeout").expect("a timeout is always passed");
        let value = &planned.upgrade_argv[at + 1];
        if planned.helm.major == 2 {
            assert!(value.bytes().all(|b| b.is_ascii_digit()), "Helm 2 takes whole seconds: {value}");
        }
    }
    for major in 2..=4 {
        let done = outcome(&OutcomeRequest {
            inputs: inputs("5m"),
            build_info: BuildInfo::default(),
            source: Source::Kubeconfig,
            helm: HelmVersion { major, version: format!("v{major}.0.0") },
            upgrade_exit_code: i32::from(data.first().is_some_and(|b| b & 1 == 1)),
            status_exit_code: 0,
            status_stdout: text.to_string(),
        })
        .expect("the inputs are valid");
        assert_eq!(done.outputs.is_some(), parse_status(major, &text).is_ok());
    }
});
