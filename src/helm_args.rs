//! Helm's command lines for Helm 2, 3 and 4, and reading what Helm prints.
//!
//! Differences handled here:
//! - The version is probed with `helm version --client --short` (Helm 2 needs
//!   `--client`, otherwise it dials Tiller; Helm 3 keeps it as a hidden flag),
//!   then, when that fails, `helm version --short` (Helm 4 dropped `--client`).
//! - Rolling back on failure is `--atomic` on Helm 2 and 3, `--rollback-on-failure` on Helm 4.
//! - Helm 2's `--timeout` is whole seconds; Helm 3 and 4 take a Go duration.
//! - Helm 2 has no `--create-namespace` (Tiller creates a missing namespace
//!   itself) and no per-release `--history-max` (a Tiller setting, `helm init
//!   --history-max`); both are left out there. `--tiller-namespace` exists only on Helm 2.
//! - Helm 2's `helm status -o json` has no revision, so Helm 2 reads the latest
//!   entry of `helm history --max 1 -o json` instead.

use crate::error::{Result, TaskError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmVersion {
    pub major: u32,
    /// `v3.14.0` (build metadata dropped).
    pub version: String,
}

/// The `helm version` calls to try in order; the first that exits 0 answers.
/// Never `helm version --short` first: on Helm 2 it waits for Tiller.
pub fn version_probes(helm: &str) -> Vec<Vec<String>> {
    vec![
        [helm, "version", "--client", "--short"].map(String::from).to_vec(),
        [helm, "version", "--short"].map(String::from).to_vec(),
    ]
}

/// Reads the first `vX.Y.Z` in any form `helm version` prints:
/// `Client: v2.16.1+gbbdfe5e`, `Client: &version.Version{SemVer:"v2.16.1", ...}`,
/// `v3.14.0+g3fc9f4b`, `version.BuildInfo{Version:"v3.14.0", ...}`, `v4.0.0+g...`.
pub fn parse_version(output: &str) -> Result<HelmVersion> {
    let unreadable = || {
        let first = output.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("nothing");
        TaskError::input("helmPath", format!("could not read the Helm version from `helm version` (it printed: {first})"))
    };
    let bytes = output.as_bytes();
    let start = (0..bytes.len())
        .find(|&i| {
            bytes[i] == b'v'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        })
        .ok_or_else(unreadable)?;
    let text: String = output[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let numbers: Vec<&str> = text.split('-').next().unwrap_or("").split('.').collect();
    if numbers.len() != 3 || numbers.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return Err(unreadable());
    }
    let major: u32 = numbers[0].parse().map_err(|_| unreadable())?;
    if !(2..=4).contains(&major) {
        return Err(TaskError::input("helmPath", format!("Helm v{text} is not supported: this task drives Helm 2, 3 and 4")));
    }
    Ok(HelmVersion { major, version: format!("v{text}") })
}

/// A `--timeout`, kept as typed for Helm 3 and 4 and as whole seconds for Helm 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    go_duration: String,
    millis: u64,
}

impl Timeout {
    /// A Go duration (`5m0s`, `90s`, `1h30m`, `1.5m`, `500ms`) or whole seconds (`300`).
    pub fn parse(input: &str, text: &str) -> Result<Timeout> {
        let bad = || {
            TaskError::input(input, format!("\"{text}\" is not a duration; write it like 5m0s, 10m, 90s or 300 (seconds)"))
        };
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let seconds: u64 = text.parse().map_err(|_| bad())?;
            return Ok(Timeout { go_duration: format!("{seconds}s"), millis: seconds.checked_mul(1000).ok_or_else(bad)? });
        }
        // Summed in nanoseconds with integers: exact, and no float parsing in the wasm.
        let mut rest = text;
        let mut nanos: u128 = 0;
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
            let (whole, fraction) = rest[..number_len].split_once('.').unwrap_or((&rest[..number_len], ""));
            if whole.is_empty() && fraction.is_empty() || whole.len() > 12 || fraction.contains('.') {
                return Err(bad());
            }
            // Nine fraction digits: nanoseconds of a second are the finest unit kept.
            let fraction_nanos: u128 = format!("{fraction:0<9}")[..9].parse().map_err(|_| bad())?;
            let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
            rest = &rest[number_len..];
            let (unit_millis, unit_len): (u128, usize) = if rest.starts_with("ms") {
                (1, 2)
            } else if rest.starts_with('h') {
                (3_600_000, 1)
            } else if rest.starts_with('m') {
                (60_000, 1)
            } else if rest.starts_with('s') {
                (1000, 1)
            } else {
                return Err(bad());
            };
            nanos += (whole * 1_000_000_000 + fraction_nanos) * unit_millis / 1000;
            rest = &rest[unit_len..];
        }
        let millis = u64::try_from(nanos.div_ceil(1_000_000)).map_err(|_| bad())?;
        Ok(Timeout { go_duration: text.to_string(), millis })
    }

    fn for_helm(&self, major: u32) -> String {
        if major == 2 {
            self.millis.div_ceil(1000).to_string()
        } else {
            self.go_duration.clone()
        }
    }
}

