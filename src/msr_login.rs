//! MsrLogin@1: which credentials, where they go, the commands and files that
//! put them there, and what the post-job step takes away again.

use crate::docker_config::{self, Cleanup, Target};
use crate::error::{Result, TaskError};
use crate::inputs::Inputs;
use crate::registry_auth::{self, Credentials, HttpRequest};
use crate::summary;
use crate::temp_paths::removable_inside;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A `dockerregistry` service connection as task-lib reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub url: Option<String>,
    pub scheme: Option<String>,
    pub registry: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRequest {
    pub inputs: Inputs,
    pub endpoint: Option<Endpoint>,
    pub agent_temp_directory: String,
    /// The `DOCKER_CONFIG` variable as this step sees it.
    pub docker_config: Option<String>,
    pub home: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginMethod {
    Config,
    Docker,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub registry: String,
    pub username: String,
    /// Register with the agent before anything is printed (the base64 `auth`).
    pub secrets: Vec<String>,
    /// The first request of the credentials check, when it is wanted.
    pub verify: Option<HttpRequest>,
    pub login_method: LoginMethod,
    /// The job's existing config directory to add to, or None for a fresh one.
    pub merge_into: Option<String>,
    /// The file whose contents `write` needs (the job's config, or the user's own, read only).
    pub read_config: String,
}

fn credentials(r: &PlanRequest) -> Result<(Credentials, &'static str)> {
    let own = ["registry", "username", "accessToken"];
    let Some(endpoint) = &r.endpoint else {
        let registry = registry_auth::normalise_registry("registry", r.inputs.raw("registry"))?;
        let username = check_username("username", r.inputs.optional("username"))?;
        let access_token = check_token("accessToken", r.inputs.raw("accessToken"))?;
        return Ok((Credentials { registry, username, access_token }, "accessToken"));
    };
    if let Some(extra) = own.iter().find(|n| r.inputs.optional(n).is_some()) {
        return Err(TaskError::input(
            "containerRegistry",
            format!("use either the service connection or the inputs registry, username and accessToken, not both ('{extra}' is also set)"),
        ));
    }
    let scheme = endpoint.scheme.as_deref().unwrap_or("UsernamePassword");
    if !scheme.eq_ignore_ascii_case("UsernamePassword") {
        return Err(TaskError::input(
            "containerRegistry",
            format!("the service connection uses \"{scheme}\" authorization; MSR needs a username and token (Docker Registry connection of type Others)"),
        ));
    }
    // A dockerregistry connection carries the registry as an authorization
    // parameter (what docker logs in to); its URL is only the fallback.
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.trim().is_empty())
    }
    let address = given(&endpoint.registry).or(given(&endpoint.url)).unwrap_or("");
    let registry = registry_auth::normalise_registry("containerRegistry", address)?;
    let username = check_username("containerRegistry", endpoint.username.as_deref().map(str::trim).filter(|u| !u.is_empty()))?;
    let access_token = check_token("containerRegistry", endpoint.password.as_deref().unwrap_or(""))?;
    Ok((Credentials { registry, username, access_token }, "containerRegistry"))
}

fn check_username(input: &str, value: Option<&str>) -> Result<String> {
    let Some(name) = value else {
        return Err(TaskError::input(input, "the service account name is required"));
    };
    if name.contains(':') || name.chars().any(char::is_control) {
        return Err(TaskError::input(input, format!("\"{}\" is not a valid account name (no ':' or control characters)", name.escape_default())));
    }
    Ok(name.to_string())
}

/// Checks the token without ever quoting it.
fn check_token(input: &str, value: &str) -> Result<String> {
    let token = value.trim();
    if token.is_empty() {
        return Err(TaskError::input(input, "the access token is empty (is the secret variable set and mapped?)"));
    }
    // The agent leaves a macro of an undefined variable as it is.
    if token.starts_with("$(") && token.ends_with(')') {
        return Err(TaskError::input(input, format!("{token} is not a defined variable (is the secret variable set for this pipeline?)")));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TaskError::input(input, "the access token contains spaces or line breaks; paste the token alone"));
    }
    Ok(token.to_string())
}

