//! MsrBuildPush@1: from the inputs, the build's variables and the Dockerfile's
//! text to the exact build and push commands, and from what the pushes
//! reported to the output variables and the summary.

use crate::build_plan::{self, BuildArg, Engine};
use crate::dockerfile::{self, Analysis, BuildArgs};
use crate::env_files::join;
use crate::error::{Result, TaskError};
use crate::image_reference::{self, Repository};
use crate::inputs::Inputs;
use crate::labels::{self, OciFacts, PipelineInfo};
use crate::shell_words;
use crate::summary;
use crate::template::{BuildInfo, Tokens};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRequest {
    pub inputs: Inputs,
    pub sources_directory: String,
    /// The `DOCKER_CONFIG` variable (set by MsrLogin).
    pub docker_config: Option<String>,
}

/// The files the shim reads or checks before planning, and the context to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub dockerfile: String,
    pub context: String,
    /// `$DOCKER_CONFIG/config.json`, which podman and buildah are told about.
    pub auth_file: Option<String>,
    /// The `KEY`-alone build-args, whose values the builder takes from its
    /// environment: the shim says which of these names its environment has.
    #[serde(default)]
    pub environment_build_args: Vec<String>,
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with(['/', '\\']) || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn parent_directory(path: &str) -> &str {
    match path.trim_end_matches(['/', '\\']).rfind(['/', '\\']) {
        Some(0) => &path[..1],
        Some(i) => &path[..i],
        None => ".",
    }
}

/// The `buildContext` that means the Dockerfile's directory (its default, as in
/// the built-in Docker task). A sentinel because the agent roots an empty path
/// input at the sources directory, which must stay sayable (`.`).
const DOCKERFILE_DIRECTORY: &str = "**";

/// Resolves `dockerfile` (default `Dockerfile`) and `buildContext` (default:
/// the Dockerfile's directory) against the sources directory. An input that is
/// absent (the shim's `None`) stands for the sources directory itself.
pub fn source(request: SourceRequest) -> Result<Source> {
    let resolve = |path: &str| {
        if is_absolute(path) { path.to_string() } else { join(&request.sources_directory, path) }
    };
    let dockerfile = resolve(request.inputs.optional("dockerfile").unwrap_or("Dockerfile"));
    let context = match request.inputs.optional("buildContext") {
        Some(context) if context.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next() == Some(DOCKERFILE_DIRECTORY) => {
            parent_directory(&dockerfile).to_string()
        }
        Some(context) => resolve(context),
        None => request.sources_directory.clone(),
    };
    let auth_file = request.docker_config.as_deref().filter(|d| !d.trim().is_empty()).map(|d| join(d, "config.json"));
    let environment_build_args = request
        .inputs
        .raw("buildArgs")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && build_arg_line(l).1.is_none())
        .map(str::to_string)
        .collect();
    Ok(Source { dockerfile, context, auth_file, environment_build_args })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRequest {
    pub inputs: Inputs,
    pub build_info: BuildInfo,
    pub source: Source,
    /// `None` when the Dockerfile could not be read.
    pub dockerfile_text: Option<String>,
    /// Why it could not be: the Node error code (`ENOENT`, `EISDIR`, `EACCES`...).
    #[serde(default)]
    pub dockerfile_error: Option<String>,
    /// Which of `source.environment_build_args` the agent's environment has
    /// (names only); `None` when the shim did not look.
    #[serde(default)]
    pub environment_build_args_set: Option<Vec<String>>,
    /// The step's own temporary directory (digest files).
    pub work_directory: String,
    /// Whether `source.auth_file` exists.
    #[serde(default)]
    pub auth_file_exists: bool,
    pub source_date_epoch: Option<String>,
    #[serde(default)]
    pub pipeline: PipelineInfo,
}

/// A command and the sentence that reports its failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Command {
    pub argv: Vec<String>,
    pub failure: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Push {
    pub command: Command,
    /// Where podman and buildah write the digest.
    pub digest_file: Option<String>,
}

/// What the step reports at the end; the shim hands it back with the push results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub repository: String,
    pub tags: Vec<String>,
    pub engine: String,
    pub dockerfile: String,
    pub target: Option<String>,
    pub pushed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Dockerfile warnings, for `tl.warning`.
    pub warnings: Vec<String>,
    pub build: Command,
    pub pushes: Vec<Push>,
    pub report: Report,
}