/// Escapes a `--set`/`--set-string` value: Helm splits `a=1,b=2` at commas, reads
/// `\` as an escape and a leading `{` as a list (`{a,b}`), so all three are escaped
/// to keep the value one value.
pub fn escape_set_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 1);
    if value.starts_with('{') {
        out.push('\\');
    }
    for c in value.chars() {
        if c == '\\' || c == ',' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Everything `helm upgrade --install` needs, already validated.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub helm: String,
    pub release: String,
    pub chart: String,
    pub kubeconfig: String,
    pub kube_context: Option<String>,
    pub chart_version: Option<String>,
    pub namespace: Option<String>,
    pub create_namespace: bool,
    /// The `imageTagKey` and the expanded `imageTag`.
    pub image_tag: Option<(String, String)>,
    pub set_values: Vec<(String, String)>,
    pub set_string_values: Vec<(String, String)>,
    pub value_files: Vec<String>,
    pub atomic: bool,
    pub wait: bool,
    pub timeout: Timeout,
    pub history_max: u32,
    pub tiller_namespace: Option<String>,
    pub arguments: Vec<String>,
}

/// Helm's own default of `--history-max`; only a different value is worth a warning on Helm 2.
pub const DEFAULT_HISTORY_MAX: u32 = 10;

impl Upgrade {
    /// The argument vector for this Helm major, and warnings about inputs that
    /// this major cannot honour.
    pub fn argv(&self, major: u32) -> Result<(Vec<String>, Vec<String>)> {
        let mut warnings = Vec::new();
        if major != 2 && self.tiller_namespace.is_some() {
            return Err(TaskError::input(
                "tillerNamespace",
                format!("Helm {major} has no Tiller; leave this input empty (it is for Helm 2 only)"),
            ));
        }
        let mut argv: Vec<String> =
            vec![self.helm.clone(), "upgrade".into(), "--install".into(), self.release.clone(), self.chart.clone()];
        let mut flag = |name: &str, value: Option<&String>| {
            if let Some(value) = value {
                argv.push(name.to_string());
                argv.push(value.clone());
            }
        };
        flag("--kubeconfig", Some(&self.kubeconfig));
        flag("--kube-context", self.kube_context.as_ref());
        flag("--version", self.chart_version.as_ref());
        flag("--namespace", self.namespace.as_ref());
        if major == 2 {
            flag("--tiller-namespace", self.tiller_namespace.as_ref());
        }
        if self.create_namespace && major != 2 {
            argv.push("--create-namespace".into());
        }
        if self.atomic {
            argv.push(if major == 4 { "--rollback-on-failure" } else { "--atomic" }.into());
        }
        if self.wait {
            argv.push("--wait".into());
        }
        argv.push("--timeout".into());
        argv.push(self.timeout.for_helm(major));
        if major == 2 {
            if self.history_max != DEFAULT_HISTORY_MAX {
                warnings.push(format!(
                    "historyMax ({}) is not passed to Helm 2: there it is a Tiller setting (helm init --history-max).",
                    self.history_max
                ));
            }
        } else {
            argv.push("--history-max".into());
            argv.push(self.history_max.to_string());
        }
        let mut set = |flag: &str, (key, value): &(String, String)| {
            argv.push(flag.to_string());
            argv.push(format!("{key}={}", escape_set_value(value)));
        };
        if let Some(tag) = &self.image_tag {
            set("--set-string", tag);
        }
        self.set_values.iter().for_each(|kv| set("--set", kv));
        self.set_string_values.iter().for_each(|kv| set("--set-string", kv));
        for file in &self.value_files {
            argv.push("--values".into());
            argv.push(file.clone());
        }
        argv.extend(self.arguments.iter().cloned());
        Ok((argv, warnings))
    }