pub fn plan(r: &PlanRequest) -> Result<Plan> {
    let (credentials, _) = credentials(r)?;
    let login_method = match r.inputs.optional("loginMethod").unwrap_or("config") {
        m if m.eq_ignore_ascii_case("config") => LoginMethod::Config,
        m if m.eq_ignore_ascii_case("docker") => LoginMethod::Docker,
        other => return Err(TaskError::input("loginMethod", format!("expected config or docker, got \"{other}\""))),
    };
    let verify = r.inputs.boolean("verifyCredentials", true)?.then(|| registry_auth::first_request(&credentials));
    let (merge_into, read_config) = match docker_config::target(&r.agent_temp_directory, r.docker_config.as_deref(), r.home.as_deref()) {
        Target::Merge { directory } => (Some(directory.clone()), format!("{directory}/config.json")),
        Target::Create { carry_from } => (None, carry_from),
    };
    Ok(Plan {
        // The token as used (trimmed): the shim registered only the raw input.
        secrets: vec![credentials.basic(), credentials.access_token.clone()],
        registry: credentials.registry,
        username: credentials.username,
        verify,
        login_method,
        merge_into,
        read_config,
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    pub plan: PlanRequest,
    pub stage: registry_auth::Stage,
    pub outcome: registry_auth::Outcome,
}

pub fn verify(r: &VerifyRequest) -> Result<registry_auth::Next> {
    let (credentials, _) = credentials(&r.plan)?;
    registry_auth::next(&credentials, &r.stage, &r.outcome)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteRequest {
    pub plan: PlanRequest,
    /// The directory to write in: `mergeInto`, or the fresh one the shim made.
    pub directory: String,
    /// The contents of `readConfig`, when it exists.
    pub existing: Option<String>,
    /// How the check went (`Next::Verified.how`), None when not checked.
    pub verified: Option<String>,
    /// Whether `cli-plugins` exists beside `readConfig` (the user's own docker plugins).
    #[serde(default)]
    pub user_cli_plugins: bool,
    /// How `Writing.storeProbe` went, once the shim has run it.
    #[serde(default)]
    pub store_probe: Option<ProbeResult>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    /// None when the helper could not be started.
    pub exit_code: Option<i32>,
}

/// A tool to run: its arguments, standard input and extra environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    pub argv: Vec<String>,
    pub stdin: String,
    pub env: BTreeMap<String, String>,
}

/// What the post-job step gets back, as one task variable (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub directory: String,
    pub created: bool,
    pub registry: String,
    pub login_method: LoginMethod,
    /// docker login replaced an entry the credential store already held: the
    /// post-job step must not `docker logout` (it would delete that entry for every job of the agent's user).
    pub store_had_entry: bool,
}

// By hand through `Value`, whose parser the crate has anyway: a derived
// Deserialize would add a second JSON parser to the wasm.
impl Saved {
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "directory": self.directory,
            "created": self.created,
            "registry": self.registry,
            "loginMethod": if self.login_method == LoginMethod::Docker { "docker" } else { "config" },
            "storeHadEntry": self.store_had_entry,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Option<Saved> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
        Some(Saved {
            directory: text("directory")?,
            created: value.get("created")?.as_bool()?,
            registry: text("registry")?,
            login_method: match text("loginMethod")?.as_str() {
                "docker" => LoginMethod::Docker,
                "config" => LoginMethod::Config,
                _ => return None,
            },
            store_had_entry: value.get("storeHadEntry").and_then(serde_json::Value::as_bool).unwrap_or(false),
        })
    }
}

pub const SAVED_VARIABLE: &str = "MsrLoginState";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writing {
    /// The file to write (0600, replacing atomically), and its contents; None: leave it.
    pub config_file: String,
    pub contents: Option<String>,
    /// Run this first (its output is a stored secret: never print it) and ask
    /// again with `storeProbe`: whether the credential store docker login will
    /// write to already holds the registry. Nothing else of this answer counts then.
    pub store_probe: Option<ToolCall>,
    pub docker_login: Option<ToolCall>,
    /// Job variables for the later steps.
    pub variables: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub task_variables: BTreeMap<String, String>,
    pub warnings: Vec<String>,
    pub summary: String,
}