pub fn plan(request: PlanRequest) -> Result<Plan> {
    let inputs = &request.inputs;
    let repository = image_reference::parse_repository("repository", inputs.required("repository")?)?;
    let engine = Engine::parse("engine", inputs.optional("engine").unwrap_or("docker"))?;
    let tokens = Tokens::new(&request.build_info);
    let tags = tokens.expand_list("tags", inputs.optional("tags").unwrap_or("{{sha}}"))?;
    for tag in &tags {
        image_reference::check_tag("tags", tag)?;
    }
    if tags.is_empty() {
        return Err(TaskError::input(
            "tags",
            "no tag is left after expanding the templates; add one that is always set, such as {{sha}}",
        ));
    }
    let text = dockerfile_text(&request)?;
    let strict = inputs.boolean("strictBuildArgs", false)?;

    let mut build_args = user_build_args(inputs.raw("buildArgs"), &tokens)?;
    // The agent puts secret variables in a step's environment only when `env:` maps
    // them; the builder silently drops a `KEY` it does not find there.
    let not_in_environment: Vec<String> = match &request.environment_build_args_set {
        Some(set) => build_args
            .iter()
            .filter(|a| a.value.is_none() && !set.contains(&a.name))
            .map(|a| a.name.clone())
            .collect(),
        None => Vec::new(),
    };
    let mut analysis = analyse(text, &build_args, &not_in_environment);
    if let Some(name) = inputs.optional("commitBuildArg") {
        if analysis.declares_arg(name) && !build_args.iter().any(|a| a.name == name) {
            let sha = tokens.expand("commitBuildArg", "{{sha}}")?.text;
            build_args.push(BuildArg { name: name.to_string(), value: Some(sha) });
            analysis = analyse(text, &build_args, &not_in_environment);
        }
    }
    let source_date_epoch = request
        .source_date_epoch
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| labels::source_date_epoch("SOURCE_DATE_EPOCH", v))
        .transpose()?;
    // BuildKit stamps its own timestamps from this build-arg; podman and buildah have no equivalent here.
    if let (Some(epoch), Engine::Docker) = (source_date_epoch, engine) {
        if !build_args.iter().any(|a| a.name == "SOURCE_DATE_EPOCH") {
            build_args.push(BuildArg { name: "SOURCE_DATE_EPOCH".into(), value: Some(epoch.to_string()) });
        }
    }
    if let Some(error) = analysis.errors().next() {
        return Err(TaskError::input("dockerfile", &error.message));
    }
    let target = inputs.optional("target").map(str::to_string);
    let built_stage = match &target {
        Some(target) => check_target(&analysis, target)?,
        None => analysis.stages.len().saturating_sub(1),
    };
    let built = analysis.stages_built_for(built_stage);
    let mut warnings: Vec<String> = not_in_environment
        .iter()
        .map(|name| {
            TaskError::input(
                "buildArgs",
                format!("{name} is not set in the agent's environment (map a secret variable with env:)"),
            )
            .to_string()
        })
        .collect();
    warnings.extend(
        analysis.warnings().filter(|f| f.stage.is_none_or(|s| built.contains(&s))).map(|f| f.message.clone()),
    );
    if strict && !warnings.is_empty() {
        return Err(TaskError::input(
            "strictBuildArgs",
            format!("the Dockerfile check found problems, and strictBuildArgs makes them errors: {}", warnings.join(" ")),
        ));
    }
    let images: Vec<String> = tags.iter().map(|t| repository.with_tag(t)).collect();
    let labels = image_labels(inputs, &request, &repository, &tags, &tokens, source_date_epoch)?;
    let auth_file = match &request.source.auth_file {
        Some(file) if engine != Engine::Docker && !request.auth_file_exists => {
            warnings.push(format!(
                "DOCKER_CONFIG is set but {file} does not exist, so {} uses its own credentials.",
                engine.program()
            ));
            None
        }
        other => other.clone(),
    };
    let build = build_plan::Build {
        engine,
        dockerfile: request.source.dockerfile.clone(),
        context: request.source.context.clone(),
        target: target.clone(),
        platform: inputs.optional("platform").map(str::to_string),
        build_args,
        labels,
        images: images.clone(),
        cache_from: cache_sources(inputs.raw("cacheFrom"))?,
        secrets: build_secrets(inputs.raw("secrets"))?,
        extra_arguments: shell_words::split("arguments", inputs.raw("arguments"))?,
        auth_file: auth_file.clone(),
    };
    let push = inputs.boolean("push", true)?;
    let program = engine.program();
    let pushes = if push {
        images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                let digest_file = (engine != Engine::Docker)
                    .then(|| join(&request.work_directory, &format!("digest-{}", i + 1)));
                Push {
                    command: Command {
                        argv: build_plan::push_argv(engine, image, digest_file.as_deref(), auth_file.as_deref()),
                        failure: format!("The {program} push of {image} failed"),
                    },
                    digest_file,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Plan {
        warnings,
        build: Command { argv: build_plan::build_argv(&build), failure: format!("The {program} build failed") },
        pushes,
        report: Report {
            repository: repository.name.clone(),
            tags,
            engine: program.to_string(),
            dockerfile: request.source.dockerfile.clone(),
            target,
            pushed: push,
        },
    })
}