    /// The quiet call whose JSON gives the release's revision and status.
    pub fn status_argv(&self, major: u32) -> Vec<String> {
        let mut argv = vec![self.helm.clone()];
        if major == 2 {
            argv.extend(["history".into(), self.release.clone(), "--max".into(), "1".into()]);
        } else {
            argv.extend(["status".into(), self.release.clone()]);
        }
        argv.extend(["-o".into(), "json".into(), "--kubeconfig".into(), self.kubeconfig.clone()]);
        if let Some(context) = &self.kube_context {
            argv.extend(["--kube-context".into(), context.clone()]);
        }
        match (major, &self.namespace, &self.tiller_namespace) {
            // Helm 2 releases are not namespaced: Tiller finds them by name.
            (2, _, Some(tiller)) => argv.extend(["--tiller-namespace".into(), tiller.clone()]),
            (2, _, None) => {}
            (_, Some(namespace), _) => argv.extend(["--namespace".into(), namespace.clone()]),
            (_, None, _) => {}
        }
        argv
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseState {
    pub revision: u64,
    /// Lower case on every major: `deployed`, `failed`, `pending-upgrade`, ...
    pub status: String,
}

/// Reads the output of [`Upgrade::status_argv`].
pub fn parse_status(major: u32, output: &str) -> Result<ReleaseState> {
    let unreadable = |what: &str| TaskError::other(format!("Helm's release status could not be read: {what}."));
    let json: Value = serde_json::from_str(output.trim()).map_err(|e| unreadable(&format!("not JSON ({e})")))?;
    if major == 2 {
        // `helm history -o json`: [{"revision":3,"status":"DEPLOYED",...}], latest last.
        let latest = json
            .as_array()
            .and_then(|entries| entries.iter().max_by_key(|e| e["revision"].as_u64().unwrap_or(0)))
            .ok_or_else(|| unreadable("the history is empty"))?;
        let revision = latest["revision"].as_u64().ok_or_else(|| unreadable("no revision"))?;
        let status = latest["status"].as_str().ok_or_else(|| unreadable("no status"))?;
        return Ok(ReleaseState { revision, status: status.to_ascii_lowercase().replace('_', "-") });
    }
    let revision = json["version"].as_u64().ok_or_else(|| unreadable("no .version"))?;
    let status = json["info"]["status"].as_str().ok_or_else(|| unreadable("no .info.status"))?;
    Ok(ReleaseState { revision, status: status.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn upgrade() -> Upgrade {
        Upgrade {
            helm: "helm".into(),
            release: "web".into(),
            chart: "./pipelines/helm/techorama".into(),
            kubeconfig: "/t/b/kube.yml".into(),
            kube_context: None,
            chart_version: None,
            namespace: None,
            create_namespace: false,
            image_tag: Some(("image.tag".into(), "1234567".into())),
            set_values: vec![],
            set_string_values: vec![],
            value_files: vec![],
            atomic: true,
            wait: true,
            timeout: Timeout::parse("timeout", "5m0s").unwrap(),
            history_max: 10,
            tiller_namespace: None,
            arguments: vec![],
        }
    }

    fn joined(argv: &[String]) -> String {
        argv.join(" ")
    }

    #[test]
    fn reads_every_form_of_helm_version() {
        for (output, major, version) in [
            ("Client: v2.16.1+gbbdfe5e\n", 2, "v2.16.1"),
            ("Client: &version.Version{SemVer:\"v2.16.1\", GitCommit:\"bbdfe5e7803a12bbdf97e94cd847859890cf4050\", GitTreeState:\"clean\"}\n", 2, "v2.16.1"),
            ("v3.14.0+g3fc9f4b\n", 3, "v3.14.0"),
            ("version.BuildInfo{Version:\"v3.14.0\", GitCommit:\"3fc9f4b2638e76f26739cd77c7017139be81d0ea\", GitTreeState:\"clean\", GoVersion:\"go1.21.5\"}", 3, "v3.14.0"),
            ("v4.0.0+g99cd196\n", 4, "v4.0.0"),
            ("v3.15.0-rc.1+gabcdef0", 3, "v3.15.0-rc.1"),
        ] {
            assert_eq!(parse_version(output).unwrap(), HelmVersion { major, version: version.into() }, "{output}");
        }
        assert_eq!(
            parse_version("v1.2.3").unwrap_err().to_string(),
            "Input 'helmPath': Helm v1.2.3 is not supported: this task drives Helm 2, 3 and 4"
        );
        assert_eq!(
            parse_version("\nError: unknown flag: --client\n").unwrap_err().to_string(),
            "Input 'helmPath': could not read the Helm version from `helm version` (it printed: Error: unknown flag: --client)"
        );
        assert!(parse_version("").is_err());
        assert!(parse_version("dev9.1").is_err());
        assert!(parse_version("v3.14").is_err());
    }

    #[test]
    fn helm_3_argv() {
        let mut u = upgrade();
        u.kube_context = Some("ucp_mke:6443_ci".into());
        u.chart_version = Some("1.4.2".into());
        u.namespace = Some("web".into());
        u.create_namespace = true;
        u.set_values = vec![("ingress.hosts[0]".into(), "a,b\\c".into())];
        u.set_string_values = vec![("build.id".into(), "0012".into())];
        u.value_files = vec!["values-prod.yaml".into()];
        u.arguments = vec!["--description".into(), "first deploy".into()];
        let (argv, warnings) = u.argv(3).unwrap();
        assert_eq!(
            argv,
            [
                "helm", "upgrade", "--install", "web", "./pipelines/helm/techorama", "--kubeconfig", "/t/b/kube.yml",
                "--kube-context", "ucp_mke:6443_ci", "--version", "1.4.2", "--namespace", "web", "--create-namespace",
                "--atomic", "--wait", "--timeout", "5m0s", "--history-max", "10", "--set-string", "image.tag=1234567",
                "--set", "ingress.hosts[0]=a\\,b\\\\c", "--set-string", "build.id=0012", "--values", "values-prod.yaml",
                "--description", "first deploy",
            ]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn helm_4_rolls_back_with_its_own_flag() {
        let (argv, _) = upgrade().argv(4).unwrap();
        assert_eq!(
            joined(&argv),
            "helm upgrade --install web ./pipelines/helm/techorama --kubeconfig /t/b/kube.yml --rollback-on-failure \
             --wait --timeout 5m0s --history-max 10 --set-string image.tag=1234567"
        );
        let mut u = upgrade();
        u.atomic = false;
        u.wait = false;
        assert!(!u.argv(4).unwrap().0.iter().any(|a| a == "--rollback-on-failure" || a == "--atomic" || a == "--wait"));
    }

    #[test]
    fn helm_2_drops_what_it_lacks_and_counts_seconds() {
        let mut u = upgrade();
        u.namespace = Some("web".into());
        u.create_namespace = true;
        u.tiller_namespace = Some("tiller".into());
        u.timeout = Timeout::parse("timeout", "1m30s").unwrap();
        let (argv, warnings) = u.argv(2).unwrap();
        assert_eq!(
            joined(&argv),
            "helm upgrade --install web ./pipelines/helm/techorama --kubeconfig /t/b/kube.yml --namespace web \
             --tiller-namespace tiller --atomic --wait --timeout 90 --set-string image.tag=1234567"
        );
        assert!(warnings.is_empty(), "the default historyMax is not worth a warning");
        u.history_max = 3;
        let (_, warnings) = u.argv(2).unwrap();
        assert_eq!(warnings, ["historyMax (3) is not passed to Helm 2: there it is a Tiller setting (helm init --history-max)."]);
    }

    #[test]
    fn tiller_namespace_is_an_error_after_helm_2() {
        let mut u = upgrade();
        u.tiller_namespace = Some("kube-system".into());
        for major in [3, 4] {
            assert_eq!(
                u.argv(major).unwrap_err().to_string(),
                format!("Input 'tillerNamespace': Helm {major} has no Tiller; leave this input empty (it is for Helm 2 only)")
            );
        }
    }

    #[test]
    fn status_calls_reach_the_same_release() {
        let mut u = upgrade();
        u.kube_context = Some("ctx".into());
        u.namespace = Some("web".into());
        assert_eq!(
            joined(&u.status_argv(3)),
            "helm status web -o json --kubeconfig /t/b/kube.yml --kube-context ctx --namespace web"
        );
        assert_eq!(joined(&u.status_argv(4)), joined(&u.status_argv(3)));
        u.tiller_namespace = Some("tiller".into());
        assert_eq!(
            joined(&u.status_argv(2)),
            "helm history web --max 1 -o json --kubeconfig /t/b/kube.yml --kube-context ctx --tiller-namespace tiller"
        );
    }

    #[test]
    fn reads_release_status_of_each_major() {
        let helm3 = r#"{"name":"web","info":{"first_deployed":"2026-12-01T10:00:00Z","status":"deployed","notes":"x"},"version":7,"namespace":"web"}"#;
        assert_eq!(parse_status(3, helm3).unwrap(), ReleaseState { revision: 7, status: "deployed".into() });
        assert_eq!(parse_status(4, helm3).unwrap().revision, 7);
        let helm2 = r#"[{"revision":4,"updated":"Thu Dec  3 10:00:00 2026","status":"PENDING_UPGRADE","chart":"web-0.1.0","appVersion":"1.0","description":"Upgrade"}]"#;
        assert_eq!(parse_status(2, helm2).unwrap(), ReleaseState { revision: 4, status: "pending-upgrade".into() });
        assert!(parse_status(3, "Error: release: not found").unwrap_err().to_string().starts_with("Helm's release status could not be read: not JSON"));
        assert_eq!(parse_status(3, r#"{"info":{}}"#).unwrap_err().to_string(), "Helm's release status could not be read: no .version.");
        assert_eq!(parse_status(2, "[]").unwrap_err().to_string(), "Helm's release status could not be read: the history is empty.");
    }

    #[test]
    fn timeouts() {
        let t = |s: &str| Timeout::parse("timeout", s).map(|t| (t.for_helm(3), t.for_helm(2)));
        assert_eq!(t("5m0s").unwrap(), ("5m0s".into(), "300".into()));
        assert_eq!(t("300").unwrap(), ("300s".into(), "300".into()));
        assert_eq!(t("1h30m").unwrap(), ("1h30m".into(), "5400".into()));
        assert_eq!(t("1.5m").unwrap(), ("1.5m".into(), "90".into()));
        assert_eq!(t("500ms").unwrap(), ("500ms".into(), "1".into()));
        assert_eq!(t("2m.5s").unwrap(), ("2m.5s".into(), "121".into()));
        assert_eq!(t("0.25h").unwrap().1, "900");
        for bad in ["", "5 m", "m", "5d", "-1s", "1.2.3s", ".s", "5m0", "99999999999999999999", "1234567890123s"] {
            assert_eq!(
                t(bad).unwrap_err().to_string(),
                format!("Input 'timeout': \"{bad}\" is not a duration; write it like 5m0s, 10m, 90s or 300 (seconds)")
            );
        }
    }

    /// Helm's strvals reading of one `key=value` pair: a leading `{` makes a list (not
    /// one value), `\x` is `x`, a bare comma ends the value.
    fn helm_reads(pair: &str) -> (String, bool) {
        let raw = pair.split_once('=').unwrap().1;
        if raw.starts_with('{') {
            return (String::new(), false);
        }
        let mut value = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().unwrap()),
                ',' => return (value, false),
                c => value.push(c),
            }
        }
        (value, true)
    }

    proptest! {
        #[test]
        fn helm_reads_every_escaped_value_back_whole(value in r"[a-z,\\={}\[\] .]*") {
            let (read, whole) = helm_reads(&format!("k={}", escape_set_value(&value)));
            prop_assert!(whole);
            prop_assert_eq!(read, value);
        }

        #[test]
        fn durations_become_exact_seconds_for_helm_2(h in 0u64..1000, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            let timeout = Timeout::parse("timeout", &format!("{h}h{m}m{s}s{ms}ms")).unwrap();
            let seconds = h * 3600 + m * 60 + s + u64::from(ms > 0);
            prop_assert_eq!(timeout.for_helm(2), seconds.to_string());
        }

        #[test]
        fn the_image_tag_is_always_a_set_string(tag in "[0-9a-f]{7}|[0-9]{7}|[0-9]+e[0-9]+", major in 2u32..=4) {
            let mut u = upgrade();
            u.image_tag = Some(("image.tag".into(), tag.clone()));
            let (argv, _) = u.argv(major).unwrap();
            let at = argv.iter().position(|a| *a == format!("image.tag={tag}")).unwrap();
            prop_assert_eq!(&argv[at - 1], "--set-string");
        }
    }
}