pub fn write(r: &WriteRequest) -> Result<Writing> {
    let plan = plan(&r.plan)?;
    let (credentials, _) = credentials(&r.plan)?;
    let directory = r.directory.trim_end_matches('/').to_string();
    if !removable_inside(&r.plan.agent_temp_directory, &directory) {
        return Err(TaskError::other(format!("Internal error: {directory} is not inside Agent.TempDirectory")));
    }
    let auth = (plan.login_method == LoginMethod::Config).then(|| credentials.basic());
    let config_file = format!("{directory}/config.json");
    let created = plan.merge_into.is_none();
    let written = if created {
        let user_plugins = r.user_cli_plugins.then(|| {
            format!("{}/cli-plugins", plan.read_config.rsplit_once('/').map_or("", |(directory, _)| directory))
        });
        Some(docker_config::create(r.existing.as_deref(), &plan.read_config, user_plugins.as_deref(), &credentials.registry, auth.as_deref()))
    } else if auth.is_some() {
        Some(docker_config::merge(r.existing.as_deref().unwrap_or(""), &config_file, &credentials.registry, auth.as_deref())?)
    } else {
        None // docker login adds its entry to the job's file itself
    };
    // docker login writes to the credential store of the config it uses, shared
    // by every job of the agent's user: find out whether it holds the registry already.
    let helper = (plan.login_method == LoginMethod::Docker)
        .then(|| written.as_ref().map(|w| w.contents.as_str()).or(r.existing.as_deref()).unwrap_or(""))
        .and_then(|config| docker_config::credential_helper(config, &credentials.registry));
    let store_probe = match (&helper, &r.store_probe) {
        (Some(helper), None) => Some(ToolCall {
            argv: vec![format!("docker-credential-{helper}"), "get".into()],
            stdin: credentials.registry.clone(),
            env: BTreeMap::new(),
        }),
        _ => None,
    };
    let store_had_entry = helper.is_some() && r.store_probe.as_ref().is_some_and(|p| p.exit_code == Some(0));
    let docker_login = (plan.login_method == LoginMethod::Docker).then(|| ToolCall {
        argv: ["docker", "login", "--username", &credentials.username, "--password-stdin", &credentials.registry]
            .map(String::from)
            .to_vec(),
        stdin: credentials.access_token.clone(),
        env: BTreeMap::from([("DOCKER_CONFIG".to_string(), directory.clone())]),
    });
    let saved = Saved {
        directory: directory.clone(),
        created,
        registry: credentials.registry.clone(),
        login_method: plan.login_method.clone(),
        store_had_entry,
    };
    let check = match &r.verified {
        Some(how) => format!("verified ({how})"),
        None => "not checked (verifyCredentials: false)".to_string(),
    };
    let method = match plan.login_method {
        LoginMethod::Config => "config.json written by the task",
        LoginMethod::Docker => "docker login --password-stdin",
    };
    let summary = summary::render(
        "MSR login",
        &[
            ("Registry", credentials.registry.clone()),
            ("Account", credentials.username.clone()),
            ("Credentials", check),
            ("Method", method.to_string()),
            ("DOCKER_CONFIG", format!("{directory}{}", if created { "" } else { " (merged)" })),
        ],
    );
    let (contents, mut warnings) = match written {
        Some(w) => (Some(w.contents), w.warnings),
        None => (None, Vec::new()),
    };
    if let (true, Some(helper)) = (store_had_entry, &helper) {
        warnings.push(format!(
            "The credential store \"{helper}\" already holds a login for {}, shared by every job of this agent's user: \
             docker login replaces it with {}'s, and the post-job step leaves that entry in place instead of running docker logout",
            credentials.registry, credentials.username
        ));
    }
    Ok(Writing {
        config_file,
        contents,
        store_probe,
        docker_login,
        variables: BTreeMap::from([("DOCKER_CONFIG".to_string(), directory.clone())]),
        outputs: BTreeMap::from([("dockerConfig".to_string(), directory)]),
        task_variables: BTreeMap::from([(
            SAVED_VARIABLE.to_string(),
            saved.to_json(),
        )]),
        warnings,
        summary,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PostJobPhase {
    /// Which directory the shim must resolve (symlinks followed).
    Resolve,
    /// Given the real directory: what to run, then which file to read.
    Read,
    /// Given the file's contents: what to remove.
    Clean,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostJobRequest {
    pub phase: PostJobPhase,
    /// The real path of Agent.TempDirectory.
    pub agent_temp_directory: String,
    /// The task variable `MsrLoginState`, None when the main step never saved it.
    pub saved: Option<String>,
    /// The real path of the saved directory, None when it is gone.
    #[serde(default)]
    pub resolved_directory: Option<String>,
    /// The config file's contents, None when it is gone.
    #[serde(default)]
    pub existing: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PostJob {
    /// Nothing (more) of this task to remove.
    #[serde(rename_all = "camelCase")]
    Nothing { message: Option<String> },
    #[serde(rename_all = "camelCase")]
    Resolve { directory: String },
    /// Print `notice`, run `dockerLogout` when given, then read `configFile` and ask again.
    #[serde(rename_all = "camelCase")]
    Read { config_file: String, docker_logout: Option<ToolCall>, notice: Option<String> },
    #[serde(rename_all = "camelCase")]
    RemoveDirectory { path: String, message: String },
    #[serde(rename_all = "camelCase")]
    Rewrite { path: String, contents: String, message: String },
}

/// The post-job step, one phase per call. Task variables can be overwritten
/// by later steps, so the saved directory is checked, never trusted: it must
/// be strictly inside the temp directory and be what it resolves to.
pub fn post_job(r: &PostJobRequest) -> PostJob {
    let Some(saved) = r.saved.as_deref().and_then(Saved::from_json) else {
        return PostJob::Nothing { message: None };
    };
    let outside = || PostJob::Nothing {
        message: Some(format!("{} is not inside Agent.TempDirectory; left as it is", saved.directory)),
    };
    if !removable_inside(&r.agent_temp_directory, &saved.directory) {
        return outside();
    }
    if r.phase == PostJobPhase::Resolve {
        return PostJob::Resolve { directory: saved.directory };
    }
    match r.resolved_directory.as_deref() {
        None => return PostJob::Nothing { message: Some(format!("{} is already gone", saved.directory)) },
        Some(real) if real != saved.directory => return outside(),
        Some(_) => {}
    }
    let config_file = format!("{}/config.json", saved.directory);
    if r.phase == PostJobPhase::Read {
        // docker logout also clears a credential store that docker login filled,
        // unless the store held the registry before: that entry is not this job's to delete.
        let docker = saved.login_method == LoginMethod::Docker;
        let docker_logout = (docker && !saved.store_had_entry).then(|| ToolCall {
            argv: ["docker", "logout", &saved.registry].map(String::from).to_vec(),
            stdin: String::new(),
            env: BTreeMap::from([("DOCKER_CONFIG".to_string(), saved.directory.clone())]),
        });
        let notice = (docker && saved.store_had_entry).then(|| {
            format!(
                "Not running docker logout for {}: its credential store held a login for it before this job, which docker logout would delete for every job of this agent's user",
                saved.registry
            )
        });
        return PostJob::Read { config_file, docker_logout, notice };
    }
    match docker_config::cleanup(&r.agent_temp_directory, &saved.directory, saved.created, &saved.registry, r.existing.as_deref()) {
        Cleanup::RemoveDirectory(path) => PostJob::RemoveDirectory {
            message: format!("Removed {path} (the login to {})", saved.registry),
            path,
        },
        Cleanup::Rewrite(contents) => PostJob::Rewrite {
            message: format!("Removed {} from {config_file}", saved.registry),
            path: config_file,
            contents,
        },
        Cleanup::Leave(message) => PostJob::Nothing { message: Some(message) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> PlanRequest {
        PlanRequest {
            inputs: Inputs::from_pairs(pairs.iter().copied()),
            endpoint: None,
            agent_temp_directory: "/w/_temp".into(),
            docker_config: None,
            home: Some("/home/vsts".into()),
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("registry", "https://msr.example.com/"),
        ("username", "robot$web+ci"),
        ("accessToken", "tok-123"),
        ("verifyCredentials", "true"),
        ("loginMethod", "config"),
    ];

    fn error(r: &PlanRequest) -> String {
        plan(r).unwrap_err().to_string()
    }

    #[test]
    fn plans_a_verified_config_login() {
        let p = plan(&request(GOOD)).unwrap();
        assert_eq!(p.registry, "msr.example.com");
        assert_eq!(p.secrets, ["cm9ib3Qkd2ViK2NpOnRvay0xMjM=", "tok-123"]);
        assert_eq!(p.verify.unwrap().url, "https://msr.example.com/v2/");
        assert_eq!(p.merge_into, None);
        assert_eq!(p.read_config, "/home/vsts/.docker/config.json");
    }

    #[test]
    fn the_trimmed_token_is_a_secret_too() {
        let mut pairs: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(k, _)| *k != "accessToken").collect();
        pairs.push(("accessToken", " tok-123 \n"));
        let p = plan(&request(&pairs)).unwrap();
        assert!(p.secrets.iter().any(|s| s == "tok-123"), "{:?}", p.secrets);
        assert!(p.secrets.contains(&"cm9ib3Qkd2ViK2NpOnRvay0xMjM=".to_string()));
    }

    #[test]
    fn bad_inputs_name_the_input_and_never_quote_the_token() {
        let with = |name: &str, value: &str| {
            let mut pairs: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(k, _)| *k != name).collect();
            pairs.push((name, value));
            request(&pairs)
        };
        assert!(error(&with("registry", "")).starts_with("Input 'registry': a value is required"));
        assert!(error(&with("registry", "msr.example.com/web")).contains("has a path"));
        assert_eq!(error(&with("username", " ")), "Input 'username': the service account name is required");
        assert!(error(&with("username", "a:b")).starts_with("Input 'username':"));
        assert!(error(&with("accessToken", "  ")).starts_with("Input 'accessToken': the access token is empty"));
        let e = error(&with("accessToken", "abc\ndef"));
        assert!(e.starts_with("Input 'accessToken':") && !e.contains("abc"), "{e}");
        assert_eq!(
            error(&with("accessToken", "$(DOCKER_REGISTRY_TOKEN)")),
            "Input 'accessToken': $(DOCKER_REGISTRY_TOKEN) is not a defined variable (is the secret variable set for this pipeline?)"
        );
        assert!(error(&with("loginMethod", "podman")).starts_with("Input 'loginMethod':"));
        assert!(error(&with("verifyCredentials", "maybe")).starts_with("Input 'verifyCredentials':"));
    }

    #[test]
    fn reads_a_service_connection() {
        let mut r = request(&[("verifyCredentials", "false")]);
        r.endpoint = Some(Endpoint {
            url: Some("https://MSR.example.com:8443".into()),
            scheme: Some("UsernamePassword".into()),
            registry: None,
            username: Some("ci".into()),
            password: Some("pw".into()),
        });
        let p = plan(&r).unwrap();
        assert_eq!((p.registry.as_str(), p.username.as_str()), ("msr.example.com:8443", "ci"));
        assert!(p.verify.is_none());
        // The `registry` parameter wins over the connection's URL.
        r.endpoint.as_mut().unwrap().registry = Some("https://msr2.example.com/".into());
        assert_eq!(plan(&r).unwrap().registry, "msr2.example.com");
        r.endpoint.as_mut().unwrap().registry = Some(" ".into());
        assert_eq!(plan(&r).unwrap().registry, "msr.example.com:8443");
        r.endpoint.as_mut().unwrap().password = Some(String::new());
        assert!(error(&r).starts_with("Input 'containerRegistry': the access token is empty"));
        r.endpoint.as_mut().unwrap().scheme = Some("ServicePrincipal".into());
        assert!(error(&r).contains("\"ServicePrincipal\" authorization"));
        let mut both = request(GOOD);
        both.endpoint = r.endpoint.clone();
        assert!(error(&both).contains("not both ('registry' is also set)"));
    }

    #[test]
    fn merges_into_the_job_config_only_inside_temp() {
        let mut r = request(GOOD);
        r.docker_config = Some("/w/_temp/msr-login-a".into());
        let p = plan(&r).unwrap();
        assert_eq!(p.merge_into.as_deref(), Some("/w/_temp/msr-login-a"));
        assert_eq!(p.read_config, "/w/_temp/msr-login-a/config.json");
        r.docker_config = Some("/home/vsts/.docker".into());
        assert_eq!(plan(&r).unwrap().merge_into, None);
    }

    fn write_request(r: PlanRequest, directory: &str, existing: Option<&str>) -> WriteRequest {
        WriteRequest {
            plan: r,
            directory: directory.into(),
            existing: existing.map(String::from),
            verified: Some("HTTP Basic".into()),
            user_cli_plugins: false,
            store_probe: None,
        }
    }

    #[test]
    fn writes_config_variables_and_state() {
        let w = write(&write_request(request(GOOD), "/w/_temp/msr-login-x", None)).unwrap();
        assert_eq!(w.config_file, "/w/_temp/msr-login-x/config.json");
        let json: serde_json::Value = serde_json::from_str(w.contents.as_deref().unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"auths": {"msr.example.com": {"auth": "cm9ib3Qkd2ViK2NpOnRvay0xMjM="}}}));
        assert!(w.docker_login.is_none());
        assert_eq!(w.variables["DOCKER_CONFIG"], "/w/_temp/msr-login-x");
        assert_eq!(w.outputs["dockerConfig"], "/w/_temp/msr-login-x");
        let saved = Saved::from_json(&w.task_variables[SAVED_VARIABLE]).unwrap();
        assert!(saved.created);
        assert!(w.summary.contains("verified (HTTP Basic)"));
        assert!(!w.summary.contains("tok-123") && !w.summary.contains("cm9ib3Q"));
        let outside = write(&write_request(request(GOOD), "/home/vsts/x", None));
        assert!(outside.is_err());
    }

    #[test]
    fn docker_login_puts_the_token_on_stdin_only() {
        let mut pairs = GOOD.to_vec();
        pairs.retain(|(k, _)| *k != "loginMethod");
        pairs.push(("loginMethod", "docker"));
        let mut r = request(&pairs);
        r.docker_config = Some("/w/_temp/msr-login-a".into());
        let w = write(&write_request(r, "/w/_temp/msr-login-a", Some(r#"{"auths":{"a.io":{"auth":"eA=="}}}"#))).unwrap();
        let login = w.docker_login.unwrap();
        assert_eq!(login.argv, ["docker", "login", "--username", "robot$web+ci", "--password-stdin", "msr.example.com"]);
        assert_eq!(login.stdin, "tok-123");
        assert_eq!(login.env["DOCKER_CONFIG"], "/w/_temp/msr-login-a");
        assert!(w.contents.is_none(), "docker login edits the job's file itself");
    }

    #[test]
    fn docker_login_with_a_credential_store_asks_whether_it_holds_the_registry() {
        let mut pairs = GOOD.to_vec();
        pairs.retain(|(k, _)| *k != "loginMethod");
        pairs.push(("loginMethod", "docker"));
        let user = r#"{"credsStore":"pass","credHelpers":{"gcr.io":"gcloud"}}"#;
        let first = write(&write_request(request(&pairs), "/w/_temp/msr-login-x", Some(user))).unwrap();
        let probe = first.store_probe.unwrap();
        assert_eq!(probe.argv, ["docker-credential-pass", "get"]);
        assert_eq!(probe.stdin, "msr.example.com");
        let answered = |exit_code| {
            let mut r = write_request(request(&pairs), "/w/_temp/msr-login-x", Some(user));
            r.store_probe = Some(ProbeResult { exit_code });
            write(&r).unwrap()
        };
        // Present: a warning now, and the post-job step will not log out.
        let present = answered(Some(0));
        assert!(present.store_probe.is_none());
        assert!(present.docker_login.is_some());
        assert!(Saved::from_json(&present.task_variables[SAVED_VARIABLE]).unwrap().store_had_entry);
        assert_eq!(present.warnings.len(), 1);
        assert!(present.warnings[0].starts_with("The credential store \"pass\" already holds a login for msr.example.com"), "{:?}", present.warnings);
        for absent in [Some(1), None] {
            let w = answered(absent);
            assert!(w.store_probe.is_none() && w.warnings.is_empty());
            assert!(!Saved::from_json(&w.task_variables[SAVED_VARIABLE]).unwrap().store_had_entry);
        }
        // A helper for this registry wins over the store; the job's own config counts when merging.
        let mut merging = request(&pairs);
        merging.docker_config = Some("/w/_temp/msr-login-a".into());
        let job = r#"{"credsStore":"pass","credHelpers":{"msr.example.com":"msr"}}"#;
        let w = write(&write_request(merging, "/w/_temp/msr-login-a", Some(job))).unwrap();
        assert_eq!(w.store_probe.unwrap().argv, ["docker-credential-msr", "get"]);
        // No store: docker login writes the file, nothing to ask.
        let w = write(&write_request(request(&pairs), "/w/_temp/msr-login-x", Some(r#"{"auths":{}}"#))).unwrap();
        assert!(w.store_probe.is_none());
        // A config login never asks.
        let w = write(&write_request(request(GOOD), "/w/_temp/msr-login-x", Some(user))).unwrap();
        assert!(w.store_probe.is_none() && w.docker_login.is_none());
    }

    #[test]
    fn post_job_removes_only_this_tasks_part() {
        let saved = |dir: &str, created: bool, method: LoginMethod| {
            Saved { directory: dir.into(), created, registry: "r".into(), login_method: method, store_had_entry: false }.to_json()
        };
        let ask = |phase, saved: Option<String>, resolved: Option<&str>, existing: Option<&str>| {
            post_job(&PostJobRequest {
                phase,
                agent_temp_directory: "/w/_temp".into(),
                saved,
                resolved_directory: resolved.map(String::from),
                existing: existing.map(String::from),
            })
        };
        use PostJobPhase::*;
        assert!(matches!(ask(Resolve, None, None, None), PostJob::Nothing { message: None }));
        assert!(matches!(ask(Resolve, Some("garbage".into()), None, None), PostJob::Nothing { .. }));
        assert!(matches!(ask(Resolve, Some(saved("/etc", true, LoginMethod::Config)), None, None), PostJob::Nothing { message: Some(_) }));
        let docker = Some(saved("/w/_temp/d", false, LoginMethod::Docker));
        assert!(matches!(ask(Resolve, docker.clone(), None, None), PostJob::Resolve { directory } if directory == "/w/_temp/d"));
        // A directory swapped for a symlink leading elsewhere is left alone.
        assert!(matches!(ask(Read, docker.clone(), Some("/home/u/.docker"), None), PostJob::Nothing { message: Some(m) } if m.contains("not inside")));
        assert!(matches!(ask(Read, docker.clone(), None, None), PostJob::Nothing { message: Some(m) } if m.contains("already gone")));
        let PostJob::Read { config_file, docker_logout, notice } = ask(Read, docker, Some("/w/_temp/d"), None) else { panic!() };
        assert_eq!(config_file, "/w/_temp/d/config.json");
        assert_eq!(docker_logout.unwrap().argv, ["docker", "logout", "r"]);
        assert_eq!(notice, None);
        // A store entry that was there before the job is not deleted.
        let kept = Saved {
            directory: "/w/_temp/d".into(),
            created: true,
            registry: "r".into(),
            login_method: LoginMethod::Docker,
            store_had_entry: true,
        };
        let PostJob::Read { docker_logout, notice, .. } = ask(Read, Some(kept.to_json()), Some("/w/_temp/d"), None) else { panic!() };
        assert_eq!(docker_logout, None);
        assert!(notice.unwrap().starts_with("Not running docker logout for r: its credential store held a login for it before this job"));
        assert_eq!(Saved::from_json(&kept.to_json()), Some(kept));
        assert!(matches!(
            ask(Clean, Some(saved("/w/_temp/d", true, LoginMethod::Config)), Some("/w/_temp/d"), None),
            PostJob::RemoveDirectory { path, .. } if path == "/w/_temp/d"
        ));
        let PostJob::Rewrite { contents, .. } =
            ask(Clean, Some(saved("/w/_temp/d", false, LoginMethod::Config)), Some("/w/_temp/d"), Some(r#"{"auths":{"r":{},"o":{}}}"#))
        else {
            panic!()
        };
        assert_eq!(serde_json::from_str::<serde_json::Value>(&contents).unwrap(), serde_json::json!({"auths": {"o": {}}}));
    }
}