/// The Dockerfile's text, or why there is none to check.
fn dockerfile_text(request: &PlanRequest) -> Result<&str> {
    if let Some(text) = request.dockerfile_text.as_deref() {
        return Ok(text);
    }
    let path = &request.source.dockerfile;
    let problem = match request.dockerfile_error.as_deref() {
        None | Some("ENOENT" | "ENOTDIR") => format!("there is no Dockerfile at {path}"),
        Some("EISDIR") => format!("{path} is a directory; name the Dockerfile itself, as in {}", join(path, "Dockerfile")),
        Some(code) => format!("the Dockerfile at {path} cannot be read ({code})"),
    };
    Err(TaskError::input("dockerfile", problem))
}

/// Checks the Dockerfile for a build with `build_args`; those in `unset` do not
/// reach the builder (a `KEY` its environment lacks), as if not passed.
fn analyse(text: &str, build_args: &[BuildArg], unset: &[String]) -> Analysis {
    let given: BuildArgs = build_args
        .iter()
        .filter(|a| !unset.contains(&a.name))
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect();
    dockerfile::analyse(text, &given)
}

/// The index of the stage `target` names.
fn check_target(analysis: &Analysis, target: &str) -> Result<usize> {
    if let Some(stage) = analysis.stage_named(target) {
        return Ok(stage.index);
    }
    let named = analysis.stages.iter().any(|s| s.name.is_some());
    let stages = if named {
        format!("its stages are {}", analysis.stage_list())
    } else {
        "none of its stages has a name (FROM image AS name)".to_string()
    };
    Err(TaskError::input("target", format!("the Dockerfile has no stage named \"{target}\"; {stages}")))
}

/// How a build-arg value with `{{` that is not a token (a Go template) gets through.
const BUILD_ARG_LITERALLY: &str = "; to pass a value with {{ as it is, write the name alone in buildArgs and \
     set the value in the step's env:, or pass --build-arg in arguments";

/// A trimmed `buildArgs` line: `KEY=VALUE` → (`KEY`, Some(raw `VALUE`)), both
/// trimmed; `KEY` alone (its value comes from the environment) → (`KEY`, None).
fn build_arg_line(line: &str) -> (&str, Option<&str>) {
    match line.split_once('=') {
        Some((name, value)) => (name.trim(), Some(value.trim())),
        None => (line, None),
    }
}

/// `KEY=VALUE` lines (templates in VALUE) and `KEY` lines (from the environment).
fn user_build_args(text: &str, tokens: &Tokens) -> Result<Vec<BuildArg>> {
    let mut args: Vec<BuildArg> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, raw) = build_arg_line(line);
        let value = raw.map(|v| tokens.expand_with_hint("buildArgs", v, BUILD_ARG_LITERALLY).map(|e| e.text)).transpose()?;
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(TaskError::input("buildArgs", format!("\"{name}\" in \"{line}\" is not a valid build-arg name")));
        }
        args.retain(|a| a.name != name);
        args.push(BuildArg { name: name.to_string(), value });
    }
    Ok(args)
}

/// One image per line, each checked, its repository kept for podman and buildah.
fn cache_sources(text: &str) -> Result<Vec<build_plan::CacheSource>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|reference| {
            let repository = image_reference::parse_image("cacheFrom", reference)?.to_string();
            Ok(build_plan::CacheSource { reference: reference.to_string(), repository })
        })
        .collect()
}

/// `id=ENV_VAR` lines.
fn build_secrets(text: &str) -> Result<Vec<(String, String)>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (id, variable) = line.split_once('=').map(|(i, v)| (i.trim(), v.trim())).unwrap_or((line, ""));
            let id_valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            let variable_valid = variable.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && variable.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if id_valid && variable_valid {
                Ok((id.to_string(), variable.to_string()))
            } else {
                Err(TaskError::input("secrets", format!("\"{line}\" is not id=ENV_VAR, as in nuget=NUGET_TOKEN")))
            }
        })
        .collect()
}

fn image_labels(
    inputs: &Inputs,
    request: &PlanRequest,
    repository: &Repository,
    tags: &[String],
    tokens: &Tokens,
    source_date_epoch: Option<i64>,
) -> Result<labels::Labels> {
    let mut sets = Vec::new();
    if inputs.boolean("ociLabels", true)? {
        sets.push(labels::oci_labels(&OciFacts {
            revision: tokens.sha_long(),
            repository_uri: request.pipeline.repository_uri.as_deref(),
            created_epoch_seconds: source_date_epoch.unwrap_or(request.build_info.now_epoch_seconds),
            first_tag: tags.first().map(String::as_str),
            title: repository.title(),
        }));
    }
    if inputs.boolean("pipelineLabels", false)? {
        sets.push(labels::pipeline_labels(&request.pipeline));
    }
    sets.push(labels::user_labels("labels", inputs.raw("labels"), tokens)?);
    Ok(labels::merge(sets))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushResult {
    /// What the push printed on standard output (docker reports the digest there).
    #[serde(default)]
    pub stdout: String,
    /// The content of the push's digest file (podman, buildah).
    pub digest_file_text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishRequest {
    pub report: Report,
    #[serde(default)]
    pub pushes: Vec<PushResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finished {
    pub outputs: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    pub summary: String,
}

/// The output variables and summary once the build (and pushes) succeeded.
pub fn finish(request: FinishRequest) -> Result<Finished> {
    let report = request.report;
    let image_ref = format!("{}:{}", report.repository, report.tags.first().map(String::as_str).unwrap_or(""));
    let digest = request.pushes.first().and_then(|push| match &push.digest_file_text {
        Some(text) => build_plan::digest_from_file(text),
        None => build_plan::digest_from_docker_push(&push.stdout),
    });
    let mut warnings = Vec::new();
    if report.pushed && digest.is_none() {
        warnings.push(format!(
            "The push succeeded but {} reported no digest, so the outputs digest and imageRefDigest are not set.",
            report.engine
        ));
    }
    let mut outputs = BTreeMap::from([
        ("imageName".to_string(), report.repository.clone()),
        ("tags".to_string(), report.tags.join(",")),
        ("imageRef".to_string(), image_ref.clone()),
    ]);
    let mut rows = vec![("Repository", report.repository.clone()), ("Tags", report.tags.join(", "))];
    if let Some(digest) = &digest {
        outputs.insert("digest".into(), digest.clone());
        outputs.insert("imageRefDigest".into(), format!("{}@{digest}", report.repository));
        rows.push(("Digest", digest.clone()));
    }
    rows.push(("Pushed", if report.pushed { "yes".into() } else { "no (push is false)".into() }));
    rows.push(("Engine", report.engine.clone()));
    rows.push(("Dockerfile", report.dockerfile.clone()));
    if let Some(target) = &report.target {
        rows.push(("Target", target.clone()));
    }
    Ok(Finished { outputs, warnings, summary: summary::render("MSR build and push", &rows) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const DOCKERFILE: &str = "ARG BASE=alpine:3.20\nFROM ${BASE} AS build\nARG COMMIT_ID\nRUN echo $COMMIT_ID\nFROM build AS runtime\n";

    fn request(pairs: &[(&str, &str)]) -> PlanRequest {
        PlanRequest {
            inputs: Inputs::from_pairs(pairs.iter().copied()),
            build_info: BuildInfo {
                source_version: Some(SHA.into()),
                source_branch: Some("refs/heads/feature/Login".into()),
                build_id: Some("1234".into()),
                build_number: Some("20261203.1".into()),
                now_epoch_seconds: 1_764_790_853,
            },
            source: Source {
                dockerfile: "/s/Dockerfile".into(),
                context: "/s".into(),
                auth_file: None,
                environment_build_args: Vec::new(),
            },
            dockerfile_text: Some(DOCKERFILE.into()),
            dockerfile_error: None,
            environment_build_args_set: None,
            work_directory: "/t/msr-build-push-1".into(),
            auth_file_exists: false,
            source_date_epoch: None,
            pipeline: PipelineInfo {
                collection_uri: Some("https://dev.azure.com/contoso/".into()),
                repository_uri: Some("https://contoso@dev.azure.com/contoso/web/_git/techorama".into()),
                team_project: Some("web".into()),
                ..PipelineInfo::default()
            },
        }
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        plan(request(pairs)).unwrap_err().to_string()
    }

    fn values_after<'a>(argv: &'a [String], flag: &str) -> Vec<&'a str> {
        argv.windows(2).filter(|w| w[0] == flag).map(|w| w[1].as_str()).collect()
    }

    #[test]
    fn default_docker_plan() {
        let plan = plan(request(&[
            ("repository", "msr.example.com/web/techorama"),
            ("tags", "{{sha}}\n{{branch}}, latest,{{sha}}"),
            ("commitBuildArg", "COMMIT_ID"),
        ]))
        .unwrap();
        let argv = &plan.build.argv;
        assert_eq!(&argv[..4], ["docker", "build", "-f", "/s/Dockerfile"]);
        assert_eq!(argv.last().unwrap(), "/s");
        assert_eq!(values_after(argv, "--build-arg"), ["COMMIT_ID=9f86d08"]);
        assert_eq!(
            values_after(argv, "-t"),
            ["msr.example.com/web/techorama:9f86d08", "msr.example.com/web/techorama:feature-Login", "msr.example.com/web/techorama:latest"]
        );
        assert_eq!(
            values_after(argv, "--label"),
            [
                format!("org.opencontainers.image.revision={SHA}").as_str(),
                "org.opencontainers.image.source=https://dev.azure.com/contoso/web/_git/techorama",
                "org.opencontainers.image.created=2025-12-03T19:40:53Z",
                "org.opencontainers.image.version=9f86d08",
                "org.opencontainers.image.title=techorama",
            ]
        );
        assert_eq!(plan.pushes.len(), 3);
        assert_eq!(plan.pushes[1].command.argv, ["docker", "push", "msr.example.com/web/techorama:feature-Login"]);
        assert_eq!(plan.pushes[0].digest_file, None);
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn buildah_plan_with_everything() {
        let mut r = request(&[
            ("repository", "127.0.0.1:5000/web/app"),
            ("engine", "buildah"),
            ("tags", "v1"),
            ("buildArgs", "BASE=busybox\nFROM_ENV\nCOMMIT_ID=override-{{build_id}}"),
            ("commitBuildArg", "COMMIT_ID"),
            ("labels", "com.example.team=web"),
            ("ociLabels", "false"),
            ("pipelineLabels", "true"),
            ("target", "Runtime"),
            ("platform", "linux/arm64"),
            ("cacheFrom", "127.0.0.1:5000/web/app:cache\n"),
            ("secrets", "nuget = NUGET_TOKEN"),
            ("arguments", "--layers --build-arg 'X=a b'"),
        ]);
        r.source.auth_file = Some("/t/docker-config-1/config.json".into());
        r.auth_file_exists = true;
        r.source_date_epoch = Some("0".into());
        r.dockerfile_text = Some(format!("ARG FROM_ENV\n{DOCKERFILE}"));
        let plan = plan(r).unwrap();
        assert_eq!(
            plan.build.argv,
            [
                "buildah", "bud", "-f", "/s/Dockerfile", "--authfile", "/t/docker-config-1/config.json", "--target", "Runtime",
                "--platform", "linux/arm64", "--build-arg", "BASE=busybox", "--build-arg", "FROM_ENV", "--build-arg",
                "COMMIT_ID=override-1234", "--label",
                "com.azure.dev.image.system.teamfoundationcollectionuri=https://dev.azure.com/contoso/", "--label",
                "com.azure.dev.image.system.teamproject=web", "--label",
                "com.azure.dev.image.build.repository.uri=https://dev.azure.com/contoso/web/_git/techorama", "--label",
                "com.example.team=web", "-t", "127.0.0.1:5000/web/app:v1", "--cache-from", "127.0.0.1:5000/web/app",
                "--secret", "id=nuget,env=NUGET_TOKEN", "--layers", "--layers", "--build-arg", "X=a b", "/s",
            ]
        );
        assert_eq!(
            plan.pushes[0].command.argv,
            ["buildah", "push", "--digestfile", "/t/msr-build-push-1/digest-1", "--authfile", "/t/docker-config-1/config.json", "127.0.0.1:5000/web/app:v1"]
        );
        assert_eq!(plan.pushes[0].digest_file.as_deref(), Some("/t/msr-build-push-1/digest-1"));
    }

    #[test]
    fn a_missing_auth_file_is_a_warning_not_an_argument() {
        let mut r = request(&[("repository", "r.io/a/b"), ("engine", "podman")]);
        r.source.auth_file = Some("/t/cfg/config.json".into());
        let plan = plan(r).unwrap();
        assert!(!plan.build.argv.contains(&"--authfile".to_string()));
        assert!(!plan.pushes[0].command.argv.contains(&"--authfile".to_string()));
        assert_eq!(plan.warnings, ["DOCKER_CONFIG is set but /t/cfg/config.json does not exist, so podman uses its own credentials."]);
    }

    #[test]
    fn source_date_epoch_sets_created_and_the_docker_build_arg() {
        let mut r = request(&[("repository", "r.io/a/b")]);
        r.source_date_epoch = Some("86400".into());
        let plan = plan(r).unwrap();
        assert!(values_after(&plan.build.argv, "--label").contains(&"org.opencontainers.image.created=1970-01-02T00:00:00Z"));
        assert!(values_after(&plan.build.argv, "--build-arg").contains(&"SOURCE_DATE_EPOCH=86400"));
        let mut bad = request(&[("repository", "r.io/a/b")]);
        bad.source_date_epoch = Some("soon".into());
        assert!(super::plan(bad).unwrap_err().to_string().contains("SOURCE_DATE_EPOCH is \"soon\""));
    }

    #[test]
    fn commit_build_arg_only_when_declared_and_can_be_disabled() {
        let mut r = request(&[("repository", "r.io/a/b"), ("commitBuildArg", "GIT_SHA")]);
        r.dockerfile_text = Some("FROM a\n".into());
        assert!(values_after(&plan(r).unwrap().build.argv, "--build-arg").is_empty());
        let disabled = plan(request(&[("repository", "r.io/a/b"), ("commitBuildArg", "")])).unwrap();
        assert!(values_after(&disabled.build.argv, "--build-arg").is_empty());
    }

    #[test]
    fn bad_inputs_name_the_input() {
        assert_eq!(error(&[("repository", "")]), "Input 'repository': a value is required");
        assert!(error(&[("repository", "msr.example.com/Web/App")]).contains("must be lower case"));
        assert_eq!(
            error(&[("repository", "r.io/a/b"), ("tags", "ok, bad tag!")]),
            "Input 'tags': \"bad tag!\" is not a valid tag: a tag is 1 to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'"
        );
        assert!(error(&[("repository", "r.io/a/b"), ("tags", "{{version}}")]).starts_with("Input 'tags': no tag is left"));
        assert_eq!(
            error(&[("repository", "r.io/a/b"), ("target", "tests")]),
            "Input 'target': the Dockerfile has no stage named \"tests\"; its stages are build, runtime"
        );
        assert!(error(&[("repository", "r.io/a/b"), ("engine", "kaniko")]).starts_with("Input 'engine'"));
        assert!(error(&[("repository", "r.io/a/b"), ("buildArgs", "A B=1")]).starts_with("Input 'buildArgs'"));
        assert!(error(&[("repository", "r.io/a/b"), ("secrets", "token")]).starts_with("Input 'secrets'"));
        assert!(error(&[("repository", "r.io/a/b"), ("arguments", "--x 'open")]).starts_with("Input 'arguments'"));
        let mut missing = request(&[("repository", "r.io/a/b")]);
        missing.dockerfile_text = None;
        assert_eq!(plan(missing).unwrap_err().to_string(), "Input 'dockerfile': there is no Dockerfile at /s/Dockerfile");
        let mut broken = request(&[("repository", "r.io/a/b")]);
        broken.dockerfile_text = Some("FROM a\nRUNN x\n".into());
        assert_eq!(plan(broken).unwrap_err().to_string(), "Input 'dockerfile': Dockerfile line 2: unknown instruction RUNN.");
    }

    #[test]
    fn braces_that_are_not_tokens_are_errors_that_say_how_to_pass_them() {
        let message = error(&[("repository", "r.io/a/b"), ("buildArgs", "FMT={{.Name}}")]);
        assert!(message.starts_with("Input 'buildArgs': unknown template token {{.Name}}; the tokens are {{sha}}"), "{message}");
        assert!(message.ends_with("; to pass a value with {{ as it is, write the name alone in buildArgs and set the value in the step's env:, or pass --build-arg in arguments"), "{message}");
        let message = error(&[("repository", "r.io/a/b"), ("labels", "fmt={{json .}}")]);
        assert!(message.starts_with("Input 'labels': unknown template token {{json .}}"), "{message}");
        assert!(message.ends_with("; to pass a value with {{ as it is, pass --label in arguments"), "{message}");
        // Tags have no such way: an image tag cannot hold braces.
        assert!(!error(&[("repository", "r.io/a/b"), ("tags", "{{x}}")]).contains("as it is"));
    }

    #[test]
    fn why_the_dockerfile_cannot_be_read() {
        let read = |error: Option<&str>| {
            let mut r = request(&[("repository", "r.io/a/b")]);
            r.dockerfile_text = None;
            r.dockerfile_error = error.map(str::to_string);
            plan(r).unwrap_err().to_string()
        };
        assert_eq!(read(Some("ENOENT")), "Input 'dockerfile': there is no Dockerfile at /s/Dockerfile");
        assert_eq!(read(Some("ENOTDIR")), "Input 'dockerfile': there is no Dockerfile at /s/Dockerfile");
        assert_eq!(
            read(Some("EISDIR")),
            "Input 'dockerfile': /s/Dockerfile is a directory; name the Dockerfile itself, as in /s/Dockerfile/Dockerfile"
        );
        assert_eq!(read(Some("EACCES")), "Input 'dockerfile': the Dockerfile at /s/Dockerfile cannot be read (EACCES)");
    }

    #[test]
    fn a_build_arg_the_environment_lacks_is_a_warning_and_unset() {
        let dockerfile = "ARG BASE\nFROM ${BASE:-alpine}\nARG NPM_TOKEN\nARG CONFIGURATION\n";
        let run = |set: Option<&[&str]>, strict: &str| {
            let mut r = request(&[
                ("repository", "r.io/a/b"),
                ("buildArgs", "NPM_TOKEN\nCONFIGURATION\nBASE"),
                ("strictBuildArgs", strict),
            ]);
            r.dockerfile_text = Some(dockerfile.into());
            r.environment_build_args_set = set.map(|s| s.iter().map(|n| n.to_string()).collect());
            plan(r)
        };
        let lenient = run(Some(&["CONFIGURATION"]), "false").unwrap();
        assert_eq!(
            lenient.warnings,
            [
                "Input 'buildArgs': NPM_TOKEN is not set in the agent's environment (map a secret variable with env:)",
                "Input 'buildArgs': BASE is not set in the agent's environment (map a secret variable with env:)",
            ]
        );
        // The builder is still told the names; it drops those it cannot find.
        assert_eq!(values_after(&lenient.build.argv, "--build-arg"), ["NPM_TOKEN", "CONFIGURATION", "BASE"]);
        assert!(run(Some(&["CONFIGURATION", "NPM_TOKEN", "BASE"]), "true").unwrap().warnings.is_empty());
        assert!(run(None, "true").unwrap().warnings.is_empty());
        let strict = run(Some(&["CONFIGURATION", "BASE"]), "true").unwrap_err().to_string();
        assert!(strict.starts_with("Input 'strictBuildArgs': "), "{strict}");
        assert!(strict.contains("NPM_TOKEN is not set in the agent's environment"), "{strict}");
        // Analysed as unset: a FROM that needs it is reported.
        let mut r = request(&[("repository", "r.io/a/b"), ("buildArgs", "BASE")]);
        r.dockerfile_text = Some("ARG BASE\nFROM ${BASE}\n".into());
        r.environment_build_args_set = Some(Vec::new());
        let warnings = plan(r).unwrap().warnings;
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[2].contains("expands to an empty image name"), "{warnings:?}");
    }

    #[test]
    fn only_warnings_about_stages_the_build_runs_count() {
        let text = "ARG V=1\nFROM a AS test\nRUN echo $V\nFROM b AS final\n";
        let mut r = request(&[("repository", "r.io/a/b"), ("strictBuildArgs", "true")]);
        r.dockerfile_text = Some(text.into());
        assert!(plan(r).is_ok());
        let mut r = request(&[("repository", "r.io/a/b"), ("target", "test")]);
        r.dockerfile_text = Some(text.into());
        assert_eq!(plan(r).unwrap().warnings.len(), 1);
    }

    #[test]
    fn warnings_and_strict_build_args() {
        let lenient = plan(request(&[("repository", "r.io/a/b"), ("buildArgs", "UNUSED=1")])).unwrap();
        assert_eq!(lenient.warnings, ["The build-arg UNUSED is not declared by any ARG in the Dockerfile, so the build ignores it."]);
        assert_eq!(
            error(&[("repository", "r.io/a/b"), ("buildArgs", "UNUSED=1"), ("strictBuildArgs", "true")]),
            "Input 'strictBuildArgs': the Dockerfile check found problems, and strictBuildArgs makes them errors: The build-arg UNUSED is not declared by any ARG in the Dockerfile, so the build ignores it."
        );
    }

    #[test]
    fn sources_resolve_against_the_sources_directory() {
        let src = |pairs: &[(&str, &str)]| {
            source(SourceRequest {
                inputs: Inputs::from_pairs(pairs.iter().copied()),
                sources_directory: "/w/s".into(),
                docker_config: Some("/w/_temp/docker-config-1".into()),
            })
            .unwrap()
        };
        assert_eq!(
            src(&[]),
            Source {
                dockerfile: "/w/s/Dockerfile".into(),
                context: "/w/s".into(),
                auth_file: Some("/w/_temp/docker-config-1/config.json".into()),
                environment_build_args: Vec::new(),
            }
        );
        let from_environment = src(&[("buildArgs", "A=1\n  NPM_TOKEN \n\nB=\nSECRET_X\n")]).environment_build_args;
        assert_eq!(from_environment, ["NPM_TOKEN", "SECRET_X"]);
        // The default `**`, rooted by the agent: the Dockerfile's directory.
        let web = |context| src(&[("dockerfile", "/w/s/src/web/Dockerfile"), ("buildContext", context)]).context;
        assert_eq!(web("/w/s/**"), "/w/s/src/web");
        assert_eq!(web("**"), "/w/s/src/web");
        // `.` and $(Build.SourcesDirectory) reach the core as no value: the sources directory.
        assert_eq!(src(&[("dockerfile", "/w/s/src/web/Dockerfile")]).context, "/w/s");
        assert_eq!(web("/w/s/src"), "/w/s/src");
        let relative = src(&[("dockerfile", "app/Dockerfile"), ("buildContext", "/ctx")]);
        assert_eq!((relative.dockerfile.as_str(), relative.context.as_str()), ("/w/s/app/Dockerfile", "/ctx"));
        let windows = source(SourceRequest {
            inputs: Inputs::from_pairs([("dockerfile", "C:\\a\\s\\Dockerfile")]),
            sources_directory: "C:\\a\\s".into(),
            docker_config: Some("C:\\a\\_temp\\cfg".into()),
        })
        .unwrap();
        assert_eq!(windows.context, "C:\\a\\s");
        assert_eq!(windows.auth_file.as_deref(), Some("C:\\a\\_temp\\cfg\\config.json"));
    }

    #[test]
    fn finish_reads_the_digest_of_each_engine() {
        let report = |engine: &str, pushed| Report {
            repository: "r.io/a/b".into(),
            tags: vec!["9f86d08".into(), "latest".into()],
            engine: engine.into(),
            dockerfile: "/s/Dockerfile".into(),
            target: None,
            pushed,
        };
        let docker = finish(FinishRequest {
            report: report("docker", true),
            pushes: vec![PushResult { stdout: format!("9f86d08: digest: {DIGEST} size: 528\n"), digest_file_text: None }],
        })
        .unwrap();
        assert_eq!(docker.outputs["imageRef"], "r.io/a/b:9f86d08");
        assert_eq!(docker.outputs["tags"], "9f86d08,latest");
        assert_eq!(docker.outputs["imageRefDigest"], format!("r.io/a/b@{DIGEST}"));
        assert!(docker.summary.contains(DIGEST));
        let buildah = finish(FinishRequest {
            report: report("buildah", true),
            pushes: vec![PushResult { stdout: String::new(), digest_file_text: Some(DIGEST.to_string()) }],
        })
        .unwrap();
        assert_eq!(buildah.outputs["digest"], DIGEST);
        let silent = finish(FinishRequest { report: report("docker", true), pushes: vec![PushResult { stdout: "done".into(), digest_file_text: None }] }).unwrap();
        assert!(!silent.outputs.contains_key("digest"));
        assert_eq!(silent.warnings.len(), 1);
        let local = finish(FinishRequest { report: report("docker", false), pushes: vec![] }).unwrap();
        assert!(local.warnings.is_empty());
        assert!(local.summary.contains("no (push is false)"));
    }

    /// The tag grammar of distribution/reference, written out independently of `check_tag`.
    fn is_tag(tag: &str) -> bool {
        let b = tag.as_bytes();
        (1..=128).contains(&b.len())
            && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
    }

    proptest! {
        #[test]
        fn every_tag_emitted_matches_the_tag_grammar(
            entries in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(crate::template::TOKENS.to_vec()).prop_map(|t| format!("{{{{{t}}}}}")),
                    "[ -~]{0,6}",
                    "\\PC{0,3}",
                ],
                0..6,
            ),
            branch in "refs/(heads|tags|pull)/\\PC{0,30}",
            build_number in "[ -~]{0,12}",
        ) {
            let mut r = request(&[("repository", "msr.example.com/web/app"), ("tags", &entries.concat())]);
            r.build_info.source_branch = Some(branch);
            r.build_info.build_number = Some(build_number);
            if let Ok(plan) = plan(r) {
                prop_assert!(!plan.report.tags.is_empty());
                for tag in &plan.report.tags {
                    prop_assert!(is_tag(tag), "{:?}", tag);
                }
                let images: Vec<String> = plan.report.tags.iter().map(|t| format!("msr.example.com/web/app:{t}")).collect();
                prop_assert_eq!(values_after(&plan.build.argv, "-t"), images.iter().map(String::as_str).collect::<Vec<_>>());
                for (push, image) in plan.pushes.iter().zip(&images) {
                    prop_assert_eq!(push.command.argv.last(), Some(image));
                }
            }
        }
    }
}
